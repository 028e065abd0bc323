"""A count's effect on orders, on both databases: reservations moved or held when a count is
below what is reserved, held orders released when it found more, the lock seen from picking,
and races between a count and a pick on one bin."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from picker.config import Threshold
from picker.services import counts
from picker.services.check import check
from picker.services.floor import picking
from picker.services.floor.picking import BinCounted
from picker.store.models import Order
from tests.services.counts.helpers import (
    bin_stock,
    clock,
    counter,
    hold_reasons,
    ledger,
    put,
    status,
)
from tests.services.floor.test_picking import _race, order_id, picker_of
from tests.services.intake.test_order_import import order, run


@pytest.fixture
def quick(settings):  # type: ignore[no-untyped-def]
    """Settings where any confirmed difference adjusts at once (no recount, no approval)."""
    c = replace(settings.counting, recount_over=Threshold(units=1000),
                approve_over=Threshold(units=1000))  # fmt: skip
    return replace(settings, counting=c)


def count(db, settings, code, sku, n):  # type: ignore[no-untyped-def]
    who = counter(db)
    view = counts.start_count(db, who, code, settings=settings, clock=clock)
    if n:
        counts.count_item(db, who, view.number, sku, settings=settings, clock=clock)
        counts.key_count(db, who, view.number, n, settings=settings, clock=clock)
    return counts.finish_count(db, who, view.number, settings=settings, clock=clock)


def holds(db) -> None:  # type: ignore[no-untyped-def]
    broken = [f for f in check(db) if f.broken]
    assert broken == [], broken


def test_a_count_below_reserved_moves_the_orders_to_other_bins(floor, quick):
    put(floor, "SKU-00001", A_01_01_1=4, B_01_01_1=5)
    run(floor, quick, order("1001", ("SKU-00001", 2)), order("1002", ("SKU-00001", 2)))
    assert bin_stock(floor, "SKU-00001", "A-01-01-1") == (4, 4)
    result = count(floor, quick, "A-01-01-1", "SKU-00001", 1)
    assert (result.status, result.adjusted) == ("done", True)
    # One unit fits: the older order keeps 1 here; 3 units are reserved from B instead.
    assert set(result.re_reserved) == {"PO-0000001", "PO-0000002"} or set(result.re_reserved) == {
        "PO-0000002"
    }
    assert result.held == ()
    assert bin_stock(floor, "SKU-00001", "A-01-01-1") == (1, 1)
    assert bin_stock(floor, "SKU-00001", "B-01-01-1") == (5, 3)
    assert "re-reserved elsewhere: " in result.words
    assert status(floor, "PO-0000001") == "assigned" and status(floor, "PO-0000002") == "assigned"
    assert ledger(floor, "SKU-00001", "A-01-01-1") == 1
    holds(floor)


def test_a_count_below_reserved_with_nothing_elsewhere_holds_the_orders_short(floor, quick):
    put(floor, "SKU-00001", A_01_01_1=4)
    put(floor, "SKU-00002", A_01_01_2=3)
    run(floor, quick, order("1001", ("SKU-00001", 2)),
        order("1002", ("SKU-00001", 2), ("SKU-00002", 3)))  # fmt: skip
    result = count(floor, quick, "A-01-01-1", "SKU-00001", 2)
    assert result.held == ("PO-0000002",) and result.re_reserved == ()
    assert "held short: PO-0000002" in result.words
    assert status(floor, "PO-0000002") == "on_hold"
    assert hold_reasons(floor, "PO-0000002") == ["short: SKU-00001"]
    assert status(floor, "PO-0000001") == "assigned"  # the older order keeps its 2
    assert bin_stock(floor, "SKU-00001", "A-01-01-1") == (2, 2)
    # Its other reservation was given back, as allocation does for a shortage.
    assert bin_stock(floor, "SKU-00002", "A-01-01-2") == (3, 0)
    holds(floor)


def test_an_order_being_picked_keeps_its_picked_units_and_its_reservation_first(floor, quick):
    put(floor, "SKU-00001", A_01_01_1=4)
    run(floor, quick, order("1001", ("SKU-00001", 3)))
    run(floor, quick, order("1002", ("SKU-00001", 1)))
    who = picker_of(floor, "PO-0000001")
    picking.start_order(floor, who, order_id(floor, "PO-0000001"), "T-0900", batch_size=4,
                        clock=clock)  # fmt: skip
    [line] = picking.pick_list(floor, who.operator_id)
    picking.pick(floor, who, line.task_id, 1, clock=clock)
    assert bin_stock(floor, "SKU-00001", "A-01-01-1") == (3, 3)
    result = count(floor, quick, "A-01-01-1", "SKU-00001", 2)
    # The order being picked keeps its 2 open units; the waiting order loses its unit: held.
    assert result.held == ("PO-0000002",)
    assert status(floor, "PO-0000001") == "picking"
    assert bin_stock(floor, "SKU-00001", "A-01-01-1") == (2, 2)
    [line] = picking.pick_list(floor, who.operator_id)
    assert (line.picked, line.left) == (1, 2)
    holds(floor)


def test_a_count_that_found_more_releases_orders_held_short(floor, quick):
    put(floor, "SKU-00001", A_01_01_1=1)
    run(floor, quick, order("1001", ("SKU-00001", 3)))
    assert status(floor, "PO-0000001") == "on_hold"
    result = count(floor, quick, "A-01-01-1", "SKU-00001", 5)
    assert result.released == ("PO-0000001",)
    assert "released: PO-0000001" in result.words
    assert status(floor, "PO-0000001") == "assigned"
    assert bin_stock(floor, "SKU-00001", "A-01-01-1") == (5, 3)
    holds(floor)


def test_found_stock_of_a_product_never_in_the_bin_is_booked(floor, quick):
    result = count(floor, quick, "A-01-01-3", "SKU-00003", 4)
    assert [(p.sku, p.expected, p.counted) for p in result.products] == [("SKU-00003", 0, 4)]
    assert bin_stock(floor, "SKU-00003", "A-01-01-3") == (4, 0)
    assert ledger(floor, "SKU-00003", "A-01-01-3") == 4
    holds(floor)


def test_picking_refuses_a_counted_bin_in_words_and_the_line_comes_back(floor, quick):
    put(floor, "SKU-00001", A_01_01_1=4)
    run(floor, quick, order("1001", ("SKU-00001", 2)))
    who = picker_of(floor, "PO-0000001")
    picking.start_order(floor, who, order_id(floor, "PO-0000001"), "T-0900", batch_size=4,
                        clock=clock)  # fmt: skip
    [line] = picking.pick_list(floor, who.operator_id)
    view = counts.start_count(floor, counter(floor), "A-01-01-1", settings=quick, clock=clock)
    words = (f"A-01-01-1 is being counted ({view.number}) — go on to the next line; this one "
             "comes back when the count closes")  # fmt: skip
    with pytest.raises(BinCounted) as refused:
        picking.scan_bin(floor, who, line.task_id, clock=clock)
    assert str(refused.value) == words
    with pytest.raises(BinCounted):
        picking.pick(floor, who, line.task_id, 1, clock=clock)
    with pytest.raises(BinCounted):
        picking.report_shortage(floor, who, line.task_id, 0, clock=clock)
    assert bin_stock(floor, "SKU-00001", "A-01-01-1") == (4, 2)
    # Confirmed empty: the count found none of 4, nothing elsewhere: the order is held, and
    # the picker is told on the next scan where the tote goes.
    result = counts.confirm_empty(floor, counter(floor), view.number, settings=quick, clock=clock)
    assert result.held == ("PO-0000001",) and result.totes_to_shelf == (("PO-0000001", "T-0900"),)
    assert status(floor, "PO-0000001") == "on_hold"
    assert picking.pick_list(floor, who.operator_id) == []
    holds(floor)


def test_the_line_comes_back_when_the_count_closes(floor, quick):
    put(floor, "SKU-00001", A_01_01_1=4)
    run(floor, quick, order("1001", ("SKU-00001", 2)))
    who = picker_of(floor, "PO-0000001")
    picking.start_order(floor, who, order_id(floor, "PO-0000001"), "T-0900", batch_size=4,
                        clock=clock)  # fmt: skip
    [line] = picking.pick_list(floor, who.operator_id)
    view = counts.start_count(floor, counter(floor), "A-01-01-1", settings=quick, clock=clock)
    with pytest.raises(BinCounted):
        picking.scan_bin(floor, who, line.task_id, clock=clock)
    counts.count_item(floor, counter(floor), view.number, "SKU-00001", settings=quick,
                      clock=clock)  # fmt: skip
    counts.key_count(floor, counter(floor), view.number, 4, settings=quick, clock=clock)
    result = counts.finish_count(floor, counter(floor), view.number, settings=quick, clock=clock)
    assert result.status == "done"
    picking.scan_bin(floor, who, line.task_id, clock=clock)  # accepted now
    done = picking.pick(floor, who, line.task_id, 2, clock=clock)
    assert done.order_picked
    holds(floor)


@pytest.mark.parametrize("rounds", [6])
def test_a_count_and_picks_racing_on_one_bin_keep_stock_equal_to_the_ledger(floor, quick, rounds):
    put(floor, "SKU-00001", A_01_01_1=30)
    for n in range(rounds):
        run(floor, quick, order(f"20{n:02d}", ("SKU-00001", 1)))
    started = []
    with floor.read() as s:
        numbers = s.scalars(select(Order.number).order_by(Order.id)).all()
    for i, number in enumerate(numbers):
        who = picker_of(floor, number)
        try:
            picking.start_order(floor, who, order_id(floor, number), f"T-09{i:02d}",
                                batch_size=10, clock=clock)  # fmt: skip
        except Exception:
            continue
        started.append(who)
    lines = {}
    for who in started:
        for ln in picking.pick_list(floor, who.operator_id):
            lines[ln.task_id] = who
    cnt = counter(floor)

    def counting():  # type: ignore[no-untyped-def]
        view = counts.start_count(floor, cnt, "A-01-01-1", settings=quick, clock=clock)
        counts.count_item(floor, cnt, view.number, "SKU-00001", settings=quick, clock=clock)
        counts.key_count(floor, cnt, view.number, 20, settings=quick, clock=clock)
        return counts.finish_count(floor, cnt, view.number, settings=quick, clock=clock)

    calls = [counting] + [
        (lambda t=t, w=w: picking.pick(floor, w, t, 1, clock=clock)) for t, w in lines.items()
    ]
    results = _race(*calls)
    assert not isinstance(results[0], Exception), results[0]
    picked = [r for r in results[1:] if isinstance(r, picking.PickDone)]
    refused = [r for r in results[1:] if isinstance(r, BinCounted)]
    assert len(picked) + len(refused) == len(lines), results  # nothing else went wrong
    on_hand, reserved = bin_stock(floor, "SKU-00001", "A-01-01-1")
    assert on_hand == ledger(floor, "SKU-00001", "A-01-01-1")
    # The count set 20; only picks committed after it closed took more.
    assert 20 - len(picked) <= on_hand <= 20
    assert 0 <= reserved <= on_hand
    holds(floor)
