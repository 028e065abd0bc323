"""Picking on both databases: queue, totes, picks, undo, shortages, resume, races."""

from __future__ import annotations

import threading
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text

from picker.domain.roles import Role
from picker.services import scans
from picker.services.actors import Actor, OperatorInfo
from picker.services.errors import Conflict, ServiceError
from picker.services.floor import picking
from picker.services.floor.picking import PickRefused
from picker.services.orders import lead_actions
from picker.services.scans import ScanOutcome
from picker.store.engine import Database
from picker.store.models import (
    Operator,
    Order,
    OrderEvent,
    PickTask,
    Product,
    Stock,
    StockMovement,
    Tote,
)
from tests.conftest import NOW
from tests.services.intake.test_order_import import order, run, stock

TZ = ZoneInfo("Europe/Warsaw")
LEAD = Actor("T01")  # the command line on the server: a lead


def clock():  # type: ignore[no-untyped-def]
    return NOW + timedelta(minutes=5)


def picker_of(db: Database, number: str) -> Actor:
    with db.read() as s:
        op = s.execute(
            select(Operator.id, Operator.badge, Operator.name)
            .join(Order, Order.assignee_id == Operator.id)
            .where(Order.number == number)
        ).one()
    return Actor("T07", OperatorInfo(op.id, op.badge, op.name, frozenset({Role.PICKER})))


def order_id(db: Database, number: str) -> int:
    with db.read() as s:
        return s.scalar(select(Order.id).where(Order.number == number))


def status(db: Database, number: str) -> str:
    with db.read() as s:
        return s.scalar(select(Order.status).where(Order.number == number))


def bin_stock(db: Database, sku: str, code: str) -> tuple[int, int]:
    from picker.store.models import Bin

    with db.read() as s:
        row = s.execute(
            select(Stock.on_hand, Stock.reserved)
            .join(Product, Product.id == Stock.product_id)
            .join(Bin, Bin.id == Stock.bin_id)
            .where(Product.sku == sku, Bin.code == code)
        ).one()
    return row.on_hand, row.reserved


def one_order(db, settings, *lines):  # type: ignore[no-untyped-def]
    """Import an order; it is reserved and assigned. Returns (number, picker)."""
    report = run(db, settings, order("1001", *lines))
    assert report.counts["assigned"] == 1
    return "PO-0000001", picker_of(db, "PO-0000001")


def started(db, settings, *lines, tote="T-0900"):  # type: ignore[no-untyped-def]
    number, who = one_order(db, settings, *lines)
    picking.start_order(db, who, order_id(db, number), tote, batch_size=4, clock=clock)
    return number, who


def test_the_queue_shows_the_pickers_orders_with_size_zones_and_cutoff(floor, settings) -> None:
    stock(floor, "SKU-00001", A_01_01_1=10)
    stock(floor, "SKU-00002", B_02_03_1=10)
    number, who = one_order(floor, settings, ("SKU-00001", 2), ("SKU-00002", 3))
    [entry] = picking.queue(floor, who.operator_id, now=clock(), tz=TZ)
    assert (entry.number, entry.lines, entry.units, entry.zones) == (number, 2, 5, ("A", "B"))
    assert entry.courier == "POST" and entry.tote is None and not entry.started
    assert entry.cutoff_at is not None and entry.minutes_to_cutoff(clock()) >= 0


def test_an_order_left_after_its_days_last_pickup_is_listed_late(floor, settings) -> None:
    """Not "1439 min" to tomorrow's pickup: late, since the day's last one went without it."""
    stock(floor, "SKU-00001", A_01_01_1=10)
    _, who = one_order(floor, settings, ("SKU-00001", 1))
    [morning] = picking.queue(floor, who.operator_id, now=clock(), tz=TZ)
    night = clock().astimezone(TZ).replace(hour=23, minute=0).astimezone(NOW.tzinfo)
    [evening] = picking.queue(floor, who.operator_id, now=night, tz=TZ)
    assert not morning.late and evening.late
    assert evening.cutoff_at is not None and evening.cutoff_at.date() > morning.cutoff_at.date()


def test_starting_binds_the_tote_and_a_second_start_or_a_busy_tote_is_refused(
    floor, settings
) -> None:
    stock(floor, "SKU-00001", A_01_01_1=10)
    run(floor, settings, order("1001", ("SKU-00001", 1)), order("1002", ("SKU-00001", 1)))
    who = picker_of(floor, "PO-0000001")
    done = picking.start_order(
        floor, who, order_id(floor, "PO-0000001"), "T-0900", batch_size=4, clock=clock
    )
    assert (done.order_number, done.tote, done.batch) == ("PO-0000001", "T-0900", 1)
    assert status(floor, "PO-0000001") == "picking"
    with pytest.raises(Conflict, match="is not waiting for you"):
        picking.start_order(
            floor, who, order_id(floor, "PO-0000001"), "T-0901", batch_size=4, clock=clock
        )
    other = picker_of(floor, "PO-0000002")
    with pytest.raises(PickRefused, match="Tote T-0900 is in use for PO-0000001"):
        picking.start_order(
            floor, other, order_id(floor, "PO-0000002"), "T-0900", batch_size=4, clock=clock
        )
    assert status(floor, "PO-0000002") == "assigned"
    with floor.read() as s:
        assert (
            s.scalar(select(Tote.code).where(Tote.order_id == order_id(floor, "PO-0000002")))
            is None
        )


