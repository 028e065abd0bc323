"""What the desk and the back office share: finding an order's return, claiming it, counting
units onto order lines, moving their stock, the view, and the close.

Every function works inside the caller's transaction. Races are settled by the database: a
return is claimed by a conditional UPDATE (held by no terminal, or by this one), a unit is
counted on its line only while ``returned_qty`` stays within what was shipped, and a unit's
stock is moved only by the UPDATE that turns its ``stocked`` from false to true.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from picker.config import Settings
from picker.domain.ean import gtin_spellings
from picker.domain.pickpath import parse_bin_code, pick_sequence
from picker.domain.returns import (
    QUARANTINE,
    Condition,
    RefundLine,
    is_rma_number,
    refund,
    rma_number,
    shipping_paid,
)
from picker.domain.statuses import OrderStatus, ParcelStatus
from picker.services.actors import Actor
from picker.services.counts.lock import hold_bin, lock_of, locked_words
from picker.services.errors import Conflict
from picker.services.notify import outbox
from picker.services.orders.status import move_order
from picker.services.orders.views import amount as amount_text
from picker.services.returns.exchange import create_exchange
from picker.services.returns.shapes import (
    Closed,
    LineView,
    PendingUnit,
    ReturnBusy,
    ReturnRefused,
    ReturnView,
    UnitView,
)
from picker.store.models import (
    Bin,
    Operator,
    Order,
    OrderLine,
    Parcel,
    ParcelItem,
    Product,
    ProductBarcode,
    Return,
    ReturnLine,
    ReturnUnit,
    Stock,
    StockMovement,
)

ACTIVE = ("authorized", "open")
QUARANTINE_ROLE = "quarantine"
#: Orders whose goods went out: the only ones anything can come back of.
SHIPPED_STATUSES = (OrderStatus.EXECUTED.value, OrderStatus.DELIVERED.value)
#: The longest note kept for a unit (a scrap reason, what a foreign item was).
NOTE_LENGTH = 500


def _insert(s: Session) -> Any:
    return pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert


def clean_note(text: str | None) -> str | None:
    """A note in one line of printable text; None when nothing is said."""
    if text is None:
        return None
    words = " ".join(text.split())
    if not words:
        return None
    if not words.isprintable():
        raise ReturnRefused("a note is printable text")
    return words[:NOTE_LENGTH]


# --- finding the order and its return ---------------------------------------------------------


@dataclass(frozen=True)
class Found:
    order_id: int
    #: The return the text named (an RMA or a return label's tracking number), else None.
    return_id: int | None


def find(s: Session, text: str) -> Found:
    """The order ``text`` names: an RMA number, a return label's or a parcel's tracking number,
    our order number, or the shop's order number."""
    raw = " ".join(text.split())
    if not raw:
        raise ReturnRefused("scan the parcel's tracking number, the order or the RMA")
    up = raw.upper()
    if is_rma_number(up):
        row = s.execute(select(Return.id, Return.order_id).where(Return.number == up)).first()
        if row is None:
            raise ReturnRefused(f"There is no return {up}.")
        return Found(row.order_id, row.id)
    row = s.execute(
        select(Return.id, Return.order_id).where(Return.tracking_no.in_({raw, up}))
    ).first()
    if row is not None:
        return Found(row.order_id, row.id)
    order_id = s.scalar(select(Parcel.order_id).where(Parcel.tracking_no.in_({raw, up})).limit(1))
    if order_id is not None:
        return Found(int(order_id), None)
    order_id = s.scalar(select(Order.id).where(Order.number == up))
    if order_id is not None:
        return Found(int(order_id), None)
    shop_no = raw.lstrip("#")
    ids = s.scalars(select(Order.id).where(Order.shop_order_no == shop_no).limit(2)).all()
    if len(ids) == 1:
        return Found(int(ids[0]), None)
    if len(ids) > 1:
        raise ReturnRefused(
            f"Shop order {shop_no} is in more than one shop: scan our order number (PO-…)."
        )
    raise ReturnRefused(f"{raw} is no order, RMA or tracking number we know.")


def shipped_by_line(s: Session, order_id: int) -> dict[int, int]:
    """Order line id → units of it handed to a courier."""
    return {
        line_id: int(n)
        for line_id, n in s.execute(
            select(ParcelItem.order_line_id, func.sum(ParcelItem.quantity))
            .join(Parcel, Parcel.id == ParcelItem.parcel_id)
            .where(Parcel.order_id == order_id, Parcel.status == ParcelStatus.HANDED_OVER.value)
            .group_by(ParcelItem.order_line_id)
        )
    }


