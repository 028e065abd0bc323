"""A message made whole: what the outbox row is about, read from the database, and the e-mail
built from it.

:func:`load` reads, in the caller's transaction, everything a message needs (the order, the
items, the parcels with their tracking links, the courier); :func:`render_mail` fills the
templates; :func:`email_message` builds the MIME message with its stable Message-ID. The same
message built twice (a resend after a crash) is the same message, Date and Message-ID included.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from picker.config import Settings
from picker.domain.notify import (
    MessageKind,
    header_text,
    idempotency_key,
    mail_address,
    message_id,
)
from picker.services.errors import NotFound, ServiceError
from picker.services.notify.templates import Rendered, render
from picker.store.engine import Database
from picker.store.models import (
    Courier,
    Order,
    OrderLine,
    OutboxMessage,
    Parcel,
    ParcelItem,
)


@dataclass(frozen=True)
class Item:
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    #: The line's number on the order.
    line_no: int


@dataclass(frozen=True)
class ParcelInfo:
    id: int
    seq: int
    tracking_no: str
    url: str | None
    weight_g: int | None
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Letter:
    """One outbox message with everything it tells, read at one moment."""

    id: int
    key: str
    event: str
    kind: str
    status: str
    recipient: str | None
    locale: str | None
    detail: dict[str, Any]
    created_at: datetime
    attempts: int
    order_number: str
    shop_order_no: str
    channel: str
    customer_name: str
    placed_at: datetime
    currency: str
    total: Decimal
    cod: Decimal | None
    note: str | None
    ship_to: tuple[str, ...]
    items: tuple[Item, ...]
    courier_code: str | None
    courier_name: str | None
    parcels: tuple[ParcelInfo, ...] = field(default_factory=tuple)

    @property
    def tracking_numbers(self) -> list[str]:
        return [p.tracking_no for p in self.parcels]


def tracking_url(
    settings: Settings, courier_code: str | None, stored: str | None, number: str
) -> str | None:
    """The courier's tracking link for ``number``: ``[couriers.CODE] tracking_url`` in
    config.toml, else the courier's own (``picker setup``); None when neither is set."""
    template = None
    if courier_code:
        configured = settings.couriers.get(courier_code.upper())
        template = configured.tracking_url if configured and configured.tracking_url else None
    template = template or stored
    if not template or "{tracking}" not in template:
        return None
    return template.replace("{tracking}", quote(number, safe=""))


def load(s: Session, message_id_: int, settings: Settings) -> Letter:
    """The message ``message_id_`` and all it tells, read in ``s``."""
    m = s.get(OutboxMessage, message_id_)
    if m is None:
        raise NotFound(f"no message {message_id_} in the outbox")
    o = s.get(Order, m.order_id)
    assert o is not None  # a foreign key
    return _assemble(s, o, m, settings)


def letter_for(
    s: Session, number: str, event_name: str, settings: Settings, *, at: datetime
) -> Letter:
    """The mail ``event_name`` would send about order ``number`` now, whether or not it was
    queued (``picker notify preview``): a shipment's parcels are the order's closed and
    handed-over ones; a cancellation's reason is "other"; a hold's, the order's own."""
    from picker.domain.notify import (
        cancel_reason,
        customer_fixable,
        event,
        missing_address_parts,
        outbox_key,
    )

    event(event_name)  # known, or refused by name
    o = s.scalars(select(Order).where(Order.number == number.strip())).one_or_none()
    if o is None:
        raise NotFound(f"no order {number}")
    parcels: list[int] = []
    detail: dict[str, Any] = {}
    if event_name == "shipped":
        parcels = sorted(s.scalars(select(Parcel.id).where(
            Parcel.order_id == o.id, Parcel.status.in_(("closed", "handed_over")))))  # fmt: skip
    elif event_name == "cancelled":
        detail = {"reason": cancel_reason("")}
    elif event_name == "on_hold_customer":
        detail = {"missing": missing_address_parts(customer_fixable(o.hold_reasons or []))}
    kind = MessageKind.EMAIL.value
    m = OutboxMessage(
        id=0, key=outbox_key(o.id, event_name, kind, parcels), order_id=o.id, event=event_name,
        kind=kind, parcels=parcels, detail=detail, recipient=o.customer_email,
        locale=o.customer_locale, status="preview", attempts=0, created_at=at,
    )  # fmt: skip
    return _assemble(s, o, m, settings)


