"""The demo floor: counts, valid barcodes, a consistent floor, the same floor for the same seed."""

import re
from collections import Counter, defaultdict

import biip
import pytest
from sqlalchemy import func, select, text

from picker.demo import builder
from picker.demo.builder import FloorNotEmpty, build_demo
from picker.demo.floor_data import FLOOR_MIX, LIVE_ORDERS
from picker.domain.statuses import OrderStatus, check_order_transition
from picker.domain.tracking import is_valid_mod10, is_valid_s10
from picker.store.engine import Database
from picker.store.models import (
    Base,
    Courier,
    CourierPickup,
    Operator,
    Order,
    OrderEvent,
    Parcel,
    PickTask,
    ProductBarcode,
    Stock,
    StockMovement,
    Tote,
)
from tests.conftest import NOW


@pytest.fixture
def floor(db: Database) -> builder.DemoResult:
    return build_demo(db, orders=60, seed=7, now=NOW)


def _count(db: Database, model: type) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def _dump(db: Database) -> dict[str, list[tuple]]:
    with db.read() as s:
        return {
            t.name: sorted(tuple(r) for r in s.execute(t.select()))
            for t in Base.metadata.sorted_tables
        }


def test_the_demo_floor_has_what_a_warehouse_has(db, floor) -> None:
    assert floor.orders == _count(db, Order) == 60
    assert 250 <= floor.products <= 350
    assert 180 <= floor.bins <= 220
    assert _count(db, Courier) == 3 and _count(db, Stock) >= floor.products
    with db.read() as s:
        schemes = set(s.scalars(select(Courier.tracking_scheme)))
        roles = Counter(r.role.value for o in s.scalars(select(Operator)) for r in o.roles)
        zones = set(s.scalars(text("SELECT DISTINCT zone FROM bins")))
        countries = set(s.scalars(select(Order.ship_country)))
        names = list(s.scalars(select(Order.ship_name)))
    assert schemes == {"s10", "mod10", "range"}
    assert roles == {"picker": 2, "packer": 2, "lead": 1, "receiver": 1}
    assert zones == {"A", "B", "C", "R"}  # R: the receiving dock
    assert len(countries) >= 5
    assert any(not n.isascii() for n in names)
    assert [o.badge for o in floor.operators] == [f"EMP-000{i}" for i in range(1, 6)]


def test_every_status_of_a_live_floor_is_there(floor) -> None:
    live = {s.value for s in OrderStatus} - {"returned"}
    assert set(floor.by_status) == live
    assert sum(floor.by_status.values()) == 60


def test_every_product_barcode_is_a_valid_ean13_and_some_products_have_two(db, floor) -> None:
    with db.read() as s:
        rows = s.execute(select(ProductBarcode.product_id, ProductBarcode.barcode)).all()
    for _, code in rows:
        parsed = biip.parse(code)
        assert parsed.gtin is not None, parsed.gtin_error
        assert parsed.gtin.format == biip.gtin.GtinFormat.GTIN_13
    per_product = Counter(pid for pid, _ in rows)
    assert any(n == 2 for n in per_product.values())


def test_the_same_seed_builds_the_same_floor_and_another_seed_another(tmp_path) -> None:
    dbs = [Database(f"sqlite:///{tmp_path / f'{i}.db'}") for i in range(3)]
    for database, seed in zip(dbs, (3, 3, 4), strict=True):
        build_demo(database, orders=80, seed=seed, now=NOW)
    a, b, c = (_dump(d) for d in dbs)
    assert a == b
    assert a["orders"] != c["orders"]
    for d in dbs:
        d.dispose()