def test_the_batch_limit_is_kept(floor, settings) -> None:
    stock(floor, "SKU-00001", A_01_01_1=10)
    run(floor, settings, order("1001"), order("1002"), order("1003"), order("1004"))
    with floor.read() as s:
        rows = s.execute(select(Order.number, Order.assignee_id).order_by(Order.id)).all()
    mine = [n for n, a in rows if a == rows[0].assignee_id]
    assert len(mine) >= 2
    who = picker_of(floor, mine[0])
    picking.start_order(floor, who, order_id(floor, mine[0]), "T-0900", batch_size=1, clock=clock)
    with pytest.raises(PickRefused, match="at most 1 at once"):
        picking.start_order(
            floor, who, order_id(floor, mine[1]), "T-0901", batch_size=1, clock=clock
        )


def test_a_whole_pick_moves_stock_task_ledger_journal_and_finishes_the_order(
    floor, settings
) -> None:
    stock(floor, "SKU-00001", A_01_01_1=10)
    number, who = started(floor, settings, ("SKU-00001", 3))
    [line] = picking.pick_list(floor, who.operator_id)
    assert (line.bin_code, line.left, line.tote) == ("A-01-01-1", 3, "T-0900")
    item = ScanOutcome(next(iter(line.barcodes)), "product", "accepted")
    first = picking.pick(floor, who, line.task_id, 1, scans_=[item], clock=clock)
    assert (first.left, first.order_picked) == (2, False)
    assert bin_stock(floor, "SKU-00001", "A-01-01-1") == (9, 2)
    last = picking.pick(floor, who, line.task_id, 2, clock=clock)
    assert last.order_picked and status(floor, number) == "picked"
    assert bin_stock(floor, "SKU-00001", "A-01-01-1") == (7, 0)
    with floor.read() as s:
        assert s.scalar(select(Tote.location).where(Tote.code == "T-0900")) == "packing"
        ledger = s.execute(
            select(StockMovement.delta, StockMovement.reason, StockMovement.pick_task_id)
            .where(StockMovement.order_id.is_not(None))
            .order_by(StockMovement.id)
        ).all()
        assert [(d, r) for d, r, _ in ledger] == [(-1, "pick"), (-2, "pick")]
        assert {t for _, _, t in ledger} == {line.task_id}
        events = s.execute(select(OrderEvent.to_status).order_by(OrderEvent.id)).scalars().all()
        assert events[-2:] == ["picking", "picked"]
    journaled = scans.recent(floor)
    assert [(e.kind, e.result) for e in journaled] == [("product", "accepted")]


def test_an_over_pick_is_refused_and_changes_nothing(floor, settings) -> None:
    stock(floor, "SKU-00001", A_01_01_1=10)
    _, who = started(floor, settings, ("SKU-00001", 2))
    [line] = picking.pick_list(floor, who.operator_id)
    with pytest.raises(PickRefused, match="Only 2 of SKU-00001 left"):
        picking.pick(floor, who, line.task_id, 3, clock=clock)
    assert bin_stock(floor, "SKU-00001", "A-01-01-1") == (10, 2)
    assert picking.pick_list(floor, who.operator_id)[0].picked == 0


def test_someone_else_cannot_pick_my_order(floor, settings) -> None:
    stock(floor, "SKU-00001", A_01_01_1=10)
    _, who = started(floor, settings, ("SKU-00001", 2))
    [line] = picking.pick_list(floor, who.operator_id)
    stranger = Actor("T08", OperatorInfo(999, "EMP-0999", "X", frozenset({Role.PICKER})))
    with pytest.raises(Conflict, match="no longer yours"):
        picking.pick(floor, stranger, line.task_id, 1, clock=clock)


