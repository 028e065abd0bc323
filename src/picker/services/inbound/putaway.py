"""Put-away: goods received into the dock go to a bin by scan (the item, then the bin), and
the back office's receipt-and-put-away in one command.

Stock leaves the dock only by ``UPDATE stock … WHERE on_hand - reserved >= n``, so two
terminals putting the same SKU away never take more than the dock holds. Each put-away writes
``putaway`` rows (− the dock, + the bin) per receipt the units came from, oldest receipt first,
the receipt's reference as their document. Orders held short of the SKU are then tried again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session

from picker.config import Settings
from picker.services import scans
from picker.services.actors import Actor, Clock, allow, system_clock
from picker.services.counts import lock_of, locked_words
from picker.services.errors import Conflict
from picker.services.inbound import _core as core
from picker.services.inbound import dock as dock_
from picker.services.inbound.shapes import (
    RECEIVABLE,
    RECEIVING_ROLE,
    STATION,
    BackOfficeLine,
    BackOfficeReceipt,
    DockItem,
    NotOnNotice,
    OverReceipt,
    PutAwayDone,
    PutAwayRefused,
    ReceiptBusy,
    ReceiptRefused,
    Suggestion,
)
from picker.services.orders.lead_actions import retry_held_short
from picker.services.scans import ScanOutcome
from picker.store.engine import Database
from picker.store.models import (
    COUNT_LOCKING,
    Bin,
    CountTask,
    Product,
    Receipt,
    ReceiptLine,
    Stock,
    StockMovement,
)

__all__ = ["dock_items", "put_away", "receive_lines", "suggest_bin"]

PUTAWAY = "putaway"
#: The bins goods may be put away into.
STOCK_ROLES = ("pick", "reserve")


def dock_items(db: Database, *, settings: Settings) -> list[DockItem]:
    """What waits in the dock for put-away, by SKU."""
    with db.read() as s:
        dock = core.dock_bin_id(s, settings)
        if dock is None:
            return []
        rows = s.execute(
            select(Product.sku, Product.name, Stock.on_hand - Stock.reserved)
            .join(Stock, Stock.product_id == Product.id)
            .where(Stock.bin_id == dock, Stock.on_hand - Stock.reserved > 0)
            .order_by(Product.sku)
        ).all()
    return [DockItem(sku, name, int(n)) for sku, name, n in rows]


def suggest_bin(db: Database, code: str, *, settings: Settings) -> Suggestion:
    """Where the product ``code`` names (waiting in the dock) should go: its pick face when it
    has room for all of it waiting (no max, or max − on hand ≥ units), else the empty active
    pick or reserve bin nearest in walking order to that face (or to the start of the walk),
    else no bin (any active pick or reserve bin is accepted)."""
    with db.read() as s:
        product = _product(s, code)
        dock = core.dock_bin_id(s, settings)
        waiting = core.in_dock(s, product.id, dock)
        if waiting <= 0:
            raise PutAwayRefused(
                f"no {product.sku} waits in the dock {settings.receiving.dock_bin}: scan an "
                "item that was received"
            )
        return suggestion(s, product, waiting)


def suggestion(s: Session, product: core.FoundProduct, waiting: int) -> Suggestion:
    unlocked = ~exists().where(CountTask.bin_id == Bin.id, CountTask.status.in_(COUNT_LOCKING))
    face = s.execute(
        select(Bin.code, Bin.pick_seq, Bin.max_qty, Stock.on_hand)
        .join(Stock, Stock.bin_id == Bin.id)
        .where(Stock.product_id == product.id, Bin.role == "pick", Bin.active.is_(True),
               unlocked)
        .order_by(Stock.on_hand.desc(), Bin.pick_seq, Bin.code)
        .limit(1)
    ).first()  # fmt: skip
    if face is not None and (face.max_qty is None or face.max_qty - face.on_hand >= waiting):
        return Suggestion(product.sku, product.name, waiting, face.code,
                          f"the pick face of {product.sku}")  # fmt: skip
    near = face.pick_seq if face is not None else 0
    held = exists().where(Stock.bin_id == Bin.id, Stock.on_hand > 0)
    empty = s.scalar(
        select(Bin.code)
        .where(Bin.role.in_(STOCK_ROLES), Bin.active.is_(True), ~held, unlocked)
        .order_by(func.abs(Bin.pick_seq - near), Bin.pick_seq, Bin.code)
        .limit(1)
    )
    if face is not None:
        full = f"its pick face {face.code} has room for {max(0, face.max_qty - face.on_hand)}"
        where = "nearest to it"
    else:
        full, where = f"{product.sku} has no pick face", "nearest the start of the walk"
    if empty is None:
        why = f"{full} and no bin is empty: put it in any pick or reserve bin"
        return Suggestion(product.sku, product.name, waiting, None, why)
    return Suggestion(product.sku, product.name, waiting, str(empty),
                      f"{full}: the empty bin {where}")  # fmt: skip


def put_away(
    db: Database,
    actor: Actor,
    code: str,
    bin_code: str,
    *,
    units: int | None = None,
    settings: Settings,
    clock: Clock = system_clock,
    scan: ScanOutcome | None = None,
    retry: bool = True,
) -> PutAwayDone:
    """``units`` of the product ``code`` names (None: all of it waiting in the dock) from the
    dock into ``bin_code`` (any active pick or reserve bin; not quarantine, the dock, a retired
    or unknown bin, nor a bin being counted). Then orders held short of the SKU are tried
    again (``PutAwayDone.released``) — unless ``retry`` is False: the station shows the
    put-away at once and calls :func:`release_held` itself right after."""
    allow(actor, "inbound.putaway.put_away")
    now = clock()

    def work(s: Session) -> PutAwayDone:
        product = _product(s, code)
        done = put_in(s, actor, product, bin_code, units, settings, now)
        if scan is not None:
            scans.journal(s, actor, STATION, STATION, scan, at=now)
        return done

    done = db.run(work)
    released = _retry(db, actor, settings, clock, [done.sku]) if retry else []
    return PutAwayDone(done.sku, done.name, done.bin, done.units, done.left_in_dock,
                       released)  # fmt: skip


def release_held(
    db: Database, actor: Actor, sku: str, *, settings: Settings, clock: Clock = system_clock
) -> list[str]:
    """Orders held short of ``sku`` tried again after stock of it was put away (each in its
    own transaction, the released ones assigned): the numbers of those released."""
    allow(actor, "inbound.putaway.release_held")
    return _retry(db, actor, settings, clock, [sku])


def receive_lines(
    db: Database,
    actor: Actor,
    reference: str,
    lines: Sequence[tuple[str, int, str | None]],
    *,
    supplier: str | None = None,
    close: bool = False,
    accept: str | None = None,
    settings: Settings,
    clock: Clock = system_clock,
) -> BackOfficeReceipt:
    """The back office's receipt and put-away in one transaction (``picker inbound receive``):
    each (SKU, units, bin) received into the dock and put away into the bin (None: the
    suggested bin). A reference not known is created (source "cli", each line expecting what
    came). Beyond a notice's tolerance, or a product it does not list, needs ``accept`` (a
    lead's reason). Any line refused: nothing changes, the refusal names the line."""
    allow(actor, "inbound.putaway.receive_lines")
    if accept is not None:
        allow(actor, "inbound.dock.accept")
        reason: str | None = core.clean_reason(accept)
    else:
        reason = None
    ref = " ".join(reference.split())
    if not ref or len(ref) > 48 or not ref.isprintable():
        raise ReceiptRefused("a receipt reference is printable text of 1 to 48 characters")
    if not lines:
        raise ReceiptRefused("name at least one line (SKU:QTY[:BIN])")
    who = core.clean_supplier(supplier)
    now = clock()

    def work(s: Session) -> BackOfficeReceipt:
        rid = core.receipt_id(s, ref)
        created = rid is None
        if rid is None:
            rid, created = core.create_receipt(s, ref, who, "cli", now)
        r = s.scalars(select(Receipt).where(Receipt.id == rid).with_for_update()).one()
        if r.status not in RECEIVABLE:
            raise ReceiptRefused(f"{r.reference} is {r.status}: it can no longer be received")
        if r.held_by_terminal not in (None, actor.terminal_id):
            raise ReceiptBusy(r.reference, r.held_by_terminal, core.holder_name(s, r.held_by))
        if who is not None and r.supplier is None:
            r.supplier = who
        r.status, r.opened_at = "open", r.opened_at or now
        s.flush()
        done = []
        for i, (sku, qty, bin_code) in enumerate(lines, start=1):
            what = f"line {i} ({sku}:{qty}): "
            try:
                product = _product(s, sku)
                n = dock_._units(qty, 1)
                if created:
                    core.add_line(s, r.id, product.id, product.sku, n)
                try:
                    dock_.receive_in(s, actor, r, product, n, None, None, settings, now)
                except (OverReceipt, NotOnNotice):
                    if reason is None:
                        raise
                    dock_.accept_in(s, actor, r, product, product.sku, n, reason, settings, now)
                if bin_code is None:
                    dock = core.dock_bin(s, settings)
                    hint = suggestion(s, product, core.in_dock(s, product.id, dock))
                    if hint.bin is None:
                        raise PutAwayRefused(
                            f"no bin to suggest ({hint.why}): give one, SKU:QTY:BIN"
                        )
                    bin_code = hint.bin
                put = put_in(s, actor, product, bin_code, n, settings, now)
            except ReceiptRefused as exc:
                raise ReceiptRefused(f"{what}{exc}") from None
            except PutAwayRefused as exc:
                raise PutAwayRefused(f"{what}{exc}") from None
            done.append(BackOfficeLine(put.sku, put.units, put.bin))
        found = None
        if close:
            r.status, r.closed_at, r.closed_by = "closed", now, actor.operator_id
        r.held_by_terminal, r.held_by, r.version = None, None, r.version + 1
        s.flush()
        if close:
            found = dock_.discrepancies(s, r.id)
        return BackOfficeReceipt(r.reference, created, tuple(done), core.view(s, r.id), found)

    result = db.run(work)
    released = _retry(db, actor, settings, clock, list(dict.fromkeys(d.sku for d in result.lines)))
    return BackOfficeReceipt(result.reference, result.created, result.lines, result.view,
                             result.discrepancies, released)  # fmt: skip


