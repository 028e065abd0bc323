"""Order status changes: the one path by which a service changes an order's status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from picker.domain.roles import Role, require
from picker.domain.statuses import OrderStatus, check_order_transition
from picker.services.common import Actor, Clock, Conflict, NotFound, ServiceError, system_clock
from picker.store.engine import Database
from picker.store.models import Order, OrderEvent


@dataclass(frozen=True)
class StatusChange:
    order_number: str
    from_status: OrderStatus
    to_status: OrderStatus
    at: datetime


def change_order_status(
    s: Session,
    order: Order,
    to: OrderStatus,
    actor: Actor,
    reason: str = "",
    *,
    at: datetime,
    **values: object,
) -> StatusChange:
    """Move ``order`` to ``to`` inside the caller's transaction, and write the event.

    The domain decides whether the move is legal (:class:`IllegalTransition` otherwise). The
    UPDATE is conditional on the version the caller read, so if another terminal changed the
    order meanwhile nothing is written and :class:`Conflict` is raised. ``values`` are further
    columns to set in the same UPDATE (assignee, hold reasons…).
    """
    from_ = OrderStatus(order.status)
    check_order_transition(from_, to)
    result = s.execute(
        update(Order)
        .where(Order.id == order.id, Order.version == order.version)
        .values(status=to, version=Order.version + 1, updated_at=at, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"order {order.number} was changed on another terminal; look again")
    s.add(
        OrderEvent(
            order_id=order.id,
            at=at,
            operator_id=actor.operator_id,
            terminal_id=actor.terminal_id,
            from_status=from_,
            to_status=to,
            reason=reason,
        )
    )
    s.flush()
    s.refresh(order)
    return StatusChange(order.number, from_, to, at)


def _load(s: Session, number: str) -> Order:
    order = s.scalars(select(Order).where(Order.number == number)).one_or_none()
    if order is None:
        raise NotFound(f"no order {number}")
    return order


def hold_order(
    db: Database, actor: Actor, number: str, reason: str, *, clock: Clock = system_clock
) -> StatusChange:
    """A lead puts an order on hold, with the reason."""
    _require_lead(actor, "putting an order on hold")
    reason = " ".join(reason.split())
    if not reason:
        raise ServiceError("say why the order goes on hold")
    if not reason.isprintable():
        raise ServiceError("the reason contains control characters")
    with db.transaction() as s:
        order = _load(s, number)
        reasons = [*order.hold_reasons, reason]
        return change_order_status(
            s, order, OrderStatus.ON_HOLD, actor, reason, at=clock(), hold_reasons=reasons
        )


def release_order(
    db: Database,
    actor: Actor,
    number: str,
    reason: str = "released",
    *,
    clock: Clock = system_clock,
) -> StatusChange:
    """A lead releases an order from hold once its problems are fixed."""
    _require_lead(actor, "releasing an order")
    with db.transaction() as s:
        order = _load(s, number)
        return change_order_status(
            s, order, OrderStatus.UNHANDLED, actor, reason, at=clock(), hold_reasons=[]
        )


def order_history(db: Database, number: str) -> list[tuple[str | None, str, str, str]]:
    """(from, to, terminal, reason) of every event of an order, oldest first."""
    with db.read() as s:
        order = _load(s, number)
        events = s.scalars(
            select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id)
        ).all()
        return [
            (
                e.from_status.value if e.from_status else None,
                e.to_status.value,
                e.terminal_id,
                e.reason,
            )
            for e in events
        ]


def _require_lead(actor: Actor, action: str) -> None:
    if actor.operator is not None:
        require(actor.operator.roles, Role.LEAD, action)