def test_undo_puts_the_last_picks_back_one_by_one(floor, settings) -> None:
    stock(floor, "SKU-00001", A_01_01_1=10)
    _, who = started(floor, settings, ("SKU-00001", 4))
    [line] = picking.pick_list(floor, who.operator_id)
    picking.pick(floor, who, line.task_id, 1, clock=clock)
    picking.pick(floor, who, line.task_id, 2, clock=clock)
    undone = picking.undo_last_pick(floor, who, clock=clock)
    assert undone is not None and (undone.sku, undone.quantity) == ("SKU-00001", 2)
    assert picking.pick_list(floor, who.operator_id)[0].picked == 1
    assert bin_stock(floor, "SKU-00001", "A-01-01-1") == (9, 3)
    picking.pick(floor, who, line.task_id, 1, clock=clock)  # picked again: undo takes that one
    assert picking.undo_last_pick(floor, who, clock=clock).quantity == 1  # type: ignore[union-attr]
    assert picking.undo_last_pick(floor, who, clock=clock).quantity == 1  # type: ignore[union-attr]
    assert picking.undo_last_pick(floor, who, clock=clock) is None
    assert bin_stock(floor, "SKU-00001", "A-01-01-1") == (10, 4)
    with floor.read() as s:
        ledger = s.scalars(select(StockMovement.delta).where(StockMovement.order_id.is_not(None)))
        assert list(ledger) == [-1, -2, 2, -1, 1, 1]  # append-only: undo is a movement of its own


def test_a_shortage_with_stock_elsewhere_adds_a_line_in_another_bin(floor, settings) -> None:
    stock(floor, "SKU-00001", A_01_01_1=4, A_01_02_1=5)
    number, who = started(floor, settings, ("SKU-00001", 3))
    [line] = picking.pick_list(floor, who.operator_id)
    assert line.bin_code == "A-01-01-1"
    result = picking.report_shortage(floor, who, line.task_id, 1, clock=clock)
    assert (result.missing, result.replacement_bins, result.on_hold) == (2, ("A-01-02-1",), False)
    assert bin_stock(floor, "SKU-00001", "A-01-01-1") == (1, 1)  # counted: 1 is really there
    assert bin_stock(floor, "SKU-00001", "A-01-02-1") == (5, 2)
    lines = sorted(
        (ln.bin_code, ln.left, ln.tote) for ln in picking.pick_list(floor, who.operator_id)
    )
    assert lines == [("A-01-01-1", 1, "T-0900"), ("A-01-02-1", 2, "T-0900")]
    assert status(floor, number) == "picking"
    with floor.read() as s:
        count = s.execute(
            select(StockMovement.delta, StockMovement.operator_id).where(
                StockMovement.reason == "count"
            )
        ).one()
    assert count == (-3, who.operator_id)


def test_a_shortage_with_no_stock_holds_the_order_and_lists_the_put_back(floor, settings) -> None:
    stock(floor, "SKU-00001", A_01_01_1=5)
    stock(floor, "SKU-00002", A_01_02_1=1)
    number, who = started(floor, settings, ("SKU-00001", 2), ("SKU-00002", 1))
    lines = {ln.sku: ln for ln in picking.pick_list(floor, who.operator_id)}
    picking.pick(floor, who, lines["SKU-00001"].task_id, 2, clock=clock)
    result = picking.report_shortage(floor, who, lines["SKU-00002"].task_id, 0, clock=clock)
    assert result.on_hold and result.replacement_bins == ()
    assert result.put_back == (picking.PutBack("SKU-00001", 2, "A-01-01-1"),)
    assert status(floor, number) == "on_hold"
    with floor.read() as s:
        order = s.execute(select(Order.hold_reasons, Order.held_by_terminal)).one()
        assert order.hold_reasons == ["short: SKU-00002"] and order.held_by_terminal is None
        assert s.scalar(select(Tote.location).where(Tote.code == "T-0900")) == "problem_shelf"
        assert s.scalar(select(func.sum(Stock.reserved))) == 0
    assert picking.pick_list(floor, who.operator_id) == []
    # The units went back to their bin, in the ledger too: stock adds up, nothing picked stays.
    assert bin_stock(floor, "SKU-00001", "A-01-01-1") == (5, 0)
    with floor.read() as s:
        back = s.execute(
            select(StockMovement.delta, StockMovement.pick_task_id)
            .where(StockMovement.reason == "put_back")
        ).all()  # fmt: skip
    assert [tuple(r) for r in back] == [(2, lines["SKU-00001"].task_id)]
    # The lead cancels it: the emptied tote is free for the next order.
    lead_actions.cancel_order(floor, LEAD, number, "customer withdrew", clock=clock)
    with floor.read() as s:
        tote = s.execute(select(Tote.order_id, Tote.location).where(Tote.code == "T-0900")).one()
    assert tuple(tote) == (None, None)


