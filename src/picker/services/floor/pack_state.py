"""What the packing use-cases share: the order locked for its packer, its counts.

The order locked for its packer, the units verified per line, the open parcel, its expected
weight, and the refusal they raise.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, func, insert, select
from sqlalchemy.orm import Session

from picker.domain.packing import (
    expected_weight,
)
from picker.domain.statuses import OrderStatus, ParcelStatus
from picker.services.actors import Actor
from picker.services.errors import Conflict, ServiceError
from picker.store.models import (
    Operator,
    Order,
    OrderLine,
    Parcel,
    ParcelItem,
    Product,
)

STATION = "packing"
PROBLEM_SHELF = "problem_shelf"


class PackRefused(ServiceError):
    """A packing action refused: nothing changed, the message says what to do."""


def verified_counts(s: Session, order_id: int) -> dict[int, tuple[int, int]]:
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


def lock_order(s: Session, order_id: int) -> Any:
    return s.execute(
        select(
            Order.id, Order.number, Order.status, Order.version, Order.packer_id,
            Order.held_by_terminal, Order.courier_id, Order.hold_reasons,
            Order.address_confirmed_at,
        )
        .where(Order.id == order_id)
        .with_for_update()
    ).one()  # fmt: skip


def not_packable(s: Session, order: Any) -> str:
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


def open_parcel(
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


def expected_g(s: Session, parcel_id: int, tare_g: int) -> int:
    contents = s.execute(
        select(Product.weight_g, ParcelItem.quantity)
        .join(OrderLine, OrderLine.id == ParcelItem.order_line_id)
        .join(Product, Product.id == OrderLine.product_id)
        .where(ParcelItem.parcel_id == parcel_id)
    ).all()
    return expected_weight(((w, n) for w, n in contents), tare_g)


def my_order(s: Session, order_id: int, actor: Actor) -> Any:
    """The order's row, locked, if this packer is packing it; else refused in words."""
    operator_id = operator_id_of(actor)
    order = lock_order(s, order_id)
    if (
        order.status != OrderStatus.PACKING.value
        or order.packer_id != operator_id
        or order.held_by_terminal != actor.terminal_id
    ):
        if order.status == OrderStatus.PACKING.value and order.packer_id == operator_id:
            raise Conflict(f"{order.number} was taken over on another terminal.")
        if order.status == OrderStatus.PACKING.value:
            raise Conflict(not_packable(s, order))
        raise Conflict(f"{order.number} is no longer yours to pack (it is {order.status}).")
    return order


def operator_id_of(actor: Actor) -> int:
    if actor.operator_id is None:
        raise PackRefused("log in to pack")
    return actor.operator_id
