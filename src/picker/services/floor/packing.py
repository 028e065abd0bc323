"""The packing table: open a picked order, verify every unit by scan, box, weigh, confirm the
address, close parcels (tracking number, label, print job in one transaction), void and repack.

Every packing transaction locks the order's row first, so one order is changed by one terminal
at a time on PostgreSQL (SQLite's writers take turns anyway). An order being packed belongs to
its packer (``orders.packer_id``), not to a terminal: after a crash the packer logs in at any
packing table and finds the same order with the same verified counts, which are simply the
items of its parcels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import case, delete, func, insert, select, update
from sqlalchemy.orm import Session

from picker.config import Settings
from picker.domain.packing import (
    CheckLine,
    ParcelState,
    expected_weight,
    missing_for_close,
    weight_problem,
)
from picker.domain.roles import Role
from picker.domain.statuses import OrderStatus, ParcelStatus, check_parcel_transition
from picker.printing.labels import cod_text
from picker.services import scans
from picker.services.actors import Actor, Clock, require_lead, system_clock
from picker.services.errors import Conflict, NotFound, ServiceError
from picker.services.orders.status import move_order, record_event
from picker.services.printjobs import labels, print_queue
from picker.services.printjobs import tracking_numbers as tracking
from picker.services.scans import ScanOutcome
from picker.store.engine import LANES, Database, announce
from picker.store.models import (
    Courier,
    CourierService,
    Operator,
    OperatorRole,
    Order,
    OrderLine,
    PackagingType,
    Parcel,
    ParcelItem,
    PrintJob,
    Product,
    ProductBarcode,
    Tote,
)

STATION = "packing"
PROBLEM_SHELF = "problem_shelf"


class PackRefused(ServiceError):
    """A packing action refused: nothing changed, the message says what to do."""


# --- what the packer sees --------------------------------------------------------------------


@dataclass(frozen=True)
class ParcelView:
    id: int
    seq: int
    status: str
    tracking_no: str | None
    packaging: str | None
    """The box's code (BOX-M)."""
    tare_g: int
    weight_g: int | None
    units: int


@dataclass(frozen=True)
class PackView:
    """An order at the packing table: header, checklist and parcels."""

    order_id: int
    number: str
    status: str
    packer_id: int | None
    ship_to: tuple[str, ...]
    """Name, street lines, postal code and city, country: as the label prints them."""
    country: str
    phone: str | None
    note: str | None
    gift_message: str | None
    cod_amount: Decimal | None
    currency: str
    courier: str
    courier_name: str
    service: str
    lane: str
    tote: str | None
    address_confirmed: bool
    lines: tuple[CheckLine, ...]
    parcels: tuple[ParcelView, ...]

    @property
    def cod(self) -> str | None:
        """The cash to collect as the courier's label says it (``1.234 ₫``); None if prepaid."""
        if self.cod_amount is None:
            return None
        return cod_text(self.cod_amount, self.currency, self.country)

    @property
    def open_parcel(self) -> ParcelView | None:
        return next((p for p in self.parcels if p.status == ParcelStatus.OPEN.value), None)

    @property
    def live_parcels(self) -> tuple[ParcelView, ...]:
        return tuple(p for p in self.parcels if p.status != ParcelStatus.VOIDED.value)

    @property
    def units(self) -> int:
        return sum(ln.quantity for ln in self.lines)

    @property
    def verified(self) -> int:
        return sum(ln.verified for ln in self.lines)

    @property
    def units_left(self) -> int:
        return self.units - self.verified

    @property
    def fragile(self) -> tuple[str, ...]:
        return tuple(ln.sku for ln in self.lines if ln.fragile)

    def open_state(self) -> ParcelState:
        parcel = self.open_parcel
        if parcel is None:
            return ParcelState(0, None, None)
        return ParcelState(parcel.units, parcel.packaging, parcel.weight_g)

    def missing_for_close(self) -> list[str]:
        return missing_for_close(self.open_state(), self.address_confirmed)

    @property
    def ready_to_finish(self) -> bool:
        """Every unit verified and the open parcel complete: the last close may happen."""
        return self.units_left == 0 and not self.missing_for_close()


def view(db: Database, order_id: int) -> PackView:
    with db.read() as s:
        return _view(s, order_id)