def _shipped_of_line() -> Any:
    """SQL: units of the ``order_lines`` row at hand handed to a courier (for a conditional
    UPDATE of that row)."""
    return (
        select(func.coalesce(func.sum(ParcelItem.quantity), 0))
        .join(Parcel, Parcel.id == ParcelItem.parcel_id)
        .where(
            ParcelItem.order_line_id == OrderLine.id,
            Parcel.status == ParcelStatus.HANDED_OVER.value,
        )
        .scalar_subquery()
    )


def check_returnable(s: Session, order_id: int) -> Order:
    """The order, if anything of it may come back; refused in words otherwise."""
    order = s.execute(select(Order).where(Order.id == order_id)).scalar_one()
    status = order.status.value
    if status == OrderStatus.RETURNED.value:
        raise ReturnRefused(f"{order.number} came back whole already (returned).")
    if status not in SHIPPED_STATUSES:
        raise ReturnRefused(f"{order.number} is {status}: nothing of it was shipped.")
    shipped = shipped_by_line(s, order_id)
    if not shipped:
        raise ReturnRefused(f"{order.number}: nothing of it was handed to a courier.")
    back = dict(
        s.execute(
            select(OrderLine.id, OrderLine.returned_qty).where(OrderLine.order_id == order_id)
        ).all()
    )
    if all(back.get(line, 0) >= n for line, n in shipped.items()):
        raise ReturnRefused(f"{order.number}: everything shipped came back already.")
    return order


def active_return(s: Session, order_id: int) -> int | None:
    return s.scalar(select(Return.id).where(Return.order_id == order_id, Return.status.in_(ACTIVE)))


def _holder(s: Session, return_id: int) -> tuple[str, str, str | None, str]:
    row = s.execute(
        select(Return.number, Return.held_by_terminal, Operator.name, Return.status)
        .outerjoin(Operator, Operator.id == Return.held_by)
        .where(Return.id == return_id)
    ).one()
    return row.number, row.held_by_terminal, row.name, row.status


def claim(s: Session, actor: Actor, return_id: int, now: datetime) -> None:
    """Take the return for this terminal (it is open from now on); refused while another
    terminal holds it."""
    taken = s.execute(
        update(Return)
        .where(
            Return.id == return_id,
            Return.status.in_(ACTIVE),
            or_(Return.held_by_terminal.is_(None), Return.held_by_terminal == actor.terminal_id),
        )
        .values(
            status="open",
            held_by_terminal=actor.terminal_id,
            held_by=actor.operator_id,
            opened_at=func.coalesce(Return.opened_at, now),
            version=Return.version + 1,
        )
    )
    if taken.rowcount == 1:  # type: ignore[attr-defined]
        return
    number, terminal, name, status = _holder(s, return_id)
    if status not in ACTIVE:
        raise ReturnRefused(f"{number} is {status}: it can no longer be received.")
    raise ReturnBusy(number, terminal, name)


def create(
    s: Session,
    actor: Actor,
    order: Order,
    now: datetime,
    *,
    status: str,
    reason: str | None = None,
    exchange: bool = False,
) -> tuple[int, bool]:
    """A new return of ``order`` (its number set right after the insert): (its id, True). When
    another terminal made the order's active return meanwhile: (that one's id, False)."""
    savepoint = s.begin_nested()
    try:
        return_id = s.execute(
            insert(Return)
            .values(
                number=f"new-{uuid.uuid4().hex[:16]}",
                order_id=order.id,
                status=status,
                reason=reason,
                exchange=exchange,
                created_by=actor.operator_id,
                created_at=now,
                opened_at=now if status == "open" else None,
                currency=order.currency,
                terminal_id=actor.terminal_id,
                version=1,
            )
            .returning(Return.id)
        ).scalar_one()
        s.execute(update(Return).where(Return.id == return_id).values(number=rma_number(return_id)))
        savepoint.commit()
    except IntegrityError:
        savepoint.rollback()
        other = active_return(s, order.id)
        if other is None:
            raise
        return other, False
    return int(return_id), True


