"""A message made whole: what the outbox row is about, read from the database, and the e-mail
built from it.

:func:`load` reads, in the caller's transaction, everything a message needs (the order, the
items, the parcels with their tracking links, the courier); :func:`render_mail` fills the
templates; :func:`email_bytes` builds the MIME message with its stable Message-ID. The same
message built twice (a resend after a crash) is the same message, Date and Message-ID included.
"""

from __future__ import annotations

import email
import email.errors
import email.policy
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from email.charset import QP, Charset
from email.generator import BytesGenerator
from email.header import Header
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr, parseaddr
from io import BytesIO
from typing import Any, cast
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from picker.config import Settings
from picker.domain.notify import (
    NOT_AN_ADDRESS,
    MessageKind,
    check_mail_address,
    header_text,
    idempotency_key,
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
    #: When it was queued last (a message failing for a passing reason is given up on
    #: ``[notify] give_up_after_h`` after it).
    queued_at: datetime | None = None
    #: The order's status and hold reasons when the message was read (is its news still true?).
    order_status: str = ""
    hold_reasons: tuple[str, ...] = ()
    #: The shop's own id of the order (its API is called with it); None when not known.
    shop_order_id: str | None = None

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
    found = load_many(s, [message_id_], settings)
    if message_id_ not in found:
        raise NotFound(f"no message {message_id_} in the outbox")
    return found[message_id_]


_MESSAGE = OutboxMessage.__table__.c
_ORDER_COLUMNS = (
    Order.id, Order.number, Order.shop_order_no, Order.shop_order_id, Order.channel,
    Order.customer_name,
    Order.ship_name, Order.ship_street, Order.ship_street2, Order.ship_postal_code,
    Order.ship_city, Order.ship_region, Order.ship_country, Order.placed_at, Order.currency,
    Order.total_amount, Order.cod_amount, Order.note, Order.courier_id, Order.status,
    Order.hold_reasons,
)  # fmt: skip


def load_many(s: Session, ids: Sequence[int], settings: Settings) -> dict[int, Letter]:
    """Messages and all they tell, read in ``s`` with a handful of queries whatever their
    number (a dispatcher's batch); an id not in the outbox is left out."""
    messages = s.execute(select(OutboxMessage.__table__).where(_MESSAGE.id.in_(ids))).all()
    return _assemble(s, [m._mapping for m in messages], settings)


def _assemble(s: Session, messages: Sequence[Any], settings: Settings) -> dict[int, Letter]:
    if not messages:
        return {}
    order_ids = {m["order_id"] for m in messages}
    orders = {o.id: o for o in s.execute(select(*_ORDER_COLUMNS).where(Order.id.in_(order_ids)))}
    lines: dict[int, list[Any]] = {i: [] for i in order_ids}
    for r in s.execute(
        select(OrderLine.id, OrderLine.order_id, OrderLine.sku, OrderLine.name,
               OrderLine.quantity, OrderLine.unit_price, OrderLine.line_no)
        .where(OrderLine.order_id.in_(order_ids))
        .order_by(OrderLine.order_id, OrderLine.line_no)
    ):  # fmt: skip
        lines[r.order_id].append(r)
    by_line = {r.id: r for rows in lines.values() for r in rows}
    couriers = {
        c.id: c for c in s.execute(select(Courier.id, Courier.code, Courier.name,
                                          Courier.tracking_url))
    }  # fmt: skip
    parcel_ids = {p for m in messages for p in (m["parcels"] or ())}
    parcels: dict[int, Any] = {}
    contents: dict[int, list[Item]] = {p: [] for p in parcel_ids}
    if parcel_ids:
        parcels = {
            p.id: p
            for p in s.execute(
                select(Parcel.id, Parcel.seq, Parcel.label_no, Parcel.tracking_no,
                       Parcel.weight_g, Parcel.courier_id)
                .where(Parcel.id.in_(parcel_ids))
            )
        }  # fmt: skip
        for parcel_id, line_id, quantity in s.execute(
            select(ParcelItem.parcel_id, ParcelItem.order_line_id, ParcelItem.quantity)
            .where(ParcelItem.parcel_id.in_(parcel_ids))
            .order_by(ParcelItem.id)
        ):
            line = by_line[line_id]
            contents[parcel_id].append(
                Item(line.sku, line.name, quantity, line.unit_price, line.line_no)
            )
    letters = {}
    for m in messages:
        o = orders[m["order_id"]]
        courier = couriers.get(o.courier_id)
        shipment = sorted((parcels[i] for i in (m["parcels"] or ()) if i in parcels),
                          key=lambda p: p.seq)  # fmt: skip
        infos = tuple(
            ParcelInfo(p.id, p.label_no or p.seq, p.tracking_no or "",
                       tracking_url(settings, couriers[p.courier_id].code,
                                    couriers[p.courier_id].tracking_url, p.tracking_no or ""),
                       p.weight_g, tuple(contents[p.id]))
            for p in shipment
        )  # fmt: skip
        letters[m["id"]] = Letter(
            id=m["id"], key=m["key"], event=m["event"], kind=m["kind"], status=m["status"],
            recipient=m["recipient"], locale=m["locale"], detail=dict(m["detail"] or {}),
            created_at=m["created_at"], attempts=m["attempts"], order_number=o.number,
            shop_order_no=o.shop_order_no, channel=o.channel,
            customer_name=o.customer_name or o.ship_name, placed_at=o.placed_at,
            currency=o.currency, total=o.total_amount, cod=o.cod_amount, note=o.note,
            ship_to=_ship_to(o), items=_items(lines[o.id], infos),
            courier_code=courier.code if courier else None,
            courier_name=courier.name if courier else None, parcels=infos,
            queued_at=m.get("queued_at"), order_status=str(o.status),
            hold_reasons=tuple(o.hold_reasons or ()), shop_order_id=o.shop_order_id,
        )  # fmt: skip
    return letters


def _ship_to(o: Any) -> tuple[str, ...]:
    return tuple(
        part
        for part in (
            o.ship_name, o.ship_street, o.ship_street2,
            " ".join(p for p in (o.ship_postal_code, o.ship_city) if p), o.ship_region,
            o.ship_country,
        )
        if part
    )  # fmt: skip


def _items(lines: Sequence[Any], parcels: Sequence[ParcelInfo]) -> tuple[Item, ...]:
    """A shipment's items: what left, summed over its parcels, in the order's line order; any
    other message's: the order's lines."""
    if not parcels:
        return tuple(Item(r.sku, r.name, r.quantity, r.unit_price, r.line_no) for r in lines)
    sent: dict[int, int] = {}
    for p in parcels:
        for item in p.items:
            sent[item.line_no] = sent.get(item.line_no, 0) + item.quantity
    return tuple(
        Item(r.sku, r.name, sent[r.line_no], r.unit_price, r.line_no)
        for r in lines
        if r.line_no in sent
    )


def letter_for(
    s: Session, number: str, event_name: str, settings: Settings, *, at: datetime
) -> Letter:
    """The mail ``event_name`` would send about order ``number`` now, whether or not it was
    queued (``picker notify preview``; when it was, the queued message's): a shipment's
    parcels are the order's closed and handed-over ones; a cancellation's reason is the
    default one (none given); a hold's, the order's own."""
    from picker.domain.notify import (
        DEFAULT_CUSTOMER_REASON,
        customer_fixable,
        event,
        missing_address_parts,
        outbox_key,
    )

    event(event_name)  # known, or refused by name
    o = s.execute(
        select(Order.id, Order.customer_email, Order.customer_locale, Order.hold_reasons).where(
            Order.number == number.strip()
        )
    ).one_or_none()
    if o is None:
        raise NotFound(f"no order {number}")
    parcels: list[int] = []
    detail: dict[str, Any] = {}
    if event_name in ("shipped", "delivered"):
        parcels = sorted(s.scalars(select(Parcel.id).where(
            Parcel.order_id == o.id, Parcel.status.in_(("closed", "handed_over")))))  # fmt: skip
    elif event_name == "cancelled":
        detail = {"reason": DEFAULT_CUSTOMER_REASON}
    elif event_name == "on_hold_customer":
        detail = {"missing": missing_address_parts(customer_fixable(o.hold_reasons or []))}
    kind = MessageKind.EMAIL.value
    key = outbox_key(o.id, event_name, kind, parcels)
    if event_name == "return_received":
        # One per return: the order's latest return's (its key names its RMA number).
        key = s.scalar(
            select(OutboxMessage.key)
            .where(OutboxMessage.order_id == o.id, OutboxMessage.event == event_name,
                   OutboxMessage.kind == kind)
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        ) or ""  # fmt: skip
        if not key:
            raise NotFound(f"no return of order {number.strip()} was received")
    # The cause already queued: its row's id, time and detail (a cancellation's reason), so the
    # preview is the mail sent, Message-ID and Date included.
    queued = s.execute(
        select(OutboxMessage.id, OutboxMessage.created_at, OutboxMessage.detail).where(
            OutboxMessage.key == key
        )
    ).one_or_none()
    m = {
        "id": queued.id if queued else 0, "key": key, "order_id": o.id,
        "event": event_name, "kind": kind, "parcels": parcels,
        "detail": (queued.detail or detail) if queued else detail,
        "recipient": o.customer_email, "locale": o.customer_locale, "status": "preview",
        "attempts": 0, "created_at": queued.created_at if queued else at,
    }  # fmt: skip
    return _assemble(s, [m], settings)[m["id"]]


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
        "returned": _returned(letter),
        "shipped_at": letter.created_at,
        "delivered_at": _delivered_at(letter),
        "warehouse": {"name": w.name, "street": w.street, "postal_code": w.postal_code,
                      "city": w.city, "country": w.country},
    }  # fmt: skip