def _view(s: Session, order_id: int) -> PackView:
    o = s.execute(
        select(
            Order.id, Order.number, Order.status, Order.packer_id, Order.ship_name,
            Order.ship_street, Order.ship_street2, Order.ship_postal_code, Order.ship_city,
            Order.ship_region, Order.ship_country, Order.ship_phone, Order.note,
            Order.gift_message, Order.cod_amount, Order.currency, Order.address_confirmed_at,
            Courier.code.label("courier"), Courier.name.label("courier_name"), Courier.lane,
            CourierService.name.label("service"), Tote.code.label("tote"),
        )
        .outerjoin(Courier, Courier.id == Order.courier_id)
        .outerjoin(CourierService, CourierService.id == Order.service_id)
        .outerjoin(Tote, Tote.order_id == Order.id)
        .where(Order.id == order_id)
    ).one_or_none()  # fmt: skip
    if o is None:
        raise NotFound(f"order {order_id} does not exist")
    counts = _verified(s, order_id)
    rows = s.execute(
        select(
            OrderLine.id, OrderLine.line_no, OrderLine.product_id, Product.sku, Product.name,
            OrderLine.quantity, Product.weight_g, Product.fragile,
        )
        .join(Product, Product.id == OrderLine.product_id)
        .where(OrderLine.order_id == order_id)
        .order_by(OrderLine.line_no)
    ).all()  # fmt: skip
    codes: dict[int, set[str]] = {r.product_id: set() for r in rows}
    for product_id, barcode in s.execute(
        select(ProductBarcode.product_id, ProductBarcode.barcode).where(
            ProductBarcode.product_id.in_(codes)
        )
    ):
        codes[product_id].add(barcode)
    lines = tuple(
        CheckLine(
            r.id, r.line_no, r.product_id, r.sku, r.name, frozenset(codes[r.product_id]),
            r.quantity, counts.get(r.id, (0, 0))[0], counts.get(r.id, (0, 0))[1], r.weight_g,
            bool(r.fragile),
        )
        for r in rows
    )  # fmt: skip
    units = func.coalesce(
        select(func.sum(ParcelItem.quantity))
        .where(ParcelItem.parcel_id == Parcel.id)
        .scalar_subquery(),
        0,
    )
    parcels = tuple(
        ParcelView(p.id, p.seq, p.status, p.tracking_no, p.code, p.tare_g or 0, p.weight_g,
                   int(p.units))
        for p in s.execute(
            select(Parcel.id, Parcel.seq, Parcel.status, Parcel.tracking_no, PackagingType.code,
                   PackagingType.tare_g, Parcel.weight_g, units.label("units"))
            .outerjoin(PackagingType, PackagingType.id == Parcel.packaging_type_id)
            .where(Parcel.order_id == order_id)
            .order_by(Parcel.seq)
        )
    )  # fmt: skip
    place = " ".join(x for x in (o.ship_postal_code, o.ship_city) if x)
    ship_to = tuple(
        x for x in (o.ship_name, o.ship_street, o.ship_street2, place, o.ship_region,
                    o.ship_country) if x
    )  # fmt: skip
    return PackView(
        o.id, o.number, o.status, o.packer_id, ship_to, o.ship_country, o.ship_phone, o.note,
        o.gift_message,
        o.cod_amount, o.currency, o.courier or "", o.courier_name or "", o.service or "",
        o.lane or "", o.tote, o.address_confirmed_at is not None, lines, parcels,
    )  # fmt: skip


def _verified(s: Session, order_id: int) -> dict[int, tuple[int, int]]:
    """Line id → (units verified into live parcels, of those in the open parcel)."""
    in_open = case((Parcel.status == ParcelStatus.OPEN.value, ParcelItem.quantity), else_=0)
    return {
        line_id: (int(total), int(open_ or 0))
        for line_id, total, open_ in s.execute(
            select(ParcelItem.order_line_id, func.sum(ParcelItem.quantity), func.sum(in_open))
            .join(Parcel, Parcel.id == ParcelItem.parcel_id)
            .where(Parcel.order_id == order_id, Parcel.status != ParcelStatus.VOIDED.value)
            .group_by(ParcelItem.order_line_id)
        )
    }


def mine(db: Database, operator_id: int) -> int | None:
    """The order this packer has open (to resume after a logout or a crash), if any."""
    with db.read() as s:
        return s.scalar(
            select(Order.id)
            .where(Order.packer_id == operator_id, Order.status == OrderStatus.PACKING.value)
            .order_by(Order.id)
            .limit(1)
        )


# --- opening an order ------------------------------------------------------------------------


@dataclass(frozen=True)
class Opened:
    order_id: int
    number: str
    resumed: bool
    """It was being packed already (by this packer, or released by a lead)."""
    slip_job: int | None
    """The packing slip's print job, when config asks for one."""


