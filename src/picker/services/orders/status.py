"""Order status changes: the one path by which a service changes an order's status."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, update
from sqlalchemy.orm import Session

from picker.domain.picking import PutBack
from picker.domain.statuses import OrderStatus, check_order_transition
from picker.services.actors import Actor
from picker.services.errors import Conflict
from picker.store.models import Order, OrderEvent


@dataclass(frozen=True)
class StatusChange:
    order_number: str
    from_status: OrderStatus | None
    to_status: OrderStatus
    at: datetime
    put_back: tuple[PutBack, ...] = ()
    """Picked units the stop gave back to their bins (a held order's tote, emptied)."""


def move_order(
    s: Session | Connection,
    *,
    order_id: int,
    number: str,
    from_: OrderStatus | str | None,
    version: int,
    to: OrderStatus,
    actor: Actor,
    reason: str,
    at: datetime,
    **values: object,
) -> StatusChange:
    """The one place an order's status changes, inside the caller's transaction.

    The domain decides whether ``from_ → to`` is legal (:class:`IllegalTransition` otherwise).
    For an existing order (``from_`` not None) the UPDATE is conditional on the ``version`` the
    caller read: if another terminal changed the order meanwhile nothing is written and
    :class:`Conflict` is raised. ``from_=None`` records the first status of a new order (the
    caller inserted it with that status). Either way the event is written (who, where, when,
    from, to, why). ``values`` are further columns for the same UPDATE.
    """
    source = None if from_ is None else OrderStatus(from_)
    target = check_order_transition(source, to)
    if source is not None:
        result = s.execute(
            update(Order)
            .where(Order.id == order_id, Order.version == version)
            .values(status=target.value, version=version + 1, updated_at=at, **values)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(f"order {number} was changed on another terminal; look again")
    s.execute(
        insert(OrderEvent).values(
            order_id=order_id,
            at=at,
            operator_id=actor.operator_id,
            terminal_id=actor.terminal_id,
            source=actor.source,
            from_status=source.value if source else None,
            to_status=target.value,
            reason=reason,
        )
    )
    return StatusChange(number, source, target, at)


def move_orders(
    s: Session | Connection,
    *,
    orders: Sequence[tuple[int, str]],
    from_: OrderStatus,
    to: OrderStatus,
    actor: Actor,
    reason: str,
    at: datetime,
    reasons: Mapping[int, str] | None = None,
) -> None:
    """Many orders (id, number) from one status to another at once: one UPDATE and one batch
    of events, for a caller that holds the orders' rows locked (a pickup closing). Refused
    whole, nothing written, if any of them is no longer in ``from_``. ``reasons``: an order's
    own reason (by id), where it has one, instead of ``reason``."""
    if not orders:
        return
    target = check_order_transition(from_, to)
    ids = [order_id for order_id, _ in orders]
    result = s.execute(
        update(Order)
        .where(Order.id.in_(ids), Order.status == from_.value)
        .values(status=target.value, version=Order.version + 1, updated_at=at)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != len(ids):  # type: ignore[attr-defined]
        raise Conflict("orders were changed on another terminal; look again")
    s.execute(
        insert(OrderEvent),
        [
            {"order_id": order_id, "at": at, "operator_id": actor.operator_id,
             "terminal_id": actor.terminal_id, "source": actor.source, "from_status": from_.value,
             "to_status": target.value, "reason": (reasons or {}).get(order_id, reason)}
            for order_id in ids
        ],
    )  # fmt: skip


def hand_over(
    s: Session | Connection,
    *,
    order_id: int,
    number: str,
    status: OrderStatus,
    version: int,
    to_operator: int,
    actor: Actor,
    reason: str,
    at: datetime,
) -> None:
    """An order changes hands without changing status (a lead reassigns it, or takes over a
    stuck pick): written as an event from ``status`` to the same ``status`` — a hand-over,
    not a move in the state machine. Conditional on ``version`` like :func:`move_order`."""
    result = s.execute(
        update(Order)
        .where(Order.id == order_id, Order.version == version)
        .values(assignee_id=to_operator, version=version + 1, updated_at=at)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"order {number} was changed on another terminal; look again")
    record_event(s, order_id=order_id, status=status, actor=actor, reason=reason, at=at)


def record_event(
    s: Session | Connection,
    *,
    order_id: int,
    status: OrderStatus,
    actor: Actor,
    reason: str,
    at: datetime,
) -> None:
    """Something happened to an order that is not a status change (a hand-over, a parcel
    voided, a packer taking up a pack): an event from ``status`` to the same ``status``."""
    s.execute(
        insert(OrderEvent).values(
            order_id=order_id, at=at, operator_id=actor.operator_id, terminal_id=actor.terminal_id,
            source=actor.source, from_status=status.value, to_status=status.value, reason=reason,
        )
    )  # fmt: skip