#: A returned unit's condition as the warehouse judged it (``picker.domain.returns.Condition``),
#: in the order the mail lists them: what the customer gets money for first.
CONDITIONS = ("resell", "damaged", "defect", "incomplete", "scrap", "foreign")


def _money(value: Any) -> Decimal:
    """An amount the outbox keeps as text ("12.50"); nothing, or not a number, is 0."""
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except ArithmeticError:
        return Decimal(0)


def returned_context(detail: dict[str, Any], order_currency: str) -> dict[str, Any]:
    """What the ``return_received`` templates see of a return, from the message's detail (as
    the return's close queued it): its RMA number, the units
    that arrived (``sku``, ``name``, ``quantity``, ``condition``, ``ours``: false for what is
    not of the order, which is named by no name; the same SKU in the same condition summed, in
    the order of :data:`CONDITIONS`), the refund and the part of it that
    is shipping as Decimals in the refund's currency (the order's when the detail names none),
    and the exchange order's number (None when there is none)."""
    summed: dict[tuple[str, str, str], int] = {}
    for unit in detail.get("units") or ():
        if not isinstance(unit, dict):
            continue
        condition = str(unit.get("condition") or "")
        sku = str(unit.get("sku") or "")
        # Not of the order (a foreign item, an empty box): its name is the desk's own note,
        # words for the floor, never shown to the customer (as a lead's cancel reason).
        name = str(unit.get("name") or "") if sku and condition != "foreign" else ""
        key = (condition if sku else "foreign", sku, name)
        quantity = unit.get("quantity", 1)
        summed[key] = summed.get(key, 0) + (quantity if isinstance(quantity, int) else 1)
    rank = {c: i for i, c in enumerate(CONDITIONS)}
    units = [
        {"condition": c, "sku": sku, "name": name or sku, "quantity": n, "ours": c != "foreign"}
        for (c, sku, name), n in sorted(summed.items(), key=lambda kv: rank.get(kv[0][0], 99))
    ]
    return {
        "number": str(detail.get("return") or ""),
        "units": units,
        "refund": _money(detail.get("refund")),
        "shipping_refunded": _money(detail.get("shipping_refunded")),
        "currency": str(detail.get("currency") or order_currency),
        "exchange_order": detail.get("exchange_order") or None,
    }


