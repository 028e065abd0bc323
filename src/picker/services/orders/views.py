"""Read-only views of orders for leads and scripts (``picker order list`` / ``show``).

The dictionaries returned by :meth:`OrderSummary.as_json` and :meth:`OrderDetail.as_json` are the
documented, stable JSON output: keys are only ever added, never renamed or removed. Amounts are
strings (exact decimals), times ISO 8601 in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select

from picker.channels.reading import minor_unit
from picker.domain.statuses import OrderStatus
from picker.services.errors import NotFound, ServiceError
from picker.services.notify import outbox
from picker.services.notify.outbox import MessageRow
from picker.store.engine import Database
from picker.store.models import (
    Courier,
    Operator,
    Order,
    OrderEvent,
    OrderLine,
    Parcel,
    PickTask,
)


def amount(value: Decimal, currency: str) -> str:
    """An exact amount in its currency's minor units, as intake rounds it (one definition,
    Babel's currency data): 299.99 PLN, 15579000 VND, 1500 JPY, 12.345 KWD. Stored amounts
    carry four decimals whatever the currency. A code Babel does not know: the stored value
    without trailing zeros."""
    quantum = minor_unit(currency)
    if quantum is None:
        return format(value.normalize(), "f")
    return format(value.quantize(quantum, rounding=ROUND_HALF_UP), "f")  # as intake rounds


@dataclass(frozen=True)
class OrderSummary:
    number: str
    channel: str
    shop_order_no: str
    status: str
    placed_at: datetime
    customer: str
    country: str
    courier: str | None
    lines: int
    units: int
    total: Decimal
    currency: str
    cod: Decimal | None
    assignee: str | None
    hold_reasons: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "channel": self.channel,
            "shop_order_no": self.shop_order_no,
            "status": self.status,
            "placed_at": self.placed_at.isoformat(),
            "customer": self.customer,
            "country": self.country,
            "courier": self.courier,
            "lines": self.lines,
            "units": self.units,
            "total": amount(self.total, self.currency),
            "currency": self.currency,
            "cod": None if self.cod is None else amount(self.cod, self.currency),
            "assignee": self.assignee,
            "hold_reasons": list(self.hold_reasons),
        }


@dataclass(frozen=True)
class LineView:
    line_no: int
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    reserved: int  # units still reserved for this line (open pick quantity)


@dataclass(frozen=True)
class EventView:
    at: datetime
    from_status: str | None
    to_status: str
    operator: str | None
    terminal: str
    reason: str
    source: str | None = None
    """The data feed (``OSUSER@HOST``) that made the change, when no operator did."""


@dataclass(frozen=True)
class ParcelView:
    seq: int
    tracking_no: str | None
    courier: str
    status: str
    weight_g: int | None
    #: What the courier last said of it, and when (the courier's time); None before any event.
    courier_status: str | None = None
    courier_status_at: datetime | None = None
    #: The courier is bringing it back to us.
    returned_to_sender: bool = False


@dataclass(frozen=True)
class OrderDetail:
    summary: OrderSummary
    ship_address: tuple[str, ...]
    shipping_method: str
    note: str | None
    intake_problems: tuple[str, ...]
    lines: tuple[LineView, ...]
    events: tuple[EventView, ...]
    #: What the shop sent that the floor does not ship: {sku, name, quantity, reason} each.
    lines_not_shipped: tuple[dict[str, Any], ...] = ()
    customer_email: str | None = None
    customer_locale: str | None = None
    parcels: tuple[ParcelView, ...] = ()
    #: What the customer and the shop were (or are to be) told: rows of ``notify list``.
    messages: tuple[MessageRow, ...] = ()
    ship_phone: str | None = None

    def as_json(self) -> dict[str, Any]:
        data = self.summary.as_json()
        data.update(
            customer_email=self.customer_email,
            customer_locale=self.customer_locale,
            ship_address=list(self.ship_address),
            shipping_method=self.shipping_method,
            note=self.note,
            intake_problems=list(self.intake_problems),
            order_lines=[
                {
                    "line_no": ln.line_no,
                    "sku": ln.sku,
                    "name": ln.name,
                    "quantity": ln.quantity,
                    "unit_price": amount(ln.unit_price, self.summary.currency),
                    "reserved": ln.reserved,
                }
                for ln in self.lines
            ],
            lines_not_shipped=[dict(line) for line in self.lines_not_shipped],
            events=[
                {
                    "at": e.at.isoformat(),
                    "from": e.from_status,
                    "to": e.to_status,
                    "operator": e.operator,
                    "terminal": e.terminal,
                    "source": e.source,
                    "reason": e.reason,
                }
                for e in self.events
            ],
            parcels=[
                {"seq": p.seq, "tracking_no": p.tracking_no, "courier": p.courier,
                 "status": p.status, "weight_g": p.weight_g,
                 "courier_status": p.courier_status,
                 "courier_status_at": p.courier_status_at.isoformat()
                 if p.courier_status_at else None,
                 "returned_to_sender": p.returned_to_sender}
                for p in self.parcels
            ],
            messages=[m.as_json() for m in self.messages],
        )  # fmt: skip
        data.update(email=self.customer_email, phone=self.ship_phone)
        return data


def _summaries(db: Database, where: list[Any], limit: int | None) -> list[OrderSummary]:
    counts = (
        select(
            OrderLine.order_id,
            func.count().label("lines"),
            func.sum(OrderLine.quantity).label("units"),
        )
        .group_by(OrderLine.order_id)
        .subquery()
    )
    query = (
        select(
            Order,
            Courier.code,
            Operator.badge,
            func.coalesce(counts.c.lines, 0),
            func.coalesce(counts.c.units, 0),
        )
        .outerjoin(Courier, Courier.id == Order.courier_id)
        .outerjoin(Operator, Operator.id == Order.assignee_id)
        .outerjoin(counts, counts.c.order_id == Order.id)
        .where(*where)
        .order_by(Order.placed_at, Order.id)
    )
    if limit is not None:
        query = query.limit(limit)
    with db.read() as s:
        return [
            _summary(o, courier, badge, lines, units)
            for o, courier, badge, lines, units in s.execute(query)
        ]


def list_orders(
    db: Database, *, status: str | None = None, limit: int | None = None
) -> list[OrderSummary]:
    """Orders, oldest first, optionally of one status."""
    where = []
    if status is not None:
        try:
            where.append(Order.status == OrderStatus(status))
        except ValueError:
            known = ", ".join(s.value for s in OrderStatus)
            raise ServiceError(f"{status!r} is not an order status (known: {known})") from None
    return _summaries(db, where, limit)


def summaries_of(db: Database, numbers: list[str]) -> list[OrderSummary]:
    """The orders of these numbers as ``order list`` shows them, in the order given.

    Their lines are counted for these orders only (:func:`_summaries` joins the counts of
    every order's lines, a scan of a million orders' lines)."""
    if not numbers:
        return []
    with db.read() as s:
        rows = s.execute(
            select(Order, Courier.code, Operator.badge)
            .outerjoin(Courier, Courier.id == Order.courier_id)
            .outerjoin(Operator, Operator.id == Order.assignee_id)
            .where(Order.number.in_(numbers))
        ).all()
        counts = {
            order_id: (lines, units)
            for order_id, lines, units in s.execute(
                select(OrderLine.order_id, func.count(), func.sum(OrderLine.quantity))
                .where(OrderLine.order_id.in_([o.id for o, _, _ in rows]))
                .group_by(OrderLine.order_id)
            )
        }
        found = {
            o.number: _summary(o, courier, badge, *counts.get(o.id, (0, 0)))
            for o, courier, badge in rows
        }
    return [found[n] for n in numbers if n in found]


def _summary(
    o: Order, courier: str | None, badge: str | None, lines: int, units: int | None
) -> OrderSummary:
    return OrderSummary(
        number=o.number,
        channel=o.channel,
        shop_order_no=o.shop_order_no,
        status=o.status.value,
        placed_at=o.placed_at,
        customer=o.customer_name,
        country=o.ship_country,
        courier=courier,
        lines=int(lines),
        units=int(units or 0),
        total=o.total_amount,
        currency=o.currency,
        cod=o.cod_amount,
        assignee=badge,
        hold_reasons=tuple(o.hold_reasons),
    )


def order_detail(db: Database, number: str) -> OrderDetail:
    found = summaries_of(db, [number])  # its lines counted, not every order's
    if not found:
        raise NotFound(f"no order {number}")
    with db.read() as s:
        order = s.scalars(select(Order).where(Order.number == number)).one()
        reserved = dict(
            s.execute(
                select(
                    PickTask.order_line_id,
                    func.sum(PickTask.quantity - PickTask.picked - PickTask.short),
                )
                .where(PickTask.order_id == order.id)
                .group_by(PickTask.order_line_id)
            ).all()
        )
        lines = tuple(
            LineView(ln.line_no, ln.sku, ln.name, ln.quantity, ln.unit_price,
                     int(reserved.get(ln.id, 0)))
            for ln in s.scalars(
                select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.line_no)
            )
        )  # fmt: skip
        events = tuple(
            EventView(e.at, e.from_status.value if e.from_status else None, e.to_status.value,
                      badge, e.terminal_id, e.reason, e.source)
            for e, badge in s.execute(
                select(OrderEvent, Operator.badge)
                .outerjoin(Operator, Operator.id == OrderEvent.operator_id)
                .where(OrderEvent.order_id == order.id)
                .order_by(OrderEvent.id)
            )
        )  # fmt: skip
        address = tuple(
            part
            for part in (
                order.ship_name,
                order.ship_street,
                order.ship_street2,
                f"{order.ship_postal_code} {order.ship_city}".strip(),
                order.ship_region,
                order.ship_country,
                order.ship_phone,
            )
            if part
        )
        return OrderDetail(
            summary=found[0],
            ship_address=address,
            shipping_method=order.shipping_method,
            note=order.note,
            intake_problems=tuple(order.intake_problems),
            lines=lines,
            events=events,
            lines_not_shipped=tuple(order.lines_not_shipped or ()),
            customer_email=order.customer_email,
            customer_locale=order.customer_locale,
            parcels=tuple(
                ParcelView(
                    p.seq,
                    p.tracking_no,
                    code,
                    p.status.value,
                    p.weight_g,
                    p.courier_status,
                    p.courier_status_at,
                    p.returned_to_sender,
                )
                for p, code in s.execute(
                    select(Parcel, Courier.code)
                    .join(Courier, Courier.id == Parcel.courier_id)
                    .where(Parcel.order_id == order.id)
                    .order_by(Parcel.seq)
                )
            ),
            messages=tuple(outbox.order_messages(s, order.id)),
            ship_phone=order.ship_phone,
        )
