"""Put-away on both databases: from the dock into bins by scan, suggestions, refusals with words,
two terminals racing on one SKU (stock = ledger, never negative), held orders released, and the
back office's receipt and put-away in one."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest
from sqlalchemy import select, update

from picker.services import inbound
from picker.services.orders import views
from picker.store.models import Bin, CountTask, Order, StockMovement
from tests.services.floor.test_picking import _race
from tests.services.inbound.helpers import DOCK, DOCK2, LEAD, clock, ledger, notice, on_hand
from tests.services.intake.test_order_import import order, run, stock

DOCK_BIN = "R-00-00-0"


def in_dock(floor, settings, sku: str, units: int, reference: str = "ASN-1") -> None:  # type: ignore[no-untyped-def]
    notice(floor, reference, (sku, units))
    inbound.open_receipt(floor, DOCK, reference, settings=settings, clock=clock)
    inbound.receive(floor, DOCK, reference, sku, units=units, settings=settings, clock=clock)


def test_a_put_away_moves_stock_from_the_dock_with_the_ledger(floor, settings) -> None:
    stock(floor, "SKU-00005", A_01_02_1=3)
    in_dock(floor, settings, "SKU-00005", 10)
    assert [(d.sku, d.units) for d in inbound.dock_items(floor, settings=settings)] == [
        ("SKU-00005", 10)]  # fmt: skip
    hint = inbound.suggest_bin(floor, "SKU-00005", settings=settings)
    assert (hint.bin, hint.units) == ("A-01-02-1", 10) and "pick face" in hint.why
    done = inbound.put_away(floor, DOCK, "SKU-00005", "A-01-02-1", units=4, settings=settings,
                            clock=clock)  # fmt: skip
    assert (done.bin, done.units, done.left_in_dock, done.released) == ("A-01-02-1", 4, 6, [])
    done = inbound.put_away(floor, DOCK, "SKU-00005", "B-01-01-1", settings=settings, clock=clock)
    assert (done.units, done.left_in_dock) == (6, 0)
    assert (on_hand(floor, "SKU-00005", "A-01-02-1"), on_hand(floor, "SKU-00005", DOCK_BIN)) == (
        7, 0)  # fmt: skip
    assert ledger(floor, "SKU-00005", DOCK_BIN) == 0
    assert ledger(floor, "SKU-00005", "B-01-01-1", "putaway") == 6
    with floor.read() as s:
        docs = set(
            s.scalars(select(StockMovement.document).where(StockMovement.reason == "putaway"))
        )
    assert docs == {"ASN-1"}
    assert inbound.dock_items(floor, settings=settings) == []


def test_a_full_pick_face_sends_the_goods_to_the_nearest_empty_bin(floor, settings) -> None:
    stock(floor, "SKU-00005", A_01_02_1=8)
    with floor.transaction() as s:
        s.execute(update(Bin).where(Bin.code == "A-01-02-1").values(min_qty=2, max_qty=10))
    in_dock(floor, settings, "SKU-00005", 5)
    hint = inbound.suggest_bin(floor, "SKU-00005", settings=settings)
    assert hint.bin is not None and hint.bin != "A-01-02-1"
    assert "has room for 2" in hint.why and "empty bin nearest to it" in hint.why
    assert on_hand(floor, "SKU-00005", hint.bin) == 0


def test_bins_that_may_not_take_goods_are_refused_in_words(floor, settings) -> None:
    in_dock(floor, settings, "SKU-00005", 5)
    with floor.transaction() as s:
        face = s.scalar(select(Bin.id).where(Bin.code == "A-01-02-1"))
        s.add(CountTask(number="CNT-000012", bin_id=face, status="counting", round=1, version=1))
        s.execute(update(Bin).where(Bin.code == "A-01-03-1").values(active=False))
    cases = [
        ("A-01-02-1", "A-01-02-1 is being counted \\(CNT-000012\\) — put it in another bin"),
        (DOCK_BIN, "is the dock"),
        ("A-01-03-1", "bin A-01-03-1 is retired"),
        ("Z-09-09-9", "there is no bin Z-09-09-9"),
    ]
    for code, words in cases:
        with pytest.raises(inbound.PutAwayRefused, match=words):
            inbound.put_away(floor, DOCK, "SKU-00005", code, settings=settings, clock=clock)
    with pytest.raises(inbound.PutAwayRefused, match="only 5 of SKU-00005 wait in the dock"):
        inbound.put_away(floor, DOCK, "SKU-00005", "B-01-01-1", units=6, settings=settings)
    with pytest.raises(inbound.PutAwayRefused, match="no SKU-00006 waits in the dock"):
        inbound.put_away(floor, DOCK, "SKU-00006", "B-01-01-1", settings=settings)
    assert on_hand(floor, "SKU-00005", DOCK_BIN) == 5


@pytest.mark.parametrize(("first", "second", "left"), [(None, None, 0), (4, 4, 2), (7, 7, 3)])
def test_two_terminals_putting_one_sku_away_never_take_more_than_the_dock_holds(
    floor, settings, first, second, left
) -> None:
    stock(floor, "SKU-00005")
    in_dock(floor, settings, "SKU-00005", 10)
    results = _race(
        lambda: inbound.put_away(floor, DOCK, "SKU-00005", "A-02-01-1", units=first,
                                 settings=settings, clock=clock),
        lambda: inbound.put_away(floor, DOCK2, "SKU-00005", "B-02-01-1", units=second,
                                 settings=settings, clock=clock),
    )  # fmt: skip
    done = [r for r in results if isinstance(r, inbound.PutAwayDone)]
    refused = [r for r in results if isinstance(r, inbound.PutAwayRefused)]
    assert len(done) + len(refused) == 2, results
    dock = on_hand(floor, "SKU-00005", DOCK_BIN)
    put = on_hand(floor, "SKU-00005", "A-02-01-1") + on_hand(floor, "SKU-00005", "B-02-01-1")
    assert (dock, put) == (left, 10 - left)
    assert dock == ledger(floor, "SKU-00005", DOCK_BIN) >= 0
    for code in ("A-02-01-1", "B-02-01-1"):
        assert on_hand(floor, "SKU-00005", code) == ledger(floor, "SKU-00005", code)


def test_a_put_away_releases_the_orders_held_short_of_its_sku(floor, settings) -> None:
    stock(floor, "SKU-00007")
    run(floor, settings, order("7001", ("SKU-00007", 2)))
    with floor.read() as s:
        number = s.scalar(select(Order.number).where(Order.shop_order_no == "7001"))
    assert str(views.order_detail(floor, number).summary.status) == "on_hold"
    in_dock(floor, settings, "SKU-00007", 5)
    assert (
        str(views.order_detail(floor, number).summary.status) == "on_hold"
    )  # the dock is not for sale
    done = inbound.put_away(floor, DOCK, "SKU-00007", "A-01-01-1", settings=settings, clock=clock)
    assert done.released == [number]
    assert str(views.order_detail(floor, number).summary.status) in ("unhandled", "assigned")


def test_receive_lines_receives_and_puts_away_in_one_and_refuses_whole(floor, settings) -> None:
    stock(floor, "SKU-00008", A_01_02_2=1)
    done = inbound.receive_lines(
        floor, LEAD, "PO-9001", [("SKU-00008", 3, None), ("SKU-00009", 2, "B-01-01-1")],
        supplier="Acme", close=True, settings=settings, clock=clock,
    )  # fmt: skip
    assert done.created and [(ln.sku, ln.units, ln.bin) for ln in done.lines] == [
        ("SKU-00008", 3, "A-01-02-2"), ("SKU-00009", 2, "B-01-01-1")]  # fmt: skip
    assert done.discrepancies is not None and done.discrepancies.clean
    assert inbound.receipt_view(floor, "PO-9001").status == "closed"
    notice(floor, "ASN-7", ("SKU-00008", 2))
    with pytest.raises(inbound.ReceiptRefused, match="line 2 \\(SKU-00008:3\\): SKU-00008: 1/2 in "
                                                    "— 3 more"):  # fmt: skip
        lines = [("SKU-00008", 1, None), ("SKU-00008", 3, None)]
        inbound.receive_lines(floor, DOCK, "ASN-7", lines, settings=settings, clock=clock)
    assert inbound.receipt_view(floor, "ASN-7").received_units == 0  # nothing changed
    done = inbound.receive_lines(floor, LEAD, "ASN-7", [("SKU-00008", 3, "A-01-02-2")],
                                 accept="the supplier sent one more", settings=settings,
                                 clock=clock)  # fmt: skip
    assert inbound.receipt_view(floor, "ASN-7").lines[0].received == 3
    assert on_hand(floor, "SKU-00008", "A-01-02-2") == 1 + 3 + 3


def test_a_put_away_waits_for_a_count_starting_on_its_bin_and_is_refused(floor, settings) -> None:
    """A count starting on the bin (its ``bins`` row locked, as start_count does) while the
    put-away checks the lock: the put-away waits for it and is refused, never lands after the
    count recorded what the bin held."""
    in_dock(floor, settings, "SKU-00005", 5)
    results: list[object] = []

    def put() -> None:
        try:
            results.append(inbound.put_away(floor, DOCK, "SKU-00005", "A-01-02-1",
                                            settings=settings, clock=clock))  # fmt: skip
        except Exception as exc:
            results.append(exc)

    worker = threading.Thread(target=put)
    with floor.transaction() as s:  # SQLite: BEGIN IMMEDIATE; PostgreSQL: the bin's row
        face = s.scalar(select(Bin.id).where(Bin.code == "A-01-02-1").with_for_update())
        worker.start()
        time.sleep(0.8)  # the put-away is under way meanwhile
        s.add(CountTask(number="CNT-000077", bin_id=face, status="counting", round=1, version=1))
    worker.join(timeout=20)
    assert len(results) == 1 and isinstance(results[0], inbound.PutAwayRefused), results
    assert "A-01-02-1 is being counted (CNT-000077)" in str(results[0])
    assert on_hand(floor, "SKU-00005", "A-01-02-1") == 0
    assert on_hand(floor, "SKU-00005", DOCK_BIN) == 5


def test_two_receives_of_a_new_reference_at_once_make_one_receipt(
    floor, settings, monkeypatch
) -> None:
    """Both commands find no receipt PO-NEW-1 and create it: the one that loses finds the
    other's receipt and receives into it (never a database error)."""
    from picker.services.inbound import _core as core

    first_look = core.receipt_id
    both_looked = threading.Barrier(2, timeout=2)
    seen = threading.local()

    def racing_look(s, reference):  # type: ignore[no-untyped-def]
        found = first_look(s, reference)
        if not getattr(seen, "looked", False):
            seen.looked = True
            with contextlib.suppress(threading.BrokenBarrierError):
                both_looked.wait()  # SQLite: the other waits for BEGIN IMMEDIATE instead
        return found

    monkeypatch.setattr(core, "receipt_id", racing_look)

    def receive() -> inbound.BackOfficeReceipt:
        lines = [("SKU-00008", 3, "A-01-02-2")]
        return inbound.receive_lines(floor, LEAD, "PO-NEW-1", lines, accept="second pallet",
                                     settings=settings, clock=clock)  # fmt: skip

    results = _race(receive, receive)
    assert all(isinstance(r, inbound.BackOfficeReceipt) for r in results), results
    assert sorted(r.created for r in results) == [False, True]  # type: ignore[union-attr]
    v = inbound.receipt_view(floor, "PO-NEW-1")
    assert (v.expected_units, v.received_units) == (3, 6)
    assert on_hand(floor, "SKU-00008", "A-01-02-2") == 6