def _assemble(s: Session, o: Order, m: OutboxMessage, settings: Settings) -> Letter:
    lines = s.execute(
        select(OrderLine.id, OrderLine.sku, OrderLine.name, OrderLine.quantity,
               OrderLine.unit_price, OrderLine.line_no)
        .where(OrderLine.order_id == o.id)
        .order_by(OrderLine.line_no)
    ).all()  # fmt: skip
    by_line = {r.id: r for r in lines}
    courier = None
    if o.courier_id is not None:
        courier = s.execute(
            select(Courier.code, Courier.name, Courier.tracking_url).where(
                Courier.id == o.courier_id
            )
        ).one_or_none()
    parcels: list[ParcelInfo] = []
    if m.parcels:
        found = s.execute(
            select(Parcel.id, Parcel.seq, Parcel.label_no, Parcel.tracking_no, Parcel.weight_g,
                   Courier.code, Courier.tracking_url)
            .join(Courier, Courier.id == Parcel.courier_id)
            .where(Parcel.id.in_(m.parcels))
            .order_by(Parcel.seq)
        ).all()  # fmt: skip
        contents: dict[int, list[Item]] = {p.id: [] for p in found}
        for parcel_id, line_id, quantity in s.execute(
            select(ParcelItem.parcel_id, ParcelItem.order_line_id, ParcelItem.quantity)
            .where(ParcelItem.parcel_id.in_(m.parcels))
            .order_by(ParcelItem.id)
        ):
            line = by_line[line_id]
            contents[parcel_id].append(
                Item(line.sku, line.name, quantity, line.unit_price, line.line_no)
            )
        parcels = [
            ParcelInfo(p.id, p.label_no or p.seq, p.tracking_no or "",
                       tracking_url(settings, p.code, p.tracking_url, p.tracking_no or ""),
                       p.weight_g, tuple(contents[p.id]))
            for p in found
        ]  # fmt: skip
    if parcels:  # a shipment: what left, summed over its parcels, in the order's line order
        sent: dict[int, int] = {}
        for p in parcels:
            for item in p.items:
                sent[item.line_no] = sent.get(item.line_no, 0) + item.quantity
        items = tuple(
            Item(r.sku, r.name, sent[r.line_no], r.unit_price, r.line_no)
            for r in lines
            if r.line_no in sent
        )
    else:
        items = tuple(Item(r.sku, r.name, r.quantity, r.unit_price, r.line_no) for r in lines)
    ship_to = tuple(
        part
        for part in (
            o.ship_name, o.ship_street, o.ship_street2,
            " ".join(p for p in (o.ship_postal_code, o.ship_city) if p), o.ship_region,
            o.ship_country,
        )
        if part
    )  # fmt: skip
    return Letter(
        id=m.id, key=m.key, event=m.event, kind=m.kind, status=m.status, recipient=m.recipient,
        locale=m.locale, detail=dict(m.detail or {}), created_at=m.created_at,
        attempts=m.attempts, order_number=o.number, shop_order_no=o.shop_order_no,
        channel=o.channel, customer_name=o.customer_name or o.ship_name, placed_at=o.placed_at,
        currency=o.currency, total=o.total_amount, cod=o.cod_amount, note=o.note,
        ship_to=ship_to, items=items, courier_code=courier.code if courier else None,
        courier_name=courier.name if courier else None, parcels=tuple(parcels),
    )  # fmt: skip


