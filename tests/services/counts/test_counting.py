"""Cycle counts on both databases: blind counting at the bin, recount by another operator,
thresholds, approval, and a count's effect on stock, ledger and reservations."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from picker.config import Threshold
from picker.domain.roles import NotAllowed, Role
from picker.services import counts
from picker.services.counts import CountBusy, CountRefused, RecountBySameOperator
from picker.store.engine import Database
from picker.store.models import Bin, CountTask, StockMovement
from tests.services.counts.helpers import (
    actor,
    bin_stock,
    clock,
    counter,
    lead,
    ledger,
    put,
    second_counter,
)


def settings_with(settings, recount_over=None, approve_over=None):  # type: ignore[no-untyped-def]
    c = settings.counting
    return replace(
        settings,
        counting=replace(
            c,
            recount_over=recount_over if recount_over is not None else c.recount_over,
            approve_over=approve_over if approve_over is not None else c.approve_over,
        ),
    )


def count_bin(db, who, settings, code, *items, keyed=None):  # type: ignore[no-untyped-def]
    """Start the bin, scan each item code once, key ``keyed`` after the last; returns the
    finished result."""
    view = counts.start_count(db, who, code, settings=settings, clock=clock)
    for item in items:
        view = counts.count_item(db, who, view.number, item, settings=settings, clock=clock)
    if keyed is not None:
        counts.key_count(db, who, view.number, keyed, settings=settings, clock=clock)
    return counts.finish_count(db, who, view.number, settings=settings, clock=clock)


def test_a_count_with_no_difference_closes_done_and_marks_the_bin_counted(floor, settings):
    put(floor, "SKU-00001", A_01_01_1=3)
    result = count_bin(floor, counter(floor), settings, "A-01-01-1", "SKU-00001", keyed=3)
    assert (result.status, result.adjusted) == ("done", False)
    assert result.words == "A-01-01-1 counted: no difference"
    assert [(p.sku, p.expected, p.counted) for p in result.products] == [("SKU-00001", 3, 3)]
    with floor.read() as s:
        assert s.scalar(select(Bin.counted_at).where(Bin.code == "A-01-01-1")) is not None
    assert bin_stock(floor, "SKU-00001", "A-01-01-1") == (3, 0)
    assert counts.list_counts(floor) == []  # nothing active left


def test_the_blind_view_never_carries_expected_quantities(floor, settings):
    put(floor, "SKU-00001", A_01_01_1=7)
    put(floor, "SKU-00002", A_01_01_1=2)
    who = counter(floor)
    view = counts.start_count(floor, who, "a-01-01-1", settings=settings, clock=clock)
    assert view.blind and view.lines == () and view.units == 0  # nothing is shown before a scan
    view = counts.count_item(floor, who, view.number, "SKU-00001", settings=settings, clock=clock)
    assert [(ln.sku, ln.counted, ln.expected) for ln in view.lines] == [("SKU-00001", 1, None)]
    assert view.last_sku == "SKU-00001"
    again = counts.count_view(floor, view.number, blind=True)
    assert all(ln.expected is None for ln in again.lines)
    assert [ln.sku for ln in again.lines] == ["SKU-00001"]  # SKU-00002 is not given away
    full = counts.count_view(floor, view.number, blind=False)
    assert {(ln.sku, ln.expected, ln.counted) for ln in full.lines} == {
        ("SKU-00001", 7, 1),
        ("SKU-00002", 2, 0),
    }


def test_key_count_sets_the_last_scanned_product_and_a_case_counts_its_pack(floor, settings):
    from sqlalchemy import insert

    from picker.store.models import Product, ProductPack

    with floor.transaction() as s:
        pid = s.scalar(select(Product.id).where(Product.sku == "SKU-00002"))
        s.execute(insert(ProductPack).values(product_id=pid, barcode="15901234123457", units=12))
    put(floor, "SKU-00001", A_01_01_1=5)
    who = counter(floor)
    view = counts.start_count(floor, who, "A-01-01-1", settings=settings, clock=clock)
    n = view.number
    counts.count_item(floor, who, n, "SKU-00001", settings=settings, clock=clock)
    view = counts.count_item(floor, who, n, "15901234123457", settings=settings, clock=clock)
    assert view.counted("SKU-00002") == 12 and view.last_sku == "SKU-00002"
    view = counts.key_count(floor, who, n, 24, settings=settings, clock=clock)
    assert view.counted("SKU-00002") == 24 and view.counted("SKU-00001") == 1
    view = counts.count_item(floor, who, n, "SKU-00001", settings=settings, clock=clock)
    view = counts.key_count(floor, who, n, 5, settings=settings, clock=clock)
    assert (view.counted("SKU-00001"), view.counted("SKU-00002")) == (5, 24)
    with pytest.raises(CountRefused, match="not in the catalogue"):
        counts.count_item(floor, who, n, "4006381333931", settings=settings, clock=clock)


def test_key_count_before_any_scan_is_refused_in_words(floor, settings):
    who = counter(floor)
    view = counts.start_count(floor, who, "A-01-01-2", settings=settings, clock=clock)
    with pytest.raises(CountRefused, match="Scan an item first"):
        counts.key_count(floor, who, view.number, 3, settings=settings, clock=clock)


def test_a_difference_needs_a_recount_by_another_operator(floor, settings):
    put(floor, "SKU-00001", A_01_01_1=10)
    first, second = counter(floor), second_counter(floor)
    result = count_bin(floor, first, settings, "A-01-01-1", "SKU-00001", keyed=8)
    assert result.status == "recount" and not result.adjusted
    assert "another operator must recount A-01-01-1" in result.words
    assert bin_stock(floor, "SKU-00001", "A-01-01-1") == (10, 0)  # nothing changed yet
    with pytest.raises(RecountBySameOperator, match=r"must be recounted by someone else "
                       r"\(Wiktor Geisler counted it first\)"):  # fmt: skip
        counts.start_count(floor, first, "A-01-01-1", settings=settings, clock=clock)
    # The same operator at another terminal is still the same operator.
    elsewhere = actor(floor, "EMP-0002", "T29", Role.PICKER)
    with pytest.raises(RecountBySameOperator):
        counts.start_count(floor, elsewhere, "A-01-01-1", settings=settings, clock=clock)
    view = counts.start_count(floor, second, "A-01-01-1", settings=settings, clock=clock)
    assert (view.round, view.status, view.lines) == (2, "counting", ())
    counts.count_item(floor, second, view.number, "SKU-00001", settings=settings, clock=clock)
    counts.key_count(floor, second, view.number, 8, settings=settings, clock=clock)
    done = counts.finish_count(floor, second, view.number, settings=settings, clock=clock)
    assert (done.status, done.adjusted, done.round) == ("done", True, 2)
    assert [(p.sku, p.expected, p.counted, p.difference) for p in done.products] == [
        ("SKU-00001", 10, 8, -2)
    ]
    assert bin_stock(floor, "SKU-00001", "A-01-01-1") == (8, 0)
    assert ledger(floor, "SKU-00001", "A-01-01-1") == 8
    with floor.read() as s:
        rows = s.execute(
            select(StockMovement.delta, StockMovement.reason, StockMovement.document).where(
                StockMovement.reason == "count"
            )
        ).all()
    assert [tuple(r) for r in rows] == [(-2, "count", view.number)]


def test_a_difference_within_the_recount_threshold_adjusts_at_once(floor, settings):
    put(floor, "SKU-00001", A_01_01_1=10)
    lenient = settings_with(settings, recount_over=Threshold(units=2))
    result = count_bin(floor, counter(floor), lenient, "A-01-01-1", "SKU-00001", keyed=12)
    assert (result.status, result.adjusted) == ("done", True)
    assert result.words == "A-01-01-1 adjusted: +2 SKU-00001"
    assert bin_stock(floor, "SKU-00001", "A-01-01-1") == (12, 0)
    assert ledger(floor, "SKU-00001", "A-01-01-1") == 12


def test_a_percentage_threshold_is_read_against_the_expected_quantity(floor, settings):
    put(floor, "SKU-00001", A_01_01_1=100)
    pct = settings_with(settings, recount_over=Threshold(pct=5.0))
    within = count_bin(floor, counter(floor), pct, "A-01-01-1", "SKU-00001", keyed=96)
    assert within.status == "done" and within.adjusted  # 4% off: adjusted
    above = count_bin(floor, counter(floor), pct, "A-01-01-1", "SKU-00001", keyed=90)
    assert above.status == "recount"  # 6.25% off 96: recount


def test_a_confirmed_difference_above_approve_over_waits_for_a_lead(floor, settings):
    put(floor, "SKU-00001", A_01_01_1=20)
    lenient = settings_with(settings, recount_over=Threshold(units=50))
    result = count_bin(floor, counter(floor), lenient, "A-01-01-1", "SKU-00001", keyed=12)
    assert result.status == "approval" and not result.adjusted
    assert "waits for a lead's approval" in result.words
    assert bin_stock(floor, "SKU-00001", "A-01-01-1") == (20, 0)
    with floor.read() as s:
        bin_id = s.scalar(select(Bin.id).where(Bin.code == "A-01-01-1"))
        assert counts.lock_of(s, bin_id) == result.number  # still locked
    with pytest.raises(CountRefused, match="waits for a lead's approval"):
        counts.start_count(floor, second_counter(floor), "A-01-01-1", settings=lenient,
                           clock=clock)  # fmt: skip
    with pytest.raises(NotAllowed):
        counts.approve(floor, counter(floor), result.number, "ok", settings=lenient, clock=clock)
    with pytest.raises(CountRefused, match="say why"):
        counts.approve(floor, lead(floor), result.number, "  ", settings=lenient, clock=clock)
    approved = counts.approve(
        floor, lead(floor), result.number, "shelf recounted by me", settings=lenient, clock=clock
    )
    assert (approved.status, approved.adjusted) == ("done", True)
    assert bin_stock(floor, "SKU-00001", "A-01-01-1") == (12, 0)
    assert ledger(floor, "SKU-00001", "A-01-01-1") == 12
    shown = counts.count_view(floor, result.number, blind=False)
    assert shown.decided_by == "Łukasz Zięcik" and shown.decision_reason == "shelf recounted by me"


def test_a_rejected_count_leaves_stock_and_unlocks_the_bin(floor, settings):
    put(floor, "SKU-00001", A_01_01_1=20)
    lenient = settings_with(settings, recount_over=Threshold(units=50))
    result = count_bin(floor, counter(floor), lenient, "A-01-01-1", "SKU-00001", keyed=2)
    rejected = counts.reject(floor, lead(floor), result.number, "miscounted",
                             settings=lenient, clock=clock)  # fmt: skip
    assert rejected.status == "rejected"
    assert bin_stock(floor, "SKU-00001", "A-01-01-1") == (20, 0)
    with floor.read() as s:
        bin_id = s.scalar(select(Bin.id).where(Bin.code == "A-01-01-1"))
        assert counts.lock_of(s, bin_id) is None
        assert s.scalar(select(Bin.counted_at).where(Bin.id == bin_id)) is None
    with pytest.raises(CountRefused, match="rejected"):
        counts.approve(floor, lead(floor), result.number, "x", settings=lenient, clock=clock)


def test_a_bin_counted_at_one_terminal_is_refused_at_another_naming_it(floor, settings):
    first, second = counter(floor), second_counter(floor)
    counts.start_count(floor, first, "A-01-01-1", settings=settings, clock=clock)
    with pytest.raises(CountBusy, match="A-01-01-1 is being counted at T21 by Wiktor Geisler"):
        counts.start_count(floor, second, "A-01-01-1", settings=settings, clock=clock)
    with pytest.raises(CountRefused, match="This terminal is counting A-01-01-1"):
        counts.start_count(floor, first, "A-01-01-2", settings=settings, clock=clock)


def test_bins_not_counted_here_are_refused_by_name(floor, settings):
    who = counter(floor)
    with pytest.raises(CountRefused, match="There is no bin Z-09-09-9"):
        counts.start_count(floor, who, "Z-09-09-9", settings=settings, clock=clock)
    with floor.transaction() as s:
        s.execute(Bin.__table__.update().where(Bin.code == "A-01-01-3").values(active=False))
    with pytest.raises(CountRefused, match="A-01-01-3 is not in use"):
        counts.start_count(floor, who, "A-01-01-3", settings=settings, clock=clock)


def test_counting_needs_a_counting_role(floor, settings):
    packer = actor(floor, "EMP-0004", "T23", Role.PACKER)
    with pytest.raises(NotAllowed, match="picker or receiver"):
        counts.start_count(floor, packer, "A-01-01-1", settings=settings, clock=clock)
    receiver = actor(floor, "EMP-0004", "T23", Role.RECEIVER)
    view = counts.start_count(floor, receiver, "A-01-01-1", settings=settings, clock=clock)
    assert view.status == "counting"


def test_a_count_resumes_after_a_crash_with_what_was_scanned(floor, settings, db_url):
    put(floor, "SKU-00001", A_01_01_1=4)
    who = counter(floor)
    view = counts.start_count(floor, who, "A-01-01-1", settings=settings, clock=clock)
    counts.count_item(floor, who, view.number, "SKU-00001", settings=settings, clock=clock)
    counts.count_item(floor, who, view.number, "SKU-00001", settings=settings, clock=clock)
    floor.dispose()  # the terminal dies
    again = Database(db_url)
    try:
        held = counts.held_count(again, who)
        assert held is not None and held.number == view.number and held.counted("SKU-00001") == 2
        resumed = counts.start_count(again, who, "A-01-01-1", settings=settings, clock=clock)
        assert resumed.number == view.number and resumed.counted("SKU-00001") == 2
        counts.count_item(again, who, view.number, "SKU-00001", settings=settings, clock=clock)
        counts.key_count(again, who, view.number, 4, settings=settings, clock=clock)
        result = counts.finish_count(again, who, view.number, settings=settings, clock=clock)
        assert (result.status, result.adjusted) == ("done", False)
    finally:
        again.dispose()


def test_an_empty_bin_is_confirmed_empty(floor, settings):
    who = counter(floor)
    view = counts.start_count(floor, who, "A-01-01-2", settings=settings, clock=clock)
    result = counts.confirm_empty(floor, who, view.number, settings=settings, clock=clock)
    assert (result.status, result.products) == ("done", ())


def test_cancel_withdraws_planned_or_running_counts_only(floor, settings):
    who = counter(floor)
    view = counts.start_count(floor, who, "A-01-01-1", settings=settings, clock=clock)
    cancelled = counts.cancel(floor, lead(floor), view.number, settings=settings, clock=clock)
    assert cancelled.status == "cancelled"
    with pytest.raises(CountRefused, match="cancelled"):
        counts.count_item(floor, who, view.number, "SKU-00001", settings=settings, clock=clock)
    # The bin may be counted again at once.
    assert counts.start_count(floor, who, "A-01-01-1", settings=settings, clock=clock).number != (
        view.number
    )
    with floor.read() as s:
        assert s.scalar(select(CountTask.status).where(CountTask.number == view.number)) == (
            "cancelled"
        )
