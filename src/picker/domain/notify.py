"""What the outside world is told, and when: the rules of the outbox, with no I/O.

A message in the outbox is one thing to tell one party about one change of one order: the
customer by e-mail (``email``) or the shop the order came from (``shop``, the fulfilment).
It is keyed by what caused it (order, event, kind and the set of parcels it is about), so the
same cause can never be told twice, and its Message-ID is derived from that key, so a message
sent again after a crash is recognisably the same message.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from picker.domain.statuses import ORDER_FINISHED, OrderStatus


class MessageKind(StrEnum):
    EMAIL = "email"
    SHOP = "shop"


class MessageStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


#: Not sent yet and not given up on: the dispatcher's work, the title line's "waiting".
WAITING = (MessageStatus.QUEUED, MessageStatus.SENDING)
#: Finished one way or another: nothing more happens to them by themselves.
FINISHED = (MessageStatus.SENT, MessageStatus.FAILED, MessageStatus.CANCELLED,
            MessageStatus.SKIPPED)  # fmt: skip


@dataclass(frozen=True)
class Event:
    """Something in an order's life the customer (and for some, the shop) is told of."""

    name: str
    #: Told unless ``[notify.events]`` switches it off.
    default_on: bool
    #: Who is told: the customer by mail, and for a shipment the shop too.
    kinds: tuple[MessageKind, ...]
    #: What it is, for ``--help`` and the README.
    describe: str


#: Every event that notifies. Adding one: a line here, its templates (one per language), and
#: one ``enqueue(session, order, "NAME", ...)`` at its cause.
EVENTS: dict[str, Event] = {
    e.name: e
    for e in (
        Event("shipped", True, (MessageKind.EMAIL, MessageKind.SHOP),
              "the order was handed to its courier (tracking numbers and links)"),
        Event("accepted", False, (MessageKind.EMAIL,),
              "the order passed validation onto the floor (\"we are preparing your order\")"),
        Event("on_hold_customer", False, (MessageKind.EMAIL,),
              "the order is held for something the customer can fix (an incomplete address)"),
        Event("cancelled", True, (MessageKind.EMAIL,),
              "a paid order was cancelled (the reason in customer words)"),
        Event("delivered", True, (MessageKind.EMAIL,),
              "the courier delivered every parcel of the order (picker tracking import)"),
        Event("return_received", True, (MessageKind.EMAIL, MessageKind.SHOP),
              "a return was received: what arrived, its condition, the refund (and the shop's "
              "refund request)"),
    )
}  # fmt: skip


class UnknownEvent(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"{name!r} is not an event Picker notifies ({', '.join(EVENTS)})")


def event(name: str) -> Event:
    try:
        return EVENTS[name]
    except KeyError:
        raise UnknownEvent(name) from None


#: The longest key the outbox holds; a long parcel set is shortened to a digest.
KEY_LENGTH = 160


def outbox_key(
    order_id: int,
    event_name: str,
    kind: str,
    parcels: Iterable[int] = (),
    *,
    subject: str | None = None,
) -> str:
    """The cause of a message, as the outbox's unique key: ``order/event/kind/parcels``, or
    ``order/event/kind/SUBJECT`` for a cause of its own within the order (a return's RMA
    number: a second return of the same order is told too).

    The parcel set is sorted (the same parcels in another order are the same cause); a set too
    long to write out is its SHA-256 digest.
    """
    if subject is not None:
        return f"{order_id}/{event_name}/{kind}/{subject}"[:KEY_LENGTH]
    ids = sorted(set(parcels))
    written = "-".join(str(i) for i in ids)
    key = f"{order_id}/{event_name}/{kind}/{written}"
    if len(key) > KEY_LENGTH:
        digest = hashlib.sha256(written.encode()).hexdigest()[:40]
        key = f"{order_id}/{event_name}/{kind}/#{digest}"
    return key