# --- shared ------------------------------------------------------------------------------------


def _product(s: Session, code: str) -> core.FoundProduct:
    product = core.find_product(s, code)
    if product is None:
        raise PutAwayRefused(f"{' '.join(code.split())} is not in the catalogue")
    return product


def put_in(
    s: Session, actor: Actor, product: core.FoundProduct, bin_code: str, units: int | None,
    settings: Settings, now: datetime,
) -> PutAwayDone:  # fmt: skip
    """The put-away in the caller's transaction (no retry of held orders)."""
    target, target_code = _target_bin(s, bin_code)
    dock = core.dock_bin_id(s, settings)
    waiting = core.in_dock(s, product.id, dock)
    where = settings.receiving.dock_bin
    if dock is None or waiting <= 0:
        raise PutAwayRefused(f"no {product.sku} waits in the dock {where}: nothing to put away")
    n = waiting if units is None else units
    if isinstance(n, bool) or n < 1:
        raise PutAwayRefused("put away 1 unit or more")
    if n > waiting:
        raise PutAwayRefused(f"only {waiting} of {product.sku} wait in the dock {where}")
    if not core.take_stock(s, product.id, dock, n):
        left = core.in_dock(s, product.id, dock)
        raise PutAwayRefused(
            f"only {left} of {product.sku} wait in the dock now (another terminal put some "
            "away): key a smaller number"
        )
    # After the dock's row is taken (locked): every put-away before this one is seen here.
    before = core.in_dock(s, product.id, dock) + n
    for document, k in _portions(s, product.id, dock, n, before):
        core.ledger(s, actor, product.id, dock, -k, PUTAWAY, document, now)
        core.add_stock(s, product.id, target, k)
        core.ledger(s, actor, product.id, target, k, PUTAWAY, document, now)
    left = core.in_dock(s, product.id, dock)
    return PutAwayDone(product.sku, product.name, target_code, n, left)


