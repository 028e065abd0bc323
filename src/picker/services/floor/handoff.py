"""The courier handoff zone: lanes, pickups, manifests.

Lanes of closed parcels per courier, pickups scanned into the courier's hands, the manifest,
and orders ``executed`` once all their parcels have left.

A parcel scanned into a pickup is ``handed_over`` at once (a conditional UPDATE on ``closed``,
so two leads scanning one parcel into two pickups cannot both have it): it leaves the lane's
count and counts as scanned on the courier's open pickup. Undoing the scan puts it back in the
lane. Closing the pickup prints the manifest through the print queue and moves every
order whose live parcels have all left to ``executed``, in one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session, aliased

from picker.config import Settings
from picker.domain.cutoffs import last_cutoff, next_cutoff, parse_cutoffs
from picker.domain.statuses import OrderStatus, ParcelStatus
from picker.printing.labels import cod_text
from picker.printing.manifest import Manifest, ManifestLine, render_manifest
from picker.services import scans
from picker.services.actors import Actor, Clock, allow, system_clock
from picker.services.errors import Conflict, NotFound, ServiceError
from picker.services.notify import outbox
from picker.services.orders.status import move_order, move_orders
from picker.services.printjobs import labels, print_queue
from picker.services.scans import ScanOutcome
from picker.store.engine import LANES, Database, Listener, announce, listener
from picker.store.models import (
    Courier,
    CourierPickup,
    CourierService,
    Operator,
    Order,
    OrderEvent,
    Parcel,
)

STATION = "handoff"

_CLOSED = ParcelStatus.CLOSED.value
_LIVE = (ParcelStatus.OPEN.value, ParcelStatus.CLOSED.value, ParcelStatus.HANDED_OVER.value)


class HandoffRefused(ServiceError):
    """A handoff scan or action refused: nothing changed, the message says why."""


class PickupClosed(HandoffRefused):
    """The pickup was closed (on another terminal): scans go into a new one."""


# --- lanes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lane:
    courier_id: int
    courier: str
    """The courier's code (POST)."""
    name: str
    lane: str
    parcels: int
    """Closed parcels waiting in the lane (those scanned into the open pickup have left it)."""
    weight_g: int
    cod: tuple[str, ...]
    """Cash to collect from the lane's parcels, one text per currency (``1 234,50 zł``)."""
    next_cutoff: datetime | None
    """The earliest next cutoff of the courier's active services; None when it has none."""
    late: int
    """Parcels closed before the courier's last pickup time that are still here."""
    open_pickup: str | None
    scanned: int = 0
    """Parcels scanned into the courier's open pickup so far."""

    def minutes_to_cutoff(self, now: datetime) -> int | None:
        if self.next_cutoff is None:
            return None
        return int((self.next_cutoff - now).total_seconds() // 60)


def _carries_cod() -> Any:
    """A parcel whose label asks for the order's cash: number 1 (kept at close), or for a
    parcel closed before label numbers were kept, the first of the order's live parcels."""
    other = aliased(Parcel)
    first = ~exists().where(
        other.order_id == Parcel.order_id,
        other.status.in_(_LIVE),
        other.seq < Parcel.seq,
    )
    return or_(Parcel.label_no == 1, and_(Parcel.label_no.is_(None), first))


def _in_lane() -> Any:
    """Closed parcels of packed orders: those a courier may take."""
    return and_(Parcel.status == _CLOSED, Order.status == OrderStatus.PACKED.value)


def lanes(db: Database, settings: Settings, *, now: datetime) -> list[Lane]:
    """Every active courier's lane: what waits, its weight and cash (in the warehouse's way of
    writing money), its next cutoff, and how many parcels should have gone with the last
    pickup time."""
    tz = settings.warehouse.tz
    country = settings.warehouse.country
    with db.read() as s:
        couriers = s.execute(
            select(Courier.id, Courier.code, Courier.name, Courier.lane)
            .where(Courier.active.is_(True))
            .order_by(Courier.lane)
        ).all()
        pickup_times: dict[int, list[str]] = defaultdict(list)
        for courier_id, cutoffs in s.execute(
            select(CourierService.courier_id, CourierService.cutoffs).where(
                CourierService.active.is_(True)
            )
        ):
            pickup_times[courier_id].extend(cutoffs or ())
        times = {c.id: parse_cutoffs(pickup_times[c.id]) for c in couriers}
        totals = {
            r.courier_id: r
            for r in s.execute(
                select(
                    Parcel.courier_id,
                    func.count().label("parcels"),
                    func.coalesce(func.sum(Parcel.weight_g), 0).label("weight"),
                )
                .join(Order, Order.id == Parcel.order_id)
                .where(_in_lane())
                .group_by(Parcel.courier_id)
            )
        }
        cash: dict[int, list[str]] = defaultdict(list)
        for courier_id, currency, amount in s.execute(
            select(Parcel.courier_id, Order.currency, func.sum(Order.cod_amount))
            .join(Order, Order.id == Parcel.order_id)
            .where(_in_lane(), Order.cod_amount.is_not(None), _carries_cod())
            .group_by(Parcel.courier_id, Order.currency)
            .order_by(Order.currency)
        ):
            cash[courier_id].append(cod_text(amount or Decimal(0), currency, country))
        late: dict[int, int] = {}
        for c in couriers:
            last = last_cutoff(times[c.id], now, tz)
            if last is None:
                late[c.id] = 0
                continue
            late[c.id] = int(
                s.scalar(
                    select(func.count())
                    .select_from(Parcel)
                    .join(Order, Order.id == Parcel.order_id)
                    .where(_in_lane(), Parcel.courier_id == c.id, Parcel.closed_at < last)
                )
                or 0
            )
        open_pickups = dict(
            s.execute(
                select(CourierPickup.courier_id, CourierPickup.number).where(
                    CourierPickup.status == "open"
                )
            ).all()
        )
        scanned: dict[int, int] = dict(
            s.execute(
                select(CourierPickup.courier_id, func.count(Parcel.id))
                .join(Parcel, Parcel.pickup_id == CourierPickup.id)
                .where(CourierPickup.status == "open")
                .group_by(CourierPickup.courier_id)
            ).all()
        )
    return [
        Lane(
            c.id, c.code, c.name, c.lane,
            int(totals[c.id].parcels) if c.id in totals else 0,
            int(totals[c.id].weight) if c.id in totals else 0,
            tuple(cash[c.id]),
            next_cutoff(times[c.id], now, tz), late[c.id], open_pickups.get(c.id),
            int(scanned.get(c.id, 0)),
        )
        for c in couriers
    ]  # fmt: skip


def lane_changes(db: Database) -> Listener | None:
    """Wakes a handoff screen when another terminal changes the lanes (PostgreSQL LISTEN);
    None on SQLite, where the screen polls."""
    return listener(db, LANES)


# --- pickups ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pickup:
    id: int
    number: str
    courier_id: int
    courier: str
    name: str
    lane: str
    resumed: bool
    """A pickup for this courier was open already (another lead's, or this one's before a
    crash): it goes on."""


def open_pickup(db: Database, actor: Actor, courier: str, *, clock: Clock = system_clock) -> Pickup:
    """Open a pickup for a courier named by its code (POST) or its lane (LANE-1); a pickup of
    that courier already open goes on instead (one open pickup per courier)."""
    allow(actor, "floor.handoff.open_pickup")
    now = clock()
    wanted = courier.strip().upper()

    def work(s: Session) -> Pickup:
        c = s.execute(
            select(Courier.id, Courier.code, Courier.name, Courier.lane)
            .where(or_(func.upper(Courier.code) == wanted, func.upper(Courier.lane) == wanted))
            .with_for_update()  # two leads opening one courier's pickup take turns
        ).first()
        if c is None:
            raise NotFound(f"{courier} is no courier or lane we know.")
        found = s.execute(
            select(CourierPickup.id, CourierPickup.number).where(
                CourierPickup.courier_id == c.id, CourierPickup.status == "open"
            )
        ).first()
        if found is not None:
            return Pickup(found.id, found.number, c.id, c.code, c.name, c.lane, True)
        pickup_id = s.execute(
            insert(CourierPickup)
            .values(number=f"PU-NEW-{c.id}", courier_id=c.id, status="open",
                    opened_by=_lead_id(s, actor), opened_at=now)
            .returning(CourierPickup.id)
        ).scalar_one()  # fmt: skip
        number = f"PU-{pickup_id:06d}"
        s.execute(update(CourierPickup).where(CourierPickup.id == pickup_id).values(number=number))
        announce(s, LANES)  # other handoff screens show the pickup open
        return Pickup(pickup_id, number, c.id, c.code, c.name, c.lane, False)

    return db.run(work)


def _lead_id(s: Session, actor: Actor) -> int:
    """The operator a pickup is opened or closed by: the lead logged in, or (the command line)
    the first active lead, as the database requires someone."""
    if actor.operator_id is not None:
        return actor.operator_id
    from picker.domain.roles import Role
    from picker.store.models import OperatorRole

    lead = s.scalar(
        select(Operator.id)
        .join(OperatorRole, OperatorRole.operator_id == Operator.id)
        .where(OperatorRole.role == Role.LEAD, Operator.active.is_(True))
        .order_by(Operator.id)
        .limit(1)
    )
    if lead is None:
        raise ServiceError("no shift lead is registered (picker operator add … --roles lead)")
    return int(lead)


#: Parcels of the lane a pickup's state lists (the oldest first).
WAITING_LISTED = 50


@dataclass(frozen=True)
class PickupState:
    id: int
    number: str
    courier: str
    lane: str
    status: str
    handed: int
    """Parcels on the pickup."""
    last: tuple[str, str] | None
    """(tracking number, order number) of the parcel scanned last."""
    waiting: int
    """Parcels still in the lane."""
    waiting_listed: tuple[tuple[str, str], ...]
    """(tracking number, order number) of the oldest of them, at most :data:`WAITING_LISTED`."""


def pickup_state(db: Database, pickup_id: int) -> PickupState:
    with db.read() as s:
        p = s.execute(
            select(CourierPickup.id, CourierPickup.number, CourierPickup.status,
                   CourierPickup.courier_id, Courier.code, Courier.lane)
            .join(Courier, Courier.id == CourierPickup.courier_id)
            .where(CourierPickup.id == pickup_id)
        ).one_or_none()  # fmt: skip
        if p is None:
            raise NotFound(f"pickup {pickup_id} does not exist")
        last = s.execute(
            select(Parcel.tracking_no, Order.number)
            .join(Order, Order.id == Parcel.order_id)
            .where(Parcel.pickup_id == pickup_id)
            .order_by(Parcel.handed_over_at.desc(), Parcel.id.desc())
            .limit(1)
        ).first()
        listed = s.execute(
            select(Parcel.tracking_no, Order.number)
            .join(Order, Order.id == Parcel.order_id)
            .where(_in_lane(), Parcel.courier_id == p.courier_id)
            .order_by(Parcel.closed_at, Parcel.id)
            .limit(WAITING_LISTED)
        ).all()
        handed, waiting = _counts(s, pickup_id, p.courier_id)
    return PickupState(
        p.id, p.number, p.code, p.lane, p.status, handed,
        (str(last[0]), last[1]) if last else None, waiting,
        tuple((str(t), n) for t, n in listed),
    )  # fmt: skip


@dataclass(frozen=True)
class Handed:
    tracking_no: str
    order_number: str
    count: int
    """Parcels on this pickup now."""
    total: int
    """… of the parcels on it and still in the lane."""
    weight_g: int = 0
    """The parcel's weight: gone from the lane's."""


def hand_over_parcel(
    db: Database,
    actor: Actor,
    pickup_id: int,
    tracking_no: str,
    *,
    scan: ScanOutcome | None = None,
    clock: Clock = system_clock,
) -> Handed:
    """A parcel scanned into the courier's hands on this pickup. Refused by name, nothing
    changed: another courier's parcel (its lane named), one handed over already, voided, not
    closed, of an order not packed, or unknown."""
    allow(actor, "floor.handoff.hand_over_parcel")
    now = clock()
    wanted = tracking_no.strip()

    def work(s: Session) -> Handed:
        pickup = _open(s, pickup_id)
        parcel = s.execute(
            select(Parcel.id, Parcel.status, Parcel.courier_id, Parcel.pickup_id,
                   Parcel.order_id, Parcel.weight_g, Order.number,
                   Order.status.label("order_status"), Courier.code, Courier.lane)
            .join(Order, Order.id == Parcel.order_id)
            .join(Courier, Courier.id == Parcel.courier_id)
            .where(Parcel.tracking_no == wanted)
        ).one_or_none()  # fmt: skip
        if parcel is None:
            raise HandoffRefused(f"{wanted} is no parcel of ours. Keep it apart for the lead.")
        _check_parcel(s, parcel, wanted, pickup)
        moved = s.execute(
            update(Parcel)
            .where(Parcel.id == parcel.id, Parcel.status == _CLOSED)
            .values(status=ParcelStatus.HANDED_OVER.value, pickup_id=pickup_id,
                    handed_over_at=now)
        )  # fmt: skip
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(f"{wanted} was just handed over on another terminal.")
        announce(s, LANES)
        if scan is not None:
            scans.journal(s, actor, STATION, "pickup", scan.for_order(parcel.order_id), at=now)
        count, waiting = _counts(s, pickup_id, pickup.courier_id)
        return Handed(wanted, parcel.number, count, count + waiting, int(parcel.weight_g or 0))

    return db.run(work)


def _open(s: Session, pickup_id: int) -> Any:
    pickup = s.execute(
        select(CourierPickup.id, CourierPickup.number, CourierPickup.status,
               CourierPickup.courier_id)
        .where(CourierPickup.id == pickup_id)
        .with_for_update()
    ).one_or_none()  # fmt: skip
    if pickup is None:
        raise NotFound(f"pickup {pickup_id} does not exist")
    if pickup.status != "open":
        raise PickupClosed(
            f"Pickup {pickup.number} was closed (on another terminal?). Scan the courier's lane "
            "to open a new one."
        )
    return pickup


def _check_parcel(s: Session, parcel: Any, name: str, pickup: Any) -> None:
    if parcel.status == ParcelStatus.HANDED_OVER.value:
        on = s.scalar(select(CourierPickup.number).where(CourierPickup.id == parcel.pickup_id))
        here = " (this pickup)" if parcel.pickup_id == pickup.id else ""
        raise HandoffRefused(f"{name} was handed over already, on {on}{here}.")
    if parcel.status == ParcelStatus.VOIDED.value:
        raise HandoffRefused(f"{name} is VOID: take it out, it must not leave (lead).")
    if parcel.status != _CLOSED:
        raise HandoffRefused(f"{name} is still being packed ({parcel.number}).")
    if parcel.courier_id != pickup.courier_id:
        raise HandoffRefused(f"{name} goes with {parcel.code}: put it back in lane {parcel.lane}.")
    if parcel.order_status != OrderStatus.PACKED.value:
        raise HandoffRefused(
            f"{name}: {parcel.number} is {parcel.order_status}, not packed. Keep it for the lead."
        )


def _counts(s: Session, pickup_id: int, courier_id: int) -> tuple[int, int]:
    """(parcels on the pickup, parcels still in the courier's lane)."""
    on = s.scalar(select(func.count()).select_from(Parcel).where(Parcel.pickup_id == pickup_id))
    waiting = s.scalar(
        select(func.count())
        .select_from(Parcel)
        .join(Order, Order.id == Parcel.order_id)
        .where(_in_lane(), Parcel.courier_id == courier_id)
    )
    return int(on or 0), int(waiting or 0)


def undo_last(
    db: Database, actor: Actor, pickup_id: int, *, clock: Clock = system_clock
) -> str | None:
    """The pickup's last scanned parcel goes back to its lane; its tracking number, or None
    when nothing is on the pickup."""
    allow(actor, "floor.handoff.undo_last")

    def work(s: Session) -> str | None:
        _open(s, pickup_id)
        last = s.execute(
            select(Parcel.id, Parcel.tracking_no)
            .where(Parcel.pickup_id == pickup_id)
            .order_by(Parcel.handed_over_at.desc(), Parcel.id.desc())
            .limit(1)
        ).first()
        if last is None:
            return None
        s.execute(
            update(Parcel)
            .where(Parcel.id == last.id, Parcel.pickup_id == pickup_id)
            .values(status=_CLOSED, pickup_id=None, handed_over_at=None)
        )
        announce(s, LANES)
        return str(last.tracking_no)

    return db.run(work)


# --- closing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClosedPickup:
    number: str
    parcels: int
    executed: tuple[str, ...]
    """Orders whose parcels have now all left: ``executed``."""
    missing: tuple[str, ...]
    """Tracking numbers marked missing (their orders on hold)."""
    left_in_lane: int
    manifest_job: int


def close_pickup(
    db: Database,
    actor: Actor,
    settings: Settings,
    pickup_id: int,
    *,
    missing: Sequence[str] = (),
    clock: Clock = system_clock,
) -> ClosedPickup:
    """Close the pickup: parcels still in the lane stay for the next one, except those named
    ``missing`` (their orders go on hold, the reason naming the parcel and the pickup). Every
    order whose live parcels have all left becomes ``executed``; the manifest is rendered and
    queued for this station's printer; all in one transaction. Refused with nothing scanned."""
    allow(actor, "floor.handoff.close_pickup")
    now = clock()

    def work(s: Session) -> ClosedPickup:
        pickup = _open(s, pickup_id)
        on = (
            s.execute(select(Parcel.order_id).where(Parcel.pickup_id == pickup_id).distinct())
            .scalars()
            .all()
        )
        if not on:
            raise HandoffRefused(
                f"Nothing is on {pickup.number} yet: scan the parcels the courier takes."
            )
        held = _mark_missing(s, actor, pickup, missing, now)
        still_here = exists().where(
            Parcel.order_id == Order.id, Parcel.status.in_((ParcelStatus.OPEN.value, _CLOSED))
        )
        leaving = s.execute(
            select(Order.id, Order.number, Order.version)
            .where(Order.id.in_(on), Order.status == OrderStatus.PACKED.value, ~still_here)
            .order_by(Order.id)
            .with_for_update()
        ).all()
        courier = s.execute(
            select(Courier.code, Courier.name).where(Courier.id == pickup.courier_id)
        ).one()
        move_orders(
            s, orders=[(o.id, o.number) for o in leaving], from_=OrderStatus.PACKED,
            to=OrderStatus.EXECUTED, actor=actor,
            reason=f"handed to {courier.code} on {pickup.number}", at=now,
        )  # fmt: skip
        outbox.enqueue(s, [o.id for o in leaving], "shipped", settings=settings, at=now)
        s.execute(
            update(CourierPickup)
            .where(CourierPickup.id == pickup_id)
            .values(status="closed", closed_by=_lead_id(s, actor), closed_at=now)
        )
        document = render_manifest(_manifest(s, settings, pickup_id, held))
        job = print_queue.enqueue(
            s, kind="manifest", printer=settings.printer.name, content=document,
            content_type="application/pdf", terminal_id=actor.terminal_id, pickup_id=pickup_id,
            title=pickup.number, at=now,
        )  # fmt: skip
        announce(s, LANES)
        count, waiting = _counts(s, pickup_id, pickup.courier_id)
        return ClosedPickup(
            pickup.number, count, tuple(o.number for o in leaving), held, waiting, job
        )

    return db.run(work)


def _mark_missing(
    s: Session, actor: Actor, pickup: Any, missing: Sequence[str], now: datetime
) -> tuple[str, ...]:
    """Parcels of the lane the courier should have taken and nobody can find: their orders go
    on hold (the parcel stays closed, out of the lane, until the lead sorts it out)."""
    marked = []
    for tracking in dict.fromkeys(t.strip() for t in missing if t.strip()):
        row = s.execute(
            select(Order.id, Order.number, Order.version, Order.status, Order.hold_reasons,
                   Parcel.courier_id, Parcel.status.label("parcel_status"))
            .join(Parcel, Parcel.order_id == Order.id)
            .where(Parcel.tracking_no == tracking)
            .with_for_update(of=Order.__table__)
        ).one_or_none()  # fmt: skip
        if row is None or row.courier_id != pickup.courier_id or row.parcel_status != _CLOSED:
            raise HandoffRefused(f"{tracking} is not a parcel waiting in this lane.")
        if row.status != OrderStatus.PACKED.value:
            continue  # its order is on hold already (another of its parcels is missing)
        reason = f"missing at pickup {pickup.number}: parcel {tracking}"
        move_order(
            s, order_id=row.id, number=row.number, from_=OrderStatus.PACKED,
            version=row.version, to=OrderStatus.ON_HOLD, actor=actor, reason=reason, at=now,
            hold_reasons=[*(row.hold_reasons or []), reason],
        )  # fmt: skip
        marked.append(tracking)
    return tuple(marked)


# --- manifests --------------------------------------------------------------------------------


def _manifest(
    s: Session, settings: Settings, pickup_id: int, missing: Sequence[str] = ()
) -> Manifest:
    p = s.execute(
        select(CourierPickup.number, CourierPickup.closed_at, CourierPickup.opened_at,
               Courier.code, Courier.name, Operator.name.label("lead"))
        .join(Courier, Courier.id == CourierPickup.courier_id)
        .outerjoin(Operator, Operator.id == func.coalesce(CourierPickup.closed_by,
                                                          CourierPickup.opened_by))
        .where(CourierPickup.id == pickup_id)
    ).one()  # fmt: skip
    live = aliased(Parcel)
    count = (
        select(func.count())
        .where(live.order_id == Parcel.order_id, live.status != ParcelStatus.VOIDED.value)
        .scalar_subquery()
    )
    place = (
        select(func.count())
        .where(
            live.order_id == Parcel.order_id,
            live.status != ParcelStatus.VOIDED.value,
            live.seq <= Parcel.seq,
        )
        .scalar_subquery()
    )
    rows = s.execute(
        select(Parcel.tracking_no, Order.number, Parcel.label_no, place.label("place"),
               count.label("parcels_total"), Parcel.weight_g, Order.cod_amount, Order.currency,
               _carries_cod().label("cod_here"))
        .join(Order, Order.id == Parcel.order_id)
        .where(Parcel.pickup_id == pickup_id)
        .order_by(Parcel.handed_over_at, Parcel.id)
    ).all()  # fmt: skip
    cash: dict[str, Decimal] = defaultdict(Decimal)
    lines = []
    for r in rows:
        cod = r.cod_amount if r.cod_here and r.cod_amount is not None else None
        if cod is not None:
            cash[r.currency] += cod
        n = r.label_no or r.place
        lines.append(
            ManifestLine(
                r.tracking_no,
                r.number,
                n,
                max(int(r.parcels_total or 0), n),
                r.weight_g,
                cod_text(cod, r.currency, settings.warehouse.country) if cod is not None else None,
            )
        )
    tz = settings.warehouse.tz
    at = p.closed_at or p.opened_at
    sender = labels.sender(settings)
    return Manifest(
        pickup_number=p.number,
        courier=f"{p.name} ({p.code})",
        warehouse=(sender.name, sender.street, f"{sender.postal_code} {sender.city}",
                   sender.country),
        closed_at=f"{at.astimezone(tz):%Y-%m-%d %H:%M}",
        lead=p.lead or "",
        lines=lines,
        cod_totals=tuple(cod_text(amount, currency, settings.warehouse.country)
                         for currency, amount in sorted(cash.items())),
        missing=tuple(missing),
    )  # fmt: skip


def manifests(
    db: Database, settings: Settings, day: date, courier: str | None = None
) -> list[tuple[int, str, bytes]]:
    """The manifests of the pickups closed on ``day`` (local time), of one courier or all:
    (pickup id, pickup number, PDF), in closing order."""
    tz = settings.warehouse.tz
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = start + timedelta(days=1)
    with db.read() as s:
        query = (
            select(CourierPickup.id, CourierPickup.number)
            .join(Courier, Courier.id == CourierPickup.courier_id)
            .where(
                CourierPickup.status == "closed",
                CourierPickup.closed_at >= start,
                CourierPickup.closed_at < end,
            )
            .order_by(CourierPickup.closed_at, CourierPickup.id)
        )
        if courier:
            query = query.where(func.upper(Courier.code) == courier.strip().upper())
        found = s.execute(query).all()
        return [
            (i, number, render_manifest(_manifest(s, settings, i, _missing_on(s, number))))
            for i, number in found
        ]


def _missing_on(s: Session, pickup_number: str) -> tuple[str, ...]:
    """Parcels marked missing at a pickup, as its closing wrote them on the orders' events."""
    prefix = f"missing at pickup {pickup_number}: parcel "
    reasons = s.scalars(
        select(OrderEvent.reason)
        .where(OrderEvent.reason.like(prefix + "%"))
        .order_by(OrderEvent.id)
    )
    return tuple(r.removeprefix(prefix) for r in reasons)


def reprint_manifests(
    db: Database,
    actor: Actor,
    settings: Settings,
    day: date,
    courier: str | None = None,
    *,
    clock: Clock = system_clock,
) -> list[tuple[str, int]]:
    """Queue the day's manifests (one courier's, or all) again for this terminal's printer;
    (pickup number, job id) each. Refused in words when there is none."""
    allow(actor, "floor.handoff.reprint_manifests")
    found = manifests(db, settings, day, courier)
    if not found:
        whose = f" of {courier.upper()}" if courier else ""
        raise NotFound(f"no pickup{whose} was closed on {day:%Y-%m-%d}")
    now = clock()

    def work(s: Session) -> list[tuple[str, int]]:
        return [
            (number, print_queue.enqueue(
                s, kind="manifest", printer=settings.printer.name, content=pdf,
                content_type="application/pdf", terminal_id=actor.terminal_id, pickup_id=i,
                title=number, reason="manifest printed again", requested_by=actor.operator_id,
                at=now,
            ))
            for i, number, pdf in found
        ]  # fmt: skip

    return db.run(work)