def message_id(
    key: str, domain: str, *, row_id: int | None = None, created_at: datetime | None = None
) -> str:
    """A stable RFC 5322 Message-ID for the outbox message ``row_id`` of cause ``key``, queued
    at ``created_at``: the same on every send of that message (a resend after a crash is
    recognisably the same mail).

    The cause alone is not enough: a demo or staging database built again has the same order
    and outbox ids, and a mail server that has seen a Message-ID drops the next mail bearing
    it (Gmail does). The moment the message was queued, to the microsecond, differs from one
    database to the next; the outbox row keeps it, so its mail keeps its Message-ID."""
    seed = key
    if row_id is not None and created_at is not None:
        at = created_at.astimezone(UTC).isoformat(timespec="microseconds")
        seed = f"{key}|{row_id}|{at}"
    digest = hashlib.sha256(seed.encode()).hexdigest()[:32]
    domain = re.sub(r"[^A-Za-z0-9.-]", "", domain) or "picker.invalid"
    return f"<{digest}.outbox@{domain}>"


def idempotency_key(key: str) -> str:
    """What a shop is told the request's idempotency key is (the same on every send)."""
    return hashlib.sha256(key.encode()).hexdigest()[:40]


FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)


def backoff(attempts: int) -> timedelta:
    """How long a message waits after its ``attempts``-th send failed for a passing reason:
    30 s, doubling, at most an hour apart."""
    if attempts <= 1:
        return FIRST_BACKOFF
    return min(FIRST_BACKOFF * 2 ** min(attempts - 1, 20), MAX_BACKOFF)


#: Hold reasons (as validation words them) that the customer can fix by answering a mail.
_CUSTOMER_FIXABLE = ("address incomplete", "address:")


def customer_fixable(reasons: Sequence[str]) -> list[str]:
    """The hold reasons a customer can fix (an incomplete or unreadable address)."""
    return [r for r in reasons if r.startswith(_CUSTOMER_FIXABLE)]


def missing_address_parts(reasons: Sequence[str]) -> list[str]:
    """Which parts of the address validation found missing ("street", "postal code"…), as
    codes the templates translate: name, street, city, postal_code, country."""
    parts: list[str] = []
    for reason in customer_fixable(reasons):
        if reason.startswith("address incomplete: "):
            for part in reason.removeprefix("address incomplete: ").split(", "):
                parts.append(part.removeprefix("no ").strip().replace(" ", "_"))
        else:
            parts.append("country")
    return list(dict.fromkeys(parts))


_O = OrderStatus
#: The order statuses in which an event's mail still tells the truth (an event not named is
#: always true): "we are preparing your order" while it is on the floor, "fix your address"
#: while it is held, "it is on its way" once it left.
_STILL_TRUE: dict[str, frozenset[str]] = {
    "accepted": frozenset(set(OrderStatus) - ORDER_FINISHED),
    "on_hold_customer": frozenset({_O.ON_HOLD}),
    "shipped": frozenset({_O.EXECUTED, _O.DELIVERED}),
    "cancelled": frozenset({_O.CANCELLED}),
    "delivered": frozenset({_O.DELIVERED}),
}
#: An order's status as the reason a mail is out of date words it.
_NOW: dict[str, str] = {
    _O.CANCELLED: "cancelled", _O.EXECUTED: "shipped", _O.DELIVERED: "delivered",
    _O.RETURNED: "returned", _O.ON_HOLD: "on hold",
}  # fmt: skip


def out_of_date(event_name: str, order_status: str, hold_reasons: Sequence[str] = ()) -> str | None:
    """Why the mail of ``event_name`` would tell the customer something no longer true, the
    order being ``order_status`` (with ``hold_reasons``) now; None while it is still true.
    A mail waiting in the outbox (a server down, a retry) is checked just before it goes."""
    still = _STILL_TRUE.get(event_name)
    if still is None:
        return None
    if order_status not in still:
        now = _NOW.get(order_status)
        what = f"the order is {now} now" if now else "the order is no longer on hold"
        return f"{what}: the {event_name!r} mail is out of date"
    if event_name == "on_hold_customer" and not customer_fixable(hold_reasons):
        return (
            "the order is no longer held for anything the customer can fix: the "
            f"{event_name!r} mail is out of date"
        )
    return None


