"""The returns desk on the real app, by scans alone: a parcel's tracking number opens its return,
each unit is scanned and judged, a resellable one put away by a bin scan, a damaged one sent to
quarantine; refusals in red with the bell; a return held at another terminal; park and resume;
an exchange. Snapshots at 80x24 and on a 40x16 handheld.

The floor is built from scratch: the demo catalogue, bins and couriers with no orders, and orders
imported, picked, packed and handed to their courier by the services, as the floor would."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from picker.config import load_settings
from picker.demo.builder import build_demo
from picker.services import auth
from picker.services.actors import Actor
from picker.services.returns.backoffice import authorize
from picker.services.returns.desk import open_return, park
from picker.store.engine import Database
from picker.store.models import Bin, Order, Product, ProductBarcode, Stock
from picker.tui.screens.returns import ReturnsScreen
from picker.tui.widgets.big_text import BigText
from tests.conftest import NOW, REPO
from tests.tui.conftest import LEAD
from tests.tui.helpers import burst, feedback, feedback_text, scan, settle, text_of
from tests.tui.test_snapshots import SIZES, steady

RETURNS = ("EMP-0105", "Rita Zwrot", "returns", "6043")
RETURNS_2 = ("EMP-0106", "Olek Drugi", "returns", "1357")
#: The orders of the floor, handed over to their courier: shop number → lines.
ORDERS: dict[str, tuple[tuple[str, int], ...]] = {
    "0901": (("SKU-00001", 2), ("SKU-00002", 1)),
    "0902": (("SKU-00003", 1),),
    "0903": (("SKU-00002", 2),),
}


@pytest.fixture(scope="session")
def returns_floor(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A small floor built once per session: the demo catalogue with no orders, the tests'
    operators, and the orders of ORDERS shipped (order number and tracking numbers of each)."""
    from tests.services.test_returns import shipped  # helper core's: handed-over orders

    path = tmp_path_factory.mktemp("returns") / "floor.db"
    db = Database(f"sqlite:///{path}")
    build_demo(db, orders=0, seed=1, now=NOW)
    for badge, name, roles, pin in (RETURNS, RETURNS_2, LEAD):
        auth.add_operator(db, Actor("T00"), badge, name, roles, pin)
    settings = load_settings(REPO / "config.toml", environ={})
    made = {no: shipped(db, settings, *lines, tote=f"T-{no}") for no, lines in ORDERS.items()}
    db.dispose()
    return {"path": path, "orders": made}