def test_the_floor_is_consistent_with_itself(db, floor) -> None:
    with db.read() as s:
        orders = {o.id: o for o in s.scalars(select(Order))}
        # Reserved stock is exactly what open pick tasks still have to take.
        open_qty: dict[tuple[int, int], int] = defaultdict(int)
        for t in s.scalars(select(PickTask)):
            waiting = (OrderStatus.UNHANDLED, OrderStatus.ASSIGNED, OrderStatus.PICKING)
            if orders[t.order_id].status in waiting:
                open_qty[(t.product_id, t.bin_id)] += t.quantity - t.picked - t.short
        for st in s.scalars(select(Stock)):
            assert st.reserved == open_qty.get((st.product_id, st.bin_id), 0)
            moved = s.scalar(
                select(func.coalesce(func.sum(StockMovement.delta), 0)).where(
                    StockMovement.product_id == st.product_id, StockMovement.bin_id == st.bin_id
                )
            )
            assert moved == st.on_hand
        # Every order's events are a legal walk that ends at its status.
        events = defaultdict(list)
        for e in s.scalars(select(OrderEvent).order_by(OrderEvent.id)):
            events[e.order_id].append(e)
        for oid, order in orders.items():
            walk = events[oid]
            assert walk[-1].to_status is order.status
            assert len(walk) == order.version
            check_order_transition(None, walk[0].to_status)
            for ev in walk[1:]:
                check_order_transition(ev.from_status, ev.to_status)
            assert [e.at for e in walk] == sorted(e.at for e in walk)
        # Parcels: handed over only on closed pickups, executed orders fully handed over.
        pickups = {p.id: p for p in s.scalars(select(CourierPickup))}
        for p in s.scalars(select(Parcel)):
            order = orders[p.order_id]
            assert p.courier_id == order.courier_id
            if p.status == "handed_over":
                assert pickups[p.pickup_id].status == "closed"
                assert pickups[p.pickup_id].courier_id == p.courier_id
            if order.status in (OrderStatus.EXECUTED, OrderStatus.DELIVERED):
                assert p.status == "handed_over"
            if p.tracking_no:
                scheme = {1: is_valid_s10, 2: is_valid_mod10}.get(p.courier_id)
                assert scheme is None or scheme(p.tracking_no), p.tracking_no
        # A tote is bound exactly to the orders between picking and packing.
        bound = {t.order_id for t in s.scalars(select(Tote)) if t.order_id}
        in_totes = {
            o.id for o in orders.values()
            if o.status in (OrderStatus.PICKING, OrderStatus.PICKED, OrderStatus.PACKING)
        }  # fmt: skip
        assert bound == in_totes
        # Assigned work belongs to a picker.
        for o in orders.values():
            if o.status is OrderStatus.ASSIGNED:
                assert o.assignee_id is not None


def test_a_floor_is_never_built_over_another_unless_reset(db, floor) -> None:
    with pytest.raises(FloorNotEmpty, match="--reset"):
        build_demo(db, orders=5, seed=1, now=NOW)
    assert _count(db, Order) == 60
    build_demo(db, orders=5, seed=1, now=NOW, reset=True)
    assert _count(db, Order) == 5


def test_history_orders_are_delivered_executed_returned_or_cancelled(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'h.db'}")
    result = build_demo(db, orders=LIVE_ORDERS + 3000, seed=2, now=NOW)
    history = {"delivered", "executed", "returned", "cancelled"}
    assert sum(n for s, n in result.by_status.items() if s not in history) < LIVE_ORDERS
    assert result.by_status["delivered"] > 1000 and result.by_status["returned"] > 0
    db.dispose()


def test_generating_in_a_second_process_builds_the_same_floor(tmp_path, monkeypatch) -> None:
    here, there = (Database(f"sqlite:///{tmp_path / n}") for n in ("a.db", "b.db"))
    build_demo(here, orders=300, seed=5, now=NOW)
    monkeypatch.setattr(builder, "PARALLEL_FROM", 1)
    seen: list[tuple[str, int, int]] = []
    build_demo(there, orders=300, seed=5, now=NOW, progress=lambda *a: seen.append(a))
    assert _dump(here) == _dump(there)
    assert ("orders", 300, 300) in seen
    here.dispose()
    there.dispose()


