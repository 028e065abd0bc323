"""Every imported order is whole or absent, also when orders share a commit (SQLite) and when
the database refuses one order, fails under the import, or the importing process is killed."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from picker.bench.drivers import shopify_export
from picker.channels.orders import ParsedFile, parse_orders
from picker.config import Settings, load_settings
from picker.demo.builder import build_demo
from picker.domain.intake import Address, IncomingLine, IncomingOrder
from picker.services.actors import Actor
from picker.services.intake import order_import
from picker.store import statements
from picker.store.engine import Database, GroupCommit
from picker.store.models import Order, OrderEvent, OrderLine, PickTask, Product, Stock
from tests.conftest import NOW

REPO = Path(__file__).resolve().parents[3]
CLI = Actor("T01")


@pytest.fixture
def floor(db: Database) -> Database:
    """The demo floor without orders, and plenty of every product in its bins."""
    build_demo(db, orders=0, seed=1, now=NOW)
    with db.transaction() as s:
        s.execute(text("UPDATE stock SET on_hand = on_hand + 1000"))
    return db


@pytest.fixture
def sqlite_floor(tmp_path: Path, sqlite_template: Path) -> Iterator[Database]:
    """The same floor on SQLite only: for what only SQLite does (orders sharing a commit)."""
    path = tmp_path / "picker.db"
    path.write_bytes(sqlite_template.read_bytes())
    db = Database(f"sqlite:///{path}")
    build_demo(db, orders=0, seed=1, now=NOW)
    with db.transaction() as s:
        s.execute(text("UPDATE stock SET on_hand = on_hand + 1000"))
    yield db
    db.dispose()


def order(no: str, *lines: tuple[str, int]) -> IncomingOrder:
    return IncomingOrder(
        channel="shopify", shop_order_no=no, customer_name="Zoë Ça", customer_email="",
        ship=Address("Zoë Ça", "Rue 1", "", "75001", "Paris", "", "FR", ""),
        shipping_code="post_standard", shipping_title="", currency="EUR",
        total=Decimal("10.00"), cod=False, paid=True, payment_state="paid",
        placed_at=NOW - timedelta(hours=1),
        lines=tuple(IncomingLine(sku, "item", qty, Decimal("5.00")) for sku, qty in lines),
    )  # fmt: skip


def run(db: Database, settings: Settings, *orders: IncomingOrder, **kw: Any) -> Any:
    parsed = ParsedFile(format="shopify", total=len(orders), records=iter(enumerate(orders, 1)))
    return order_import.import_orders(
        db, CLI, parsed, settings=settings, file_name="orders.json", clock=lambda: NOW, **kw
    )


def reserved(db: Database, sku: str) -> int:
    with db.read() as s:
        return int(
            s.scalar(
                select(func.coalesce(func.sum(Stock.reserved), 0))
                .join(Product, Product.id == Stock.product_id)
                .where(Product.sku == sku)
            )
        )


def shop_numbers(db: Database) -> set[str]:
    with db.read() as s:
        return set(s.scalars(select(Order.shop_order_no)))


def counts(db: Database) -> tuple[int, int, int, int]:
    """(orders, order lines, events, pick tasks)."""
    with db.read() as s:
        return tuple(  # type: ignore[return-value]
            s.scalar(select(func.count()).select_from(table))
            for table in (Order, OrderLine, OrderEvent, PickTask)
        )


def first_events(db: Database) -> dict[str, str]:
    """Shop order number → the status its first event gave it."""
    with db.read() as s:
        rows = s.execute(
            select(Order.shop_order_no, OrderEvent.to_status)
            .join(Order, Order.id == OrderEvent.order_id)
            .where(OrderEvent.from_status.is_(None))
        )
        return {no: str(getattr(status, "value", status)) for no, status in rows}


def refuse_pick_tasks_for(db: Database, sku: str) -> None:
    """The database refuses to store a pick task for ``sku``: a failure that comes after the
    order, its lines, its event and its stock reservation were written."""
    with db.transaction() as s:
        pid = s.scalar(select(Product.id).where(Product.sku == sku))
        if db.dialect == "sqlite":
            s.execute(text(
                "CREATE TRIGGER refuse_task BEFORE INSERT ON pick_tasks "
                f"WHEN NEW.product_id = {pid} BEGIN SELECT RAISE(ABORT, 'no tasks for {sku}'); END"
            ))  # fmt: skip
        else:
            s.execute(text(
                "CREATE FUNCTION refuse_task() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"RAISE EXCEPTION 'no tasks for {sku}'; END $$"
            ))  # fmt: skip
            s.execute(text(
                "CREATE TRIGGER refuse_task BEFORE INSERT ON pick_tasks FOR EACH ROW "
                f"WHEN (NEW.product_id = {pid}) EXECUTE FUNCTION refuse_task()"
            ))  # fmt: skip


def test_an_order_the_database_refuses_leaves_no_trace_and_its_neighbours_import(
    floor, settings
) -> None:
    refuse_pick_tasks_for(floor, "SKU-00003")
    orders = [
        order("1001", ("SKU-00001", 2)),
        order("1002", ("SKU-00002", 1)),
        order("1003", ("SKU-00001", 5), ("SKU-00003", 1)),  # refused at its last statement
        order("1004", ("SKU-00001", 3)),
        order("1005", ("SKU-00002", 4)),
    ]
    before = reserved(floor, "SKU-00001"), reserved(floor, "SKU-00002")
    report = run(floor, settings, *orders)

    assert report.counts["imported"] == 4 and report.failed == 1
    [problem] = report.problems
    assert problem.record == 3 and "no tasks for SKU-00003" in problem.reason
    assert problem.reason.startswith("the database refused the change")
    # 1003 is absent: no order, no lines, no event, and its five SKU-00001 are not reserved.
    assert shop_numbers(floor) == {"1001", "1002", "1004", "1005"}
    orders_, lines, _, tasks = counts(floor)
    assert (orders_, lines, tasks) == (4, 4, 4)
    assert set(first_events(floor)) == {"1001", "1002", "1004", "1005"}
    assert reserved(floor, "SKU-00001") == before[0] + 2 + 3
    assert reserved(floor, "SKU-00002") == before[1] + 1 + 4
    assert reserved(floor, "SKU-00003") == 0

    # Once the database takes it, importing the same file again adds just that order.
    with floor.transaction() as s:
        s.execute(text("DROP TRIGGER refuse_task" + ("" if floor.dialect == "sqlite" else
                                                      " ON pick_tasks")))  # fmt: skip
    again = run(floor, settings, *orders)
    assert (again.counts["already_imported"], again.counts["imported"], again.failed) == (4, 1, 0)
    assert reserved(floor, "SKU-00001") == before[0] + 2 + 5 + 3


def test_a_dry_run_in_a_shared_commit_still_writes_nothing(sqlite_floor, settings) -> None:
    report = run(sqlite_floor, settings, *[order(f"{n}", ("SKU-00001", 1)) for n in range(5)],
                 dry_run=True)  # fmt: skip
    assert report.counts["imported"] == 5
    assert counts(sqlite_floor) == (0, 0, 0, 0)


def test_when_sqlite_gives_up_the_shared_transaction_the_other_orders_are_written_again(
    sqlite_floor, settings, monkeypatch
) -> None:
    # SQLite rolls back the whole transaction by itself on a full disk or an I/O error: the
    # orders written before in the same group are gone with it, and must be written again.
    real = statements.insert_event
    calls = 0

    def disk_full_on_the_third_order(conn, **kw):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        if calls == 3:
            conn.connection.dbapi_connection.execute("ROLLBACK")
            raise OperationalError("INSERT", None, sqlite3.OperationalError("disk is full"))
        return real(conn, **kw)

    monkeypatch.setattr(statements, "insert_event", disk_full_on_the_third_order)
    monkeypatch.setattr(order_import, "GROUP_SECONDS", 60)  # one group, however slow the machine
    before = reserved(sqlite_floor, "SKU-00001")
    report = run(sqlite_floor, settings, *[order(f"{n}", ("SKU-00001", 1)) for n in range(1, 6)])

    assert (report.counts["imported"], report.failed) == (4, 1)
    assert [(p.record, p.reason) for p in report.problems] == [
        (3, "the database cannot be used: disk is full")
    ]
    assert shop_numbers(sqlite_floor) == set(first_events(sqlite_floor)) == {"1", "2", "4", "5"}
    assert sorted(_reserved_lines(sqlite_floor)) == [(n, True) for n in ("1", "2", "4", "5")]
    assert reserved(sqlite_floor, "SKU-00001") == before + 4


def test_a_group_whose_commit_fails_is_written_again_order_by_order(
    sqlite_floor, settings, monkeypatch
) -> None:
    real = GroupCommit.commit
    failed: list[int] = []

    def fail_the_first_shared_commit(self: GroupCommit) -> None:
        if self.units > 1 and not failed:
            failed.append(self.units)
            self.rollback()
            raise OperationalError("COMMIT", None, sqlite3.OperationalError("disk I/O error"))
        real(self)

    monkeypatch.setattr(GroupCommit, "commit", fail_the_first_shared_commit)
    monkeypatch.setattr(order_import, "GROUP_SECONDS", 60)  # one group, however slow the machine
    before = reserved(sqlite_floor, "SKU-00001")
    report = run(sqlite_floor, settings, *[order(f"{n}", ("SKU-00001", 1)) for n in range(1, 6)])

    assert failed == [5]
    assert (report.counts["imported"], report.failed) == (5, 0)
    assert shop_numbers(sqlite_floor) == {"1", "2", "3", "4", "5"}
    assert sorted(_reserved_lines(sqlite_floor)) == [(n, True) for n in ("1", "2", "3", "4", "5")]
    assert reserved(sqlite_floor, "SKU-00001") == before + 5


def test_progress_counts_only_orders_that_are_in_the_database(floor, settings) -> None:
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        seen.append((done, counts(floor)[0]))  # read from another connection: committed only

    run(floor, settings, *[order(f"p{n}", ("SKU-00001", 1)) for n in range(1100)],
        progress=progress)  # fmt: skip
    assert len(seen) >= 3 and seen[-1] == (1100, 1100)
    assert all(done == stored for done, stored in seen)


# --- a killed importer ------------------------------------------------------------------------

ORDERS_IN_FILE = 3000


def _import_file(url: str, path: str) -> None:
    settings = load_settings(REPO / "config.toml", environ={})
    db = Database(url, busy_timeout_s=30)
    parsed = parse_orders(Path(path).read_bytes(), file_name="big.jsonl", format="shopify")
    order_import.import_orders(db, CLI, parsed, settings=settings, file_name="big.jsonl")


def _reserved_lines(db: Database) -> list[tuple[str, bool]]:
    """(shop order number, reserved in full) for every order line."""
    with db.read() as s:
        tasks: dict[int, int] = defaultdict(int)
        for line_id, qty in s.execute(select(PickTask.order_line_id, PickTask.quantity)):
            tasks[line_id] += qty
        return [
            (no, tasks[line_id] == qty)
            for no, line_id, qty in s.execute(
                select(Order.shop_order_no, OrderLine.id, OrderLine.quantity).join(Order)
            )
        ]


def test_a_killed_import_leaves_whole_orders_and_running_it_again_completes_it(
    db_url, tmp_path
) -> None:
    db = Database(db_url)
    build_demo(db, orders=0, seed=1, now=NOW)  # its stock runs short: some orders go on hold
    with db.read() as s:
        skus = list(s.scalars(select(Product.sku).order_by(Product.id)))
    data = shopify_export(skus, ORDERS_IN_FILE)
    path = tmp_path / "big.jsonl"
    path.write_bytes(data)
    sent = {
        record["name"].removeprefix("#"): len(record["line_items"])
        for record in map(json.loads, data.decode().splitlines())
    }

    importer = multiprocessing.get_context("spawn").Process(
        target=_import_file, args=(db_url, str(path))
    )
    importer.start()
    try:
        deadline = time.monotonic() + 120
        while counts(db)[0] < 100 and importer.is_alive() and time.monotonic() < deadline:
            time.sleep(0.005)
    finally:
        importer.kill()  # SIGKILL: no clean-up of any kind
        importer.join()
    killed_with = counts(db)[0]
    assert 100 <= killed_with < ORDERS_IN_FILE, "the import was not stopped half-way"

    _assert_whole(db, sent)
    settings = load_settings(REPO / "config.toml", environ={})
    parsed = parse_orders(data, file_name="big.jsonl", format="shopify")
    report = order_import.import_orders(db, CLI, parsed, settings=settings, file_name="big.jsonl")
    assert report.counts["already_imported"] == killed_with and report.failed == 0
    assert report.counts["imported"] + report.counts["on_hold"] == ORDERS_IN_FILE - killed_with
    assert counts(db)[0] == ORDERS_IN_FILE
    _assert_whole(db, sent)
    db.dispose()


def _assert_whole(db: Database, sent: dict[str, int]) -> None:
    """Every stored order has all the lines it was sent with, each either reserved in full
    (and the order on its way to a picker) or not at all (and the order on hold); stock
    reserved equals the open pick tasks; every order has its first event."""
    lines: dict[str, list[bool]] = defaultdict(list)
    for no, full in _reserved_lines(db):
        lines[no].append(full)
    with db.read() as s:
        status = dict(s.execute(select(Order.shop_order_no, Order.status)).all())
        without_event = s.scalar(
            select(func.count())
            .select_from(Order)
            .where(~select(OrderEvent.id).where(OrderEvent.order_id == Order.id).exists())
        )
        open_qty: dict[tuple[int, int], int] = defaultdict(int)
        for t in s.scalars(select(PickTask)):
            open_qty[(t.product_id, t.bin_id)] += t.quantity - t.picked - t.short
        stock = [(st.reserved, open_qty.get((st.product_id, st.bin_id), 0))
                 for st in s.scalars(select(Stock))]  # fmt: skip
    assert status and without_event == 0
    assert all(reserved == tasks for reserved, tasks in stock)
    for no, state in status.items():
        assert len(lines[no]) == sent[no], no
        if state.value == "on_hold":
            assert not any(lines[no]), no
        else:
            assert state.value in ("unhandled", "assigned") and all(lines[no]), no


def test_orders_sharing_a_commit_keep_their_own_numbers_and_events(sqlite_floor, settings) -> None:
    report = run(
        sqlite_floor, settings, order("a1", ("SKU-00001", 1)), order("h1", ("NO-SUCH-SKU", 1)),
        order("a1", ("SKU-00002", 9)), order("a2", ("SKU-00001", 1)),
    )  # fmt: skip
    assert (report.counts["imported"], report.counts["on_hold"]) == (2, 1)
    assert report.counts["already_imported"] == 1  # a1 twice in one file: the first one counts
    with sqlite_floor.read() as s:
        rows = s.execute(select(Order.number, Order.shop_order_no).order_by(Order.id)).all()
    assert [tuple(r) for r in rows] == [
        ("PO-0000001", "a1"),
        ("PO-0000002", "h1"),
        ("PO-0000003", "a2"),
    ]
    assert first_events(sqlite_floor) == {"a1": "unhandled", "h1": "on_hold", "a2": "unhandled"}
    assert sorted(_reserved_lines(sqlite_floor)) == [("a1", True), ("a2", True), ("h1", False)]