def template_context(letter: Letter, settings: Settings) -> dict[str, Any]:
    """What the templates see (documented in the README's Notify section)."""
    w = settings.warehouse
    return {
        "event": letter.event,
        "order": {
            "number": letter.order_number, "shop_number": letter.shop_order_no,
            "placed_at": letter.placed_at, "currency": letter.currency, "total": letter.total,
            "cod": letter.cod, "note": letter.note or "",
        },
        "customer": {"name": letter.customer_name},
        "ship_to": list(letter.ship_to),
        "items": [
            {"sku": i.sku, "name": i.name, "quantity": i.quantity, "unit_price": i.unit_price,
             "total": i.unit_price * i.quantity}
            for i in letter.items
        ],
        "courier": {"code": letter.courier_code or "", "name": letter.courier_name or ""},
        "parcels": [
            {"number": p.seq, "tracking_no": p.tracking_no, "url": p.url,
             "weight_g": p.weight_g}
            for p in letter.parcels
        ],
        "detail": letter.detail,
        "shipped_at": letter.created_at,
        "warehouse": {"name": w.name, "street": w.street, "postal_code": w.postal_code,
                      "city": w.city, "country": w.country},
    }  # fmt: skip


def render_mail(letter: Letter, settings: Settings) -> Rendered:
    n = settings.notify
    return render(
        letter.event, template_context(letter, settings), locale_tag=letter.locale,
        default_locale=n.default_locale, timezone=settings.warehouse.tz,
        templates_dir=n.templates_dir,
    )  # fmt: skip


def sender_domain(settings: Settings) -> str:
    return parseaddr(settings.notify.sender)[1].rpartition("@")[2] or "picker.invalid"


def stable_message_id(letter: Letter, settings: Settings) -> str:
    return message_id(letter.key, sender_domain(settings))


def email_message(letter: Letter, rendered: Rendered, settings: Settings) -> EmailMessage:
    """The MIME message: text with an HTML alternative, every header made of safe text (a name
    with a line break cannot start a header), non-ASCII encoded (RFC 2047, quoted-printable)."""
    if letter.kind != MessageKind.EMAIL.value or not letter.recipient:
        raise ValueError(f"message {letter.id} is not a mail to anyone")
    msg = EmailMessage(policy=SMTP)
    name, address = parseaddr(settings.notify.sender)
    msg["From"] = Address(display_name=header_text(name), addr_spec=address)
    msg["To"] = Address(display_name=header_text(letter.customer_name, 120),
                        addr_spec=letter.recipient)  # fmt: skip
    msg["Subject"] = header_text(rendered.subject, 250)
    msg["Date"] = format_datetime(letter.created_at)
    msg["Message-ID"] = stable_message_id(letter, settings)
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Picker-Order"] = header_text(letter.order_number)
    msg["X-Picker-Event"] = letter.event
    msg.set_content(rendered.text, cte="quoted-printable")
    msg.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
    # After the body: making it multipart moves the Content-* headers into the first part.
    msg["Content-Language"] = rendered.language
    # Byte for byte the same message when built again (the boundary is random otherwise).
    msg.set_boundary("=_picker_" + idempotency_key(letter.key)[:24])
    return msg


def preview(s: Session, message_id_: int, settings: Settings) -> tuple[Letter, bytes]:
    """The message as it would be sent (an .eml), or for a shop message its request."""
    letter = load(s, message_id_, settings)
    if letter.kind == MessageKind.EMAIL.value:
        return letter, email_message(letter, render_mail(letter, settings), settings).as_bytes()
    from picker.services.notify.shop import describe_requests

    return letter, describe_requests(letter, settings).encode()


def show(db: Database, settings: Settings, message_id_: int) -> tuple[Letter, bytes]:
    """A queued (or sent) message as it is sent: the .eml, or a shop message's requests."""
    with db.read() as s:
        return preview(s, message_id_, settings)


def preview_event(
    db: Database, settings: Settings, number: str, event_name: str, *, at: datetime
) -> bytes:
    """The .eml the event would send about order ``number``, rendered, sent nowhere."""
    with db.read() as s:
        letter = letter_for(s, number, event_name, settings, at=at)
    address = mail_address(letter.recipient)
    if address is None:
        raise ServiceError(
            f"order {letter.order_number} has no e-mail address a mail can go to; "
            "nothing would be sent"
        )
    letter = replace(letter, recipient=address)
    return email_message(letter, render_mail(letter, settings), settings).as_bytes()