@pytest.mark.parametrize("seed", range(1, 6))
def test_event_times_never_go_back_nor_pass_now(tmp_path, seed) -> None:
    db = Database(f"sqlite:///{tmp_path / 'e.db'}")
    build_demo(db, orders=60, seed=seed, now=NOW)
    with db.read() as s:
        events = s.execute(select(OrderEvent.order_id, OrderEvent.at).order_by(OrderEvent.id)).all()
    db.dispose()
    last: dict[int, object] = {}
    for order_id, at in events:
        assert at <= NOW
        assert order_id not in last or last[order_id] <= at
        last[order_id] = at


def test_the_floor_mix_adds_up_to_the_whole() -> None:
    assert abs(sum(share for _, share in FLOOR_MIX) - 1.0) < 1e-9


# --- a floor the floor could have reached ------------------------------------------------------


@pytest.mark.parametrize(
    "args", [(), ("--orders", "1000", "--seed", "3")], ids=["as-make-run", "1000-orders"]
)
def test_picker_demo_then_picker_check_finds_every_invariant_holding(
    capsys, config, db_url, monkeypatch, args
) -> None:
    from picker.services.check import INVARIANTS
    from tests.cli.test_main import run

    monkeypatch.setenv("PICKER_DATABASE_URL", db_url)
    assert run(capsys, config, "demo", "--no-sheet", *args)[0] == 0
    code, out, _ = run(capsys, config, "check")
    assert (code, out.count("BROKEN")) == (0, 0), out
    assert f"{len(INVARIANTS)} of {len(INVARIANTS)} invariants hold" in out


def test_the_floors_people_hold_no_more_work_than_the_floor_gives_them(tmp_path) -> None:
    """A full live floor (200 orders in flight, two pickers, two packers): each packer has one
    order at the table at most, each picker at most a batch started and at most
    max_orders_per_picker given; the rest waits a step earlier."""
    from picker.config import IntakeSettings, PickingSettings

    db = Database(f"sqlite:///{tmp_path / 'full.db'}")
    result = build_demo(db, orders=LIVE_ORDERS + 800, seed=3, now=NOW)
    with db.read() as s:
        packing = Counter(s.scalars(select(Order.packer_id).where(Order.status == "packing")))
        picking = Counter(s.scalars(select(Order.assignee_id).where(Order.status == "picking")))
        load = Counter(
            s.scalars(select(Order.assignee_id).where(Order.status.in_(("assigned", "picking"))))
        )
        holds = list(s.scalars(select(Order.hold_reasons).where(Order.status == "on_hold")))
    db.dispose()
    assert packing and max(packing.values()) == 1 and None not in packing
    assert picking and max(picking.values()) <= PickingSettings.batch_size
    assert max(load.values()) <= IntakeSettings.max_orders_per_picker
    # Still every station busy, and held orders of both kinds: short, and for the lead to fix.
    assert all(result.by_status[s] > 0 for s in ("unhandled", "picked", "packed", "on_hold"))
    assert any(r[0].startswith("short: ") for r in holds)
    assert any(not r[0].startswith("short: ") for r in holds)


