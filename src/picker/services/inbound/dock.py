"""The receiving dock: a delivery's receipt opened by scanning its reference, each product
scanned into the dock bin, the receipt closed with its discrepancies. One transaction per scan,
the scan journaled in it (a refused scan changes nothing and is journaled by the screen).

A receipt is held by the terminal receiving it (``receipts.held_by_terminal``, claimed by a
conditional UPDATE): another terminal is told who has it, and the same terminal after a crash
finds the same counts, since every scan is committed as it is made.

"The last scan" of a terminal on a receipt (taken back by :func:`undo_last`, changed by
:func:`key_count`) is read from the dock's ledger: every scan writes one ``receipt`` row (the
receipt's reference as its document, the terminal), every undo one ``receipt_undo`` row that
takes back the newest scan still standing. A keyed count takes the last scan back and writes it
again with the keyed units (two rows), so the stack stays exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from picker.config import Settings
from picker.domain.scanning import Scan
from picker.domain.stock import MAX_UNITS
from picker.services import scans
from picker.services.actors import Actor, Clock, allow, system_clock
from picker.services.inbound import _core as core
from picker.services.inbound.shapes import (
    NOT_ON_NOTICE,
    OVER,
    RECEIVABLE,
    SHORT,
    STATION,
    UNKNOWN,
    Discrepancies,
    Discrepancy,
    NotOnNotice,
    OverReceipt,
    ReceiptBusy,
    ReceiptRefused,
    ReceiptView,
    Received,
    UnknownProduct,
)
from picker.services.scans import ScanOutcome
from picker.store.engine import Database
from picker.store.models import ProductPack, Receipt, ReceiptLine, StockMovement

__all__ = [
    "ScannedProduct",
    "accept",
    "close_receipt",
    "held_receipt",
    "key_count",
    "open_receipt",
    "park",
    "receive",
    "scanned_product",
    "undo_last",
]

RECEIPT, RECEIPT_UNDO = "receipt", "receipt_undo"


@dataclass(frozen=True)
class ScannedProduct:
    """What a product scan gives :func:`receive`: the code, and a GS1 string's lot and expiry."""

    code: str
    lot: str | None = None
    expiry: date | None = None


def scanned_product(scan: Scan) -> ScannedProduct:
    """The code to receive by (the GTIN of a GS1 string or an EAN, else the text) with the lot
    (AI 10) and expiry (AI 17, day 00 read as the month's last day) a GS1-128 string carries."""
    lot = expiry = None
    for f in scan.fields:
        if f.ai == "10":
            lot = f.value.strip() or None
        elif f.ai == "17":
            try:
                expiry = date.fromisoformat(f.value.strip()[:10])
            except ValueError:
                expiry = None
    return ScannedProduct(scan.gtin or scan.text, lot, expiry)


def open_receipt(
    db: Database,
    actor: Actor,
    reference: str,
    *,
    settings: Settings,
    clock: Clock = system_clock,
    scan: ScanOutcome | None = None,
) -> ReceiptView:
    """Claim the receipt of ``reference`` for this terminal (expected → open; open here:
    resumed). Refused: another terminal holds it (:class:`ReceiptBusy`), it is closed or
    cancelled, or no notice has that reference (the dock does not invent receipts)."""
    allow(actor, "inbound.dock.open_receipt")
    now = clock()

    def work(s: Session) -> ReceiptView:
        rid = core.receipt_id(s, reference)
        if rid is None:
            raise core.no_notice(reference)
        # One receipt at a time per terminal: another it held is parked (left open, unclaimed).
        s.execute(
            update(Receipt)
            .where(Receipt.held_by_terminal == actor.terminal_id, Receipt.id != rid)
            .values(held_by_terminal=None, held_by=None, version=Receipt.version + 1)
        )
        core.claim(s, actor, rid, now)
        _journal(s, actor, scan, now)
        return core.view(s, rid)

    return db.run(work)


def held_receipt(db: Database, terminal_id: str) -> ReceiptView | None:
    """The open receipt the terminal holds (a terminal that died resumes it), or None."""
    with db.read() as s:
        rid = s.scalar(
            select(Receipt.id)
            .where(Receipt.held_by_terminal == terminal_id, Receipt.status == "open")
            .order_by(Receipt.opened_at.desc())
            .limit(1)
        )
        return None if rid is None else core.view(s, int(rid))