def open_order(
    db: Database,
    actor: Actor,
    settings: Settings,
    reference: str,
    *,
    by: Literal["tote", "order", "parcel"],
    scan: ScanOutcome | None = None,
    clock: Clock = system_clock,
) -> Opened:
    """Open an order at this packing table: the one in tote ``reference``, with that order
    number, or with a parcel of that tracking number (a voided parcel's label brings its order
    back to the table).

    Only a ``picked`` order opens (it becomes ``packing``, this packer's), or one this packer
    was packing already; an order another packer holds is refused by name, as is a second order
    while this packer has one open. Two packers racing for one order: exactly one gets it.
    """
    operator_id = _operator_id(actor)
    now = clock()

    def work(s: Session) -> Opened:
        # The packer's row first, then the order's (the order every station takes them in):
        # one packer opening two orders on two tables at once takes turns.
        s.execute(select(Operator.id).where(Operator.id == operator_id).with_for_update())
        order_id = _find(s, reference, by)
        order = _lock_order(s, order_id)
        other = s.scalar(
            select(Order.number).where(
                Order.packer_id == operator_id,
                Order.status == OrderStatus.PACKING.value,
                Order.id != order_id,
            )
        )
        if other is not None:
            raise PackRefused(
                f"You have {other} open. Finish it (or send it to the lead) before {order.number}."
            )
        slip = None
        if order.status == OrderStatus.PICKED.value:
            move_order(
                s, order_id=order_id, number=order.number, from_=OrderStatus.PICKED,
                version=order.version, to=OrderStatus.PACKING, actor=actor,
                reason=f"packing at {actor.terminal_id}", at=now, packer_id=operator_id,
                held_by_terminal=actor.terminal_id,
            )  # fmt: skip
            resumed = False
            if settings.packing.packing_slip:
                slip = _queue_packing_slip(s, settings, actor, order_id, now)
        elif order.status == OrderStatus.PACKING.value and order.packer_id in (None, operator_id):
            s.execute(
                update(Order)
                .where(Order.id == order_id)
                .values(packer_id=operator_id, held_by_terminal=actor.terminal_id, updated_at=now)
            )
            if order.packer_id is None:
                record_event(
                    s, order_id=order_id, status=OrderStatus.PACKING, actor=actor,
                    reason=f"packing taken up at {actor.terminal_id}", at=now,
                )  # fmt: skip
            resumed = True
        else:
            raise PackRefused(_not_packable(s, order))
        if scan is not None:
            scans.journal(s, actor, STATION, "pack", scan.for_order(order_id), at=now)
        return Opened(order_id, order.number, resumed, slip)

    return db.run(work)


def _find(s: Session, reference: str, by: str) -> int:
    if by == "tote":
        order_id = s.scalar(select(Tote.order_id).where(Tote.code == reference))
        if order_id is None:
            raise NotFound(f"Tote {reference} holds no order. Scan the order number instead.")
        return int(order_id)
    if by == "parcel":
        order_id = s.scalar(select(Parcel.order_id).where(Parcel.tracking_no == reference))
        if order_id is None:
            raise NotFound(f"{reference} is no tote, order or parcel we know.")
        return int(order_id)
    found = s.scalar(select(Order.id).where(Order.number == reference))
    if found is None:
        raise NotFound(f"There is no order {reference}.")
    return int(found)


def _lock_order(s: Session, order_id: int) -> Any:
    return s.execute(
        select(
            Order.id, Order.number, Order.status, Order.version, Order.packer_id,
            Order.held_by_terminal, Order.courier_id, Order.hold_reasons,
            Order.address_confirmed_at,
        )
        .where(Order.id == order_id)
        .with_for_update()
    ).one()  # fmt: skip


def _not_packable(s: Session, order: Any) -> str:
    status = OrderStatus(order.status)
    if status is OrderStatus.PACKING:
        who = s.scalar(select(Operator.name).where(Operator.id == order.packer_id))
        return f"{order.number} is being packed by {who}. Take another tote."
    if status is OrderStatus.ON_HOLD:
        why = "; ".join(order.hold_reasons or ()) or "by the lead"
        return f"{order.number} is on hold ({why}). Take the tote to the problem shelf."
    if status in (OrderStatus.ASSIGNED, OrderStatus.PICKING):
        return f"{order.number} is not picked yet (it is {status.value}). It cannot be packed."
    if status is OrderStatus.PACKED:
        return f"{order.number} is packed already. Its parcels go to the handoff lane."
    return f"{order.number} is {status.value}: there is nothing to pack."


# --- verifying items -------------------------------------------------------------------------


@dataclass(frozen=True)
class Verified:
    sku: str
    count: int
    verified: int
    """Units of the line verified now."""
    quantity: int
    units_left: int
    """Units of the whole order still to verify."""
    parcel_seq: int