def _returned(letter: Letter) -> dict[str, Any] | None:
    if letter.event != "return_received":
        return None
    return {**returned_context(letter.detail, letter.currency), "received_at": letter.created_at}


def _delivered_at(letter: Letter) -> datetime:
    """When the courier delivered (a delivery's detail), else when the message was queued."""
    written = (letter.detail or {}).get("delivered_at")
    try:
        return datetime.fromisoformat(written) if isinstance(written, str) else letter.created_at
    except ValueError:
        return letter.created_at


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
    """The mail's Message-ID: of its outbox row (the same on every send), see
    :func:`~picker.domain.notify.message_id`."""
    return message_id(letter.key, sender_domain(settings), row_id=letter.id,
                      created_at=letter.created_at)  # fmt: skip


#: Text parts as quoted-printable UTF-8 (readable in the raw message, 7-bit safe).
_UTF8 = Charset("utf-8")
_UTF8.body_encoding = QP
#: Lines end in CRLF, as SMTP and .eml files want them.
_WIRE = compat32.clone(linesep="\r\n")


def _mailbox(name: str, address: str, header: str) -> str:
    """``Name <address>`` for a header: an ASCII name quoted as needed, any other as RFC 2047
    encoded words of at most 75 characters each."""
    if name.isascii():
        return formataddr((name, address))
    value = Header(name, _UTF8, header_name=header)
    value.append(f"<{address}>", "us-ascii")
    return cast(str, value)  # the email package takes a Header wherever it takes text