def test_a_shortage_moves_other_orders_reservations_in_that_bin(floor, settings) -> None:
    stock(floor, "SKU-00001", A_01_01_1=4, B_01_01_1=1)
    run(floor, settings, order("1001", ("SKU-00001", 2)), order("1002", ("SKU-00001", 2)))
    who = picker_of(floor, "PO-0000001")
    picking.start_order(
        floor, who, order_id(floor, "PO-0000001"), "T-0900", batch_size=4, clock=clock
    )
    [line] = picking.pick_list(floor, who.operator_id)
    result = picking.report_shortage(floor, who, line.task_id, 1, clock=clock)
    # Mine: 1 here, 1 from B. The other order's 2 had only this bin: nothing left anywhere.
    assert result.replacement_bins == ("B-01-01-1",)
    assert [h.number for h in result.others_held] == ["PO-0000002"]
    assert status(floor, "PO-0000002") == "on_hold"
    assert bin_stock(floor, "SKU-00001", "A-01-01-1") == (1, 1)
    assert bin_stock(floor, "SKU-00001", "B-01-01-1") == (1, 1)


def test_a_count_that_is_no_shortage_is_refused(floor, settings) -> None:
    stock(floor, "SKU-00001", A_01_01_1=5)
    _, who = started(floor, settings, ("SKU-00001", 2))
    [line] = picking.pick_list(floor, who.operator_id)
    with pytest.raises(PickRefused, match="no shortage"):
        picking.report_shortage(floor, who, line.task_id, 2, clock=clock)
    assert bin_stock(floor, "SKU-00001", "A-01-01-1") == (5, 2)


def test_after_a_crash_the_next_login_finds_the_same_totes_and_counts(floor, settings) -> None:
    stock(floor, "SKU-00001", A_01_01_1=10)
    _, who = started(floor, settings, ("SKU-00001", 3))
    [line] = picking.pick_list(floor, who.operator_id)
    picking.pick(floor, who, line.task_id, 2, clock=clock)
    again = Database(floor.url)  # a new process after the old one died
    try:
        [entry] = picking.queue(again, who.operator_id, now=clock(), tz=TZ)
        assert entry.started and entry.tote == "T-0900"
        [resumed] = picking.pick_list(again, who.operator_id)
        assert (resumed.task_id, resumed.picked, resumed.left) == (line.task_id, 2, 1)
    finally:
        again.dispose()


