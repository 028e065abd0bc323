"""Printed pick lists of orders in the database, lines in walking order."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import func, select

from picker.printing.pick_list import PickListLine, PickListOrder, render_pick_lists
from picker.services.actors import Clock, system_clock
from picker.services.errors import NotFound, ServiceError
from picker.store.engine import Database
from picker.store.models import Bin, Courier, Order, PickTask, Product, ProductBarcode, Tote


def pick_list_orders(db: Database, numbers: Sequence[str]) -> list[PickListOrder]:
    """The orders' open pick tasks (what is still to pick), in walking order."""
    found: list[PickListOrder] = []
    with db.read() as s:
        for number in numbers:
            order = s.execute(
                select(Order.id, Order.status, Courier.name, Tote.code)
                .outerjoin(Courier, Courier.id == Order.courier_id)
                .outerjoin(Tote, Tote.order_id == Order.id)
                .where(Order.number == number)
            ).one_or_none()
            if order is None:
                raise NotFound(f"order {number} does not exist")
            first_barcode = (
                select(func.min(ProductBarcode.barcode))
                .where(ProductBarcode.product_id == Product.id)
                .scalar_subquery()
            )
            rows = s.execute(
                select(
                    Bin.code, Product.sku, Product.name, first_barcode,
                    PickTask.quantity - PickTask.picked - PickTask.short,
                )
                .join(Bin, Bin.id == PickTask.bin_id)
                .join(Product, Product.id == PickTask.product_id)
                .where(
                    PickTask.order_id == order.id,
                    PickTask.picked + PickTask.short < PickTask.quantity,
                )
                .order_by(Bin.pick_seq, PickTask.id)
            ).all()  # fmt: skip
            if not rows:
                raise ServiceError(
                    f"{number} has nothing to pick (it is {order.status}; only reserved orders "
                    "have a pick list)"
                )
            found.append(
                PickListOrder(
                    number,
                    order.name or "-",
                    order.code,
                    [PickListLine(b, sku, name, code, qty) for b, sku, name, code, qty in rows],
                )
            )
    return found


def write_pick_lists(
    db: Database, numbers: Sequence[str], path: Path, *, clock: Clock = system_clock
) -> Path:
    orders = pick_list_orders(db, numbers)
    pdf = render_pick_lists(orders, printed_at=f"{clock():%Y-%m-%d %H:%M} UTC")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pdf)
    return path