def email_bytes(letter: Letter, rendered: Rendered, settings: Settings) -> bytes:
    """The MIME message, as sent: text with an HTML alternative, every header made of safe
    text (a line break in a name becomes a space, so no header can be injected), non-ASCII as
    RFC 2047 encoded words, bodies quoted-printable; the Message-ID, Date and boundary derived
    from the outbox row, so the same message built again is the same bytes.

    Built with the email package's compat32 classes: the same message through
    ``EmailMessage`` took ~7 ms to build and write, this ~1 ms (measured), and a dispatcher
    spends its time here."""
    if letter.kind != MessageKind.EMAIL.value:
        raise ValueError(f"message {letter.id} is a {letter.kind} message, not a mail")
    recipient = mail_recipient(letter)
    try:
        return _mime(letter, recipient, rendered, settings)
    except (ValueError, TypeError, LookupError, email.errors.MessageError) as exc:
        # UnicodeEncodeError and HeaderParseError among them: this message's text, for good
        raise UnsendableMail(f"the mail cannot be made: {_words(exc)}") from None


def _words(exc: BaseException) -> str:
    words = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {words}" if words else type(exc).__name__


def mail_recipient(letter: Letter) -> str:
    """The address the mail of ``letter`` goes to, as sent; :class:`UnsendableMail` (in words)
    when there is none mail can go to."""
    address, problem = check_mail_address(letter.recipient)
    if address is None:
        raise UnsendableMail(problem or NOT_AN_ADDRESS)
    return address