@pytest.fixture
def floor_url(returns_floor, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    path = tmp_path / "picker.db"
    shutil.copyfile(returns_floor["path"], path)
    return f"sqlite:///{path}"


def shipped_order(returns_floor, shop_no: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """(order number, tracking number) of a shipped order of the floor."""
    number, tracking = returns_floor["orders"][shop_no]
    return number, tracking[0]


def with_db(url: str, fn):  # type: ignore[no-untyped-def]
    db = Database(url)
    try:
        return fn(db)
    finally:
        db.dispose()


def barcode_of(url: str, sku: str) -> str:
    def read(db: Database) -> str:
        with db.read() as s:
            return s.scalar(
                select(ProductBarcode.barcode).join(Product).where(Product.sku == sku).limit(1)
            )

    return with_db(url, read)


def on_hand(url: str, sku: str, bin_code: str) -> int:
    def read(db: Database) -> int:
        with db.read() as s:
            return s.scalar(
                select(Stock.on_hand).join(Bin, Bin.id == Stock.bin_id)
                .join(Product, Product.id == Stock.product_id)
                .where(Product.sku == sku, Bin.code == bin_code)
            ) or 0  # fmt: skip

    return with_db(url, read)


def order_status(url: str, number: str) -> str:
    def read(db: Database) -> str:
        with db.read() as s:
            return s.scalar(select(Order.status).where(Order.number == number))

    return with_db(url, read)


async def to_desk(pilot, who=RETURNS) -> ReturnsScreen:  # type: ignore[no-untyped-def]
    await scan(pilot, who[0])
    await scan(pilot, who[3])
    await pilot.press("enter")  # home: Enter opens this terminal's station, the returns desk
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReturnsScreen)
    return screen


def bells(pilot) -> int:  # type: ignore[no-untyped-def]
    return pilot.app.bells  # type: ignore[no-any-return]


def login_as(url: str, terminal: str, who: tuple[str, str, str, str]) -> Actor:
    """``who`` logged in at ``terminal`` (another terminal of the floor, driven by services)."""
    return with_db(url, lambda db: Actor(terminal, auth.login(db, terminal, who[0], who[3])))


def rma(url: str, order: str, *lines: tuple[str, int], reason: str, exchange: bool) -> str:
    """An RMA of ``lines`` issued by a lead (``exchange``: the customer wants replacement goods)."""
    settings = load_settings(REPO / "config.toml", environ={})
    lead = login_as(url, "T00", LEAD)
    done = with_db(url, lambda db: authorize(
        db, lead, order, list(lines), reason, exchange=exchange, settings=settings,
        clock=lambda: NOW,
    ))  # fmt: skip
    return done.number


async def test_a_whole_return_by_scans_resell_to_its_bin_and_damaged_to_quarantine(
    app_factory, returns_floor, floor_url
) -> None:
    number, tracking = shipped_order(returns_floor, "0901")  # 2 × SKU-00001, 1 × SKU-00002
    app = app_factory(station="returns")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_desk(pilot)
        assert "Scan the parcel, the order or the RMA" in text_of(pilot, "#prompt")
        await burst(pilot, tracking)  # the parcel's own label opens its order's return
        kind, message = feedback(pilot)
        assert kind == "ok" and number in message, message
        assert screen.view is not None and screen.view.order_number == number
        lines = text_of(pilot, "#lines")
        assert "0/2 SKU-00001" in lines and "0/1 SKU-00002" in lines
        await burst(pilot, barcode_of(floor_url, "SKU-00001"))
        assert "Scan its condition" in feedback_text(pilot)
        await burst(pilot, "CMD-RESELL")
        pending = screen.view.pending
        assert pending is not None and pending.needs == "bin" and pending.suggested_bin
        shelf = pending.suggested_bin
        assert screen.query_one("#put-bin", BigText).text == shelf  # the bin, large
        assert f"Put it in BIN {shelf}" in feedback_text(pilot)
        before = on_hand(floor_url, "SKU-00001", shelf)
        await burst(pilot, shelf)
        kind, message = feedback(pilot)
        assert kind == "ok" and f"SKU-00001 → {shelf}" in message, message
        assert on_hand(floor_url, "SKU-00001", shelf) == before + 1
        await burst(pilot, "SKU-00001")
        await burst(pilot, "CMD-DAMAGED")
        quarantine = app.settings.returns.quarantine_bin
        kind, message = feedback(pilot)
        assert kind == "ok" and f"quarantine {quarantine}" in message, message
        assert on_hand(floor_url, "SKU-00001", quarantine) == 1
        assert "2/2 SKU-00001" in text_of(pilot, "#lines")
        await burst(pilot, "SKU-00002")
        await burst(pilot, "CMD-DEFECT")
        await burst(pilot, "CMD-CLOSE")  # asks first, with the refund
        kind, message = feedback(pilot)
        assert kind == "info" and "refund" in message and screen.view is not None
        await burst(pilot, "CMD-CLOSE")
        kind, message = feedback(pilot)
        assert kind == "ok" and "closed · refund" in message, message
        assert screen.view is None and screen.closed is not None
        assert f"Order {number}: returned" in text_of(pilot, "#outcome")
    assert order_status(floor_url, number) == "returned"
    assert bells(pilot) == 0


async def test_an_item_not_in_the_order_or_beyond_what_shipped_is_refused_with_the_bell(
    app_factory, returns_floor, floor_url
) -> None:
    number, _ = shipped_order(returns_floor, "0902")  # 1 × SKU-00003
    app = app_factory(station="returns")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_desk(pilot)
        await burst(pilot, number)
        await burst(pilot, "SKU-00001")
        kind, message = feedback(pilot)
        assert kind == "error" and "SKU-00001" in message, message
        assert bells(pilot) == 1 and screen.view is not None and screen.view.pending is None
        await burst(pilot, "SKU-00003")
        await burst(pilot, "CMD-INCOMPLETE")
        await burst(pilot, "SKU-00003")  # a second unit of one shipped
        kind, message = feedback(pilot)
        assert kind == "error" and "SKU-00003" in message and "1" in message, message
        assert bells(pilot) == 2
        assert "1/1 SKU-00003" in text_of(pilot, "#lines")
        await burst(pilot, "A-01-01-1")  # a bin with nothing waiting for one
        assert feedback(pilot)[0] == "error" and bells(pilot) == 3
        await burst(pilot, "CMD-EXCHANGE")  # no RMA, no reason: no exchange, said at once
        kind, message = feedback(pilot)
        assert kind == "error" and "cannot be an exchange" in message and bells(pilot) == 4


async def test_undo_takes_the_last_unit_back_out_of_its_bin_and_a_foreign_item_is_noted(
    app_factory, returns_floor, floor_url
) -> None:
    _, tracking = shipped_order(returns_floor, "0901")
    app = app_factory(station="returns")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_desk(pilot)
        await burst(pilot, tracking)
        await burst(pilot, "SKU-00002")
        await burst(pilot, "CMD-RESELL")
        shelf = screen.view.pending.suggested_bin
        before = on_hand(floor_url, "SKU-00002", shelf)
        await burst(pilot, shelf)
        assert on_hand(floor_url, "SKU-00002", shelf) == before + 1
        await burst(pilot, "CMD-UNDO")
        kind, message = feedback(pilot)
        assert kind == "ok" and message == f"Undone: SKU-00002, take it out of {shelf}", message
        assert on_hand(floor_url, "SKU-00002", shelf) == before
        assert "0/1 SKU-00002" in text_of(pilot, "#lines")
        await burst(pilot, "CMD-FOREIGN")
        assert "Key what it is" in feedback_text(pilot)
        await burst(pilot, "SKU-00001")  # a scan is no answer: refused, nothing recorded
        assert feedback(pilot)[0] == "error" and not screen.view.units
        await pilot.press(*"empty box", "enter")
        await settle(pilot)
        assert feedback(pilot) == ("ok", "Not ours: empty box")
        assert "not ours: empty box" in text_of(pilot, "#units")


async def test_a_resold_unit_names_in_green_the_order_it_releases(
    app_factory, returns_floor, floor_url
) -> None:
    from tests.services.intake.test_order_import import order, run, stock

    number, _ = shipped_order(returns_floor, "0902")  # 1 × SKU-00003

    def waiting(db: Database) -> str:
        stock(db, "SKU-00003")  # sold out: the next order of it waits, held short
        run(db, load_settings(REPO / "config.toml", environ={}), order("2002", ("SKU-00003", 1)))
        with db.read() as s:
            return s.scalar(select(Order.number).where(Order.shop_order_no == "2002"))

    held = with_db(floor_url, waiting)
    assert order_status(floor_url, held) == "on_hold"
    app = app_factory(station="returns")
    async with app.run_test(size=(80, 24)) as pilot:
        await to_desk(pilot)
        await burst(pilot, number)
        await burst(pilot, "SKU-00003")
        await burst(pilot, "CMD-RESELL")
        await burst(pilot, "A-01-02-1")
        kind, message = feedback(pilot)
        assert kind == "ok" and f"released: {held}" in message, message
    assert order_status(floor_url, held) != "on_hold"


async def test_an_rma_closes_by_itself_once_its_lines_are_judged(
    app_factory, returns_floor, floor_url
) -> None:
    number, _ = shipped_order(returns_floor, "0902")  # 1 × SKU-00003
    rma_no = rma(floor_url, number, ("SKU-00003", 1), reason="damaged", exchange=False)
    app = app_factory(station="returns")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_desk(pilot)
        await burst(pilot, rma_no)  # the RMA's own number, scanned from its paper
        assert screen.view is not None and screen.view.number == rma_no
        assert "0/1 SKU-00003" in text_of(pilot, "#lines")
        await burst(pilot, "SKU-00003")
        await burst(pilot, "CMD-DAMAGED")
        kind, message = feedback(pilot)
        assert kind == "ok" and "quarantine" in message and f"{rma_no} closed" in message, message
        assert screen.view is None and f"Order {number}: returned" in text_of(pilot, "#outcome")
    assert order_status(floor_url, number) == "returned"


async def test_a_return_held_at_another_terminal_is_refused_naming_who_has_it(
    app_factory, returns_floor, floor_url
) -> None:
    number, tracking = shipped_order(returns_floor, "0902")
    settings = load_settings(REPO / "config.toml", environ={})
    other = login_as(floor_url, "T05", RETURNS_2)
    with_db(floor_url, lambda db: open_return(db, other, number, settings=settings,
                                              clock=lambda: NOW))  # fmt: skip
    app = app_factory(station="returns")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_desk(pilot)
        await burst(pilot, tracking)
        kind, message = feedback(pilot)
        assert kind == "error" and "T05" in message and RETURNS_2[1] in message, message
        assert bells(pilot) == 1 and screen.view is None


async def test_esc_parks_the_return_and_a_scan_resumes_it_with_its_counts(
    app_factory, returns_floor, floor_url
) -> None:
    _, tracking = shipped_order(returns_floor, "0901")
    app = app_factory(station="returns")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_desk(pilot)
        await burst(pilot, tracking)
        rma = screen.view.number
        await burst(pilot, "SKU-00002")
        await burst(pilot, "CMD-DAMAGED")
        await pilot.press("escape")
        await settle(pilot)
        kind, message = feedback(pilot)
        assert kind == "info" and f"{rma} parked" in message and screen.view is None
    # Parked: another terminal may take it on (and leaves it again).
    settings = load_settings(REPO / "config.toml", environ={})
    other = login_as(floor_url, "T05", RETURNS_2)
    with_db(floor_url, lambda db: open_return(db, other, rma, settings=settings,
                                              clock=lambda: NOW))  # fmt: skip
    with_db(floor_url, lambda db: park(db, other, rma, clock=lambda: NOW))
    app = app_factory(station="returns")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_desk(pilot)
        assert screen.view is None  # parked: not taken up by itself
        await burst(pilot, rma)
        assert screen.view is not None and screen.view.number == rma
        assert "1/1 SKU-00002" in text_of(pilot, "#lines")  # the same counts


async def test_a_terminal_that_died_mid_return_takes_it_up_again(
    app_factory, returns_floor, floor_url
) -> None:
    _, tracking = shipped_order(returns_floor, "0901")
    app = app_factory(station="returns")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_desk(pilot)
        await burst(pilot, tracking)
        rma = screen.view.number
        await burst(pilot, "SKU-00001")  # scanned, not judged: the terminal goes dark
    app = app_factory(station="returns")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_desk(pilot)
        assert screen.view is not None and screen.view.number == rma
        assert feedback(pilot)[1] == f"Back to {rma}: what was received is kept"
        assert screen.view.pending is not None and screen.view.pending.sku == "SKU-00001"
        assert "Scan its condition" in feedback_text(pilot)


async def test_an_exchange_closes_with_the_replacement_order(
    app_factory, returns_floor, floor_url
) -> None:
    number, _ = shipped_order(returns_floor, "0903")  # 2 × SKU-00002
    rma_no = rma(floor_url, number, ("SKU-00002", 2), reason="wrong_item", exchange=True)
    app = app_factory(station="returns")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_desk(pilot)
        await burst(pilot, rma_no)
        assert screen.view is not None and screen.view.exchange
        await burst(pilot, "SKU-00002")
        await burst(pilot, "CMD-DAMAGED")
        assert "done: CMD-EXCHANGE" in feedback_text(pilot)  # not CMD-CLOSE: it asks for goods
        await burst(pilot, "CMD-EXCHANGE")
        assert "Scan the replacement" in feedback_text(pilot)
        await pilot.press("enter")  # the same SKU
        await settle(pilot)
        assert screen.entry == "quantity"
        await pilot.press("enter")  # as many as came back: 1
        await settle(pilot)
        kind, message = feedback(pilot)
        assert kind == "ok" and "exchange PO-" in message, message
        assert screen.closed is not None and screen.closed.exchange_order
        exchange = screen.closed.exchange_order
        assert f"Exchange order {exchange}" in text_of(pilot, "#outcome")

    def replacement(db: Database) -> tuple[int | None, list[tuple[str, int]]]:
        with db.read() as s:
            order = s.scalar(select(Order).where(Order.number == exchange))
            items = [(ln.sku, ln.quantity) for ln in order.lines]
            return order.exchange_for_return_id, items

    linked, items = with_db(floor_url, replacement)
    assert linked is not None and items == [("SKU-00002", 1)]


# --- snapshots ------------------------------------------------------------------------------


async def _opened(pilot, returns_floor) -> None:  # type: ignore[no-untyped-def]
    await to_desk(pilot)
    await burst(pilot, shipped_order(returns_floor, "0901")[1])


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_snapshot_idle(snap_compare, app_factory, size) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await to_desk(pilot)
        await steady(pilot)

    assert snap_compare(app_factory(station="returns"), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_snapshot_mid_return(snap_compare, app_factory, returns_floor, size) -> None:
    """One unit put away, one in quarantine, the next scanned and waiting for its condition."""

    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await _opened(pilot, returns_floor)
        await burst(pilot, "SKU-00001")
        await burst(pilot, "CMD-RESELL")
        await burst(pilot, pilot.app.screen.view.pending.suggested_bin)
        await burst(pilot, "SKU-00002")
        await burst(pilot, "CMD-DAMAGED")
        await burst(pilot, "SKU-00001")
        await steady(pilot)

    assert snap_compare(app_factory(station="returns"), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_snapshot_resell_awaiting_its_bin(snap_compare, app_factory, returns_floor, size) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await _opened(pilot, returns_floor)
        await burst(pilot, "SKU-00001")
        await burst(pilot, "CMD-RESELL")
        await steady(pilot)

    assert snap_compare(app_factory(station="returns"), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_snapshot_refused_item(snap_compare, app_factory, returns_floor, size) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await _opened(pilot, returns_floor)
        await burst(pilot, "SKU-00003")
        await steady(pilot)

    assert snap_compare(app_factory(station="returns"), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_snapshot_closed(snap_compare, app_factory, returns_floor, size) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await _opened(pilot, returns_floor)
        await burst(pilot, "SKU-00002")
        await burst(pilot, "CMD-DEFECT")
        await burst(pilot, "CMD-CLOSE")
        await burst(pilot, "CMD-CLOSE")
        await steady(pilot)

    assert snap_compare(app_factory(station="returns"), terminal_size=size, run_before=run)