def verify(
    db: Database,
    actor: Actor,
    order_id: int,
    line_id: int,
    count: int,
    *,
    scans_: Sequence[ScanOutcome] = (),
    screen: str = "pack",
    clock: Clock = system_clock,
) -> Verified:
    """``count`` units of an order line are in the open parcel (opened if there is none).
    Refused, nothing changed, beyond the line's quantity or when the order is not the packer's."""
    now = clock()
    if count < 1:
        raise PackRefused("Verify 1 unit or more.")

    def work(s: Session) -> Verified:
        order = _my_order(s, order_id, actor)
        line = s.execute(
            select(OrderLine.quantity, OrderLine.sku).where(
                OrderLine.id == line_id, OrderLine.order_id == order_id
            )
        ).one_or_none()
        if line is None:
            raise NotFound(f"line {line_id} is not in {order.number}")
        counts = _verified(s, order_id)
        done = counts.get(line_id, (0, 0))[0]
        if done + count > line.quantity:
            raise PackRefused(
                f"Only {line.quantity - done} of {line.sku} left to verify; {count} is too many."
            )
        parcel_id, seq = _open_parcel(s, order_id, order.courier_id, actor, now)
        added = s.execute(
            update(ParcelItem)
            .where(ParcelItem.parcel_id == parcel_id, ParcelItem.order_line_id == line_id)
            .values(quantity=ParcelItem.quantity + count)
        )
        if added.rowcount == 0:  # type: ignore[attr-defined]
            s.execute(
                insert(ParcelItem).values(
                    parcel_id=parcel_id, order_line_id=line_id, quantity=count
                )
            )
        _weigh_again(s, parcel_id)
        for outcome in scans_:
            scans.journal(s, actor, STATION, screen, outcome.for_order(order_id), at=now)
        total = s.scalar(select(func.sum(OrderLine.quantity)).where(OrderLine.order_id == order_id))
        verified = sum(v for v, _ in counts.values()) + count
        return Verified(
            line.sku, count, done + count, line.quantity, int(total or 0) - verified, seq
        )

    return db.run(work)


def unverify(
    db: Database,
    actor: Actor,
    order_id: int,
    line_id: int,
    count: int,
    *,
    scan: ScanOutcome | None = None,
    clock: Clock = system_clock,
) -> int:
    """Take ``count`` units of a line out of the open parcel again (the packer's undo); returns
    the units of the line still in it. Refused when the open parcel holds fewer."""
    now = clock()

    def work(s: Session) -> int:
        _my_order(s, order_id, actor)
        parcel = s.scalar(
            select(Parcel.id).where(
                Parcel.order_id == order_id, Parcel.status == ParcelStatus.OPEN.value
            )
        )
        item = s.execute(
            select(ParcelItem.id, ParcelItem.quantity).where(
                ParcelItem.parcel_id == parcel, ParcelItem.order_line_id == line_id
            )
        ).one_or_none()
        if parcel is None or item is None or item.quantity < count:
            raise PackRefused("Nothing to undo: the open parcel does not hold that item.")
        left = item.quantity - count
        if left:
            s.execute(update(ParcelItem).where(ParcelItem.id == item.id).values(quantity=left))
        else:
            s.execute(delete(ParcelItem).where(ParcelItem.id == item.id))
        _weigh_again(s, parcel)
        if scan is not None:
            scans.journal(s, actor, STATION, "pack", scan.for_order(order_id), at=now)
        return int(left)

    return db.run(work)


def _weigh_again(s: Session, parcel_id: int) -> None:
    """The parcel's contents changed: a weight keyed before no longer holds."""
    s.execute(
        update(Parcel)
        .where(Parcel.id == parcel_id, Parcel.weight_g.is_not(None))
        .values(weight_g=None)
    )


def _open_parcel(
    s: Session, order_id: int, courier_id: int | None, actor: Actor, now: datetime
) -> tuple[int, int]:
    """(id, seq) of the order's open parcel, opened now when there is none."""
    found = s.execute(
        select(Parcel.id, Parcel.seq).where(
            Parcel.order_id == order_id, Parcel.status == ParcelStatus.OPEN.value
        )
    ).one_or_none()
    if found is not None:
        return found.id, found.seq
    if courier_id is None:
        raise PackRefused("This order has no courier; it cannot be packed. Send it to the lead.")
    seq = (s.scalar(select(func.max(Parcel.seq)).where(Parcel.order_id == order_id)) or 0) + 1
    parcel_id = s.execute(
        insert(Parcel)
        .values(order_id=order_id, seq=seq, courier_id=courier_id,
                status=ParcelStatus.OPEN.value, opened_by=actor.operator_id)
        .returning(Parcel.id)
    ).scalar_one()  # fmt: skip
    return int(parcel_id), seq


# --- box, weight, address --------------------------------------------------------------------


@dataclass(frozen=True)
class Packaging:
    code: str
    barcode: str
    name: str
    tare_g: int


def packagings(db: Database) -> list[Packaging]:
    """The boxes and envelopes to choose from, lightest first."""
    with db.read() as s:
        rows = s.execute(
            select(
                PackagingType.code, PackagingType.barcode, PackagingType.name, PackagingType.tare_g
            ).order_by(PackagingType.tare_g, PackagingType.code)
        ).all()
    return [Packaging(*r) for r in rows]