def test_a_stock_import_of_another_sku_releases_no_held_order(
    capsys, config, db_url, monkeypatch, tmp_path
) -> None:
    """Issue 19: `picker stock import` of one unrelated SKU released the demo's orders held
    "none in stock", whose stock had been there all along. Now they are short of what they
    name, and only its own stock releases one."""
    from tests.cli.test_main import run

    monkeypatch.setenv("PICKER_DATABASE_URL", db_url)
    assert run(capsys, config, "demo", "--no-sheet")[0] == 0
    db = Database(db_url)
    try:
        with db.read() as s:
            held = dict(s.execute(select(Order.number, Order.hold_reasons).where(
                Order.status == "on_hold")).all())  # fmt: skip
            needed = set(s.scalars(text(
                "SELECT l.sku FROM order_lines l JOIN orders o ON o.id = l.order_id "
                "WHERE o.status = 'on_hold'")))  # fmt: skip
            other = s.scalar(text("SELECT MAX(sku) FROM products"))
    finally:
        db.dispose()
    short = {n: r[0].removeprefix("short: ") for n, r in held.items() if r[0].startswith("short:")}
    assert short and other not in needed
    csv = tmp_path / "stock.csv"
    csv.write_text(f"sku,bin,on_hand\n{other},A-01-01-1,50\n", encoding="utf-8")
    code, out, err = run(capsys, config, "stock", "import", str(csv))
    assert code == 0, err
    assert f"orders held for stock: 0 of {len(short)} released" in out
    number, sku = sorted(short.items())[0]
    csv.write_text(f"sku,bin,on_hand\n{sku},A-01-01-2,50\n", encoding="utf-8")
    code, out, err = run(capsys, config, "stock", "import", str(csv))
    assert code == 0, err
    assert f"released ({number}" in out


def test_each_box_is_listed_at_packing_by_what_its_floor_sheet_barcode_scans(db, floor) -> None:
    """Issue 19: the box chooser said "ENV-M", the floor sheet's barcode "BOX-ENVM"."""
    from picker.config import DEFAULT_PATTERNS
    from picker.demo.floor_sheet import floor_sheet_sections
    from picker.domain.scanning import ScanKind, ScanRouter
    from picker.services.floor import packing

    listed = [box.code for box in packing.packagings(db)]  # what F3 at the packing table lists
    [sheet] = [s for s in floor_sheet_sections(db, floor.operators) if s.title == "Packaging"]
    assert sorted(listed) == sorted(code.code for code in sheet.codes)
    router = ScanRouter({k: re.compile(v) for k, v in DEFAULT_PATTERNS.items()})
    assert all(router.classify(name).kind is ScanKind.PACKAGING for name in listed)


def test_every_operator_finds_work_at_their_station(db, floor) -> None:
    """The builder's own check of what the pilot test (tests/tui/test_demo_operators.py) does
    through the app: each demo operator has work on logging in, none is stuck."""
    assert set(floor.work) == {o.badge for o in floor.operators}
    assert all(floor.work.values()), floor.work
    packers = [o.badge for o in floor.operators if o.roles == "packer"]
    assert all("open at the packing table" in str(floor.work[b]) for b in packers)


@pytest.mark.parametrize("orders", [60, 1000])
def test_every_operator_finds_work_whatever_the_seed(tmp_path, orders) -> None:
    for seed in range(1, 6):
        db = Database(f"sqlite:///{tmp_path / f'{seed}.db'}")
        result = build_demo(db, orders=orders, seed=seed, now=NOW)
        db.dispose()
        assert all(result.work.values()), (seed, result.work)


def test_a_packer_with_two_orders_at_the_table_is_said_to_find_no_work(db, floor) -> None:
    with db.transaction() as s:
        s.execute(text("UPDATE orders SET packer_id = 4 WHERE status = 'packing'"))
    work = builder.work_at_login(db, floor.operators)
    assert work["EMP-0004"] is None and work["EMP-0005"] is not None  # a tote waits for her


def test_the_demo_floor_has_a_dock_and_two_deliveries_expected(db, floor) -> None:
    from picker.services import inbound

    receipts = inbound.list_receipts(db, status="expected")
    assert len(receipts) == 2 and all(r.lines >= 2 for r in receipts)
    lots = [ln.lot for r in receipts for ln in inbound.receipt_view(db, r.reference).lines]
    assert any(lots) and floor.work["EMP-0006"] == "2 deliveries expected at the dock"
    with db.read() as s:
        assert s.scalar(text("SELECT role FROM bins WHERE code = 'R-00-00-0'")) == "receiving"
