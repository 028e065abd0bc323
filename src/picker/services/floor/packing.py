"""The packing table: open an order, verify, box, weigh, confirm the address.

Open a picked order, verify every unit by scan, box, weigh, confirm the address, send it to
the lead, a pack taken over by the lead. Parcels are closed and voided in
:mod:`picker.services.floor.parcels`.

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
from typing import Literal

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from picker.config import Settings
from picker.domain.packing import (
    CheckLine,
    ParcelState,
    missing_for_close,
    weight_problem,
)
from picker.domain.roles import Role
from picker.domain.statuses import OrderStatus, ParcelStatus
from picker.printing.labels import cod_text
from picker.services import scans
from picker.services.actors import Actor, Clock, allow, system_clock
from picker.services.errors import NotFound, ServiceError
from picker.services.floor.pack_state import (
    PROBLEM_SHELF,
    STATION,
    PackRefused,
    expected_g,
    lock_order,
    my_order,
    not_packable,
    open_parcel,
    operator_id_of,
    verified_counts,
)
from picker.services.floor.parcels import void_closed
from picker.services.orders.status import move_order, record_event
from picker.services.printjobs import labels, print_queue
from picker.services.scans import ScanOutcome
from picker.store.engine import Database
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
    Product,
    ProductBarcode,
    Return,
    Tote,
)

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
    exchange: str | None = None
    """The RMA number when the order is a return's replacement goods (an exchange)."""

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
            Return.number.label("exchange"),
        )
        .outerjoin(Courier, Courier.id == Order.courier_id)
        .outerjoin(CourierService, CourierService.id == Order.service_id)
        .outerjoin(Tote, Tote.order_id == Order.id)
        .outerjoin(Return, Return.id == Order.exchange_for_return_id)
        .where(Order.id == order_id)
    ).one_or_none()  # fmt: skip
    if o is None:
        raise NotFound(f"order {order_id} does not exist")
    counts = verified_counts(s, order_id)
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
        o.lane or "", o.tote, o.address_confirmed_at is not None, lines, parcels, o.exchange,
    )  # fmt: skip


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
    allow(actor, "floor.packing.open_order")
    operator_id = operator_id_of(actor)
    now = clock()

    def work(s: Session) -> Opened:
        # The packer's row first, then the order's (the order every station takes them in):
        # one packer opening two orders on two tables at once takes turns.
        s.execute(select(Operator.id).where(Operator.id == operator_id).with_for_update())
        order_id = _find(s, reference, by)
        order = lock_order(s, order_id)
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
            raise PackRefused(not_packable(s, order))
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
    allow(actor, "floor.packing.verify")
    now = clock()
    if count < 1:
        raise PackRefused("Verify 1 unit or more.")

    def work(s: Session) -> Verified:
        order = my_order(s, order_id, actor)
        line = s.execute(
            select(OrderLine.quantity, OrderLine.sku).where(
                OrderLine.id == line_id, OrderLine.order_id == order_id
            )
        ).one_or_none()
        if line is None:
            raise NotFound(f"line {line_id} is not in {order.number}")
        counts = verified_counts(s, order_id)
        done = counts.get(line_id, (0, 0))[0]
        if done + count > line.quantity:
            raise PackRefused(
                f"Only {line.quantity - done} of {line.sku} left to verify; {count} is too many."
            )
        parcel_id, seq = open_parcel(s, order_id, order.courier_id, actor, now)
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
    allow(actor, "floor.packing.unverify")
    now = clock()

    def work(s: Session) -> int:
        my_order(s, order_id, actor)
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
    allow(actor, "floor.packing.set_packaging")
    now = clock()

    def work(s: Session) -> tuple[Packaging, int]:
        order = my_order(s, order_id, actor)
        row = s.execute(
            select(PackagingType.id, PackagingType.code, PackagingType.barcode,
                   PackagingType.name, PackagingType.tare_g)
            .where((PackagingType.barcode == code) | (PackagingType.code == code),
                   PackagingType.active.is_(True))
        ).first()  # fmt: skip
        if row is None:
            known = ", ".join(
                s.scalars(
                    select(PackagingType.barcode)  # what the packer scans
                    .where(PackagingType.active.is_(True))
                    .order_by(PackagingType.barcode)
                )
            )
            raise NotFound(f"{code} is not a box we know. Boxes: {known or 'none registered'}.")
        parcel_id, seq = open_parcel(s, order_id, order.courier_id, actor, now)
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
    allow(actor, "floor.packing.set_weight")

    def work(s: Session) -> Weighed:
        my_order(s, order_id, actor)
        parcel = s.execute(
            select(
                Parcel.id,
                Parcel.seq,
                PackagingType.tare_g,
                PackagingType.max_weight_g,
                PackagingType.name,
            )
            .outerjoin(PackagingType, PackagingType.id == Parcel.packaging_type_id)
            .where(Parcel.order_id == order_id, Parcel.status == ParcelStatus.OPEN.value)
        ).one_or_none()
        if parcel is None:
            raise PackRefused("Nothing to weigh yet: scan the items, then the box.")
        if parcel.tare_g is None:
            raise PackRefused("Scan the box first: its weight counts.")
        expected = expected_g(s, parcel.id, parcel.tare_g)
        packing = settings.packing
        problem = weight_problem(
            grams, expected, packing.weight_tolerance_pct, packing.weight_tolerance_g
        )
        if problem:
            raise PackRefused(problem)
        if parcel.max_weight_g is not None and grams > parcel.max_weight_g:
            raise PackRefused(
                f"{grams / 1000:.1f} kg is more than {parcel.name} carries "
                f"({parcel.max_weight_g / 1000:.1f} kg): take a bigger box, or split the parcel."
            )
        s.execute(update(Parcel).where(Parcel.id == parcel.id).values(weight_g=grams))
        return Weighed(grams, expected, parcel.seq)

    return db.run(work)


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
    allow(actor, "floor.packing.confirm_address")
    now = clock()

    def work(s: Session) -> str:
        order = my_order(s, order_id, actor)
        s.execute(
            update(Order)
            .where(Order.id == order_id)
            .values(address_confirmed_at=now, address_confirmed_by=actor.operator_id)
        )
        if scan is not None:
            scans.journal(s, actor, STATION, "pack", scan.for_order(order_id), at=now)
        return str(order.number)

    return db.run(work)


# --- sending to the lead, a pack taken over ------------------------------------------------


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
    allow(actor, "floor.packing.send_to_lead")
    why = " ".join((reason or "").split())
    if not why:
        raise PackRefused("Say why the order goes to the lead.")
    now = clock()

    def work(s: Session) -> SentToLead:
        order = my_order(s, order_id, actor)
        held = f"packing: {why}"
        closed = s.execute(
            select(Parcel.id, Parcel.tracking_no).where(
                Parcel.order_id == order_id, Parcel.status == ParcelStatus.CLOSED.value
            )
        ).all()
        for parcel in closed:
            void_closed(s, parcel.id, parcel.tracking_no, f"order sent to the lead: {why}", actor)
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
    allow(actor, "floor.packing.hand_over_pack")
    why = " ".join((reason or "").split())
    if not why:
        raise ServiceError(f"say why {number} is taken off its packer")
    now = clock()

    def work(s: Session) -> str:
        order_id = s.scalar(select(Order.id).where(Order.number == number.strip()))
        if order_id is None:
            raise NotFound(f"There is no order {number}.")
        order = lock_order(s, int(order_id))
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
