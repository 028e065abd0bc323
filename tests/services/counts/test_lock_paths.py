"""Paths that bring stock back into a bin while it is counted, on both databases: an undone
pick, a put-back after a hold, ``stock set`` / ``stock import`` — and reservations, which never
take stock in a bin that is locked."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from picker.domain.picking import PutBack
from picker.services import counts
from picker.services.floor import picking
from picker.services.floor.picking import BinCounted
from picker.services.intake import catalogue
from picker.store.models import Bin, Order, PickTask
from tests.services.counts.helpers import bin_stock, clock, counter, ledger, put, status
from tests.services.counts.test_reservations import holds, quick  # noqa: F401 (fixture)
from tests.services.floor.test_picking import order_id, picker_of
from tests.services.intake.test_order_import import CLI, order, run

BINS = re.compile(r"^[A-Z]-\d{2}-\d{2}-\d$")


def started(db, settings, *lines, shop_no="1001", tote="T-0900"):  # type: ignore[no-untyped-def]
    """One order imported, reserved and started by its picker: (picker, its pick lines)."""
    run(db, settings, order(shop_no, *lines))
    number = f"PO-{int(shop_no) - 1000:07d}"
    who = picker_of(db, number)
    picking.start_order(db, who, order_id(db, number), tote, batch_size=4, clock=clock)
    return who, picking.pick_list(db, who.operator_id)


def test_undo_of_a_pick_from_a_bin_being_counted_is_refused_naming_the_count(floor, quick):  # noqa: F811
    put(floor, "SKU-00001", A_01_01_1=5)
    who, [line] = started(floor, quick, ("SKU-00001", 2))
    picking.pick(floor, who, line.task_id, 1, clock=clock)
    view = counts.start_count(floor, counter(floor), "A-01-01-1", settings=quick, clock=clock)
    with pytest.raises(BinCounted) as refused:
        picking.undo_last_pick(floor, who, clock=clock)
    assert str(refused.value) == (
        f"A-01-01-1 is being counted ({view.number}) — keep the unit in the tote; undo it once "
        "the count closes, or ask the shift lead"
    )
    assert bin_stock(floor, "SKU-00001", "A-01-01-1") == (4, 1)
    # The counter counts the 4 there: no difference, no false shortage.
    counts.count_item(floor, counter(floor), view.number, "SKU-00001", settings=quick,
                      clock=clock)  # fmt: skip
    counts.key_count(floor, counter(floor), view.number, 4, settings=quick, clock=clock)
    result = counts.finish_count(floor, counter(floor), view.number, settings=quick, clock=clock)
    assert (result.status, result.adjusted) == ("done", False)
    undone = picking.undo_last_pick(floor, who, clock=clock)  # the count closed: allowed
    assert undone is not None and undone.bin == "A-01-01-1"
    assert bin_stock(floor, "SKU-00001", "A-01-01-1") == (5, 2)
    holds(floor)


def _held_by_a_shortage(db, settings):  # type: ignore[no-untyped-def]
    """PO-0000001 picks 2 × SKU-00001 from A-01-01-1, a count starts there, then a shortage of
    SKU-00002 in A-01-01-2 (nothing elsewhere) holds the order: its picked units go back."""
    who, lines = started(db, settings, ("SKU-00001", 2), ("SKU-00002", 1))
    first = next(ln for ln in lines if ln.sku == "SKU-00001")
    second = next(ln for ln in lines if ln.sku == "SKU-00002")
    picking.pick(db, who, first.task_id, 2, clock=clock)
    view = counts.start_count(db, counter(db), "A-01-01-1", settings=settings, clock=clock)
    shortage = picking.report_shortage(db, who, second.task_id, 0, clock=clock)
    assert shortage.on_hold and status(db, "PO-0000001") == "on_hold"
    return view, shortage


def test_a_hold_puts_picked_units_of_a_counted_bin_into_another_bin_of_the_product(floor, quick):  # noqa: F811
    put(floor, "SKU-00001", A_01_01_1=5, B_01_01_1=3)
    put(floor, "SKU-00002", A_01_01_2=1)
    view, shortage = _held_by_a_shortage(floor, quick)
    assert shortage.put_back == (PutBack("SKU-00001", 2, "B-01-01-1"),)
    assert bin_stock(floor, "SKU-00001", "A-01-01-1") == (3, 0)  # untouched while counted
    assert bin_stock(floor, "SKU-00001", "B-01-01-1") == (5, 0)
    assert ledger(floor, "SKU-00001", "B-01-01-1") == 5
    counts.count_item(floor, counter(floor), view.number, "SKU-00001", settings=quick,
                      clock=clock)  # fmt: skip
    counts.key_count(floor, counter(floor), view.number, 3, settings=quick, clock=clock)
    result = counts.finish_count(floor, counter(floor), view.number, settings=quick, clock=clock)
    assert (result.status, result.adjusted) == ("done", False)  # no false shortage
    holds(floor)


def test_with_no_other_bin_the_units_wait_by_the_counted_bin_and_the_count_adds_them(
    floor,
    quick,  # noqa: F811
):
    put(floor, "SKU-00001", A_01_01_1=5)
    put(floor, "SKU-00002", A_01_01_2=1)
    put(floor, "SKU-00003", A_01_01_2=4)  # A-01-01-2 is no empty bin
    with floor.transaction() as s:  # the floor has no other bin to take them
        s.execute(
            update(Bin)
            .where(Bin.code.not_in(("A-01-01-1", "A-01-01-2")), Bin.role.in_(("pick", "reserve")))
            .values(active=False)
        )
    view, shortage = _held_by_a_shortage(floor, quick)
    [back] = shortage.put_back
    assert (back.sku, back.quantity) == ("SKU-00001", 2)
    assert back.bin == f"A-01-01-1 once {view.number} closes (keep them by it)"
    assert bin_stock(floor, "SKU-00001", "A-01-01-1") == (5, 0)  # booked, as the ledger says
    # The counter sees the 3 in the bin; the 2 by it are added: no difference.
    counts.count_item(floor, counter(floor), view.number, "SKU-00001", settings=quick,
                      clock=clock)  # fmt: skip
    counts.key_count(floor, counter(floor), view.number, 3, settings=quick, clock=clock)
    result = counts.finish_count(floor, counter(floor), view.number, settings=quick, clock=clock)
    assert [(p.expected, p.counted) for p in result.products] == [(5, 5)]
    assert (result.status, result.adjusted) == ("done", False)
    assert bin_stock(floor, "SKU-00001", "A-01-01-1") == (5, 0)


def test_stock_set_and_stock_import_of_a_counted_bin_are_refused_naming_the_count(floor, quick):  # noqa: F811
    put(floor, "SKU-00001", A_01_01_1=5)
    view = counts.start_count(floor, counter(floor), "A-01-01-1", settings=quick, clock=clock)
    with pytest.raises(catalogue.BinCounted) as refused:
        catalogue.set_stock(floor, CLI, "SKU-00001", "A-01-01-1", 9, bin_pattern=BINS,
                            clock=clock)  # fmt: skip
    assert str(refused.value) == (
        f"A-01-01-1 is being counted ({view.number}): its count sets the stock when it closes "
        f"— set it after that (picker count show {view.number})"
    )
    report = catalogue.import_stock(
        floor, CLI, b"sku,bin,on_hand\nSKU-00001,A-01-01-1,9\nSKU-00002,A-01-01-1,1\n",
        file_name="stock.csv", bin_pattern=BINS, clock=clock,
    )  # fmt: skip
    assert report.counts.get("changed", 0) == 0 and len(report.problems) == 2
    assert all(view.number in p.reason for p in report.problems)
    assert bin_stock(floor, "SKU-00001", "A-01-01-1") == (5, 0)
    assert bin_stock(floor, "SKU-00002", "A-01-01-1") == (0, 0)
    holds(floor)


def test_an_order_is_never_reserved_from_a_bin_being_counted(floor, quick):  # noqa: F811
    put(floor, "SKU-00001", A_01_01_1=5, B_01_01_1=5)
    counts.start_count(floor, counter(floor), "A-01-01-1", settings=quick, clock=clock)
    run(floor, quick, order("1001", ("SKU-00001", 2)))
    assert bin_stock(floor, "SKU-00001", "A-01-01-1") == (5, 0)
    assert bin_stock(floor, "SKU-00001", "B-01-01-1") == (5, 2)
    # The other bin is counted too: nothing left to reserve, the order waits short.
    counts.start_count(floor, counts_second(floor), "B-01-01-1", settings=quick, clock=clock)
    run(floor, quick, order("1002", ("SKU-00001", 1)))
    assert status(floor, "PO-0000002") == "on_hold"
    holds(floor)


def counts_second(db):  # type: ignore[no-untyped-def]
    from tests.services.counts.helpers import second_counter

    return second_counter(db)


def test_a_count_waiting_for_approval_keeps_its_bin_out_of_reservations(floor, settings):
    put(floor, "SKU-00001", A_01_01_1=5)
    view = counts.start_count(floor, counter(floor), "A-01-01-1", settings=settings, clock=clock)
    counts.count_item(floor, counter(floor), view.number, "SKU-00001", settings=settings,
                      clock=clock)  # fmt: skip
    counts.key_count(floor, counter(floor), view.number, 50, settings=settings, clock=clock)
    result = counts.finish_count(floor, counter(floor), view.number, settings=settings,
                                 clock=clock)  # fmt: skip
    assert result.status in ("recount", "approval")
    run(floor, settings, order("1001", ("SKU-00001", 1)))
    assert status(floor, "PO-0000001") == "on_hold"
    assert bin_stock(floor, "SKU-00001", "A-01-01-1") == (5, 0)


def test_a_shortage_and_a_count_below_reserved_never_move_reservations_into_a_counted_bin(
    floor,
    quick,  # noqa: F811
):
    put(floor, "SKU-00001", A_01_01_1=4, B_01_01_1=5)
    who, [line] = started(floor, quick, ("SKU-00001", 3))
    assert line.bin_code == "A-01-01-1"
    counts.start_count(floor, counts_second(floor), "B-01-01-1", settings=quick, clock=clock)
    shortage = picking.report_shortage(floor, who, line.task_id, 1, clock=clock)
    # B holds 5 but is counted: the order is held, not sent to a bin the picker is refused at.
    assert shortage.replacement_bins == () and shortage.on_hold
    assert bin_stock(floor, "SKU-00001", "B-01-01-1") == (5, 0)
    with floor.read() as s:
        bins = s.scalars(
            select(Bin.code).join(PickTask, PickTask.bin_id == Bin.id)
            .join(Order, Order.id == PickTask.order_id)
            .where(Order.number == "PO-0000001", PickTask.retired_at.is_(None))
        ).all()  # fmt: skip
    assert "B-01-01-1" not in bins
    holds(floor)


def test_reservations_skip_locked_bins_through_the_partial_index_on_sqlite(tmp_path) -> None:
    """The NOT EXISTS of locked bins is answered from uq_count_tasks_one_active_per_bin: the
    allocation hot path stays one index lookup per candidate bin."""
    from sqlalchemy import create_engine

    from picker.store import statements
    from picker.store.migrate import upgrade

    engine = create_engine(f"sqlite:///{tmp_path / 'plan.db'}")
    upgrade(engine)
    sql = statements._rows(statements._AVAILABLE, "?", 2, "sqlite")
    with engine.connect() as c:
        plan = [r[3] for r in c.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, (1, 2, True))]
    engine.dispose()
    assert any("USING INDEX uq_count_tasks_one_active_per_bin (bin_id=?)" in p for p in plan), plan
    assert not any(p.startswith("SCAN") for p in plan), plan


def test_a_count_above_what_receiving_takes_is_refused_in_words(floor, quick):  # noqa: F811
    who = counter(floor)
    view = counts.start_count(floor, who, "A-01-01-1", settings=quick, clock=clock)
    counts.count_item(floor, who, view.number, "SKU-00001", settings=quick, clock=clock)
    with pytest.raises(counts.CountRefused) as refused:
        counts.key_count(floor, who, view.number, 3_000_000_000, settings=quick, clock=clock)
    assert str(refused.value) == (
        "3,000,000,000 units is more than one count can be: key how many there are, from 0 to "
        "1,000,000."
    )
    with pytest.raises(counts.CountRefused, match="more than one count can be"):
        counts.count_item(floor, who, view.number, "SKU-00001", units=3_000_000_000,
                          settings=quick, clock=clock)  # fmt: skip
    counts.key_count(floor, who, view.number, 1_000_000, settings=quick, clock=clock)
    with pytest.raises(counts.CountRefused, match="SKU-00001 would count more than 1,000,000"):
        counts.count_item(floor, who, view.number, "SKU-00001", settings=quick, clock=clock)
    assert counts.is_product_code(floor, "SKU-00001") and not counts.is_product_code(floor, "12")
