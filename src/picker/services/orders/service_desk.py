"""The customer-service desk's view of one order: where it stands in the customer's words, each
parcel with its tracking number, the courier's last word and its tracking link, and the last
mail the customer was sent. Read-only; the actions are the lead's own (hold, release, resend).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from picker.config import Settings
from picker.domain.courier_events import WORDS, CourierStatus
from picker.domain.customer_status import ParcelNews, customer_status
from picker.domain.notify import MessageKind
from picker.domain.statuses import ParcelStatus
from picker.services.errors import NotFound
from picker.services.notify import outbox
from picker.services.notify.compose import tracking_url
from picker.services.notify.outbox import MessageRow
from picker.store.engine import Database
from picker.store.models import Courier, Order, Parcel


@dataclass(frozen=True)
class ParcelCard:
    seq: int
    tracking_no: str | None
    courier: str
    """The courier's name ("Swift Parcel")."""
    courier_code: str
    status: str
    """Ours: open, closed, handed_over, voided."""
    courier_said: str | None
    """The courier's last word in plain words ("out for delivery"), None before any."""
    courier_said_at: datetime | None
    url: str | None
    """The courier's tracking link for it, None when the courier has no template."""
    handed_over_at: datetime | None = None


@dataclass(frozen=True)
class OrderCard:
    number: str
    channel: str
    shop_order_no: str
    customer: str
    email: str | None
    phone: str | None
    status: str
    words: str
    """Where it stands, as the customer is told (:func:`customer_status`)."""
    placed_at: datetime
    hold_reasons: tuple[str, ...]
    parcels: tuple[ParcelCard, ...]
    last_mail: MessageRow | None
    """The last e-mail to the customer (any state), None when none was ever written."""


def order_card(db: Database, settings: Settings, number: str, *, now: datetime) -> OrderCard:
    """The order ``number`` as the service desk shows it; :class:`NotFound` when there is none."""
    with db.read() as s:
        order = s.scalars(select(Order).where(Order.number == number)).one_or_none()
        if order is None:
            raise NotFound(f"There is no order {number}.")
        rows = s.execute(
            select(Parcel, Courier.code, Courier.name, Courier.tracking_url)
            .join(Courier, Courier.id == Parcel.courier_id)
            .where(Parcel.order_id == order.id)
            .order_by(Parcel.seq, Parcel.id)
        ).all()
        mails = [m for m in outbox.order_messages(s, order.id) if m.kind == MessageKind.EMAIL]
    news = [
        ParcelNews(name, p.status, p.handed_over_at, p.courier_status, p.courier_status_at,
                   p.returned_to_sender)
        for p, _code, name, _url in rows
    ]  # fmt: skip
    words = customer_status(
        order.status, news, hold_reasons=order.hold_reasons or (), tz=settings.warehouse.tz,
        now=now,
    )  # fmt: skip
    parcels = tuple(_parcel(settings, p, code, name, url) for p, code, name, url in rows)
    return OrderCard(
        number=order.number, channel=order.channel, shop_order_no=order.shop_order_no,
        customer=order.customer_name, email=order.customer_email, phone=order.ship_phone,
        status=order.status.value, words=words, placed_at=order.placed_at,
        hold_reasons=tuple(order.hold_reasons or ()), parcels=parcels,
        last_mail=mails[-1] if mails else None,
    )  # fmt: skip


def _parcel(settings: Settings, p: Parcel, code: str, name: str, url: str | None) -> ParcelCard:
    link = None
    if p.tracking_no and p.status is not ParcelStatus.VOIDED:
        link = tracking_url(settings, code, url, p.tracking_no)
    said = WORDS[CourierStatus(p.courier_status)] if p.courier_status else None
    return ParcelCard(p.seq, p.tracking_no, name, code, p.status.value, said,
                      p.courier_status_at, link, p.handed_over_at)  # fmt: skip