def receive(
    db: Database,
    actor: Actor,
    reference: str,
    code: str,
    *,
    units: int | None = None,
    lot: str | None = None,
    expiry: date | None = None,
    settings: Settings,
    clock: Clock = system_clock,
    scan: ScanOutcome | None = None,
) -> Received:
    """A product scanned into the dock: ``code`` is a unit barcode, a SKU or a case's barcode
    (then ``units`` defaults to the case's units, else to 1; given, it is the units in all).
    Matched to the receipt's line of that product (of that lot when lines carry lots): the
    first with room within ``[receiving] over_tolerance_pct``. Refused, changing nothing:
    :class:`UnknownProduct`, :class:`NotOnNotice`, :class:`OverReceipt`."""
    allow(actor, "inbound.dock.receive")
    now = clock()
    lot = _lot(lot)

    def work(s: Session) -> Received:
        r = core.load_held(s, actor, reference)
        product = core.find_product(s, code)
        if product is None:
            raise UnknownProduct(" ".join(code.split()), _units(units, 1))
        n = _units(units, product.units_per_scan)
        line_id = receive_in(s, actor, r, product, n, lot, expiry, settings, now)
        _journal(s, actor, scan, now)
        line = core.line_view(s, line_id)
        note = None
        if lot is not None and line.lot != lot:  # no line of that lot: said, never dropped quietly
            note = f"lot {lot} is not on the notice: counted on {line.sku} line {line.line_no}"
        return Received(core.view(s, r.id), line, n, product.units_per_scan,
                        lot or line.lot, expiry or line.expiry, note)  # fmt: skip

    return db.run(work)


def key_count(
    db: Database,
    actor: Actor,
    reference: str,
    units: int,
    *,
    settings: Settings,
    clock: Clock = system_clock,
    scan: ScanOutcome | None = None,
) -> Received:
    """The last scan at this terminal on this receipt becomes ``units`` units in all (a count
    keyed after the first scan of many): the line and the dock change by the difference.
    Refused as :func:`receive` is (over the tolerance), and when the units it takes back were
    put away already."""
    allow(actor, "inbound.dock.key_count")
    now = clock()
    if isinstance(units, bool) or not 0 <= units <= MAX_UNITS:
        raise ReceiptRefused(f"key a number of units from 0 to {MAX_UNITS:,}")

    def work(s: Session) -> Received:
        r = core.load_held(s, actor, reference)
        dock = core.dock_bin(s, settings)
        assert dock is not None
        last = _last_scan(s, actor, r, dock)
        if last is None:
            raise ReceiptRefused(f"{r.reference}: scan an item first, then key its count")
        line = _line_of(s, r.id, last.product_id, last.units)
        diff = units - last.units
        if diff > 0 and line.received + diff > core.limit(line.expected, settings):
            raise OverReceipt(line.sku, line.expected, line.received - last.units, units,
                              settings.receiving.over_tolerance_pct)  # fmt: skip
        if diff != 0:
            _change_line(s, line.id, diff)
            _move_dock(s, r.reference, last.product_id, dock, diff, line.sku)
            core.ledger(s, actor, last.product_id, dock, -last.units, RECEIPT_UNDO,
                        r.reference, now)  # fmt: skip
            if units:
                core.ledger(s, actor, last.product_id, dock, units, RECEIPT, r.reference, now)
        _journal(s, actor, scan, now)
        lv = core.line_view(s, line.id)
        per_scan = _units_per_scan(s, last.product_id, last.units)
        return Received(core.view(s, r.id), lv, diff, per_scan, lv.lot, lv.expiry)

    return db.run(work)


def accept(
    db: Database,
    actor: Actor,
    reference: str,
    code: str,
    units: int | None,
    reason: str,
    *,
    settings: Settings,
    clock: Clock = system_clock,
    scan: ScanOutcome | None = None,
) -> Received:
    """A lead receives what the dock refused, with ``reason``: an over-receipt, a product the
    notice does not list (a line expecting 0), or a product the catalogue does not know (a line
    without product, ``sku`` the scanned code: counted for the discrepancies, never stocked).
    The line records who accepted it and why. ``units`` None: what one scan of ``code`` stands
    for (a case's units, else 1)."""
    allow(actor, "inbound.dock.accept")
    words = core.clean_reason(reason)
    now = clock()
    if units is not None:
        _units(units, 1)

    def work(s: Session) -> Received:
        r = core.load_held(s, actor, reference)
        product = core.find_product(s, code)
        text = " ".join(code.split())[:64]
        if not text:
            raise ReceiptRefused("scan the item to accept")
        per_scan = 1 if product is None else product.units_per_scan
        n = _units(units, per_scan)
        line_id = accept_in(s, actor, r, product, text, n, words, settings, now)
        _journal(s, actor, scan, now)
        line = core.line_view(s, int(line_id))
        return Received(core.view(s, r.id), line, n, per_scan, line.lot, line.expiry)

    return db.run(work)