def load_held(s: Session, actor: Actor, number: str) -> Return:
    """The return ``number``, open and held by this terminal (locked); refused otherwise."""
    number = number.strip().upper()
    ret = s.scalars(select(Return).where(Return.number == number).with_for_update()).one_or_none()
    if ret is None:
        raise ReturnRefused(f"There is no return {number}.")
    if ret.status != "open":
        raise ReturnRefused(f"{number} is {ret.status}: open it first (scan it).")
    if ret.held_by_terminal != actor.terminal_id:
        if ret.held_by_terminal is None:
            raise ReturnRefused(f"{number} is parked: scan it to take it on.")
        name = s.scalar(select(Operator.name).where(Operator.id == ret.held_by))
        raise ReturnBusy(number, ret.held_by_terminal, name)
    return ret


# --- units -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pending:
    unit_id: int
    order_line_id: int | None
    product_id: int | None
    sku: str
    name: str
    condition: str | None


def pending(s: Session, return_id: int) -> Pending | None:
    """The unit waiting for its condition, or (judged resellable) for its bin."""
    row = s.execute(
        select(ReturnUnit.id, ReturnUnit.order_line_id, ReturnUnit.product_id,
               ReturnUnit.condition, Product.sku, Product.name)
        .outerjoin(Product, Product.id == ReturnUnit.product_id)
        .where(
            ReturnUnit.return_id == return_id,
            or_(
                ReturnUnit.condition.is_(None),
                and_(ReturnUnit.condition == Condition.RESELL.value, ReturnUnit.stocked.is_(False)),
            ),
        )
        .order_by(ReturnUnit.id.desc())
        .limit(1)
    ).first()  # fmt: skip
    if row is None:
        return None
    return Pending(row.id, row.order_line_id, row.product_id, row.sku or "", row.name or "",
                   row.condition)  # fmt: skip


def refuse_if_pending(s: Session, number: str, return_id: int) -> None:
    p = pending(s, return_id)
    if p is None:
        return
    if p.condition is None:
        raise ReturnRefused(f"{number}: say the condition of {p.sku} first.")
    raise ReturnRefused(f"{number}: put {p.sku} in a bin first (scan the bin).")


def find_product(s: Session, code: str) -> tuple[int, str, str] | None:
    """(id, SKU, name) of the product a barcode or SKU names; None when none does."""
    code = code.strip()
    columns = select(Product.id, Product.sku, Product.name)
    row = s.execute(columns.where(Product.sku == code)).first()
    if row is None:
        product_id = s.scalar(
            select(ProductBarcode.product_id)
            .where(ProductBarcode.barcode.in_(sorted(gtin_spellings(code) | {code})))
            .limit(1)
        )
        if product_id is not None:
            row = s.execute(
                select(Product.id, Product.sku, Product.name).where(Product.id == product_id)
            ).first()
    if row is None:
        found = s.execute(
            select(Product.id, Product.sku, Product.name)
            .where(func.lower(Product.sku) == code.lower())
            .limit(2)
        ).all()
        row = found[0] if len(found) == 1 else None
    return None if row is None else (row.id, row.sku, row.name)


def count_unit(
    s: Session,
    actor: Actor,
    ret: Return,
    order_number: str,
    code: str,
    now: datetime,
    *,
    condition: str | None = None,
    note: str | None = None,
    what: str = "",
) -> tuple[int, int, str]:
    """A unit of the order's product ``code`` received in ``ret``: counted on its line's
    ``returned_qty`` (never beyond what was shipped) and recorded. Returns (unit id, product id,
    SKU). ``what`` prefixes a refusal (a back-office line)."""
    product = find_product(s, code)
    lines: Sequence[Any] = []
    if product is not None:
        lines = s.execute(
            select(OrderLine.id, OrderLine.returned_qty)
            .where(OrderLine.order_id == ret.order_id, OrderLine.product_id == product[0])
            .order_by(OrderLine.line_no)
        ).all()
    if not lines:
        named = f"{product[1]} ({product[2]})" if product is not None else code.strip()
        raise ReturnRefused(f"{what}{named} is not in order {order_number}.")
    product_id, sku = product[0], product[1]  # type: ignore[index]
    shipped = shipped_by_line(s, ret.order_id)
    for line in lines:
        counted = s.execute(
            update(OrderLine)
            .where(OrderLine.id == line.id, OrderLine.returned_qty + 1 <= _shipped_of_line())
            .values(returned_qty=OrderLine.returned_qty + 1)
        )
        if counted.rowcount == 1:  # type: ignore[attr-defined]
            unit_id = s.execute(
                insert(ReturnUnit)
                .values(
                    return_id=ret.id, order_line_id=line.id, product_id=product_id,
                    condition=condition, note=note, at=now, operator_id=actor.operator_id,
                    terminal_id=actor.terminal_id, stocked=False,
                )
                .returning(ReturnUnit.id)
            ).scalar_one()  # fmt: skip
            return int(unit_id), product_id, sku
    n_shipped = sum(shipped.get(line.id, 0) for line in lines)
    back = select(OrderLine.returned_qty).where(OrderLine.id.in_([ln.id for ln in lines]))
    n_back = sum(int(n) for n in s.scalars(back))
    mine = s.scalar(
        select(func.count()).where(
            ReturnUnit.return_id == ret.id,
            ReturnUnit.order_line_id.in_([ln.id for ln in lines]),
        )
    )
    here = f", {mine} of them in this return" if mine else ""
    raise ReturnRefused(
        f"{what}{sku}: {n_shipped} shipped, {n_back} back already{here}; "
        "no more of it can come back."
    )


