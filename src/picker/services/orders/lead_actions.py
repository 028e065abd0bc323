"""The lead's actions on an order: release, retry short, hold, cancel, assign.

Release from hold (checked again), retry the orders held short, hold, cancel, and give an
order to a named picker. One transaction each.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Text, cast, delete, func, or_, select, update
from sqlalchemy.orm import Session

from picker.config import IntakeSettings, Settings
from picker.domain.notify import DEFAULT_CUSTOMER_REASON, UnknownCustomerReason
from picker.domain.notify import customer_reason as checked_customer_reason
from picker.domain.picking import PutBack
from picker.domain.roles import Role
from picker.domain.statuses import OrderStatus
from picker.domain.text import plural
from picker.domain.validation import fixable_reasons
from picker.services.actors import Actor, Clock, allow, system_clock
from picker.services.errors import NotFound, ServiceError
from picker.services.intake.allocation import (
    Assignment,
    assign_with_settings,
    put_back_picked,
    release_reservation,
    reserve_order,
)
from picker.services.intake.order_import import Lookups
from picker.services.notify import outbox
from picker.services.orders.status import StatusChange, hand_over, move_order
from picker.store.engine import Database
from picker.store.models import (
    Order,
    OrderLine,
    Parcel,
    ParcelItem,
    PickTask,
    Tote,
)


@dataclass(frozen=True)
class Release:
    number: str
    released: bool
    reasons: tuple[str, ...]  # why it stays on hold (empty when released)


def _recheck(s: Session, order: Order, lookups: Lookups, intake: IntakeSettings) -> list[str]:
    """Validation again, on what is stored: SKUs resolved anew, shipping looked up anew."""
    lines = s.scalars(select(OrderLine).where(OrderLine.order_id == order.id)).all()
    for line in lines:
        line.product_id = lookups.products.get(line.sku)
    shipping = lookups.shipping(intake, order.shipping_method, order.shipping_title)
    order.courier_id, order.service_id = (shipping[0], shipping[1]) if shipping else (None, None)
    order.priority = 10 if shipping and shipping[2] else 0
    s.flush()
    return [
        *order.intake_problems,
        *fixable_reasons(
            skus=[line.sku for line in lines],
            known_skus=lookups.products,
            name=order.ship_name,
            street=order.ship_street,
            city=order.ship_city,
            postal_code=order.ship_postal_code,
            country=order.ship_country,
            shipping_known=shipping is not None,
            shipping_method=order.shipping_method,
            paid=order.paid,
            cod=order.cod_amount is not None,
            payment_state=order.payment_state or ("paid" if order.paid else "unpaid"),
        ),
    ]


def _release(
    s: Session, actor: Actor, order: Order, lookups: Lookups, intake: IntakeSettings, now: datetime,
    reason: str,
) -> Release:  # fmt: skip
    if order.status is not OrderStatus.ON_HOLD:
        raise ServiceError(f"order {order.number} is {order.status.value}, not on hold")
    reasons = _recheck(s, order, lookups, intake)
    if not reasons and _all_in_parcels(s, order.id):
        return _back_to(s, actor, order, OrderStatus.PACKED, now, f"{reason}; back to its lane")
    if not reasons and _all_picked(s, order.id):
        return _back_to_packing(s, actor, order, now, reason)
    reserved = s.scalar(
        select(func.count())
        .select_from(PickTask)
        .where(PickTask.order_id == order.id, PickTask.retired_at.is_(None))
    )
    if not reasons and not reserved:
        plan = reserve_order(s.connection(), order.id, now)
        if not plan.complete:
            reasons = ["short: " + ", ".join(plan.short)]
    if reasons:
        s.execute(
            update(Order).where(Order.id == order.id).values(hold_reasons=reasons, updated_at=now)
        )
        return Release(order.number, False, tuple(reasons))
    # Its picker of before (a shortage held it mid-pick) is not kept: it is given out afresh.
    move_order(
        s, order_id=order.id, number=order.number, from_=order.status, version=order.version,
        to=OrderStatus.UNHANDLED, actor=actor, reason=reason, at=now, hold_reasons=[],
        assignee_id=None,
    )  # fmt: skip
    outbox.enqueue(s, order.id, "accepted", at=now)
    _free_tote(s, order.id)  # from the problem shelf: emptied (put back) when it was held
    return Release(order.number, True, ())


def _free_tote(s: Session, order_id: int) -> None:
    s.execute(
        update(Tote)
        .where(Tote.order_id == order_id)
        .values(order_id=None, bound_at=None, location=None)
    )


def _all_picked(s: Session, order_id: int) -> bool:
    """Every unit of the order is picked (in its tote, or in parcels): held at packing."""
    ordered = s.scalar(select(func.sum(OrderLine.quantity)).where(OrderLine.order_id == order_id))
    picked = s.scalar(select(func.sum(PickTask.picked)).where(PickTask.order_id == order_id))
    return bool(ordered) and picked == ordered


def _all_in_parcels(s: Session, order_id: int) -> bool:
    """Every unit of the order is in closed (or handed over) parcels and none is open: held
    after packing (a parcel missing at a pickup, since found)."""
    ordered = s.scalar(select(func.sum(OrderLine.quantity)).where(OrderLine.order_id == order_id))
    packed = s.scalar(
        select(func.sum(ParcelItem.quantity))
        .join(Parcel, Parcel.id == ParcelItem.parcel_id)
        .where(Parcel.order_id == order_id, Parcel.status.in_(("closed", "handed_over")))
    )
    still_open = s.scalar(
        select(func.count())
        .select_from(Parcel)
        .where(Parcel.order_id == order_id, Parcel.status == "open")
    )
    return bool(ordered) and packed == ordered and not still_open


def _back_to(
    s: Session, actor: Actor, order: Order, to: OrderStatus, now: datetime, reason: str
) -> Release:
    move_order(
        s, order_id=order.id, number=order.number, from_=order.status, version=order.version,
        to=to, actor=actor, reason=reason, at=now, hold_reasons=[],
    )  # fmt: skip
    return Release(order.number, True, ())


def _back_to_packing(s: Session, actor: Actor, order: Order, now: datetime, reason: str) -> Release:
    """A held order whose goods are all picked goes back to the packing table with its tote
    (what was verified into its open parcel is kept) for any packer to open."""
    move_order(
        s, order_id=order.id, number=order.number, from_=order.status, version=order.version,
        to=OrderStatus.PICKED, actor=actor, reason=f"{reason}; back to packing", at=now,
        hold_reasons=[], packer_id=None, held_by_terminal=None,
    )  # fmt: skip
    s.execute(update(Tote).where(Tote.order_id == order.id).values(location="packing"))
    return Release(order.number, True, ())


def _load(s: Session, number: str) -> Order:
    order = s.scalars(select(Order).where(Order.number == number).with_for_update()).one_or_none()
    if order is None:
        raise NotFound(f"no order {number}")
    return order


def release_order(
    db: Database,
    actor: Actor,
    number: str,
    *,
    settings: Settings,
    reason: str = "released by lead",
    clock: Clock = system_clock,
) -> Release:
    """A lead releases a hold: validation and reservation run again; still wrong → stays held
    with the reasons of now."""
    allow(actor, "orders.lead_actions.release_order")
    with db.transaction() as s:
        lookups = Lookups.load(s)
        result = _release(s, actor, _load(s, number), lookups, settings.intake, clock(), reason)
        if result.released:
            assign_with_settings(s, actor, settings, clock)
    return result


def retry_short_orders(
    db: Database, actor: Actor, *, settings: Settings, clock: Clock = system_clock
) -> list[Release]:
    """After stock arrived: every order held only for shortage is tried again, oldest first."""
    allow(actor, "orders.lead_actions.retry_short_orders")
    return retry_held_short(db, actor=actor, settings=settings, clock=clock)


def _short_of(reasons: list[str]) -> set[str] | None:
    """The SKUs an order is held short of; None when it is held for anything else too."""
    if not reasons or not all(r.startswith("short:") for r in reasons):
        return None
    return {sku.strip() for r in reasons for sku in r.removeprefix("short:").split(",")}


def _spellings(sku: str) -> set[str]:
    """How the SKU may be spelled inside the stored JSON text: escaped as JSON does (ASCII
    only, or with its own characters, as the bulk import writes it)."""
    return {json.dumps(sku)[1:-1], json.dumps(sku, ensure_ascii=False)[1:-1], sku}


def retry_held_short(
    db: Database,
    *,
    actor: Actor,
    settings: Settings,
    clock: Clock = system_clock,
    sku: str | None = None,
) -> list[Release]:
    """Every order held only for shortage (of ``sku``, when given) tried again, oldest first,
    one transaction each; those released are assigned. The caller checked the actor's role
    (a lead's retry, or the returns desk after a restock).

    Runs after every put-away and every count that found more: the held orders are found in
    SQL (their reasons' text names ``short:`` and the SKU; the exact SKU — never one it is the
    prefix of — is checked on those few), only their SKUs are looked up, and only the orders
    released are assigned."""
    reasons_text = cast(Order.hold_reasons, Text)
    where = [Order.status == OrderStatus.ON_HOLD, reasons_text.contains("short:")]
    if sku is not None:
        where.append(or_(*(reasons_text.contains(x, autoescape=True) for x in _spellings(sku))))
    with db.read() as s:
        held = s.execute(
            select(Order.id, Order.number, Order.hold_reasons)
            .where(*where)
            .order_by(Order.placed_at, Order.id)
        ).all()
        wanted = []
        for order_id, n, reasons in held:
            short = _short_of(reasons)
            if short is not None and (sku is None or sku in short):
                wanted.append((order_id, n))
        if not wanted:  # the usual case at the returns desk: nothing waits for this SKU
            return []
        skus = set(
            s.scalars(select(OrderLine.sku).where(OrderLine.order_id.in_([i for i, _ in wanted])))
        )
        lookups = Lookups.load(s, skus=skus)
    results = []
    for _, number in wanted:
        with db.transaction() as s:
            order = _load(s, number)
            if order.status is OrderStatus.ON_HOLD:
                results.append(
                    _release(s, actor, order, lookups, settings.intake, clock(), "stock arrived")
                )
    released = [r.number for r in results if r.released]
    if released:
        with db.transaction() as s:
            ids = s.scalars(select(Order.id).where(Order.number.in_(released))).all()
            assign_with_settings(s, actor, settings, clock, only=ids)
    return results


#: Statuses with goods already in totes or parcels: holding or cancelling them needs a put-back,
#: which comes with the picking and packing stations; until then the lead is told so.
_GOODS_OUT = (OrderStatus.PICKING, OrderStatus.PICKED, OrderStatus.PACKING, OrderStatus.PACKED)


def _reason(text: str, what: str) -> str:
    text = " ".join(text.split())
    if not text or not text.isprintable():
        raise ServiceError(f"say why the order {what} (printable text)")
    return text


def _stop_order(
    db: Database, actor: Actor, number: str, to: OrderStatus, reason: str, clock: Clock,
    settings: Settings | None = None, customer_reason: str = DEFAULT_CUSTOMER_REASON,
) -> StatusChange:  # fmt: skip
    """Hold or cancel: the reservation is given back and the picker freed, in one transaction."""
    with db.transaction() as s:
        order = _load(s, number)
        if order.status in _GOODS_OUT:
            raise ServiceError(
                f"order {number} is {order.status.value}: picked goods must be put back first, "
                "which the picking and packing stations do"
            )
        cancel = to is OrderStatus.CANCELLED
        if cancel:
            _refuse_packed_parcels(s, order)
        reasons = [*order.hold_reasons, reason] if to is OrderStatus.ON_HOLD else None
        change = move_order(
            s, order_id=order.id, number=order.number, from_=order.status, version=order.version,
            to=to, actor=actor, reason=reason, at=clock(), assignee_id=None,
            **({"hold_reasons": reasons} if reasons is not None else {}),
        )  # fmt: skip
        release_reservation(s, order.id, change.at)
        back: tuple[PutBack, ...] = ()
        if cancel:
            # A held order's tote (and the box it was being packed into) may still hold what
            # was picked: emptied at the problem shelf, each unit back to its bin.
            back = put_back_picked(s, actor, order.id, change.at)
            open_parcel = select(Parcel.id).where(
                Parcel.order_id == order.id, Parcel.status == "open"
            )
            s.execute(delete(ParcelItem).where(ParcelItem.parcel_id.in_(open_parcel)))
            s.execute(delete(Parcel).where(Parcel.id.in_(open_parcel)))
            outbox.enqueue(s, order.id, "cancelled", at=change.at, settings=settings,
                           customer_reason=customer_reason)  # fmt: skip
        _free_tote(s, order.id)
        return replace(change, put_back=back)


def _refuse_packed_parcels(s: Session, order: Order) -> None:
    """An order with parcels closed (labelled) or with a courier is not cancelled here: its
    goods are not in a tote. Void the closed ones first (the goods come back to the packing
    table); one with the courier is a return."""
    packed = s.scalar(
        select(func.count())
        .select_from(Parcel)
        .where(Parcel.order_id == order.id, Parcel.status.in_(("closed", "handed_over")))
    )
    if packed:
        raise ServiceError(
            f"order {order.number} has {plural(packed, 'parcel')} closed or with the courier: "
            "void the "
            "closed ones first (picker --as BADGE parcel void); one with the courier is a return"
        )


def hold_order(
    db: Database, actor: Actor, number: str, reason: str, *, clock: Clock = system_clock
) -> StatusChange:
    """A lead puts an order on hold, with the reason; its stock and picker are freed."""
    allow(actor, "orders.lead_actions.hold_order")
    return _stop_order(db, actor, number, OrderStatus.ON_HOLD, _reason(reason, "goes on hold"),
                       clock)  # fmt: skip


def cancel_order(
    db: Database,
    actor: Actor,
    number: str,
    reason: str,
    *,
    customer_reason: str = DEFAULT_CUSTOMER_REASON,
    clock: Clock = system_clock,
    settings: Settings | None = None,
) -> StatusChange:
    """A lead cancels an order before picking; what it had reserved is given back. A paid
    order's customer is told (see :mod:`picker.services.notify`) the ``customer_reason`` the
    lead chose (one of :data:`~picker.domain.notify.CUSTOMER_REASONS`; by default none is
    given), never the lead's own ``reason``, which is for the floor. ``settings`` let a message
    the configuration does not send be recorded as skipped at once."""
    allow(actor, "orders.lead_actions.cancel_order")
    try:
        told = checked_customer_reason(customer_reason)
    except UnknownCustomerReason as exc:
        raise ServiceError(f"{exc}; order {number} was not cancelled") from None
    return _stop_order(db, actor, number, OrderStatus.CANCELLED, _reason(reason, "is cancelled"),
                       clock, settings, told)  # fmt: skip


def assign_ready_orders(
    db: Database, actor: Actor, *, settings: Settings, clock: Clock = system_clock
) -> list[Assignment]:
    """Give every reserved, unassigned order to a picker, as far as the pickers' limits go."""
    allow(actor, "orders.lead_actions.assign_ready_orders")
    with db.transaction() as s:
        return assign_with_settings(s, actor, settings, clock)


def assign_order(
    db: Database,
    actor: Actor,
    number: str,
    badge: str,
    *,
    reason: str = "",
    clock: Clock = system_clock,
) -> StatusChange | None:
    """A lead gives an order to a named picker (an override of the automatic assignment).

    A reserved, unassigned order becomes ``assigned``; an assigned one changes hands; one being
    picked is taken over — its tote, its counts and its open lines go with it, and the new
    picker's next login resumes it where the last one stopped. Each is an event naming the
    lead, both pickers and the reason.
    """
    allow(actor, "orders.lead_actions.assign_order")
    from picker.store.models import Operator, OperatorRole

    badge = badge.strip().upper()
    why = f": {reason}" if reason else ""

    def work(s: Session) -> StatusChange | None:
        picker = s.execute(
            select(Operator.id, Operator.active)
            .join(OperatorRole, OperatorRole.operator_id == Operator.id)
            .where(Operator.badge == badge, OperatorRole.role == Role.PICKER)
        ).one_or_none()
        if picker is None:
            raise NotFound(f"no picker has badge {badge}")
        if not picker.active:
            raise ServiceError(f"badge {badge} is disabled")
        order = _load(s, number)
        now = clock()
        if order.status in (OrderStatus.ASSIGNED, OrderStatus.PICKING):
            if order.assignee_id == picker.id:
                return None  # already theirs: nothing to hand over
            before = s.scalar(select(Operator.badge).where(Operator.id == order.assignee_id))
            verb = "taken over" if order.status is OrderStatus.PICKING else "reassigned"
            hand_over(
                s, order_id=order.id, number=number, status=order.status, version=order.version,
                to_operator=picker.id, actor=actor, at=now,
                reason=f"{verb} from {before or '-'} to {badge} by lead{why}",
            )  # fmt: skip
            if order.status is OrderStatus.PICKING:
                s.execute(
                    update(PickTask)
                    .where(PickTask.order_id == order.id)
                    .values(picker_id=picker.id, updated_at=now)
                )
            return None
        if order.status is not OrderStatus.UNHANDLED:
            raise ServiceError(f"order {number} is {order.status.value}: only unhandled, "
                               "assigned or picking orders can be given to a picker")  # fmt: skip
        reserved = s.scalar(
            select(func.count())
            .select_from(PickTask)
            .where(PickTask.order_id == order.id, PickTask.retired_at.is_(None))
        )
        if not reserved:
            raise ServiceError(f"order {number} has no stock reserved yet")
        return move_order(
            s, order_id=order.id, number=number, from_=order.status, version=order.version,
            to=OrderStatus.ASSIGNED, actor=actor, reason=f"assigned to {badge} by lead{why}",
            at=now, assignee_id=picker.id,
        )  # fmt: skip

    return db.run(work)