def undo_last(
    db: Database,
    actor: Actor,
    reference: str,
    *,
    settings: Settings,
    clock: Clock = system_clock,
    scan: ScanOutcome | None = None,
) -> ReceiptView:
    """Take back the last scan of this terminal on this receipt (again and again, newest
    first): its line's count and its units in the dock (ledger ``receipt_undo``), while they
    are still in the dock; refused in words otherwise."""
    allow(actor, "inbound.dock.undo_last")
    now = clock()

    def work(s: Session) -> ReceiptView:
        r = core.load_held(s, actor, reference)
        dock = core.dock_bin(s, settings)
        assert dock is not None
        last = _last_scan(s, actor, r, dock)
        if last is None:
            raise ReceiptRefused(f"{r.reference}: nothing received here yet, nothing to undo")
        line = _line_of(s, r.id, last.product_id, last.units)
        _change_line(s, line.id, -last.units)
        _move_dock(s, r.reference, last.product_id, dock, -last.units, line.sku)
        core.ledger(s, actor, last.product_id, dock, -last.units, RECEIPT_UNDO, r.reference, now)
        _journal(s, actor, scan, now)
        return core.view(s, r.id)

    return db.run(work)


def park(
    db: Database,
    actor: Actor,
    reference: str,
    *,
    clock: Clock = system_clock,
    scan: ScanOutcome | None = None,
) -> None:
    """Leave the receipt open and unclaimed: another terminal may take it on."""
    allow(actor, "inbound.dock.park")
    now = clock()

    def work(s: Session) -> None:
        r = core.load_held(s, actor, reference)
        s.execute(
            update(Receipt)
            .where(Receipt.id == r.id, Receipt.held_by_terminal == actor.terminal_id)
            .values(held_by_terminal=None, held_by=None, version=Receipt.version + 1)
        )
        _journal(s, actor, scan, now)

    db.run(work)


def close_receipt(
    db: Database,
    actor: Actor,
    reference: str,
    *,
    settings: Settings,
    clock: Clock = system_clock,
    scan: ScanOutcome | None = None,
) -> Discrepancies:
    """Close the receipt (held here, or by no terminal): its discrepancies per line — short,
    over, unknown (not in the catalogue), not on the notice — with expected and received; lines
    received exactly are not listed. What was received stays in the dock for put-away."""
    allow(actor, "inbound.dock.close_receipt")
    now = clock()

    def work(s: Session) -> Discrepancies:
        rid = core.receipt_id(s, reference)
        if rid is None:
            raise core.no_notice(reference)
        r = s.scalars(select(Receipt).where(Receipt.id == rid).with_for_update()).one()
        if r.status not in RECEIVABLE:
            raise ReceiptRefused(f"{r.reference} is {r.status} already")
        if r.held_by_terminal not in (None, actor.terminal_id):
            raise ReceiptBusy(r.reference, r.held_by_terminal, core.holder_name(s, r.held_by))
        r.status, r.closed_at, r.closed_by = "closed", now, actor.operator_id
        r.held_by_terminal, r.held_by, r.version = None, None, r.version + 1
        s.flush()
        _journal(s, actor, scan, now)
        return discrepancies(s, rid)

    return db.run(work)


def discrepancies(s: Session, rid: int) -> Discrepancies:
    reference = str(s.scalar(select(Receipt.reference).where(Receipt.id == rid)))
    lines = core.line_views(s, rid)
    found = []
    for ln in lines:
        if not ln.known:
            kind = UNKNOWN
        elif ln.expected == 0:
            kind = NOT_ON_NOTICE
        elif ln.received < ln.expected:
            kind = SHORT
        elif ln.received > ln.expected:
            kind = OVER
        else:
            continue
        if ln.expected == 0 and ln.received == 0:
            continue  # a line accepted then undone: nothing came after all
        found.append(Discrepancy(ln.line_no, ln.sku, ln.name, kind, ln.expected, ln.received,
                                 ln.accepted_reason))  # fmt: skip
    return Discrepancies(reference, tuple(found), sum(ln.expected for ln in lines),
                         sum(ln.received for ln in lines))  # fmt: skip


