"""The receiving dock on both databases: a delivery received by scans (units, cases, GS1-128 lots
and expiry, keyed counts), refusals that change nothing, a lead's acceptance, undo, the claim
and its resume after a crash, the close with its discrepancies."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, insert, select, text

from picker.domain.ean import with_check_digit
from picker.domain.roles import NotAllowed
from picker.domain.scanning import ScanRouter
from picker.services import inbound, scans
from picker.services.check import check
from picker.store.engine import Database
from picker.store.models import Bin, Product, ProductPack, ReceiptLine, ScanJournal, StockMovement
from tests.conftest import NOW
from tests.services.inbound.helpers import (
    DOCK,
    DOCK2,
    LEAD,
    barcode,
    clock,
    ledger,
    notice,
    on_hand,
)

DOCK_BIN = "R-00-00-0"


def with_case(db: Database, sku: str, units: int) -> str:
    """A case of ``units`` for the product: its GTIN-14 (indicator 1 + the unit's EAN)."""
    ean = barcode(db, sku)
    gtin14 = with_check_digit("1" + ean.zfill(13)[:12])
    with db.transaction() as s:
        pid = s.scalar(select(Product.id).where(Product.sku == sku))
        s.add(ProductPack(product_id=pid, barcode=gtin14, units=units))
    return gtin14


def opened(db, settings, reference: str = "ASN-1", actor=DOCK):  # type: ignore[no-untyped-def]
    return inbound.open_receipt(db, actor, reference, settings=settings, clock=clock)


def test_units_cases_and_a_keyed_count_are_received_into_the_dock(floor, settings) -> None:
    notice(floor, "ASN-1", ("SKU-00004", 30), ("SKU-00002", 5))
    case = with_case(floor, "SKU-00004", 12)
    v = opened(floor, settings)
    assert (v.status, v.held_by_terminal, v.received_units) == ("open", "T51", 0)
    got = inbound.receive(floor, DOCK, "ASN-1", barcode(floor, "SKU-00004"), settings=settings,
                          clock=clock)  # fmt: skip
    assert (got.added, got.units_per_scan, got.line.received) == (1, 1, 1)
    got = inbound.receive(floor, DOCK, "ASN-1", case, settings=settings, clock=clock)
    assert (got.added, got.units_per_scan, got.line.received) == (12, 12, 13)
    got = inbound.receive(floor, DOCK, "ASN-1", "SKU-00002", settings=settings, clock=clock)
    got = inbound.key_count(floor, DOCK, "ASN-1", 4, settings=settings, clock=clock)
    assert (got.line.sku, got.line.received, got.added) == ("SKU-00002", 4, 3)
    assert got.received_units == 17 and got.expected_units == 35
    assert on_hand(floor, "SKU-00004", DOCK_BIN) == 13
    assert on_hand(floor, "SKU-00002", DOCK_BIN) == 4
    assert ledger(floor, "SKU-00002", DOCK_BIN) == 4
    assert not [f for f in check(floor) if f.broken and "dock" in f.name]


def test_a_gs1_128_scan_fills_the_lot_and_expiry_in(floor, settings) -> None:
    notice(floor, "ASN-1", ("SKU-00003", 6))
    opened(floor, settings)
    router = ScanRouter(settings.scanner.patterns, settings.scanner.prefix, settings.scanner.suffix)
    gtin = barcode(floor, "SKU-00003").zfill(14)
    scan = router.classify(f"]C101{gtin}17270300\x1d10LOT-77")
    product = inbound.scanned_product(scan)
    assert (product.lot, product.expiry) == ("LOT-77", date(2027, 3, 31))  # day 00: month's end
    got = inbound.receive(floor, DOCK, "ASN-1", product.code, lot=product.lot,
                          expiry=product.expiry, settings=settings, clock=clock,
                          scan=scans.ScanOutcome.of(scan, "accepted"))  # fmt: skip
    assert (got.line.lot, got.line.expiry, got.line.received) == ("LOT-77", date(2027, 3, 31), 1)
    with floor.read() as s:
        assert (
            s.scalar(select(ScanJournal.station).where(ScanJournal.raw == scan.raw)) == "receiving"
        )


def test_lines_with_lots_take_the_scan_of_their_own_lot(floor, settings) -> None:
    notice(
        floor, "ASN-1", ("SKU-00003", 2, "A1", "2027-01-31"), ("SKU-00003", 2, "B2", "2027-02-28")
    )
    opened(floor, settings)
    got = inbound.receive(floor, DOCK, "ASN-1", "SKU-00003", lot="B2", settings=settings,
                          clock=clock)  # fmt: skip
    assert (got.line.line_no, got.line.received) == (2, 1)


def test_over_receipt_and_unknown_products_are_refused_and_change_nothing(floor, settings) -> None:
    notice(floor, "ASN-1", ("SKU-00001", 2))
    opened(floor, settings)
    for _ in range(2):
        inbound.receive(floor, DOCK, "ASN-1", "SKU-00001", settings=settings, clock=clock)
    with pytest.raises(inbound.OverReceipt,
                       match="SKU-00001: 2/2 in — 1 more is over the 0% tolerance; a lead "
                             "can accept"):  # fmt: skip
        inbound.receive(floor, DOCK, "ASN-1", "SKU-00001", settings=settings, clock=clock)
    with pytest.raises(inbound.UnknownProduct, match="4006381333931: unknown product — set"):
        inbound.receive(floor, DOCK, "ASN-1", "4006381333931", settings=settings, clock=clock)
    with pytest.raises(inbound.NotOnNotice, match="SKU-00009 is not on ASN-1: set it aside"):
        inbound.receive(floor, DOCK, "ASN-1", "SKU-00009", settings=settings, clock=clock)
    assert inbound.receipt_view(floor, "ASN-1").received_units == 2
    assert on_hand(floor, "SKU-00001", DOCK_BIN) == 2
    assert on_hand(floor, "SKU-00009", DOCK_BIN) == 0
    with pytest.raises(NotAllowed):  # the receiver may not accept: a lead does
        inbound.accept(floor, DOCK, "ASN-1", "SKU-00001", 1, "one extra", settings=settings)


def test_a_lead_accepts_an_over_receipt_and_an_unknown_product_with_a_reason(
    floor, settings
) -> None:
    notice(floor, "ASN-1", ("SKU-00001", 2), ("SKU-00002", 3))
    opened(floor, settings, actor=LEAD)
    inbound.receive(floor, LEAD, "ASN-1", "SKU-00001", units=2, settings=settings, clock=clock)
    got = inbound.accept(floor, LEAD, "ASN-1", "SKU-00001", 1, "one extra in the carton",
                         settings=settings, clock=clock)  # fmt: skip
    assert (got.line.received, got.line.accepted_reason) == (3, "one extra in the carton")
    got = inbound.accept(floor, LEAD, "ASN-1", "4006381333931", 2, "sample, no label",
                         settings=settings, clock=clock)  # fmt: skip
    assert (got.line.sku, got.line.known, got.line.expected, got.line.received) == (
        "4006381333931", False, 0, 2)  # fmt: skip
    assert on_hand(floor, "SKU-00001", DOCK_BIN) == 3
    d = inbound.close_receipt(floor, LEAD, "ASN-1", settings=settings, clock=clock)
    assert not d.clean
    assert [(x.sku, x.kind, x.expected, x.received) for x in d.lines] == [
        ("SKU-00001", "over", 2, 3), ("SKU-00002", "short", 3, 0),
        ("4006381333931", "unknown", 0, 2)]  # fmt: skip
    assert inbound.receipt_view(floor, "ASN-1").status == "closed"
    with pytest.raises(inbound.ReceiptRefused, match="ASN-1 is closed"):
        opened(floor, settings)


def test_undo_takes_back_the_last_scans_newest_first_while_in_the_dock(floor, settings) -> None:
    notice(floor, "ASN-1", ("SKU-00001", 10), ("SKU-00002", 10))
    opened(floor, settings)
    inbound.receive(floor, DOCK, "ASN-1", "SKU-00001", settings=settings, clock=clock)
    inbound.receive(floor, DOCK, "ASN-1", "SKU-00002", settings=settings, clock=clock)
    inbound.key_count(floor, DOCK, "ASN-1", 5, settings=settings, clock=clock)
    v = inbound.undo_last(floor, DOCK, "ASN-1", settings=settings, clock=clock)
    assert [ln.received for ln in v.lines] == [1, 0]  # the keyed five went whole
    v = inbound.undo_last(floor, DOCK, "ASN-1", settings=settings, clock=clock)
    assert [ln.received for ln in v.lines] == [0, 0]
    with pytest.raises(inbound.ReceiptRefused, match="nothing to undo"):
        inbound.undo_last(floor, DOCK, "ASN-1", settings=settings, clock=clock)
    assert on_hand(floor, "SKU-00001", DOCK_BIN) == 0
    assert ledger(floor, "SKU-00001", DOCK_BIN, "receipt_undo") == -1
    inbound.receive(floor, DOCK, "ASN-1", "SKU-00001", units=3, settings=settings, clock=clock)
    inbound.put_away(floor, DOCK, "SKU-00001", "A-01-01-1", settings=settings, clock=clock)
    with pytest.raises(inbound.ReceiptRefused, match="put away from the dock already"):
        inbound.undo_last(floor, DOCK, "ASN-1", settings=settings, clock=clock)
    assert inbound.receipt_view(floor, "ASN-1").received_units == 3


def test_another_terminal_is_told_who_holds_the_receipt(floor, settings) -> None:
    notice(floor, "ASN-1", ("SKU-00001", 2))
    opened(floor, settings)
    with pytest.raises(inbound.ReceiptBusy, match="ASN-1 is being received at T51 by"):
        opened(floor, settings, actor=DOCK2)
    with pytest.raises(inbound.ReceiptBusy):
        inbound.receive(floor, DOCK2, "ASN-1", "SKU-00001", settings=settings, clock=clock)
    inbound.park(floor, DOCK, "ASN-1", clock=clock)
    v = opened(floor, settings, actor=DOCK2)
    assert v.held_by_terminal == "T52"


def test_a_reference_without_a_notice_is_refused_in_words(floor, settings) -> None:
    with pytest.raises(inbound.ReceiptRefused,
                       match="no inbound notice ASN-9; a lead can create it with picker "
                             "inbound receive"):  # fmt: skip
        opened(floor, settings, "ASN-9")


def test_a_terminal_that_crashed_mid_receipt_finds_the_same_counts_and_its_claim(
    floor, settings, db_url
) -> None:
    notice(floor, "ASN-1", ("SKU-00001", 10))
    opened(floor, settings)
    for _ in range(3):
        inbound.receive(floor, DOCK, "ASN-1", "SKU-00001", settings=settings, clock=clock)
    floor.dispose()  # the terminal dies: its connections go with it
    again = Database(db_url)
    try:
        held = inbound.held_receipt(again, "T51")
        assert held is not None and held.reference == "ASN-1"
        assert (held.received_units, held.held_by_terminal) == (3, "T51")
        v = inbound.open_receipt(again, DOCK, "ASN-1", settings=settings, clock=clock)
        assert v.received_units == 3  # resumed, not restarted
        got = inbound.receive(again, DOCK, "ASN-1", "SKU-00001", settings=settings, clock=clock)
        assert got.line.received == 4 and on_hand(again, "SKU-00001", DOCK_BIN) == 4
        with pytest.raises(inbound.ReceiptBusy):
            opened(again, settings, actor=DOCK2)
        with again.read() as s:
            assert s.scalar(select(func.sum(ReceiptLine.received_qty))) == 4
    finally:
        again.dispose()


def test_close_of_a_receipt_received_exactly_is_clean(floor, settings) -> None:
    notice(floor, "ASN-1", ("SKU-00001", 2))
    opened(floor, settings)
    inbound.receive(floor, DOCK, "ASN-1", "SKU-00001", units=2, settings=settings, clock=clock)
    d = inbound.close_receipt(floor, DOCK, "ASN-1", settings=settings, clock=clock)
    assert d.clean and d.received_units == 2


def test_undo_after_a_put_away_never_takes_back_units_of_another_receipt(floor, settings) -> None:
    """PO-778899's 3 were put away; ASN-2026-0099's 5 wait in the dock: PO-778899 may not take
    any of those 5 back (its line and the dock would no longer match what is there)."""
    notice(floor, "PO-778899", ("SKU-00010", 5))
    notice(floor, "ASN-2026-0099", ("SKU-00010", 5))
    opened(floor, settings, "PO-778899")
    inbound.receive(floor, DOCK, "PO-778899", "SKU-00010", units=3, settings=settings,
                    clock=clock)  # fmt: skip
    inbound.put_away(floor, DOCK, "SKU-00010", "A-01-01-1", settings=settings, clock=clock)
    opened(floor, settings, "ASN-2026-0099", actor=DOCK2)
    inbound.receive(floor, DOCK2, "ASN-2026-0099", "SKU-00010", units=5, settings=settings,
                    clock=clock)  # fmt: skip
    with pytest.raises(inbound.ReceiptRefused, match="put away from the dock already"):
        inbound.undo_last(floor, DOCK, "PO-778899", settings=settings, clock=clock)
    with pytest.raises(inbound.ReceiptRefused, match="put away from the dock already"):
        inbound.key_count(floor, DOCK, "PO-778899", 1, settings=settings, clock=clock)
    assert inbound.receipt_view(floor, "PO-778899").received_units == 3
    assert on_hand(floor, "SKU-00010", DOCK_BIN) == 5 == ledger(floor, "SKU-00010", DOCK_BIN)
    # The receipt's own units still in the dock may be taken back (a part put away: the rest).
    inbound.receive(floor, DOCK, "PO-778899", "SKU-00010", units=2, settings=settings,
                    clock=clock)  # fmt: skip
    got = inbound.key_count(floor, DOCK, "PO-778899", 1, settings=settings, clock=clock)
    assert (got.added, got.line.received) == (-1, 4)
    v = inbound.undo_last(floor, DOCK, "PO-778899", settings=settings, clock=clock)
    assert v.received_units == 3
    assert on_hand(floor, "SKU-00010", DOCK_BIN) == 5 == ledger(floor, "SKU-00010", DOCK_BIN)
    assert not [f for f in check(floor) if f.broken and "dock" in f.name]


def test_a_case_refused_carries_its_units_and_a_lead_accepts_the_whole_case(
    floor, settings
) -> None:
    notice(floor, "ASN-1", ("SKU-00001", 2))
    case = with_case(floor, "SKU-00004", 12)
    opened(floor, settings, actor=LEAD)
    with pytest.raises(inbound.NotOnNotice) as refused:
        inbound.receive(floor, LEAD, "ASN-1", case, settings=settings, clock=clock)
    assert refused.value.units == 12
    with pytest.raises(inbound.UnknownProduct) as unknown:
        inbound.receive(floor, LEAD, "ASN-1", "4006381333931", units=6, settings=settings,
                        clock=clock)  # fmt: skip
    assert unknown.value.units == 6
    got = inbound.accept(floor, LEAD, "ASN-1", case, None, "came with the mugs",
                         settings=settings, clock=clock)  # fmt: skip
    assert (got.line.sku, got.line.received, got.added, got.units_per_scan) == (
        "SKU-00004", 12, 12, 12)  # fmt: skip
    assert on_hand(floor, "SKU-00004", DOCK_BIN) == 12


def test_a_gs1_lot_not_on_the_notice_is_said_where_it_was_counted(floor, settings) -> None:
    notice(
        floor, "ASN-1", ("SKU-00003", 2, "A1", "2027-01-31"), ("SKU-00003", 2, "B2", "2027-02-28")
    )
    opened(floor, settings)
    got = inbound.receive(floor, DOCK, "ASN-1", "SKU-00003", lot="L9", settings=settings,
                          clock=clock)  # fmt: skip
    assert (got.line.line_no, got.line.lot, got.line.received) == (1, "A1", 1)
    assert got.note == "lot L9 is not on the notice: counted on SKU-00003 line 1"
    got = inbound.receive(floor, DOCK, "ASN-1", "SKU-00003", lot="B2", settings=settings,
                          clock=clock)  # fmt: skip
    assert (got.line.line_no, got.note) == (2, None)


def test_the_last_scan_and_a_receipt_s_dock_balance_are_read_by_the_document_index(
    floor, settings
) -> None:
    """Undo, keyed counts and put-away read this receipt's rows of the ledger through the index
    on stock_movements (document, product_id, bin_id, id), never the product's whole history
    in the dock (here 3,000 rows of 300 older receipts)."""
    from picker.services.inbound import _core as core
    from picker.services.inbound import dock as dock_
    from picker.services.inbound import putaway

    with floor.transaction() as s:
        product = s.scalar(select(Product.id).where(Product.sku == "SKU-00005"))
        dock = s.scalar(select(Bin.id).where(Bin.code == "A-01-01-1"))
        s.execute(
            insert(StockMovement),
            [dict(at=NOW, product_id=product, bin_id=dock, delta=1, reason="receipt",
                  terminal_id="T51", document=f"OLD-{i % 300}") for i in range(3000)],
        )  # fmt: skip
    with floor.transaction() as s:
        s.execute(text("ANALYZE"))
    statements = [
        dock_._last_scan_query("OLD-7", dock, "T51", None),
        dock_._last_scan_query("OLD-7", dock, "T51", 99),
        core.receipt_in_dock_query("OLD-7", product, dock),
        putaway._balances_query(["OLD-7", "OLD-8"], product, dock),
    ]
    with floor.read() as s:
        sqlite = s.get_bind().dialect.name == "sqlite"
        for stmt in statements:
            sql = str(stmt.compile(s.get_bind(), compile_kwargs={"literal_binds": True}))
            explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
            plan = " ".join(str(r[-1]) for r in s.execute(text(explain + sql)))
            assert "ix_stock_movements_document" in plan, (sql, plan)
