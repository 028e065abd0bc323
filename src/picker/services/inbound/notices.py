"""Inbound notices: what suppliers announce (``picker inbound import FILE.csv``), listed and
shown.

An import reads and checks the whole file in Python first, looks every SKU up in bulk, then
writes receipts and their lines with multi-row INSERTs, a few thousand lines a transaction: a
receipt is imported whole or not at all (a bad line refuses its receipt, named by CSV line,
column and reason), and a reference that exists already is left as it is (the same file twice
changes nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from picker.channels.files import FileRefused, decode, read_rows
from picker.services.actors import Actor, allow
from picker.services.errors import NotFound
from picker.services.inbound import _core as core
from picker.services.inbound.shapes import ReceiptSummary, ReceiptView
from picker.services.intake.reports import ImportProblem, ImportReport
from picker.store.engine import Database
from picker.store.models import Operator, Product, Receipt, ReceiptLine

__all__ = ["COLUMNS", "OPTIONAL", "import_notices", "list_receipts", "receipt_view"]

COLUMNS = ("reference", "supplier", "expected_at", "sku", "qty")
OPTIONAL = ("lot", "expiry")
#: How often (in lines) an import calls its ``progress(done, total)``.
PROGRESS_EVERY = 1000
#: Lines written per transaction (whole receipts: a receipt never spans two); progress is
#: reported after each.
LINES_PER_TRANSACTION = 1000
#: Values per IN (…) list of a bulk look-up.
CHUNK = 500
MAX_QTY = 1_000_000

Progress = Callable[[int, int], None]


@dataclass
class _Receipt:
    reference: str
    supplier: str | None
    expected_at: date | None
    first_line: int
    #: (CSV line, SKU, qty, lot, expiry) each.
    lines: list[tuple[int, str, int, str | None, date | None]] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)


def import_notices(
    db: Database,
    actor: Actor,
    data: bytes,
    file_name: str,
    *,
    progress: Progress | None = None,
) -> ImportReport:
    """Receipts from a CSV of ``reference,supplier,expected_at,sku,qty`` (and optionally
    ``lot,expiry``; dates ISO). Counts: ``receipts`` and ``lines`` imported,
    ``already_imported`` (references that exist: left as they are) and ``failed`` (receipts
    refused: every bad line is a problem). Raises :class:`FileRefused` (nothing written) for a
    file that cannot be read as a whole."""
    allow(actor, "inbound.notices.import_notices")
    try:
        records = read_rows(decode(data))
    except FileRefused as exc:
        raise FileRefused(f"{file_name}: {exc}") from None
    if not records:
        raise FileRefused(f"{file_name} is empty: the first line must name the columns")
    header = [h.strip().lower() for h in records[0][1]]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise FileRefused(
            f"{file_name} has no column {', '.join(missing)}: the first line must name the "
            f"columns {','.join(COLUMNS)} (and optionally {','.join(OPTIONAL)})"
        )
    twice = sorted({c for c in (*COLUMNS, *OPTIONAL) if header.count(c) > 1})
    if twice:
        raise FileRefused(f"{file_name} names the column {', '.join(twice)} more than once")
    report = ImportReport()
    receipts = _read(records[1:], header, file_name, report)
    total = len(records) - 1
    with db.read() as s:
        products = _products(s, {sku for r in receipts.values() for _, sku, *_ in r.lines})
        existing = _existing(s, list(receipts))
    batch: list[_Receipt] = []
    in_batch = done = 0
    for r in receipts.values():
        if r.reference in existing:
            report.add("already_imported")
            done += len(r.lines) + len(r.problems)
            continue
        for line, sku, *_ in r.lines:
            if sku not in products:
                r.problems.append(
                    ImportProblem(
                        file_name, line, "sku", f"unknown SKU {sku}: import the product first"
                    )
                )
        if r.problems:
            report.problems.extend(sorted(r.problems, key=lambda p: p.record))
            report.add("failed")
            done += len(r.lines)
            continue
        batch.append(r)
        in_batch += len(r.lines)
        if in_batch >= LINES_PER_TRANSACTION:
            done += _write(db, batch, products, file_name, report)
            batch, in_batch = [], 0
            _tick(progress, done, total)
    if batch:
        done += _write(db, batch, products, file_name, report)
    if progress is not None:
        progress(total, total)
    return report


def _tick(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(min(done, total), total)


def _read(
    rows: Sequence[tuple[int, list[str]]], header: list[str], file_name: str,
    report: ImportReport,
) -> dict[str, _Receipt]:  # fmt: skip
    """Every line checked, grouped by reference in file order (problems kept per receipt)."""
    at = {c: header.index(c) for c in (*COLUMNS, *OPTIONAL) if c in header}
    i_ref, i_sup, i_exp, i_sku, i_qty = (at[c] for c in COLUMNS)
    i_lot, i_expiry = at.get("lot"), at.get("expiry")
    width = len(header)
    receipts: dict[str, _Receipt] = {}
    for line, cells in rows:
        if len(cells) != width:
            report.fail(ImportProblem(
                file_name, line, "",
                f"the row has {len(cells)} fields and the header {width} (a value with the "
                "separator in it must be in double quotes)",
            ))  # fmt: skip
            continue
        problems: list[tuple[str, str]] = []
        ref = " ".join(cells[i_ref].split())
        if not ref:
            report.fail(ImportProblem(file_name, line, "reference", "the reference is missing"))
            continue
        if len(ref) > 48 or not ref.isprintable():
            report.fail(ImportProblem(file_name, line, "reference",
                                      "not printable text of at most 48 characters"))  # fmt: skip
            continue
        supplier = " ".join(cells[i_sup].split()) or None
        if supplier is not None and (len(supplier) > 100 or not supplier.isprintable()):
            problems.append(("supplier", "not printable text of at most 100 characters"))
        expected_at = _date(cells[i_exp], "expected_at", problems)
        sku = cells[i_sku].strip()
        if not sku:
            problems.append(("sku", "the SKU is missing"))
        qty_text = cells[i_qty].strip()
        qty = int(qty_text) if qty_text.isascii() and qty_text.isdigit() else 0
        if not 1 <= qty <= MAX_QTY:
            problems.append(("qty", f"{qty_text!r} is not a whole number from 1 to {MAX_QTY:,}"))
        lot = " ".join(cells[i_lot].split()) or None if i_lot is not None else None
        if lot is not None and (len(lot) > 40 or not lot.isprintable()):
            problems.append(("lot", "not printable text of at most 40 characters"))
        expiry = _date(cells[i_expiry], "expiry", problems) if i_expiry is not None else None
        r = receipts.get(ref)
        if r is None:
            r = receipts[ref] = _Receipt(ref, supplier, expected_at, line)
        elif (supplier, expected_at) != (r.supplier, r.expected_at):
            problems.append(("supplier", f"{ref} has another supplier or expected_at on line "
                                         f"{r.first_line}"))  # fmt: skip
        if problems:
            r.problems += [ImportProblem(file_name, line, c, why) for c, why in problems]
        else:
            r.lines.append((line, sku, qty, lot, expiry))
    return receipts


def _date(text: str, column: str, problems: list[tuple[str, str]]) -> date | None:
    words = text.strip()
    if not words:
        return None
    try:
        return date.fromisoformat(words)
    except ValueError:
        problems.append((column, f"{words!r} is not a date (YYYY-MM-DD)"))
        return None


def _products(s: Session, skus: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    wanted = sorted(skus)
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        query = select(Product.sku, Product.id).where(Product.sku.in_(chunk))
        found.update((sku, int(pid)) for sku, pid in s.execute(query))
    return found


def _existing(s: Session, references: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(references), CHUNK):
        chunk = references[start : start + CHUNK]
        found.update(s.scalars(select(Receipt.reference).where(Receipt.reference.in_(chunk))))
    return found


def _write(
    db: Database, batch: list[_Receipt], products: dict[str, int], file_name: str,
    report: ImportReport,
) -> int:  # fmt: skip
    """Receipts and their lines in one transaction; a reference another import made meanwhile
    is left as it is. The lines handled."""

    def work(s: Session) -> tuple[int, int, int]:
        conn = s.connection()
        made = conn.execute(
            core.upsert(s)(Receipt)
            .on_conflict_do_nothing(index_elements=["reference"])
            .returning(Receipt.id, Receipt.reference),
            [
                {"reference": r.reference, "supplier": r.supplier, "expected_at": r.expected_at,
                 "status": "expected", "source": file_name[:200], "version": 1}
                for r in batch
            ],
        ).all()  # fmt: skip
        ids = {ref: rid for rid, ref in made}
        rows = [
            {"receipt_id": ids[r.reference], "line_no": n, "product_id": products[sku],
             "sku": sku, "expected_qty": qty, "received_qty": 0, "lot": lot, "expiry": expiry}
            for r in batch if r.reference in ids
            for n, (_, sku, qty, lot, expiry) in enumerate(r.lines, start=1)
        ]  # fmt: skip
        if rows:
            conn.execute(insert(ReceiptLine), rows)
        return len(ids), len(rows), len(batch) - len(ids)

    receipts, lines, raced = db.run(work)
    report.add("receipts", receipts)
    report.add("lines", lines)
    if raced:
        report.add("already_imported", raced)
    return sum(len(r.lines) for r in batch)


# --- lists and views ---------------------------------------------------------------------------


def list_receipts(
    db: Database, *, status: str | None = None, limit: int = 200
) -> list[ReceiptSummary]:
    """Receipts, the ones still to receive first (open, then expected, by expected date),
    then the others newest first."""
    from sqlalchemy import case

    rank = case((Receipt.status == "open", 0), (Receipt.status == "expected", 1), else_=2)
    query = (
        select(Receipt.id, Receipt.reference, Receipt.supplier, Receipt.expected_at,
               Receipt.status, Receipt.held_by_terminal, Operator.name)
        .outerjoin(Operator, Operator.id == Receipt.held_by)
        .order_by(rank, Receipt.expected_at.is_(None), Receipt.expected_at, Receipt.id.desc())
        .limit(max(0, limit))
    )  # fmt: skip
    if status is not None:
        query = query.where(Receipt.status == status)
    with db.read() as s:
        rows = s.execute(query).all()
        # The lines' totals of the receipts listed only (every receipt's would be summed
        # otherwise: a floor with thousands expected takes 100 ms for a list of eight).
        totals = {
            rid: (int(n), int(expected or 0), int(received or 0))
            for rid, n, expected, received in s.execute(
                select(ReceiptLine.receipt_id, func.count(), func.sum(ReceiptLine.expected_qty),
                       func.sum(ReceiptLine.received_qty))
                .where(ReceiptLine.receipt_id.in_([r.id for r in rows]))
                .group_by(ReceiptLine.receipt_id)
            )
        } if rows else {}  # fmt: skip
    return [
        ReceiptSummary(r.reference, r.supplier, r.expected_at, r.status,
                       *totals.get(r.id, (0, 0, 0)), r.held_by_terminal, r.name)
        for r in rows
    ]  # fmt: skip


def receipt_view(db: Database, reference: str) -> ReceiptView:
    """One receipt with its lines (:class:`NotFound` naming it when there is none)."""
    with db.read() as s:
        rid = core.receipt_id(s, reference)
        if rid is None:
            raise NotFound(f"there is no receipt {' '.join(reference.split())}")
        return core.view(s, rid)