# --- shared ------------------------------------------------------------------------------------


def accept_in(
    s: Session, actor: Actor, r: Receipt, product: core.FoundProduct | None, text: str, n: int,
    reason: str, settings: Settings, now: datetime,
) -> int:  # fmt: skip
    """A lead's acceptance of ``n`` units (see :func:`accept`) in the caller's transaction;
    the line's id."""
    if product is None:
        line_id = s.scalar(
            select(ReceiptLine.id).where(
                ReceiptLine.receipt_id == r.id, ReceiptLine.product_id.is_(None),
                ReceiptLine.sku == text,
            )
        )  # fmt: skip
        if line_id is None:
            line_id = _new_line(s, r.id, None, text)
    else:
        line_id = s.scalar(
            select(ReceiptLine.id)
            .where(ReceiptLine.receipt_id == r.id, ReceiptLine.product_id == product.id)
            .order_by(ReceiptLine.line_no)
            .limit(1)
        )
        if line_id is None:
            line_id = _new_line(s, r.id, product.id, product.sku)
    s.execute(
        update(ReceiptLine)
        .where(ReceiptLine.id == line_id)
        .values(received_qty=ReceiptLine.received_qty + n, accepted_by=actor.operator_id,
                accepted_reason=reason)
    )  # fmt: skip
    if product is not None:
        dock = core.dock_bin(s, settings)
        assert dock is not None
        core.add_stock(s, product.id, dock, n)
        core.ledger(s, actor, product.id, dock, n, RECEIPT, r.reference, now)
    return int(line_id)


def receive_in(
    s: Session, actor: Actor, r: Receipt, product: core.FoundProduct, n: int,
    lot: str | None, expiry: date | None, settings: Settings, now: datetime,
) -> int:  # fmt: skip
    """``n`` units of the product counted on the receipt's line with room and put in the dock
    (ledger ``receipt``), in the caller's transaction; the line's id."""
    line_id = _receive_into_line(s, r, product, n, lot, expiry, settings)
    dock = core.dock_bin(s, settings)
    assert dock is not None
    core.add_stock(s, product.id, dock, n)
    core.ledger(s, actor, product.id, dock, n, RECEIPT, r.reference, now)
    return line_id


def _journal(s: Session, actor: Actor, scan: ScanOutcome | None, now: datetime) -> None:
    if scan is not None:
        scans.journal(s, actor, STATION, STATION, scan, at=now)


def _lot(lot: str | None) -> str | None:
    words = " ".join((lot or "").split())
    if words and not words.isprintable():
        raise ReceiptRefused("a lot is printable text")
    return words[:40] or None


def _units(units: int | None, default: int) -> int:
    n = default if units is None else units
    if isinstance(n, bool) or not 1 <= n <= MAX_UNITS:
        raise ReceiptRefused(f"units must be a whole number from 1 to {MAX_UNITS:,}")
    return n


def _receive_into_line(
    s: Session,
    r: Receipt,
    product: core.FoundProduct,
    n: int,
    lot: str | None,
    expiry: date | None,
    settings: Settings,
) -> int:
    """Count ``n`` units on the receipt's line of the product that has room; its id."""
    lines = s.execute(
        select(ReceiptLine.id, ReceiptLine.expected_qty, ReceiptLine.received_qty,
               ReceiptLine.lot)
        .where(ReceiptLine.receipt_id == r.id, ReceiptLine.product_id == product.id)
        .order_by(ReceiptLine.line_no)
    ).all()  # fmt: skip
    if not lines:
        raise NotOnNotice(r.reference, product.sku, product.name, n)
    candidates = [ln for ln in lines if lot is not None and ln.lot == lot] or lines
    for ln in candidates:
        room = core.limit(ln.expected_qty, settings)
        done = s.execute(
            update(ReceiptLine)
            .where(ReceiptLine.id == ln.id, ReceiptLine.received_qty + n <= room)
            .values(received_qty=ReceiptLine.received_qty + n)
        )
        if done.rowcount == 1:  # type: ignore[attr-defined]
            if lot is not None or expiry is not None:  # the GS1 string fills a line's lot in
                s.execute(
                    update(ReceiptLine)
                    .where(ReceiptLine.id == ln.id, ReceiptLine.lot.is_(None),
                           ReceiptLine.expiry.is_(None))
                    .values(lot=lot, expiry=expiry)
                )  # fmt: skip
            return int(ln.id)
    expected = sum(ln.expected_qty for ln in candidates)
    received = sum(ln.received_qty for ln in candidates)
    raise OverReceipt(product.sku, expected, received, n, settings.receiving.over_tolerance_pct)