def _race(*calls) -> list[object]:  # type: ignore[no-untyped-def]
    results: list[object] = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run_one(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run_one, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_two_terminals_starting_one_order_only_one_wins(floor, settings) -> None:
    stock(floor, "SKU-00001", A_01_01_1=10)
    number, who = one_order(floor, settings, ("SKU-00001", 1))
    oid = order_id(floor, number)
    results = _race(
        *(
            (
                lambda tote=tote: picking.start_order(
                    floor, who, oid, tote, batch_size=4, clock=clock
                )
            )
            for tote in ("T-0900", "T-0901")
        )
    )
    wins = [r for r in results if isinstance(r, picking.Started)]
    assert len(wins) == 1, results
    assert all(isinstance(r, (Conflict, PickRefused)) for r in results if r not in wins), results
    with floor.read() as s:
        assert s.scalar(select(func.count()).select_from(Tote).where(Tote.order_id == oid)) == 1
        assert (
            s.scalar(
                select(func.count()).select_from(PickTask).where(PickTask.tote_id.is_not(None))
            )
            == 1
        )


def test_two_orders_racing_for_one_tote_only_one_gets_it(floor, settings) -> None:
    stock(floor, "SKU-00001", A_01_01_1=10)
    run(floor, settings, order("1001"), order("1002"))
    calls = []
    for number in ("PO-0000001", "PO-0000002"):
        who, oid = picker_of(floor, number), order_id(floor, number)
        calls.append(
            lambda who=who, oid=oid: picking.start_order(
                floor, who, oid, "T-0950", batch_size=4, clock=clock
            )
        )
    results = _race(*calls)
    assert len([r for r in results if isinstance(r, picking.Started)]) == 1, results
    with floor.read() as s:
        assert s.scalar(select(func.count()).select_from(Tote).where(Tote.code == "T-0950")) == 1
        assert (
            s.scalar(select(func.count()).select_from(Order).where(Order.status == "picking")) == 1
        )


def test_the_printed_pick_list_has_what_is_left_in_walking_order(floor, settings, tmp_path):
    from picker.services.errors import NotFound, ServiceError
    from picker.services.printjobs import pick_lists

    stock(floor, "SKU-00001", B_01_01_1=10)
    stock(floor, "SKU-00002", A_02_01_1=10)
    number, who = started(floor, settings, ("SKU-00001", 2), ("SKU-00002", 1))
    lines = {ln.sku: ln for ln in picking.pick_list(floor, who.operator_id)}
    picking.pick(floor, who, lines["SKU-00001"].task_id, 1, clock=clock)
    [doc] = pick_lists.pick_list_orders(floor, [number])
    assert (doc.number, doc.tote) == (number, "T-0900")
    assert [(ln.bin, ln.sku, ln.quantity) for ln in doc.lines] == [
        ("A-02-01-1", "SKU-00002", 1),
        ("B-01-01-1", "SKU-00001", 1),
    ]
    path = pick_lists.write_pick_lists(floor, [number], tmp_path / "pl.pdf", clock=clock)
    assert path.read_bytes().startswith(b"%PDF")
    with pytest.raises(NotFound, match="PO-9999999 does not exist"):
        pick_lists.pick_list_orders(floor, ["PO-9999999"])
    picking.pick(floor, who, lines["SKU-00001"].task_id, 1, clock=clock)
    picking.pick(floor, who, lines["SKU-00002"].task_id, 1, clock=clock)
    with pytest.raises(ServiceError, match="has nothing to pick \\(it is picked"):
        pick_lists.pick_list_orders(floor, [number])


def test_a_hold_after_an_undone_pick_keeps_the_ledger_whole(floor, settings) -> None:
    stock(floor, "SKU-00001", A_01_01_1=5)
    stock(floor, "SKU-00002", A_01_02_1=1)
    number, who = started(floor, settings, ("SKU-00001", 2), ("SKU-00002", 1))
    lines = {ln.sku: ln for ln in picking.pick_list(floor, who.operator_id)}
    picking.pick(floor, who, lines["SKU-00001"].task_id, 1, clock=clock)
    picking.undo_last_pick(floor, who, clock=clock)  # the task is back to untouched
    result = picking.report_shortage(floor, who, lines["SKU-00002"].task_id, 0, clock=clock)
    assert result.on_hold and status(floor, number) == "on_hold"
    with floor.read() as s:
        moves = s.execute(
            select(StockMovement.reason, StockMovement.pick_task_id).where(
                StockMovement.order_id.is_not(None)
            )
        ).all()
        assert [r for r, _ in moves] == ["pick", "unpick", "count"]
        assert s.scalar(select(func.sum(Stock.reserved))) == 0
        open_left = select(func.sum(PickTask.quantity - PickTask.picked - PickTask.short))
        assert (s.scalar(open_left) or 0) == 0  # nothing of a held order is still to pick


def test_a_shortage_in_a_bin_two_lines_of_one_order_share_holds_it_once(floor, settings):
    stock(floor, "SKU-00001", A_01_01_1=10)
    number, who = started(floor, settings, ("SKU-00001", 2), ("SKU-00001", 2))
    first = min(picking.pick_list(floor, who.operator_id), key=lambda ln: ln.task_id)
    result = picking.report_shortage(floor, who, first.task_id, 1, clock=clock)
    assert result.on_hold and result.others_held == () and status(floor, number) == "on_hold"
    with floor.read() as s:
        assert s.scalar(select(Order.hold_reasons)) == ["short: SKU-00001"]
        assert s.scalar(select(func.sum(Stock.reserved))) == 0
    assert bin_stock(floor, "SKU-00001", "A-01-01-1") == (1, 0)


def test_undo_after_the_last_unit_refuses_by_name_and_never_undoes_another_order(floor, settings):
    stock(floor, "SKU-00001", A_01_01_1=10)
    run(floor, settings, order("1001", ("SKU-00001", 1)), order("1002", ("SKU-00001", 2)))
    who = picker_of(floor, "PO-0000001")
    mine = [n for n in ("PO-0000001", "PO-0000002") if picker_of(floor, n) == who]
    for i, number in enumerate(mine):
        picking.start_order(floor, who, order_id(floor, number), f"T-09{i:02d}", batch_size=4,
                            clock=clock)  # fmt: skip
    lines = sorted(picking.pick_list(floor, who.operator_id), key=lambda ln: -ln.quantity)
    if len(lines) == 2:  # both orders are this picker's: one unit of the 2-unit order first
        picking.pick(floor, who, lines[0].task_id, 1, clock=clock)
    last = lines[-1]
    picking.pick(floor, who, last.task_id, last.left, clock=clock)  # finishes its order
    with pytest.raises(PickRefused, match=f"Your last pick finished {last.order_number}"):
        picking.undo_last_pick(floor, who, clock=clock)
    assert status(floor, last.order_number) == "picked"
    if len(lines) == 2:
        assert picking.pick_list(floor, who.operator_id)[0].picked == 1  # untouched


def mine_too(db: Database, who: Actor, *numbers: str) -> None:
    """A lead gives ``numbers`` to ``who`` (so one picker holds them all, for a batch)."""
    for number in numbers:
        if picker_of(db, number) != who:
            lead_actions.assign_order(db, LEAD, number, who.operator.badge, clock=clock)


def test_a_shortage_holds_a_batch_mate_and_sends_its_tote_to_the_problem_shelf(floor, settings):
    stock(floor, "SKU-00001", A_01_01_1=4)
    stock(floor, "SKU-00002", A_01_02_1=5)
    run(floor, settings, order("1001", ("SKU-00001", 2)),
        order("1002", ("SKU-00002", 1), ("SKU-00001", 2)))  # fmt: skip
    who = picker_of(floor, "PO-0000001")
    mine_too(floor, who, "PO-0000002")
    for tote, number in (("T-0900", "PO-0000001"), ("T-0901", "PO-0000002")):
        picking.start_order(floor, who, order_id(floor, number), tote, batch_size=4, clock=clock)
    lines = {(ln.order_number, ln.sku): ln for ln in picking.pick_list(floor, who.operator_id)}
    picking.pick(floor, who, lines["PO-0000002", "SKU-00002"].task_id, 1, clock=clock)
    # Nothing in the bin at all, and no other bin: both orders of the batch are held.
    result = picking.report_shortage(
        floor, who, lines["PO-0000001", "SKU-00001"].task_id, 0, clock=clock
    )
    assert result.on_hold and result.tote == "T-0900"
    [mate] = result.mine_held(who.operator_id)
    assert (mate.number, mate.tote) == ("PO-0000002", "T-0901")
    assert mate.put_back == (picking.PutBack("SKU-00002", 1, "A-01-02-1"),)
    assert status(floor, "PO-0000002") == "on_hold"
    with floor.read() as s:
        shelf = dict(s.execute(select(Tote.code, Tote.location).where(Tote.code >= "T-09")).all())
        assert shelf == {"T-0900": "problem_shelf", "T-0901": "problem_shelf"}
        assert s.scalar(select(func.sum(Stock.reserved))) == 0
    # A scan of the held order's line names the reason and where its tote goes.
    with pytest.raises(Conflict, match=r"PO-0000002 was put on hold \(short: SKU-00001\).*T-0901"):
        picking.pick(floor, who, lines["PO-0000002", "SKU-00001"].task_id, 1, clock=clock)
    assert picking.pick_list(floor, who.operator_id) == []


def test_one_picker_on_two_terminals_cannot_start_more_than_the_batch(floor, settings) -> None:
    stock(floor, "SKU-00001", A_01_01_1=10)
    run(floor, settings, order("1001"), order("1002"))
    who = picker_of(floor, "PO-0000001")
    mine_too(floor, who, "PO-0000002")
    results = _race(
        *(
            (lambda n=n, tote=tote: picking.start_order(
                floor, who, order_id(floor, n), tote, batch_size=1, clock=clock))
            for n, tote in (("PO-0000001", "T-0900"), ("PO-0000002", "T-0901"))
        )
    )  # fmt: skip
    assert len([r for r in results if isinstance(r, picking.Started)]) == 1, results
    assert any(isinstance(r, PickRefused) and "at most 1" in str(r) for r in results), results
    with floor.read() as s:
        picking_now = select(func.count()).select_from(Order).where(Order.status == "picking")
        assert s.scalar(picking_now) == 1


def test_a_pick_and_a_shortage_in_one_bin_at_once_both_settle_and_stock_adds_up(floor, settings):
    stock(floor, "SKU-00001", A_01_01_1=4, B_01_01_1=10)
    run(floor, settings, order("1001", ("SKU-00001", 2)), order("1002", ("SKU-00001", 2)))
    pickers = [picker_of(floor, n) for n in ("PO-0000001", "PO-0000002")]
    if pickers[0] == pickers[1]:  # one picker holds both: give the second to the other picker
        lead_actions.assign_order(floor, LEAD, "PO-0000002", "EMP-0003" if pickers[0].operator.badge
                            != "EMP-0003" else "EMP-0002", clock=clock)  # fmt: skip
        pickers[1] = picker_of(floor, "PO-0000002")
    tasks = []
    for i, (who, number) in enumerate(zip(pickers, ("PO-0000001", "PO-0000002"), strict=True)):
        picking.start_order(floor, who, order_id(floor, number), f"T-090{i}", batch_size=4,
                            clock=clock)  # fmt: skip
        [line] = picking.pick_list(floor, who.operator_id)
        assert line.bin_code == "A-01-01-1"
        tasks.append(line.task_id)
    results = _race(
        lambda: picking.pick(floor, pickers[0], tasks[0], 1, clock=clock),
        lambda: picking.report_shortage(floor, pickers[1], tasks[1], 1, clock=clock),
    )
    # Whichever went first, neither failed on the database (a deadlock would): a pick that came
    # second finds its line moved to bin B and is refused by name.
    assert all(not isinstance(r, Exception) or isinstance(r, ServiceError) for r in results)
    assert isinstance(results[1], picking.Shortage), results
    with floor.read() as s:
        for stock_id, on_hand, reserved in s.execute(select(Stock.id, Stock.on_hand,
                                                            Stock.reserved)):  # fmt: skip
            open_units = s.scalar(
                select(func.coalesce(func.sum(PickTask.quantity - PickTask.picked
                                              - PickTask.short), 0))
                .join(Stock, (Stock.product_id == PickTask.product_id)
                      & (Stock.bin_id == PickTask.bin_id))
                .where(Stock.id == stock_id)
            )  # fmt: skip
            assert 0 <= reserved <= on_hand and reserved == open_units, (stock_id, on_hand)
        picked = s.scalar(select(func.sum(PickTask.picked)))
        ledger = s.scalar(
            select(func.sum(StockMovement.delta)).where(StockMovement.reason == "pick")
        )
        assert -(ledger or 0) == picked


def test_a_lead_takes_over_a_started_order_and_the_new_picker_resumes_its_counts(
    floor, settings
) -> None:
    stock(floor, "SKU-00001", A_01_01_1=10)
    number, who = started(floor, settings, ("SKU-00001", 3))
    [line] = picking.pick_list(floor, who.operator_id)
    picking.pick(floor, who, line.task_id, 2, clock=clock)
    other = "EMP-0003" if who.operator.badge != "EMP-0003" else "EMP-0002"
    lead_actions.assign_order(floor, LEAD, number, other, reason="Ann went home", clock=clock)
    taker = picker_of(floor, number)
    assert taker.operator.badge == other
    [entry] = picking.queue(floor, taker.operator_id, now=clock(), tz=TZ)
    assert entry.started and entry.tote == "T-0900"
    [resumed] = picking.pick_list(floor, taker.operator_id)
    assert (resumed.task_id, resumed.picked, resumed.left) == (line.task_id, 2, 1)
    assert picking.pick_list(floor, who.operator_id) == []
    with pytest.raises(Conflict, match="no longer yours"):
        picking.pick(floor, who, line.task_id, 1, clock=clock)
    done = picking.pick(floor, taker, line.task_id, 1, clock=clock)
    assert done.order_picked
    with floor.read() as s:
        event = s.execute(
            select(OrderEvent.from_status, OrderEvent.to_status, OrderEvent.reason)
            .where(OrderEvent.reason.like("taken over%"))
        ).one()  # fmt: skip
    assert event.from_status == event.to_status == "picking"
    assert event.reason == f"taken over from {who.operator.badge} to {other} by lead: Ann went home"


def test_a_shortage_that_holds_another_pickers_order_is_explained_on_their_next_scan(
    floor, settings
) -> None:
    stock(floor, "SKU-00001", A_01_01_1=4)
    stock(floor, "SKU-00002", A_01_02_1=5)
    run(floor, settings, order("1001", ("SKU-00001", 2)),
        order("1002", ("SKU-00001", 2), ("SKU-00002", 1)))  # fmt: skip
    mine = picker_of(floor, "PO-0000001")
    other = "EMP-0003" if mine.operator.badge != "EMP-0003" else "EMP-0002"
    lead_actions.assign_order(floor, LEAD, "PO-0000002", other, clock=clock)
    theirs = picker_of(floor, "PO-0000002")
    for who, number, tote in ((mine, "PO-0000001", "T-0900"), (theirs, "PO-0000002", "T-0901")):
        picking.start_order(floor, who, order_id(floor, number), tote, batch_size=4, clock=clock)
    their_lines = {ln.sku: ln for ln in picking.pick_list(floor, theirs.operator_id)}
    their_line = their_lines["SKU-00001"]
    picking.pick(floor, theirs, their_lines["SKU-00002"].task_id, 1, clock=clock)  # in their tote
    [my_line] = picking.pick_list(floor, mine.operator_id)
    with floor.transaction() as s:  # one unit turns up in another bin: enough for mine only
        s.execute(text("INSERT INTO stock (product_id, bin_id, on_hand, reserved) "
                       "SELECT p.id, b.id, 1, 0 FROM products p, bins b "
                       "WHERE p.sku = 'SKU-00001' AND b.code = 'B-01-01-1'"))  # fmt: skip
    done = picking.report_shortage(floor, mine, my_line.task_id, 1, clock=clock)
    assert done.replacement_bins == ("B-01-01-1",) and not done.on_hold
    assert [h.number for h in done.others_held] == ["PO-0000002"]
    assert done.mine_held(mine.operator_id) == ()  # not my batch: my screen does not send it
    assert status(floor, "PO-0000002") == "on_hold"
    # Their next scan, at the short bin or at a line that was given back, says what happened.
    with pytest.raises(Conflict, match=r"PO-0000002 was put on hold.*T-0901 to the problem"):
        picking.pick(floor, theirs, their_line.task_id, 1, clock=clock)
    # What their tote held was booked back to its bin: their screen says where it goes.
    [gone] = picking.gone(floor, [their_line.order_id])
    assert gone.words == (
        "PO-0000002 was put on hold (short: SKU-00001). Put back 1 × SKU-00002 → A-01-02-1, "
        "then take tote T-0901 to the problem shelf."
    )
    assert bin_stock(floor, "SKU-00002", "A-01-02-1") == (5, 0)


def test_a_pick_sent_again_after_a_lost_answer_is_applied_once(floor, settings) -> None:
    """The terminal never heard back (the connection dropped at the commit) and sends the scan
    again under its key once the database answers: the first sending had been saved, so the
    second is refused whole and says so; stock, task, ledger and journal count one pick."""
    stock(floor, "SKU-00001", A_01_01_1=10)
    _, who = started(floor, settings, ("SKU-00001", 3))
    [line] = picking.pick_list(floor, who.operator_id)
    code = next(iter(line.barcodes))
    with scans.sending(scans.ScanKey("k-first")):
        item = ScanOutcome(code, "product", "accepted")
        picking.pick(floor, who, line.task_id, 1, scans_=[item], clock=clock)
    with scans.sending(scans.ScanKey("k-first", resent=True)):
        again = ScanOutcome(code, "product", "accepted")
        with pytest.raises(scans.AlreadySaved, match="Already saved before the connection"):
            picking.pick(floor, who, line.task_id, 1, scans_=[again], clock=clock)
    assert bin_stock(floor, "SKU-00001", "A-01-01-1") == (9, 2)
    assert picking.pick_list(floor, who.operator_id)[0].picked == 1
    with floor.read() as s:
        assert s.scalar(select(func.count()).select_from(StockMovement)
                        .where(StockMovement.reason == "pick")) == 1  # fmt: skip
    assert [e.raw for e in scans.recent(floor)] == [code]


def test_a_pick_sent_again_that_never_arrived_is_applied(floor, settings) -> None:
    """The first sending was lost before its commit: the second is the one that counts."""
    stock(floor, "SKU-00001", A_01_01_1=10)
    _, who = started(floor, settings, ("SKU-00001", 3))
    [line] = picking.pick_list(floor, who.operator_id)
    with scans.sending(scans.ScanKey("k-lost", resent=True)):
        item = ScanOutcome(next(iter(line.barcodes)), "product", "accepted")
        done = picking.pick(floor, who, line.task_id, 1, scans_=[item], clock=clock)
    assert done.left == 2 and bin_stock(floor, "SKU-00001", "A-01-01-1") == (9, 2)
    [journaled] = scans.recent(floor)
    assert journaled.raw == item.raw


def test_a_shortage_held_order_released_is_reserved_afresh_and_picked_again_whole(
    floor, settings
) -> None:
    """Stock arrives for the short line and the lead releases the order: all of it is reserved
    again (the units put back included), it goes to a picker, and the new walk has only the
    new lines — nothing of the stopped attempt."""
    stock(floor, "SKU-00001", A_01_01_1=5)
    stock(floor, "SKU-00002", A_01_02_1=1)
    number, who = started(floor, settings, ("SKU-00001", 2), ("SKU-00002", 1))
    lines = {ln.sku: ln for ln in picking.pick_list(floor, who.operator_id)}
    picking.pick(floor, who, lines["SKU-00001"].task_id, 2, clock=clock)
    assert picking.report_shortage(floor, who, lines["SKU-00002"].task_id, 0, clock=clock).on_hold
    stock(floor, "SKU-00002", B_02_03_1=4)  # a delivery, into another bin
    assert lead_actions.release_order(floor, LEAD, number, settings=settings, clock=clock).released
    assert bin_stock(floor, "SKU-00001", "A-01-01-1") == (5, 2)
    assert bin_stock(floor, "SKU-00002", "B-02-03-1") == (4, 1)
    lead_actions.assign_ready_orders(floor, LEAD, settings=settings, clock=clock)
    again = picker_of(floor, number)
    picking.start_order(floor, again, order_id(floor, number), "T-0901", batch_size=4, clock=clock)
    walk_again = picking.pick_list(floor, again.operator_id)
    assert sorted((ln.sku, ln.bin_code, ln.left) for ln in walk_again) == [
        ("SKU-00001", "A-01-01-1", 2),
        ("SKU-00002", "B-02-03-1", 1),
    ]
    assert {ln.task_id for ln in walk_again}.isdisjoint({ln.task_id for ln in lines.values()})
    for ln in walk_again:
        picking.pick(floor, again, ln.task_id, ln.left, clock=clock)
    assert status(floor, number) == "picked"
    assert bin_stock(floor, "SKU-00001", "A-01-01-1") == (3, 0)