def set_packaging(
    db: Database,
    actor: Actor,
    order_id: int,
    code: str,
    *,
    scan: ScanOutcome | None = None,
    clock: Clock = system_clock,
) -> tuple[Packaging, int]:
    """The open parcel (opened if none) goes in this box (its barcode or code); returns the box
    and the parcel's number. A weight keyed before is cleared: the box changes it."""
    now = clock()

    def work(s: Session) -> tuple[Packaging, int]:
        order = _my_order(s, order_id, actor)
        row = s.execute(
            select(PackagingType.id, PackagingType.code, PackagingType.barcode,
                   PackagingType.name, PackagingType.tare_g)
            .where((PackagingType.barcode == code) | (PackagingType.code == code))
        ).first()  # fmt: skip
        if row is None:
            known = ", ".join(s.scalars(select(PackagingType.code).order_by(PackagingType.code)))
            raise NotFound(f"{code} is not a box we know. Boxes: {known or 'none registered'}.")
        parcel_id, seq = _open_parcel(s, order_id, order.courier_id, actor, now)
        s.execute(
            update(Parcel)
            .where(Parcel.id == parcel_id)
            .values(packaging_type_id=row.id, weight_g=None)
        )
        if scan is not None:
            scans.journal(s, actor, STATION, "pack", scan.for_order(order_id), at=now)
        return Packaging(row.code, row.barcode, row.name, row.tare_g), seq

    return db.run(work)


@dataclass(frozen=True)
class Weighed:
    grams: int
    expected_g: int
    parcel_seq: int


def set_weight(
    db: Database,
    actor: Actor,
    settings: Settings,
    order_id: int,
    grams: int,
    *,
    clock: Clock = system_clock,
) -> Weighed:
    """The open parcel weighs ``grams``. Refused (nothing changed) without items or box, or when
    lighter than its contents and box by more than the tolerance ("check contents")."""

    def work(s: Session) -> Weighed:
        _my_order(s, order_id, actor)
        parcel = s.execute(
            select(Parcel.id, Parcel.seq, PackagingType.tare_g)
            .outerjoin(PackagingType, PackagingType.id == Parcel.packaging_type_id)
            .where(Parcel.order_id == order_id, Parcel.status == ParcelStatus.OPEN.value)
        ).one_or_none()
        if parcel is None:
            raise PackRefused("Nothing to weigh yet: scan the items, then the box.")
        if parcel.tare_g is None:
            raise PackRefused("Scan the box first: its weight counts.")
        expected = _expected(s, parcel.id, parcel.tare_g)
        packing = settings.packing
        problem = weight_problem(
            grams, expected, packing.weight_tolerance_pct, packing.weight_tolerance_g
        )
        if problem:
            raise PackRefused(problem)
        s.execute(update(Parcel).where(Parcel.id == parcel.id).values(weight_g=grams))
        return Weighed(grams, expected, parcel.seq)

    return db.run(work)


def _expected(s: Session, parcel_id: int, tare_g: int) -> int:
    contents = s.execute(
        select(Product.weight_g, ParcelItem.quantity)
        .join(OrderLine, OrderLine.id == ParcelItem.order_line_id)
        .join(Product, Product.id == OrderLine.product_id)
        .where(ParcelItem.parcel_id == parcel_id)
    ).all()
    return expected_weight(((w, n) for w, n in contents), tare_g)


def confirm_address(
    db: Database,
    actor: Actor,
    order_id: int,
    *,
    scan: ScanOutcome | None = None,
    clock: Clock = system_clock,
) -> str:
    """The packer read the ship address on screen and it is fit to ship to; returns the order's
    number."""
    now = clock()

    def work(s: Session) -> str:
        order = _my_order(s, order_id, actor)
        s.execute(
            update(Order)
            .where(Order.id == order_id)
            .values(address_confirmed_at=now, address_confirmed_by=actor.operator_id)
        )
        if scan is not None:
            scans.journal(s, actor, STATION, "pack", scan.for_order(order_id), at=now)
        return str(order.number)

    return db.run(work)


# --- closing parcels -------------------------------------------------------------------------


@dataclass(frozen=True)
class Closed:
    parcel_seq: int
    tracking_no: str
    label_job: int
    order_packed: bool
    """That was the last parcel: the order is ``packed``."""
    lane: str
    courier: str
    next_parcel: int | None
    """The parcel opened after this one (CMD-NEWPARCEL), else None."""
    warnings: tuple[str, ...]
    """The label's own (a name cut short, a letter the font lacks) and the tracking range's."""


