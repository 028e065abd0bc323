"""What the dock, put-away and the back office share: the dock bin, finding and claiming a
receipt, finding a scanned product, the dock's ledger and the views.

Every function works inside the caller's transaction. Races are settled by the database: a
receipt is claimed by a conditional UPDATE (held by no terminal, or by this one), a line is
received only while it stays within its tolerance (a conditional UPDATE), and stock leaves the
dock only by ``UPDATE stock … WHERE on_hand - reserved >= n``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from picker.config import Settings
from picker.domain.ean import gtin_spellings
from picker.domain.pickpath import parse_bin_code, pick_sequence
from picker.services.actors import Actor
from picker.services.inbound.shapes import (
    RECEIVABLE,
    RECEIVING_ROLE,
    ReceiptBusy,
    ReceiptLineView,
    ReceiptRefused,
    ReceiptView,
)
from picker.store.models import (
    Bin,
    Operator,
    Product,
    ProductBarcode,
    ProductPack,
    Receipt,
    ReceiptLine,
    Stock,
    StockMovement,
)

#: The longest reason kept for a lead's acceptance.
REASON_LENGTH = 500


def upsert(s: Session) -> Any:
    return pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert


def clean_reason(text: str | None) -> str:
    words = " ".join((text or "").split())
    if not words or not words.isprintable():
        raise ReceiptRefused("say why it is accepted (a reason in printable text)")
    return words[:REASON_LENGTH]


# --- the dock ----------------------------------------------------------------------------------


def dock_bin(s: Session, settings: Settings, *, create: bool = True) -> int | None:
    """The dock of ``[receiving] dock_bin`` (role receiving), created on first use."""
    code = settings.receiving.dock_bin
    row = s.execute(select(Bin.id, Bin.role, Bin.active).where(Bin.code == code)).first()
    if row is None:
        if not create:
            return None
        address = parse_bin_code(code)
        s.execute(
            upsert(s)(Bin)
            .values(code=code, zone=address.zone, aisle=address.aisle, bay=address.bay,
                    level=address.level, pick_seq=pick_sequence(address), active=True,
                    role=RECEIVING_ROLE)
            .on_conflict_do_nothing()
        )  # fmt: skip
        row = s.execute(select(Bin.id, Bin.role, Bin.active).where(Bin.code == code)).first()
        if row is None:
            raise ReceiptRefused(
                f"the dock {code} ([receiving] dock_bin) names the place of another bin: give "
                "it that bin's code"
            )
    if row.role != RECEIVING_ROLE:
        raise ReceiptRefused(
            f"bin {code} ([receiving] dock_bin) is a {row.role} bin, not receiving: name "
            "another bin in config.toml"
        )
    if not row.active:
        raise ReceiptRefused(f"the dock {code} is retired: bring it back or name another")
    return int(row.id)


def ledger(
    s: Session, actor: Actor, product_id: int, bin_id: int, delta: int, reason: str,
    document: str | None, now: datetime,
) -> None:  # fmt: skip
    s.execute(
        insert(StockMovement).values(
            at=now, product_id=product_id, bin_id=bin_id, delta=delta, reason=reason,
            operator_id=actor.operator_id, terminal_id=actor.terminal_id, source=actor.source,
            document=document,
        )
    )  # fmt: skip


def add_stock(s: Session, product_id: int, bin_id: int, n: int) -> None:
    s.execute(
        upsert(s)(Stock)
        .values(product_id=product_id, bin_id=bin_id, on_hand=n, reserved=0)
        .on_conflict_do_update(
            index_elements=["product_id", "bin_id"], set_={"on_hand": Stock.on_hand + n}
        )
    )


def take_stock(s: Session, product_id: int, bin_id: int, n: int) -> bool:
    """Take ``n`` free units out of a bin (never below what is reserved there)."""
    done = s.execute(
        update(Stock)
        .where(
            Stock.product_id == product_id,
            Stock.bin_id == bin_id,
            Stock.on_hand - Stock.reserved >= n,
        )
        .values(on_hand=Stock.on_hand - n)
    )
    return bool(done.rowcount == 1)  # type: ignore[attr-defined]


def in_dock(s: Session, product_id: int, dock_id: int | None) -> int:
    if dock_id is None:
        return 0
    found = s.scalar(
        select(Stock.on_hand - Stock.reserved).where(
            Stock.product_id == product_id, Stock.bin_id == dock_id
        )
    )
    return int(found or 0)


def receipt_in_dock_query(reference: str, product_id: int, dock_id: int) -> Select[Any]:
    """What the receipt's own ledger rows left of the product in the dock (received − undone −
    put away): one range of the index on stock_movements (document, product_id, bin_id, id)."""
    return select(func.coalesce(func.sum(StockMovement.delta), 0)).where(
        StockMovement.document == reference,
        StockMovement.product_id == product_id,
        StockMovement.bin_id == dock_id,
    )


def receipt_in_dock(s: Session, reference: str, product_id: int, dock_id: int) -> int:
    """Units of the product the receipt ``reference`` still has in the dock (its own balance,
    not the dock's: units of other receipts are not its to take back)."""
    return int(s.scalar(receipt_in_dock_query(reference, product_id, dock_id)) or 0)


# --- products ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FoundProduct:
    id: int
    sku: str
    name: str
    #: What one scan of the code stands for: a case's units, else 1.
    units_per_scan: int = 1


def find_product(s: Session, code: str) -> FoundProduct | None:
    """The product a scanned code names: its SKU, a unit barcode, or a case's barcode (then a
    scan is the case's units); None when none does."""
    code = code.strip()
    if not code:
        return None
    columns = select(Product.id, Product.sku, Product.name)
    row = s.execute(columns.where(Product.sku == code)).first()
    if row is not None:
        return FoundProduct(row.id, row.sku, row.name)
    spellings = sorted(gtin_spellings(code) | {code})
    product_id = s.scalar(
        select(ProductBarcode.product_id).where(ProductBarcode.barcode.in_(spellings)).limit(1)
    )
    if product_id is not None:
        row = s.execute(columns.where(Product.id == product_id)).one()
        return FoundProduct(row.id, row.sku, row.name)
    pack = s.execute(
        select(ProductPack.product_id, ProductPack.units)
        .where(ProductPack.barcode.in_(spellings))
        .limit(1)
    ).first()
    if pack is not None:
        row = s.execute(columns.where(Product.id == pack.product_id)).one()
        return FoundProduct(row.id, row.sku, row.name, int(pack.units))
    found = s.execute(columns.where(func.lower(Product.sku) == code.lower()).limit(2)).all()
    if len(found) == 1:
        return FoundProduct(found[0].id, found[0].sku, found[0].name)
    return None


# --- receipts ----------------------------------------------------------------------------------


def receipt_id(s: Session, reference: str) -> int | None:
    """The receipt of ``reference`` (as printed; any case when that names only one)."""
    ref = " ".join(reference.split())
    if not ref:
        return None
    found = s.scalar(select(Receipt.id).where(Receipt.reference == ref))
    if found is not None:
        return int(found)
    ids = s.scalars(
        select(Receipt.id).where(func.lower(Receipt.reference) == ref.lower()).limit(2)
    ).all()
    return int(ids[0]) if len(ids) == 1 else None


def no_notice(reference: str) -> ReceiptRefused:
    ref = " ".join(reference.split())
    return ReceiptRefused(
        f"no inbound notice {ref}; a lead can create it with picker inbound receive"
    )


def holder_name(s: Session, operator_id: int | None) -> str | None:
    if operator_id is None:
        return None
    return s.scalar(select(Operator.name).where(Operator.id == operator_id))


def claim(s: Session, actor: Actor, rid: int, now: datetime) -> None:
    """Take the receipt for this terminal (open from now on); refused while another terminal
    holds it, or when it is closed or cancelled."""
    taken = s.execute(
        update(Receipt)
        .where(
            Receipt.id == rid,
            Receipt.status.in_(RECEIVABLE),
            or_(Receipt.held_by_terminal.is_(None), Receipt.held_by_terminal == actor.terminal_id),
        )
        .values(
            status="open",
            held_by_terminal=actor.terminal_id,
            held_by=actor.operator_id,
            opened_at=func.coalesce(Receipt.opened_at, now),
            version=Receipt.version + 1,
        )
    )
    if taken.rowcount == 1:  # type: ignore[attr-defined]
        return
    row = s.execute(
        select(Receipt.reference, Receipt.status, Receipt.held_by_terminal, Receipt.held_by)
        .where(Receipt.id == rid)
    ).one()  # fmt: skip
    if row.status not in RECEIVABLE:
        raise ReceiptRefused(f"{row.reference} is {row.status}: it can no longer be received")
    raise ReceiptBusy(row.reference, row.held_by_terminal, holder_name(s, row.held_by))


def load_held(s: Session, actor: Actor, reference: str) -> Receipt:
    """The receipt, open and held by this terminal (locked); refused otherwise."""
    rid = receipt_id(s, reference)
    if rid is None:
        raise no_notice(reference)
    r = s.scalars(select(Receipt).where(Receipt.id == rid).with_for_update()).one()
    if r.status != "open":
        raise ReceiptRefused(f"{r.reference} is {r.status}: scan its reference to open it")
    if r.held_by_terminal != actor.terminal_id:
        if r.held_by_terminal is None:
            raise ReceiptRefused(f"{r.reference} is parked: scan its reference to take it on")
        raise ReceiptBusy(r.reference, r.held_by_terminal, holder_name(s, r.held_by))
    return r


def limit(expected: int, settings: Settings) -> int:
    """The most a line of ``expected`` units may receive without a lead."""
    return math.floor(expected * (1 + settings.receiving.over_tolerance_pct / 100) + 1e-9)


# --- views -------------------------------------------------------------------------------------


def line_views(s: Session, rid: int) -> tuple[ReceiptLineView, ...]:
    rows = s.execute(
        select(ReceiptLine.line_no, ReceiptLine.sku, Product.name, ReceiptLine.expected_qty,
               ReceiptLine.received_qty, ReceiptLine.lot, ReceiptLine.expiry,
               ReceiptLine.accepted_reason, ReceiptLine.product_id)
        .outerjoin(Product, Product.id == ReceiptLine.product_id)
        .where(ReceiptLine.receipt_id == rid)
        .order_by(ReceiptLine.line_no)
    ).all()  # fmt: skip
    return tuple(
        ReceiptLineView(r.line_no, r.sku, r.name or "", r.expected_qty, r.received_qty, r.lot,
                        r.expiry, r.accepted_reason, r.product_id is not None)
        for r in rows
    )  # fmt: skip


def line_view(s: Session, line_id: int) -> ReceiptLineView:
    r = s.execute(
        select(ReceiptLine.line_no, ReceiptLine.sku, Product.name, ReceiptLine.expected_qty,
               ReceiptLine.received_qty, ReceiptLine.lot, ReceiptLine.expiry,
               ReceiptLine.accepted_reason, ReceiptLine.product_id)
        .outerjoin(Product, Product.id == ReceiptLine.product_id)
        .where(ReceiptLine.id == line_id)
    ).one()  # fmt: skip
    known = r.product_id is not None
    return ReceiptLineView(r.line_no, r.sku, r.name or "", r.expected_qty, r.received_qty,
                           r.lot, r.expiry, r.accepted_reason, known)  # fmt: skip


def view(s: Session, rid: int) -> ReceiptView:
    r = s.execute(
        select(Receipt.reference, Receipt.supplier, Receipt.expected_at, Receipt.status,
               Receipt.held_by_terminal, Receipt.held_by)
        .where(Receipt.id == rid)
    ).one()  # fmt: skip
    lines = line_views(s, rid)
    return ReceiptView(
        reference=r.reference,
        supplier=r.supplier,
        expected_at=r.expected_at,
        status=r.status,
        lines=lines,
        expected_units=sum(ln.expected for ln in lines),
        received_units=sum(ln.received for ln in lines),
        held_by_terminal=r.held_by_terminal,
        held_by=holder_name(s, r.held_by),
    )


def parse_date(text: str | date | None) -> date | None:
    if text is None or isinstance(text, date):
        return text
    words = text.strip()
    return date.fromisoformat(words) if words else None


def dock_bin_id(s: Session, settings: Settings) -> int | None:
    """The dock's id when it exists (never created here: a read)."""
    found = s.scalar(
        select(Bin.id).where(Bin.code == settings.receiving.dock_bin, Bin.role == RECEIVING_ROLE)
    )
    return None if found is None else int(found)


def clean_supplier(text: str | None) -> str | None:
    words = " ".join((text or "").split())
    if not words:
        return None
    if not words.isprintable() or len(words) > 100:
        raise ReceiptRefused("a supplier is printable text of at most 100 characters")
    return words


def create_receipt(
    s: Session, reference: str, supplier: str | None, source: str, now: datetime
) -> tuple[int, bool]:
    """A new receipt (status expected): its id and True. Another made meanwhile with the same
    reference (two commands racing on PostgreSQL: the unique key refuses the second insert once
    the first commits) is found instead: its id and False."""
    try:
        with s.begin_nested():  # a savepoint: the refused insert leaves the transaction usable
            rid = s.execute(
                insert(Receipt)
                .values(reference=reference, supplier=supplier, status="expected",
                        source=source, created_at=now, version=1)
                .returning(Receipt.id)
            ).scalar_one()  # fmt: skip
    except IntegrityError:
        found = receipt_id(s, reference)  # the winner's row, committed (a new statement sees it)
        if found is None:
            raise
        return found, False
    return int(rid), True


def add_line(s: Session, rid: int, product_id: int | None, sku: str, expected: int) -> int:
    line_no = s.scalar(
        select(func.coalesce(func.max(ReceiptLine.line_no), 0) + 1).where(
            ReceiptLine.receipt_id == rid
        )
    )
    return int(
        s.execute(
            insert(ReceiptLine)
            .values(receipt_id=rid, line_no=line_no, product_id=product_id, sku=sku,
                    expected_qty=expected, received_qty=0)
            .returning(ReceiptLine.id)
        ).scalar_one()
    )  # fmt: skip