def add_foreign(
    s: Session, actor: Actor, return_id: int, note: str, now: datetime
) -> int:  # fmt: skip
    """A unit that is not ours (nothing counted, no stock)."""
    return int(
        s.execute(
            insert(ReturnUnit)
            .values(
                return_id=return_id, order_line_id=None, product_id=None,
                condition=Condition.FOREIGN.value, note=note, at=now,
                operator_id=actor.operator_id, terminal_id=actor.terminal_id, stocked=False,
            )
            .returning(ReturnUnit.id)
        ).scalar_one()
    )  # fmt: skip


def uncount(s: Session, order_line_id: int) -> None:
    """A unit no longer counted as back on its line."""
    done = s.execute(
        update(OrderLine)
        .where(OrderLine.id == order_line_id, OrderLine.returned_qty >= 1)
        .values(returned_qty=OrderLine.returned_qty - 1)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("the return's count changed on another terminal; look again")


# --- stock ---------------------------------------------------------------------------------


def quarantine_bin(s: Session, settings: Settings) -> int:
    """The quarantine bin of ``[returns] quarantine_bin``, created on first use."""
    code = settings.returns.quarantine_bin
    row = s.execute(select(Bin.id, Bin.role, Bin.active).where(Bin.code == code)).first()
    if row is None:
        address = parse_bin_code(code)
        s.execute(
            _insert(s)(Bin)
            .values(code=code, zone=address.zone, aisle=address.aisle, bay=address.bay,
                    level=address.level, pick_seq=pick_sequence(address), active=True,
                    role=QUARANTINE_ROLE)
            .on_conflict_do_nothing()
        )  # fmt: skip
        row = s.execute(select(Bin.id, Bin.role, Bin.active).where(Bin.code == code)).first()
        if row is None:
            raise ReturnRefused(
                f"the quarantine bin {code} ([returns] quarantine_bin) names the place of "
                "another bin: give it that bin's code"
            )
    if row.role != QUARANTINE_ROLE:
        raise ReturnRefused(
            f"bin {code} ([returns] quarantine_bin) is a {row.role} bin, not quarantine: "
            "name another bin in config.toml"
        )
    if not row.active:
        raise ReturnRefused(f"the quarantine bin {code} is retired: bring it back or name another")
    return int(row.id)


def resell_bin(s: Session, code: str, what: str = "") -> tuple[int, str]:
    """(id, code) of the bin a resellable unit may go in: active, and not quarantine."""
    code = code.strip().upper()
    row = s.execute(select(Bin.id, Bin.code, Bin.role, Bin.active).where(Bin.code == code)).first()
    if row is None:
        raise ReturnRefused(f"{what}there is no bin {code}.")
    if not row.active:
        raise ReturnRefused(f"{what}bin {code} is retired.")
    if row.role == QUARANTINE_ROLE:
        raise ReturnRefused(f"{what}{code} is the quarantine bin: resellable goods go on a shelf.")
    return int(row.id), row.code


def suggested_bin(s: Session, product_id: int) -> str | None:
    """Where a resellable unit of the product goes: its pick face holding the most, else the
    bin it was last put in or taken from (not quarantine, active)."""
    face = s.scalar(
        select(Bin.code)
        .join(Stock, Stock.bin_id == Bin.id)
        .where(Stock.product_id == product_id, Bin.role == "pick", Bin.active.is_(True))
        .order_by(Stock.on_hand.desc(), Bin.pick_seq, Bin.code)
        .limit(1)
    )
    if face is not None:
        return str(face)
    last = s.scalar(
        select(Bin.code)
        .join(StockMovement, StockMovement.bin_id == Bin.id)
        .where(
            StockMovement.product_id == product_id,
            Bin.role != QUARANTINE_ROLE,
            Bin.active.is_(True),
        )
        .order_by(StockMovement.id.desc())
        .limit(1)
    )
    return None if last is None else str(last)


def stock_unit(
    s: Session,
    actor: Actor,
    unit_id: int,
    product_id: int,
    bin_id: int,
    order_id: int,
    now: datetime,
) -> None:
    """The unit's stock into ``bin_id`` (on hand + 1, ledger ``return``): only by the UPDATE
    that marks it stocked, so a unit is never restocked twice. Refused for a bin being counted
    (its row locked first, so a count starting meanwhile waits or is seen)."""
    hold_bin(s, bin_id)
    counting = lock_of(s, bin_id)
    if counting is not None:
        code = s.scalar(select(Bin.code).where(Bin.id == bin_id))
        raise ReturnRefused(
            f"{locked_words(str(code), counting)} — put the unit in another bin (scan it), or "
            "keep it until the count closes."
        )
    marked = s.execute(
        update(ReturnUnit)
        .where(ReturnUnit.id == unit_id, ReturnUnit.stocked.is_(False))
        .values(stocked=True, bin_id=bin_id)
    )
    if marked.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("that unit was put away already (another terminal); look again")
    s.execute(
        _insert(s)(Stock)
        .values(product_id=product_id, bin_id=bin_id, on_hand=1, reserved=0)
        .on_conflict_do_update(
            index_elements=["product_id", "bin_id"], set_={"on_hand": Stock.on_hand + 1}
        )
    )
    _ledger(s, actor, product_id, bin_id, 1, "return", order_id, now)


def unstock_unit(
    s: Session, actor: Actor, unit_id: int, sku: str, order_id: int, now: datetime
) -> None:
    """Take a stocked unit's stock back out of its bin (ledger ``return_undo``), refused while
    that unit is no longer free there (reserved for an order, or gone)."""
    unit = s.execute(
        select(ReturnUnit.product_id, ReturnUnit.bin_id, Bin.code)
        .join(Bin, Bin.id == ReturnUnit.bin_id)
        .where(ReturnUnit.id == unit_id)
    ).one()
    marked = s.execute(
        update(ReturnUnit)
        .where(ReturnUnit.id == unit_id, ReturnUnit.stocked.is_(True))
        .values(stocked=False)
    )
    if marked.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("that unit was changed on another terminal; look again")
    counting = lock_of(s, unit.bin_id)
    if counting is not None:
        raise ReturnRefused(
            f"{locked_words(unit.code, counting)} — leave the {sku} in it; undo once the count "
            "closes, or ask the shift lead."
        )
    taken = s.execute(
        update(Stock)
        .where(
            Stock.product_id == unit.product_id,
            Stock.bin_id == unit.bin_id,
            Stock.on_hand - Stock.reserved >= 1,
        )
        .values(on_hand=Stock.on_hand - 1)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise ReturnRefused(
            f"The {sku} put in {unit.code} is promised to an order now (or gone): it cannot "
            "be taken back. Ask the shift lead."
        )
    _ledger(s, actor, unit.product_id, unit.bin_id, -1, "return_undo", order_id, now)


def _ledger(
    s: Session, actor: Actor, product_id: int, bin_id: int, delta: int, reason: str,
    order_id: int, now: datetime,
) -> None:  # fmt: skip
    s.execute(
        insert(StockMovement).values(
            at=now, product_id=product_id, bin_id=bin_id, delta=delta, reason=reason,
            operator_id=actor.operator_id, terminal_id=actor.terminal_id, source=actor.source,
            order_id=order_id,
        )
    )  # fmt: skip


def apply_condition(
    s: Session,
    actor: Actor,
    settings: Settings,
    ret: Return,
    p: Pending,
    condition: Condition,
    note: str | None,
    now: datetime,
) -> None:
    """The pending unit ``p`` judged ``condition`` (see :func:`desk.judge`)."""
    if condition in (Condition.SCRAP, Condition.FOREIGN) and note is None:
        what = "scrapped" if condition is Condition.SCRAP else "not ours"
        raise ReturnRefused(f"Say why {p.sku or 'the unit'} is {what} (a note).")
    if condition is Condition.FOREIGN:
        if p.order_line_id is not None:
            uncount(s, p.order_line_id)
        s.execute(
            update(ReturnUnit)
            .where(ReturnUnit.id == p.unit_id)
            .values(condition=condition.value, order_line_id=None, note=note)
        )
        return
    s.execute(
        update(ReturnUnit)
        .where(ReturnUnit.id == p.unit_id, ReturnUnit.stocked.is_(False))
        .values(condition=condition.value, note=note)
    )
    if condition in QUARANTINE and p.product_id is not None:
        bin_id = quarantine_bin(s, settings)
        stock_unit(s, actor, p.unit_id, p.product_id, bin_id, ret.order_id, now)


# --- the view ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Unit:
    id: int
    order_line_id: int | None
    product_id: int | None
    sku: str | None
    name: str | None
    condition: str | None
    bin: str | None
    stocked: bool
    note: str | None
    at: datetime


def _units(s: Session, return_id: int) -> list[_Unit]:
    rows = s.execute(
        select(ReturnUnit.id, ReturnUnit.order_line_id, ReturnUnit.product_id, Product.sku,
               Product.name, ReturnUnit.condition, Bin.code, ReturnUnit.stocked,
               ReturnUnit.note, ReturnUnit.at)
        .outerjoin(Product, Product.id == ReturnUnit.product_id)
        .outerjoin(Bin, Bin.id == ReturnUnit.bin_id)
        .where(ReturnUnit.return_id == return_id)
        .order_by(ReturnUnit.id.desc())
    ).all()  # fmt: skip
    return [
        _Unit(r.id, r.order_line_id, r.product_id, r.sku, r.name, r.condition, r.code, r.stocked,
              r.note, r.at)
        for r in rows
    ]  # fmt: skip


def unit_views(s: Session, return_id: int) -> tuple[UnitView, ...]:
    return tuple(
        UnitView(
            u.id,
            u.sku,
            (u.name or "") if u.order_line_id is not None else (u.note or "not ours"),
            u.condition,
            u.bin,
            u.note,
            u.at,
        )
        for u in _units(s, return_id)
    )


def line_views(s: Session, ret: Return) -> tuple[LineView, ...]:
    shipped = shipped_by_line(s, ret.order_id)
    expected = dict(
        s.execute(
            select(ReturnLine.order_line_id, ReturnLine.quantity).where(
                ReturnLine.return_id == ret.id
            )
        ).all()
    )
    here: dict[int, Counter[str]] = defaultdict(Counter)
    for u in _units(s, ret.id):
        if u.order_line_id is not None:
            here[u.order_line_id][u.condition or "pending"] += 1
    views = []
    for line in s.scalars(
        select(OrderLine).where(OrderLine.order_id == ret.order_id).order_by(OrderLine.line_no)
    ):
        if not shipped.get(line.id) and line.id not in expected:
            continue
        this = dict(here.get(line.id, Counter()))
        views.append(
            LineView(
                order_line_id=line.id,
                sku=line.sku,
                name=line.name,
                unit_price=line.unit_price,
                ordered=line.quantity,
                shipped=shipped.get(line.id, 0),
                returned_before=line.returned_qty - sum(this.values()),
                this_return=this,
                expected=expected.get(line.id),
            )
        )
    return tuple(views)


def goods_value(s: Session, return_id: int) -> Decimal:
    """The price of the units of ours in a return."""
    prices = s.scalars(
        select(OrderLine.unit_price)
        .join(ReturnUnit, ReturnUnit.order_line_id == OrderLine.id)
        .where(ReturnUnit.return_id == return_id)
    )
    return sum(prices, Decimal(0))


def is_complete(lines: Sequence[LineView], pending_unit: Pending | None) -> bool:
    """Every line the RMA expects is here and judged (a resellable unit put away)."""
    expecting = [ln for ln in lines if ln.expected]
    if not expecting or pending_unit is not None:
        return False
    return all(ln.this_total >= (ln.expected or 0) for ln in expecting)


def view(
    s: Session, return_id: int, closed: Closed | None = None
) -> ReturnView:  # fmt: skip
    ret = s.execute(select(Return).where(Return.id == return_id)).scalar_one()
    order = s.execute(
        select(Order.number, Order.customer_name).where(Order.id == ret.order_id)
    ).one()
    lines = line_views(s, ret)
    p = pending(s, ret.id) if ret.status == "open" else None
    pending_view = None
    if p is not None:
        needs = "condition" if p.condition is None else "bin"
        suggestion = (
            suggested_bin(s, p.product_id) if needs == "bin" and p.product_id is not None else None
        )
        pending_view = PendingUnit(p.unit_id, p.sku, p.name, needs, suggestion)
    complete = is_complete(lines, p)
    return ReturnView(
        number=ret.number,
        order_number=order.number,
        customer_name=order.customer_name,
        status=ret.status,
        reason=ret.reason,
        exchange=ret.exchange,
        lines=lines,
        units=unit_views(s, ret.id),
        pending=pending_view,
        refund_so_far=goods_value(s, ret.id),
        currency=ret.currency,
        complete=complete,
        next_step=_next_step(ret.status, pending_view, complete, closed),
        held_by_terminal=ret.held_by_terminal,
        closed=closed,
    )


def _next_step(
    status: str, p: PendingUnit | None, complete: bool, closed: Closed | None
) -> str:  # fmt: skip
    if status == "closed":
        if closed is not None:
            money = f"{closed.refund:.2f} {closed.currency}"
            return f"{closed.number} closed, refund {money}. Scan the next parcel."
        return "Closed. Scan the next parcel."
    if status != "open":
        return "Scan the parcel, the order or the RMA to receive it."
    if p is not None and p.needs == "condition":
        return (
            f"Scan the condition of {p.sku}: CMD-RESELL, CMD-DAMAGED, CMD-DEFECT, "
            "CMD-INCOMPLETE or CMD-SCRAP."
        )
    if p is not None:
        where = f" (suggested: {p.suggested_bin})" if p.suggested_bin else ""
        return f"Put {p.sku} on a shelf: scan the bin{where}."
    if complete:
        return "Everything the RMA expects is here: close the return."
    return "Scan the next item, or close the return."


# --- closing -------------------------------------------------------------------------------


def close(
    s: Session,
    actor: Actor,
    ret: Return,
    *,
    exchange: Sequence[tuple[str, int]] | None,
    settings: Settings,
    now: datetime,
) -> Closed:
    """Write a return's outcome (see :func:`desk.close`), inside the caller's transaction."""
    refuse_if_pending(s, ret.number, ret.id)
    units = _units(s, ret.id)
    ours = [u for u in units if u.order_line_id is not None]
    not_ours = len(units) - len(ours)
    if not units:
        raise ReturnRefused(f"{ret.number}: nothing was received yet; scan an item or park it.")
    # Locked: a courier's "delivered" landing meanwhile waits instead of failing the close (and,
    # on an auto-close, the scan that completed the RMA).
    order = s.execute(select(Order).where(Order.id == ret.order_id).with_for_update()).scalar_one()
    if exchange and not (ret.exchange or (ret.reason in settings.returns.exchange_reasons)):
        why = f"its reason ({ret.reason})" if ret.reason else "it has no reason that allows one"
        raise ReturnRefused(
            f"{ret.number} cannot be an exchange: {why}; the reasons that allow one are "
            f"{', '.join(settings.returns.exchange_reasons)}."
        )
    shipped = shipped_by_line(s, order.id)
    lines = s.execute(
        select(OrderLine.id, OrderLine.unit_price, OrderLine.quantity, OrderLine.returned_qty)
        .where(OrderLine.order_id == order.id)
    ).all()  # fmt: skip
    full_return = bool(shipped) and all(ln.returned_qty >= shipped.get(ln.id, 0) for ln in lines)
    price = {ln.id: ln.unit_price for ln in lines}
    by_line = Counter(u.order_line_id for u in ours)
    goods = [RefundLine(price[line_id], n) for line_id, n in by_line.items() if line_id]
    exchange_number: str | None = None
    exchange_due: Decimal | None = None
    if exchange:
        made = create_exchange(s, actor, ret.id, list(exchange), settings=settings, at=now)
        replacement = sum(
            (price * qty for price, qty in s.execute(
                select(OrderLine.unit_price, OrderLine.quantity).where(
                    OrderLine.order_id == made.order_id)
            )),
            Decimal(0),
        )  # fmt: skip
        returned_value = sum((g.unit_price * g.units for g in goods), Decimal(0))
        amount = max(Decimal(0), returned_value - replacement)
        shipping_back = Decimal(0)
        exchange_number, exchange_due = made.number, made.due
        s.execute(update(Return).where(Return.id == ret.id).values(exchange_order_id=made.order_id))
        s.execute(
            update(Order).where(Order.id == made.order_id).values(exchange_for_return_id=ret.id)
        )
    else:
        paid = shipping_paid(order.total_amount, [(ln.unit_price, ln.quantity) for ln in lines])
        before = sum(
            (
                paid_back or Decimal(0)
                for paid_back in s.scalars(
                    select(Return.refund_shipping).where(
                        Return.order_id == order.id, Return.status == "closed"
                    )
                )
            ),
            Decimal(0),
        )
        left = max(Decimal(0), paid - before)
        amount, shipping_back = refund(
            goods, shipping=left, policy=settings.returns.refund_shipping, full_return=full_return
        )
    # Never more back than the customer paid: the lines' list prices may be before a discount,
    # and earlier returns of the order were already paid back.
    refunded_before = sum(
        (
            paid_back or Decimal(0)
            for paid_back in s.scalars(
                select(Return.refund_amount).where(
                    Return.order_id == order.id, Return.status == "closed"
                )
            )
        ),
        Decimal(0),
    )
    ceiling = max(Decimal(0), order.total_amount - refunded_before)
    if amount > ceiling:
        amount = ceiling
        shipping_back = min(shipping_back, amount)
    done = s.execute(
        update(Return)
        .where(Return.id == ret.id, Return.status == "open")
        .values(
            status="closed", closed_by=actor.operator_id, closed_at=now, held_by_terminal=None,
            held_by=None, refund_amount=amount, refund_shipping=shipping_back,
            version=Return.version + 1,
        )
    )  # fmt: skip
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"{ret.number} was changed on another terminal; look again")
    status = order.status.value
    if full_return and status in SHIPPED_STATUSES:
        move_order(
            s, order_id=order.id, number=order.number, from_=order.status, version=order.version,
            to=OrderStatus.RETURNED, actor=actor, at=now,
            reason=f"{ret.number}: everything shipped came back",
        )  # fmt: skip
        status = OrderStatus.RETURNED.value
    outbox.enqueue(
        s, order.id, "return_received", at=now, settings=settings, subject=ret.number,
        detail=_message_detail(ret.number, units, amount, shipping_back, order.currency,
                               exchange_number),
    )  # fmt: skip
    return Closed(
        number=ret.number,
        order_number=order.number,
        order_status=status,
        refund=amount,
        refund_shipping=shipping_back,
        currency=order.currency,
        units=len(ours),
        foreign_units=not_ours,
        full_return=full_return,
        exchange_order=exchange_number,
        exchange_due=exchange_due,
    )


def _money(value: Decimal, currency: str) -> str:
    """Exact, in the currency's minor units (12.345 KWD, 1500 JPY), as intake rounds."""
    return amount_text(value, currency)


def _message_detail(
    number: str, units: Sequence[_Unit], amount: Decimal, shipping: Decimal, currency: str,
    exchange_order: str | None,
) -> dict[str, Any]:  # fmt: skip
    """What the ``return_received`` mail and the shop's refund request tell."""
    told: Counter[tuple[str, str, str]] = Counter()
    lines: Counter[tuple[int, str, bool]] = Counter()
    for u in reversed(units):  # in the order they came
        condition = u.condition or ""
        if u.order_line_id is None:
            told[("", u.note or "not ours", condition)] += 1
            continue
        told[(u.sku or "", u.name or "", condition)] += 1
        lines[(u.order_line_id, u.sku or "", condition == Condition.RESELL.value)] += 1
    return {
        "return": number,
        "units": [
            {"sku": sku, "name": name, "quantity": n, "condition": condition}
            for (sku, name, condition), n in told.items()
        ],
        "refund": _money(amount, currency),
        "currency": currency,
        "shipping_refunded": _money(shipping, currency),
        "exchange_order": exchange_order,
        "lines": [
            {"order_line_id": line_id, "sku": sku, "quantity": n, "restock": restock}
            for (line_id, sku, restock), n in lines.items()
        ],
    }


def resell_skus(s: Session, return_id: int) -> list[str]:
    """The SKUs of the units of a return put back on shelves (for the retry of held orders)."""
    return sorted(
        set(
            s.scalars(
                select(Product.sku)
                .join(ReturnUnit, ReturnUnit.product_id == Product.id)
                .where(
                    ReturnUnit.return_id == return_id,
                    ReturnUnit.condition == Condition.RESELL.value,
                    ReturnUnit.stocked.is_(True),
                )
            )
        )
    )