def _target_bin(s: Session, bin_code: str) -> tuple[int, str]:
    code = " ".join(bin_code.split()).upper()
    # The bin's row locked (PostgreSQL; SQLite's BEGIN IMMEDIATE serialises anyway) before its
    # count lock is read: a count starting on it locks the same row, so either the count waits
    # for this put-away to commit, or this put-away waits for the count and sees its lock.
    # FOR NO KEY UPDATE (as counts.hold_bin): a pick writing a ledger row that refers to the
    # bin takes a key-share lock on it, which this must not block (that deadlocks).
    row = s.execute(
        select(Bin.id, Bin.code, Bin.role, Bin.active)
        .where(Bin.code == code)
        .with_for_update(key_share=True)
    ).first()
    if row is None:
        raise PutAwayRefused(f"there is no bin {code}: scan the label of the bin")
    if not row.active:
        raise PutAwayRefused(f"bin {code} is retired: put it in another bin")
    if row.role == RECEIVING_ROLE:
        raise PutAwayRefused(f"{code} is the dock: scan the bin the goods go to")
    if row.role not in STOCK_ROLES:
        raise PutAwayRefused(f"{code} is a {row.role} bin: received goods go on a shelf")
    count = lock_of(s, int(row.id))
    if count is not None:
        raise PutAwayRefused(f"{locked_words(code, count)} — put it in another bin")
    return int(row.id), str(row.code)


