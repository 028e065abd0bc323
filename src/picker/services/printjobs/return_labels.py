"""Return labels: the courier's own label with the addresses swapped, for goods coming back.

A return label is the layout the courier's parcels print with (``couriers.label_layout``, else
``[labels] format``), filled so the courier carries the parcel from the customer to the
warehouse: the customer's ship-to address is the sender, the warehouse's address (``[warehouse]``)
the recipient, "RETURN" and the RMA number stand in the COD box (a return is never cash on
delivery) and after the order number, and the routing code is the warehouse's.

Its tracking number is the courier's own, taken from the courier's scheme exactly as a parcel's
close takes one (:func:`~picker.services.printjobs.tracking_numbers.allocate`, in the caller's
transaction: gap-free, and given back if the caller rolls back). The caller keeps it (on the
return, ``returns.tracking_no``), so the parcel is known by a scan when it arrives; nothing
here reads or writes the returns table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from picker.config import Settings
from picker.domain.label_text import LabelText
from picker.printing.labels import Address, LabelData, render_pdf, routing_code
from picker.services.errors import NotFound, ServiceError
from picker.services.printjobs.labels import (
    compose_label,
    drawable,
    layout,
    ready_fonts,
    sender,
)
from picker.services.printjobs.tracking_numbers import allocate
from picker.store.models import Courier, CourierService, Order

#: What a return label says it is, in the COD box, before the RMA number.
RETURN_MARK = "RETURN"


@dataclass(frozen=True)
class ReturnLabel:
    """A return label made: its own tracking number (for the caller to keep on the return),
    the courier's code, and the label as a PDF (one page, the layout's size)."""

    tracking_no: str
    courier_code: str
    pdf: bytes
    #: What the label shows that is worth a look (text cut short), as a parcel label's.
    warnings: tuple[str, ...] = ()


def render_return_label(
    s: Session,
    *,
    order_id: int,
    rma: str,
    courier_id: int | None,
    settings: Settings,
    at: datetime,
) -> ReturnLabel:
    """The return label of order ``order_id`` for return ``rma``, with the courier
    ``courier_id`` (the order's own when None), made in the caller's transaction ``s``: a
    tracking number is taken from the courier's scheme (allocated last, so the courier's
    counter is held only for the drawing). Refused in words, nothing taken: no such order, no
    courier named nor on the order, a customer address no label font can draw and no lead's
    choice for it (``picker order label-text``), a layout the number does not fit; a courier
    whose numbers are used up or whose scheme is broken is refused as at a parcel's close."""
    order = s.execute(
        select(Order.number, Order.courier_id, Order.service_id, Order.ship_name,
               Order.ship_street, Order.ship_street2, Order.ship_postal_code, Order.ship_city,
               Order.ship_country, Order.label_text)
        .where(Order.id == order_id)
    ).one_or_none()  # fmt: skip
    if order is None:
        raise NotFound(f"order {order_id} does not exist")
    chosen_id = courier_id if courier_id is not None else order.courier_id
    if chosen_id is None:
        raise ServiceError(
            f"order {order.number} has no courier: name the courier to carry the return"
        )
    courier = s.execute(
        select(Courier.code, Courier.name, Courier.label_layout).where(Courier.id == chosen_id)
    ).one_or_none()
    if courier is None:
        raise NotFound(f"courier {chosen_id} does not exist")
    service = None
    if order.service_id is not None and chosen_id == order.courier_id:
        service = s.scalar(select(CourierService.name).where(CourierService.id == order.service_id))
    customer = Address(order.ship_name, order.ship_street, order.ship_postal_code,
                       order.ship_city, order.ship_country, order.ship_street2 or "")  # fmt: skip
    # Everything that can refuse, before a number is taken; the customer's glyphs read now,
    # not while the courier's counter is held (see ready_fonts).
    ready_fonts(settings, customer)
    customer = drawable(
        settings, customer, LabelText(order.label_text) if order.label_text else None
    )
    chosen = layout(settings, courier.label_layout)
    warehouse = sender(settings)
    tracking = allocate(s, chosen_id).number
    data = LabelData(
        sender=customer,
        recipient=warehouse,
        courier=courier.name,
        service=service or "",
        tracking=tracking,
        parcel_no=1,
        parcel_count=1,
        weight_g=None,
        order_number=order.number,
        closed_on=at.astimezone(settings.warehouse.tz).date(),
        routing=routing_code(warehouse.country, warehouse.postal_code),
        mark=RETURN_MARK,
        reference=rma.strip(),
    )
    composed = compose_label(settings, chosen, data)
    return ReturnLabel(tracking, courier.code, render_pdf([composed]), composed.warnings)