def close_parcel(
    db: Database,
    actor: Actor,
    settings: Settings,
    order_id: int,
    *,
    more_to_come: bool,
    scans_: Sequence[ScanOutcome] = (),
    screen: str = "pack",
    clock: Clock = system_clock,
) -> Closed:
    """Close the open parcel: tracking number, label rendered and queued for this station's
    printer, all in one transaction with the close (a label that cannot be rendered closes
    nothing). ``more_to_come`` (CMD-NEWPARCEL) opens the next parcel at once and needs units
    still to verify; otherwise (CMD-CLOSE) every unit must be verified and the order becomes
    ``packed`` (its tote free again)."""
    now = clock()

    def work(s: Session) -> Closed:
        order = _my_order(s, order_id, actor)
        parcel = s.execute(
            select(Parcel.id, Parcel.seq, Parcel.weight_g, PackagingType.code,
                   PackagingType.tare_g)
            .outerjoin(PackagingType, PackagingType.id == Parcel.packaging_type_id)
            .where(Parcel.order_id == order_id, Parcel.status == ParcelStatus.OPEN.value)
        ).one_or_none()  # fmt: skip
        counts = _verified(s, order_id)
        in_open = sum(o for _, o in counts.values())
        state = ParcelState(in_open, parcel.code if parcel else None,
                            parcel.weight_g if parcel else None)  # fmt: skip
        total = s.scalar(select(func.sum(OrderLine.quantity)).where(OrderLine.order_id == order_id))
        left = int(total or 0) - sum(v for v, _ in counts.values())
        if more_to_come and left == 0:
            raise PackRefused("Every unit is verified: CMD-CLOSE closes this last parcel.")
        if not more_to_come and left > 0:
            raise PackRefused(
                f"{left} unit{'s' if left != 1 else ''} still to verify. Scan them, or "
                "CMD-NEWPARCEL to close this parcel and start another."
            )
        missing = missing_for_close(state, order.address_confirmed_at is not None)
        if parcel is None or missing:
            raise PackRefused("Before this parcel can close: " + ", ".join(missing) + ".")
        packing = settings.packing
        problem = weight_problem(
            parcel.weight_g, _expected(s, parcel.id, parcel.tare_g),
            packing.weight_tolerance_pct, packing.weight_tolerance_g,
        )  # fmt: skip
        if problem:
            raise PackRefused(problem)
        check_parcel_transition(ParcelStatus.OPEN, ParcelStatus.CLOSED)
        number = tracking.allocate(s, order.courier_id)
        s.execute(
            update(Parcel)
            .where(Parcel.id == parcel.id, Parcel.status == ParcelStatus.OPEN.value)
            .values(status=ParcelStatus.CLOSED.value, tracking_no=number.number,
                    closed_by=actor.operator_id, closed_at=now,
                    label_no=_label_no(s, order_id, parcel.id))
        )  # fmt: skip
        next_seq = None
        if more_to_come:  # opened now, so this label counts it: parcel 1 of 2
            _, next_seq = _open_parcel(s, order_id, order.courier_id, actor, now)
        label = labels.parcel_label(s, settings, parcel.id)
        job = print_queue.enqueue(
            s, kind="label", printer=settings.printer.name, content=label.content,
            content_type=label.content_type, terminal_id=actor.terminal_id,
            parcel_id=parcel.id, order_id=order_id, title=number.number, at=now,
        )  # fmt: skip
        courier = s.execute(
            select(Courier.lane, Courier.name).where(Courier.id == order.courier_id)
        ).one()
        if not more_to_come:
            move_order(
                s, order_id=order_id, number=order.number, from_=OrderStatus.PACKING,
                version=order.version, to=OrderStatus.PACKED, actor=actor,
                reason=f"packed, parcels to lane {courier.lane}", at=now, held_by_terminal=None,
            )  # fmt: skip
            s.execute(
                update(Tote)
                .where(Tote.order_id == order_id)
                .values(order_id=None, bound_at=None, location=None)
            )
        for outcome in scans_:
            scans.journal(s, actor, STATION, screen, outcome.for_order(order_id), at=now)
        announce(s, LANES)  # a new parcel in its courier's lane
        warnings = (*label.warnings, *((number.warning,) if number.warning else ()))
        return Closed(
            parcel.seq, number.number, job, not more_to_come, courier.lane, courier.name,
            next_seq, warnings,
        )  # fmt: skip

    return db.run(work)


def _label_no(s: Session, order_id: int, parcel_id: int) -> int:
    """The lowest parcel number no other live closed parcel of the order carries on its label
    (one closed before label numbers were kept counts by its place among them)."""
    others = s.execute(
        select(Parcel.label_no)
        .where(
            Parcel.order_id == order_id,
            Parcel.id != parcel_id,
            Parcel.status.in_((ParcelStatus.CLOSED.value, ParcelStatus.HANDED_OVER.value)),
        )
        .order_by(Parcel.seq)
    ).scalars()
    used = {n or place for place, n in enumerate(others, start=1)}
    return next(n for n in range(1, len(used) + 2) if n not in used)


# --- sending to the lead, voiding ------------------------------------------------------------


@dataclass(frozen=True)
class SentToLead:
    number: str
    voided: tuple[str, ...]
    """Tracking numbers of parcels closed before: void now, their labels to be taken off."""


