"""Inbound notices imported on both databases: one receipt per reference, idempotent, a bad line
refusing its own receipt only (named by CSV line, column and reason)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from picker.channels.files import FileRefused
from picker.services import inbound
from picker.store.models import Receipt, ReceiptLine
from tests.services.inbound.helpers import LEAD

GOOD = (
    "reference,supplier,expected_at,sku,qty,lot,expiry\n"
    "ASN-2026-0777,Nordic Textiles,2026-11-23,SKU-00001,24,,\n"
    "ASN-2026-0777,Nordic Textiles,2026-11-23,SKU-00002,6,L7,2027-03-31\n"
    "PO-555001,Baltic,2026-11-24,SKU-00003,5,,\n"
)


def counts(db) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with db.read() as s:
        return (
            int(s.scalar(select(func.count()).select_from(Receipt)) or 0),
            int(s.scalar(select(func.count()).select_from(ReceiptLine)) or 0),
        )


def test_a_notice_file_makes_one_receipt_per_reference_with_its_lines_in_order(floor) -> None:
    before = counts(floor)
    report = inbound.import_notices(floor, LEAD, GOOD.encode(), "asn.csv")
    assert (report.counts["receipts"], report.counts["lines"], report.failed) == (2, 3, 0)
    v = inbound.receipt_view(floor, "ASN-2026-0777")
    assert (v.status, v.supplier, v.expected_units, v.received_units) == (
        "expected", "Nordic Textiles", 30, 0)  # fmt: skip
    assert [(ln.line_no, ln.sku, ln.expected, ln.lot) for ln in v.lines] == [
        (1, "SKU-00001", 24, None), (2, "SKU-00002", 6, "L7")]  # fmt: skip
    assert str(v.lines[1].expiry) == "2027-03-31"
    listed = {r.reference: r for r in inbound.list_receipts(floor)}
    assert listed["PO-555001"].lines == 1 and listed["PO-555001"].expected_units == 5
    assert counts(floor) == (before[0] + 2, before[1] + 3)


def test_the_same_file_twice_changes_nothing(floor) -> None:
    inbound.import_notices(floor, LEAD, GOOD.encode(), "asn.csv")
    after_first = counts(floor)
    again = inbound.import_notices(floor, LEAD, GOOD.encode(), "asn.csv")
    assert (again.counts["already_imported"], again.counts["receipts"], again.failed) == (2, 0, 0)
    assert counts(floor) == after_first


def test_a_bad_line_refuses_its_whole_receipt_only_and_is_named(floor) -> None:
    data = (
        "reference,supplier,expected_at,sku,qty\n"
        "ASN-1,Acme,2026-11-23,SKU-00001,4\n"
        "ASN-1,Acme,2026-11-23,SKU-NOPE,4\n"
        "ASN-1,Acme,2026-11-23,SKU-00002,2.5\n"
        "ASN-2,Acme,23/11/2026,SKU-00003,1\n"
        "ASN-3,Acme,,SKU-00004,0\n"
        "ASN-4,Acme,,SKU-00005,7\n"
    )
    before = counts(floor)
    report = inbound.import_notices(floor, LEAD, data.encode(), "bad.csv")
    assert (report.counts["receipts"], report.failed) == (1, 3)
    problems = [(p.record, p.field) for p in report.problems]
    assert problems == [(3, "sku"), (4, "qty"), (5, "expected_at"), (6, "qty")]
    assert "unknown SKU SKU-NOPE" in report.problems[0].reason
    assert "'2.5' is not a whole number" in report.problems[1].reason
    assert counts(floor) == (before[0] + 1, before[1] + 1)  # ASN-4 alone
    with pytest.raises(Exception, match="no receipt ASN-1"):
        inbound.receipt_view(floor, "ASN-1")


def test_a_file_without_the_columns_is_refused_whole(floor) -> None:
    with pytest.raises(FileRefused, match="no column qty"):
        inbound.import_notices(floor, LEAD, b"reference,supplier,expected_at,sku\nA,B,,C\n", "x.csv")


def test_a_large_import_reports_progress_every_thousand_lines(floor) -> None:
    rows = ["reference,supplier,expected_at,sku,qty"]
    rows += [f"ASN-{i // 10:05d},Acme,2026-11-23,SKU-{i % 200 + 1:05d},{i % 9 + 1}"
             for i in range(3000)]  # fmt: skip
    seen: list[tuple[int, int]] = []
    report = inbound.import_notices(
        floor, LEAD, "\n".join(rows).encode(), "big.csv", progress=lambda d, t: seen.append((d, t))
    )
    assert (report.counts["receipts"], report.counts["lines"]) == (300, 3000)
    assert seen[-1] == (3000, 3000) and len(seen) >= 3