#: What the customer is told of why their order was cancelled (a template's code), chosen by
#: the lead who cancels it (``picker order cancel --customer-reason``). The lead's own words
#: are for the floor and are never shown to the customer; nothing is guessed from them.
CUSTOMER_REASONS = ("customer_request", "out_of_stock", "payment", "address", "other")
#: Told when the lead chose none: the plain fact of the cancellation, no reason given.
DEFAULT_CUSTOMER_REASON = "other"


class UnknownCustomerReason(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(
            f"{code!r} is not a reason a customer is told ({', '.join(CUSTOMER_REASONS)})"
        )


def customer_reason(code: str | None) -> str:
    """The customer's words for a cancellation, as a template's code; the default (``other``)
    when none is given, :class:`UnknownCustomerReason` for one not in
    :data:`CUSTOMER_REASONS`."""
    code = (code or DEFAULT_CUSTOMER_REASON).strip()
    if code not in CUSTOMER_REASONS:
        raise UnknownCustomerReason(code)
    return code


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def header_text(value: str, limit: int = 200) -> str:
    """Text fit for a mail header: no line breaks or other control characters (they become
    spaces, so a name cannot start a header of its own), spaces collapsed, at most ``limit``
    characters."""
    text = " ".join(_CONTROL.sub(" ", value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


#: What may stand before the @: no spaces, quotes, brackets or separators (a quoted local part
#: is refused too: no customer has one, and a typo is likelier).
_LOCAL = re.compile(r"[^@\s<>()\[\],;:\"\\]+")
#: A domain as it travels: ASCII letters, digits, dots and hyphens (IDNA already applied).
_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
#: The longest address SMTP carries (RFC 5321's path limit less the angle brackets).
ADDRESS_LENGTH = 254

NO_ADDRESS = "the order has no e-mail address"
NOT_AN_ADDRESS = "the order's e-mail address is not one mail can go to"


def check_mail_address(value: str | None) -> tuple[str | None, str | None]:
    """The customer's e-mail address as a mail goes to it, or why none can: ``(address, None)``
    or ``(None, reason)``.

    The part after the @ may be an internationalised domain: it travels in its ASCII (IDNA)
    form, so ``x@bücher.de`` is sent to ``x@xn--bcher-kva.de``. The part before it must be
    ASCII: a mailbox such as ``müller@…`` needs SMTPUTF8 from every server on the way, which
    Picker does not ask for. An empty field, a typo with no @, a line break smuggled in: no
    address, with the reason."""
    text = (value or "").strip()
    if not text:
        return None, NO_ADDRESS
    if _CONTROL.search(text) or len(text) > ADDRESS_LENGTH:
        return None, NOT_AN_ADDRESS
    local, at, domain = text.rpartition("@")
    if not at or not _LOCAL.fullmatch(local):
        return None, NOT_AN_ADDRESS
    if not local.isascii():
        return None, (
            f"the address {text} has non-ASCII letters before the @, which this mail server "
            "setup cannot send"
        )
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            return None, NOT_AN_ADDRESS
    address = f"{local}@{domain}"
    if not _DOMAIN.fullmatch(domain) or len(address) > ADDRESS_LENGTH:
        return None, NOT_AN_ADDRESS
    return address, None


def mail_address(value: str | None) -> str | None:
    """The customer's e-mail address as a mail goes to it (see :func:`check_mail_address`),
    else None."""
    return check_mail_address(value)[0]


def resend_key(key: str, n: int) -> str:
    """The key of a copy of the message of cause ``key`` (a customer's mail sent again), the
    order's ``n``-th message: unique (so the copy has a Message-ID of its own) and no longer
    than :data:`KEY_LENGTH`."""
    suffix = f"/again-{n}"
    if len(key) + len(suffix) > KEY_LENGTH:
        key = "#" + hashlib.sha256(key.encode()).hexdigest()[:40]
    return key + suffix