def send_to_lead(
    db: Database,
    actor: Actor,
    order_id: int,
    reason: str,
    *,
    scan: ScanOutcome | None = None,
    clock: Clock = system_clock,
) -> SentToLead:
    """The packer puts the order on hold for the lead (``packing: REASON``); its tote goes to
    the problem shelf. Parcels already closed are voided (their labels must not leave with a
    courier while the order is on hold) and the address is to be confirmed again."""
    why = " ".join((reason or "").split())
    if not why:
        raise PackRefused("Say why the order goes to the lead.")
    now = clock()

    def work(s: Session) -> SentToLead:
        order = _my_order(s, order_id, actor)
        held = f"packing: {why}"
        closed = s.execute(
            select(Parcel.id, Parcel.tracking_no).where(
                Parcel.order_id == order_id, Parcel.status == ParcelStatus.CLOSED.value
            )
        ).all()
        for parcel in closed:
            _void(s, parcel.id, parcel.tracking_no, f"order sent to the lead: {why}", actor)
        move_order(
            s, order_id=order_id, number=order.number, from_=OrderStatus.PACKING,
            version=order.version, to=OrderStatus.ON_HOLD, actor=actor, reason=held, at=now,
            hold_reasons=[*(order.hold_reasons or []), held], held_by_terminal=None,
            address_confirmed_at=None, address_confirmed_by=None,
        )  # fmt: skip
        s.execute(update(Tote).where(Tote.order_id == order_id).values(location=PROBLEM_SHELF))
        if scan is not None:
            scans.journal(s, actor, STATION, "pack", scan.for_order(order_id), at=now)
        return SentToLead(str(order.number), tuple(p.tracking_no for p in closed))

    return db.run(work)


@dataclass(frozen=True)
class Voided:
    order_number: str
    tracking_no: str
    order_status: str
    """The order's status now: ``packing`` again when it was packed."""
    cancelled_jobs: int
    """Label jobs of the parcel that had not printed yet, now cancelled."""
    printing_jobs: int
    """Label jobs being sent at this moment: the label may still come out (take it off)."""


def void_parcel(
    db: Database,
    actor: Actor,
    reference: str,
    reason: str,
    *,
    clock: Clock = system_clock,
) -> Voided:
    """A lead voids a closed parcel (tracking number or id): its label is void (a label job
    still waiting is cancelled), its items are back on the order's checklist, and a packed order
    goes back to the packing table (the lead's, or any packer's from the command line). Refused,
    nothing changed, for a parcel open, voided or already handed to the courier."""
    require_lead(actor, "void a parcel")
    why = " ".join((reason or "").split())
    if not why:
        raise ServiceError("say why the parcel is voided (e.g. 'box damaged')")
    now = clock()

    def work(s: Session) -> Voided:
        found = print_queue.find_parcel(s, reference)
        order = _lock_order(
            s, s.execute(select(Parcel.order_id).where(Parcel.id == found.id)).scalar_one()
        )
        status = s.scalar(select(Parcel.status).where(Parcel.id == found.id))
        name = found.tracking_no or f"#{found.id}"
        if status == ParcelStatus.HANDED_OVER.value:
            raise ServiceError(f"parcel {name} is with the courier already; it cannot be voided")
        if status != ParcelStatus.CLOSED.value:
            raise ServiceError(f"parcel {name} is {status}: only a closed parcel is voided")
        cancelled, printing = _void(s, found.id, name, why, actor)
        words = f"parcel {name} voided: {why}"
        if order.status == OrderStatus.PACKED.value:
            move_order(
                s, order_id=order.id, number=order.number, from_=OrderStatus.PACKED,
                version=order.version, to=OrderStatus.PACKING, actor=actor,
                reason=f"{words}; to repack", at=now, packer_id=actor.operator_id,
                held_by_terminal=actor.terminal_id if actor.operator else None,
            )  # fmt: skip
            now_status = OrderStatus.PACKING.value
        else:
            record_event(
                s, order_id=order.id, status=OrderStatus(order.status), actor=actor,
                reason=words, at=now,
            )  # fmt: skip
            now_status = order.status
        return Voided(order.number, name, now_status, cancelled, printing)

    return db.run(work)


def _void(s: Session, parcel_id: int, name: str, why: str, actor: Actor) -> tuple[int, int]:
    """A closed parcel becomes voided (refused if it is not closed any more) and its label jobs
    that wait are cancelled; returns (jobs cancelled, jobs being sent right now)."""
    check_parcel_transition(ParcelStatus.CLOSED, ParcelStatus.VOIDED)
    done = s.execute(
        update(Parcel)
        .where(Parcel.id == parcel_id, Parcel.status == ParcelStatus.CLOSED.value)
        .values(status=ParcelStatus.VOIDED.value)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"parcel {name} changed on another terminal; look again")
    who = f" by {actor.operator.name}" if actor.operator else ""
    cancelled = s.execute(
        update(PrintJob)
        .where(PrintJob.parcel_id == parcel_id, PrintJob.status.in_(("queued", "failed")))
        .values(status="cancelled", last_error=f"parcel voided{who}: {why}")
    ).rowcount  # type: ignore[attr-defined]
    printing = s.scalar(
        select(func.count())
        .select_from(PrintJob)
        .where(PrintJob.parcel_id == parcel_id, PrintJob.status == "printing")
    )
    announce(s, LANES)  # it leaves its lane
    return int(cancelled or 0), int(printing or 0)