#: Receipts of the product looked at a time for units still in the dock, newest first.
_RECEIPT_BATCH = 16


def _balances_query(
    references: Sequence[str], product_id: int, dock: int
) -> Select[str | None, int, int]:
    """Per receipt (of ``references``): the product's units it left in the dock and its first
    row there; by the index on stock_movements (document, product_id, bin_id, id)."""
    return (
        select(StockMovement.document, func.sum(StockMovement.delta), func.min(StockMovement.id))
        .where(
            StockMovement.document.in_(references),
            StockMovement.product_id == product_id,
            StockMovement.bin_id == dock,
        )
        .group_by(StockMovement.document)
    )


def _portions(
    s: Session, product_id: int, dock: int, n: int, waiting: int
) -> list[tuple[str | None, int]]:
    """``n`` units of the dock split by the receipt they came from, oldest first.

    Only the receipts with units still there are read, not the dock's whole history: no
    receipt's balance is below 0 (undo and keyed counts take back only its own), and they add up
    to ``waiting`` (the dock's units before this put-away), so the receipts of the product that
    received some are read newest first, a few at a time, until their balances cover
    ``waiting``."""
    found: list[tuple[int, str, int]] = []  # (first row, reference, units there)
    covered, before = 0, None
    while covered < waiting:
        query = (
            select(ReceiptLine.id, Receipt.reference)
            .join(Receipt, Receipt.id == ReceiptLine.receipt_id)
            # A line never received (an expected notice, a cancelled one) has nothing in the
            # dock: skipped here, or a floor expecting thousands of deliveries of the product
            # would be walked a few lines at a time on every put-away.
            .where(ReceiptLine.product_id == product_id, ReceiptLine.received_qty > 0)
            .order_by(ReceiptLine.id.desc())
            .limit(_RECEIPT_BATCH)
        )
        if before is not None:
            query = query.where(ReceiptLine.id < before)
        lines = s.execute(query).all()
        if not lines:
            break
        before = lines[-1].id
        seen = {ref for _, ref, _ in found}
        references = list(dict.fromkeys(ln.reference for ln in lines if ln.reference not in seen))
        if not references:
            continue
        for document, there, first in s.execute(_balances_query(references, product_id, dock)):
            if there > 0:
                found.append((int(first), str(document), int(there)))
                covered += int(there)
    portions: list[tuple[str | None, int]] = []
    left = n
    for _, document, there in sorted(found):
        k = min(left, there)
        if k > 0:
            portions.append((document, k))
            left -= k
        if left == 0:
            break
    if left:  # the ledger holds less than the stock row (a floor built without one)
        portions.append((None, left))
    return portions


def _retry(
    db: Database, actor: Actor, settings: Settings, clock: Clock, skus: Sequence[str]
) -> list[str]:
    released: list[str] = []
    for sku in skus:
        try:
            found = retry_held_short(db, actor=actor, settings=settings, clock=clock, sku=sku)
        except Conflict:  # another terminal changed a held order meanwhile: the lead retries it
            continue
        released += [r.number for r in found if r.released and r.number not in released]
    return released