def _new_line(s: Session, rid: int, product_id: int | None, sku: str) -> int:
    return core.add_line(s, rid, product_id, sku, 0)


@dataclass(frozen=True)
class _Scan:
    product_id: int
    units: int


#: Ledger rows read at a time looking for the last scan (the first batch nearly always has it).
_SCAN_BATCH = 32


def _last_scan_query(
    reference: str, dock: int, terminal: str | None, before: int | None
) -> Select[int, int, int, str]:
    """The receipt's ledger rows in the dock written at the terminal, newest first (older than
    ``before`` when given): the index on stock_movements (document, …, id) by ``document``."""
    query = (
        select(StockMovement.id, StockMovement.product_id, StockMovement.delta,
               StockMovement.reason)
        .where(
            StockMovement.document == reference,
            StockMovement.bin_id == dock,
            StockMovement.terminal_id == terminal,
            StockMovement.reason.in_((RECEIPT, RECEIPT_UNDO)),
        )
        .order_by(StockMovement.id.desc())
        .limit(_SCAN_BATCH)
    )  # fmt: skip
    return query if before is None else query.where(StockMovement.id < before)


def _last_scan(s: Session, actor: Actor, r: Receipt, dock: int) -> _Scan | None:
    """The newest scan of this terminal on the receipt still standing (see the module's
    words), read newest first: each ``receipt_undo`` row met takes back the next older
    ``receipt`` row, the first one not taken back is the last scan."""
    taken_back, before = 0, None
    while True:
        rows = s.execute(_last_scan_query(r.reference, dock, actor.terminal_id, before)).all()
        for row in rows:
            if row.reason == RECEIPT_UNDO:
                taken_back += 1
            elif taken_back:
                taken_back -= 1
            else:
                return _Scan(row.product_id, row.delta)
        if len(rows) < _SCAN_BATCH:
            return None
        before = rows[-1].id


@dataclass(frozen=True)
class _Line:
    id: int
    sku: str
    expected: int
    received: int


def _line_of(s: Session, rid: int, product_id: int, units: int) -> _Line:
    """The line a scan of ``units`` of the product was counted on: the last of the product's
    lines holding that many (lines are filled first to last)."""
    rows = s.execute(
        select(ReceiptLine.id, ReceiptLine.sku, ReceiptLine.expected_qty,
               ReceiptLine.received_qty)
        .where(ReceiptLine.receipt_id == rid, ReceiptLine.product_id == product_id)
        .order_by(ReceiptLine.line_no.desc())
    ).all()  # fmt: skip
    for row in rows:
        if row.received_qty >= units:
            return _Line(row.id, row.sku, row.expected_qty, row.received_qty)
    raise ReceiptRefused("the receipt's counts changed meanwhile; look again")


def _change_line(s: Session, line_id: int, diff: int) -> None:
    done = s.execute(
        update(ReceiptLine)
        .where(ReceiptLine.id == line_id, ReceiptLine.received_qty + diff >= 0)
        .values(received_qty=ReceiptLine.received_qty + diff)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise ReceiptRefused("the receipt's counts changed meanwhile; look again")


def _move_dock(s: Session, reference: str, product_id: int, dock: int, diff: int, sku: str) -> None:
    """The dock changes by ``diff`` units of the receipt ``reference``: units taken back must
    be this receipt's own still in the dock (another receipt's units there are not its)."""
    if diff > 0:
        core.add_stock(s, product_id, dock, diff)
        return
    if diff == 0:
        return
    n = -diff
    # The dock's row first (locked until the commit): every put-away before this one is seen
    # by the balance read after it, none can land between the two.
    taken = core.take_stock(s, product_id, dock, n)
    left = core.receipt_in_dock(s, reference, product_id, dock) if taken else 0
    if not taken or left < n:
        raise ReceiptRefused(
            f"{sku}: put away from the dock already — {reference} has {left} of it there, "
            f"not {n}; ask a lead"
        )


def _units_per_scan(s: Session, product_id: int, units: int) -> int:
    """The case size the scan most likely was (a case of exactly ``units``), else 1."""
    found = s.scalar(
        select(ProductPack.units).where(
            ProductPack.product_id == product_id, ProductPack.units == units
        )
    )
    return int(found) if found else 1