def _mime(letter: Letter, recipient: str, rendered: Rendered, settings: Settings) -> bytes:
    msg = MIMEMultipart("alternative", boundary="=_picker_" + idempotency_key(letter.key)[:24])
    name, address = parseaddr(settings.notify.sender)
    msg["From"] = _mailbox(header_text(name), address, "From")
    msg["To"] = _mailbox(header_text(letter.customer_name, 120), recipient, "To")
    subject = header_text(rendered.subject, 250)
    msg["Subject"] = (
        subject if subject.isascii() else cast(str, Header(subject, _UTF8, header_name="Subject"))
    )
    msg["Date"] = format_datetime(letter.created_at)
    msg["Message-ID"] = stable_message_id(letter, settings)
    msg["Auto-Submitted"] = "auto-generated"
    msg["Content-Language"] = rendered.language
    msg["X-Picker-Order"] = header_text(letter.order_number)
    msg["X-Picker-Event"] = letter.event
    msg.attach(MIMEText(rendered.text, "plain", cast(str, _UTF8)))  # a Charset is taken too
    msg.attach(MIMEText(rendered.html, "html", cast(str, _UTF8)))
    out = BytesIO()
    BytesGenerator(out, policy=_WIRE).flatten(msg)
    return out.getvalue()


class UnsendableMail(ServiceError):
    """A mail that cannot be made for good (an address mail cannot go to, a header the email
    package refuses): sending it again will not help. The message says why, in words."""


def preview(s: Session, message_id_: int, settings: Settings) -> tuple[Letter, bytes]:
    """The message as it would be sent (an .eml), or for a shop message its request."""
    letter = load(s, message_id_, settings)
    if letter.kind == MessageKind.EMAIL.value:
        return letter, email_bytes(letter, render_mail(letter, settings), settings)
    from picker.services.notify.shop import describe_requests

    return letter, describe_requests(letter, settings).encode()


@dataclass(frozen=True)
class Shown:
    """One message as ``picker notify show`` prints it: a mail's headers decoded and its text
    part, or a shop message's requests; ``raw`` is what is sent (the .eml), None when no mail
    can be made of it, and then ``problem`` says why."""

    letter: Letter
    headers: tuple[tuple[str, str], ...]
    body: str
    raw: bytes | None
    problem: str | None = None


#: The headers a person reads, in the order they are shown.
SHOWN_HEADERS = ("From", "To", "Subject", "Date", "Message-ID")


def show(db: Database, settings: Settings, message_id_: int) -> Shown:
    """A message as it is (or would be) sent, for a person to read: never raises for a
    message that cannot be made into a mail, but says why (:attr:`Shown.problem`)."""
    with db.read() as s:
        letter = load(s, message_id_, settings)
    if letter.kind != MessageKind.EMAIL.value:
        from picker.services.notify.shop import describe_requests

        requests = describe_requests(letter, settings)
        return Shown(letter, (), requests, requests.encode())
    try:
        rendered = render_mail(letter, settings)
    except ServiceError as exc:  # a broken override template: said, not shown
        return Shown(letter, (), "", None, str(exc))
    try:
        raw = email_bytes(letter, rendered, settings)
    except UnsendableMail as exc:
        headers: tuple[tuple[str, str], ...] = (
            ("From", header_text(settings.notify.sender)),
            ("To", f"(none: {exc})"),
            ("Subject", header_text(rendered.subject, 250)),
            ("Date", format_datetime(letter.created_at)),
            ("Message-ID", stable_message_id(letter, settings)),
        )
        return Shown(letter, headers, rendered.text, None, str(exc))
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    body = msg.get_body(("plain",)) if isinstance(msg, EmailMessage) else None
    text = body.get_content() if body is not None else ""
    headers = tuple((name, str(msg[name])) for name in SHOWN_HEADERS if msg[name] is not None)
    return Shown(letter, headers, text, raw)


def preview_event(
    db: Database, settings: Settings, number: str, event_name: str, *, at: datetime
) -> bytes:
    """The .eml the event would send about order ``number``, rendered, sent nowhere."""
    with db.read() as s:
        letter = letter_for(s, number, event_name, settings, at=at)
    try:
        return email_bytes(letter, render_mail(letter, settings), settings)
    except UnsendableMail as exc:
        number = letter.order_number
        raise ServiceError(f"nothing would be sent for order {number}: {exc}") from None