def hand_over_pack(
    db: Database,
    actor: Actor,
    number: str,
    reason: str,
    *,
    badge: str | None = None,
    clock: Clock = system_clock,
) -> str:
    """A lead takes a stuck pack off its packer: it goes to the packer with ``badge``, or (none
    named) to whichever packer next scans it; its verified counts stay. Journaled with the
    reason. Returns whom it went to, in words."""
    require_lead(actor, "take over a pack")
    why = " ".join((reason or "").split())
    if not why:
        raise ServiceError(f"say why {number} is taken off its packer")
    now = clock()

    def work(s: Session) -> str:
        order_id = s.scalar(select(Order.id).where(Order.number == number.strip()))
        if order_id is None:
            raise NotFound(f"There is no order {number}.")
        order = _lock_order(s, int(order_id))
        if order.status != OrderStatus.PACKING.value:
            raise ServiceError(f"{order.number} is {order.status}, not being packed")
        to, words = None, "any packer (scan its order number at a packing table)"
        if badge:
            found = s.execute(
                select(Operator.id, Operator.name)
                .join(OperatorRole, OperatorRole.operator_id == Operator.id)
                .where(
                    Operator.badge == badge.strip().upper(),
                    Operator.active.is_(True),
                    OperatorRole.role.in_((Role.PACKER, Role.LEAD)),
                )
                .limit(1)
            ).one_or_none()
            if found is None:
                raise NotFound(f"no active packer has badge {badge}")
            to, words = found.id, f"{found.name} ({badge.strip().upper()})"
        before = s.scalar(select(Operator.name).where(Operator.id == order.packer_id))
        s.execute(
            update(Order)
            .where(Order.id == order.id)
            .values(packer_id=to, held_by_terminal=None, updated_at=now)
        )
        record_event(
            s, order_id=order.id, status=OrderStatus.PACKING, actor=actor, at=now,
            reason=f"pack taken from {before or '-'} to {words}: {why}",
        )  # fmt: skip
        return words

    return db.run(work)


# --- packing slips ---------------------------------------------------------------------------


def _queue_packing_slip(
    s: Session, settings: Settings, actor: Actor, order_id: int, now: datetime
) -> int:
    from picker.printing.packing_slip import PackingSlip, SlipLine, render_packing_slip

    v = _view(s, order_id)
    placed = s.scalar(select(Order.placed_at).where(Order.id == order_id))
    tz = settings.warehouse.tz
    sender = labels.sender(settings)
    slip = PackingSlip(
        number=v.number,
        placed_on=f"{placed.astimezone(tz):%Y-%m-%d}" if placed else "",
        sender=(sender.name, sender.street, f"{sender.postal_code} {sender.city}", sender.country),
        ship_to=v.ship_to,
        courier=" ".join(x for x in (v.courier_name, v.service) if x),
        lines=[SlipLine(ln.sku, ln.name, ln.quantity) for ln in v.lines],
        note=v.note,
        gift_message=v.gift_message,
    )
    pdf = render_packing_slip(slip, printed_at=f"{now.astimezone(tz):%Y-%m-%d %H:%M}")
    return print_queue.enqueue(
        s, kind="packing_slip", printer=settings.printer.name, content=pdf,
        content_type="application/pdf", terminal_id=actor.terminal_id, order_id=order_id,
        at=now,
    )  # fmt: skip


# --- shared ----------------------------------------------------------------------------------


def _my_order(s: Session, order_id: int, actor: Actor) -> Any:
    """The order's row, locked, if this packer is packing it; else refused in words."""
    operator_id = _operator_id(actor)
    order = _lock_order(s, order_id)
    if (
        order.status != OrderStatus.PACKING.value
        or order.packer_id != operator_id
        or order.held_by_terminal != actor.terminal_id
    ):
        if order.status == OrderStatus.PACKING.value and order.packer_id == operator_id:
            raise Conflict(f"{order.number} was taken over on another terminal.")
        if order.status == OrderStatus.PACKING.value:
            raise Conflict(_not_packable(s, order))
        raise Conflict(f"{order.number} is no longer yours to pack (it is {order.status}).")
    return order


def _operator_id(actor: Actor) -> int:
    if actor.operator_id is None:
        raise PackRefused("log in to pack")
    return actor.operator_id
