"""The outbox: what the customer and the shop are to be told, written with its cause.

:func:`enqueue` is the one call a cause makes (a pickup's close, an order accepted, held or
cancelled), inside the cause's own transaction: a change rolled back takes its messages with it,
and a message exists only for work that committed. The unique key (order, event, kind, parcel
set) makes a second call for the same cause write nothing.

The rest is for the people who watch it: :func:`messages` and :func:`message` (`picker notify
list|show`), :func:`retry` and :func:`cancel` (a lead's), :func:`summary` (the title line).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from picker.config import Settings
from picker.domain.notify import (
    WAITING,
    MessageKind,
    MessageStatus,
    check_mail_address,
    customer_fixable,
    event,
    missing_address_parts,
    out_of_date,
    outbox_key,
    resend_key,
)
from picker.domain.notify import customer_reason as customer_reason_code
from picker.domain.statuses import ParcelStatus
from picker.domain.text import waiting as how_many_wait
from picker.services.actors import Actor, Clock, allow, system_clock
from picker.services.errors import Conflict, NotFound, ServiceError
from picker.services.orders.status import record_event
from picker.store.engine import Database
from picker.store.models import Order, OutboxMessage, Parcel

_Q, _SENDING = MessageStatus.QUEUED.value, MessageStatus.SENDING.value
_SENT, _FAILED = MessageStatus.SENT.value, MessageStatus.FAILED.value
_CANCELLED, _SKIPPED = MessageStatus.CANCELLED.value, MessageStatus.SKIPPED.value


def _dialect(s: Session | Connection) -> str:
    bind = s.get_bind() if isinstance(s, Session) else s
    return bind.dialect.name


def enqueue(
    s: Session | Connection,
    order: int | Sequence[int],
    event_name: str,
    *,
    at: datetime,
    settings: Settings | None = None,
    customer_reason: str | None = None,
    reasons: Sequence[str] = (),
    delivered_at: Mapping[int, datetime] | None = None,
    subject: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Queue what ``event_name`` tells about ``order`` (an order's id, or many), inside the
    caller's transaction. Each of the event's kinds gets one message per order, ``queued`` — or
    ``skipped`` with the reason when there is nothing to send it to (no e-mail address; with
    ``settings``, a shop channel with no fulfilment URL) or (with ``settings``) the event is
    switched off in ``[notify.events]``. The dispatcher checks the configuration again before
    it sends. A cause told before (same order, event, kind and parcels) writes nothing.

    ``customer_reason`` is what a cancellation's customer is told of why (one of
    :data:`~picker.domain.notify.CUSTOMER_REASONS`, chosen by the lead; default ``other``, no
    reason given); ``reasons`` a hold's reasons (only the customer-fixable ones make a message,
    see :func:`~picker.domain.notify.customer_fixable`); ``delivered_at`` a delivery's
    courier's time, by order id (told in the mail).

    ``subject`` names a cause of its own within the order, part of the key (a return's RMA
    number: the second return of an order gets messages of its own); ``detail`` is what the
    message tells (a return's units, refund, exchange order), kept as given.
    """
    what = event(event_name)
    ids = [order] if isinstance(order, int) else list(order)
    if not ids:
        return
    told: dict[str, Any] = {}
    if event_name == "on_hold_customer":
        fixable = customer_fixable(reasons)
        if not fixable:
            return  # nothing the customer can do: nothing to tell
        told = {"missing": missing_address_parts(fixable)}
    elif event_name == "cancelled":
        told = {"reason": customer_reason_code(customer_reason)}
    if detail is not None:
        told = {**told, **detail}
    orders = s.execute(
        select(
            Order.id,
            Order.customer_email,
            Order.channel,
            Order.customer_locale,
            Order.paid,
            Order.shop_order_no,
            Order.exchange_for_return_id,
        ).where(Order.id.in_(ids))
    ).all()
    parcels: dict[int, list[int]] = defaultdict(list)
    if event_name in ("shipped", "delivered"):
        for order_id, parcel_id in s.execute(
            select(Parcel.order_id, Parcel.id).where(
                Parcel.order_id.in_(ids), Parcel.status == ParcelStatus.HANDED_OVER.value
            )
        ):
            parcels[order_id].append(parcel_id)
    rows = []
    for o in orders:
        if event_name == "cancelled" and not o.paid:
            continue  # the customer paid nothing: nothing of theirs to give back or explain
        its_parcels = sorted(parcels.get(o.id, ()))
        its_detail = told
        if delivered_at is not None and o.id in delivered_at:
            its_detail = {"delivered_at": delivered_at[o.id].isoformat()}
        for kind in what.kinds:
            recipient, skip = _recipient(kind, o)
            if skip is None and settings is not None:
                skip = not_sent_because(settings, event_name, kind.value, o.channel)
            rows.append(
                {"key": outbox_key(o.id, event_name, kind.value, its_parcels, subject=subject),
                 "order_id": o.id,
                 "event": event_name, "kind": kind.value, "parcels": its_parcels,
                 "detail": its_detail, "recipient": recipient, "locale": o.customer_locale,
                 "status": _SKIPPED if skip else _Q, "attempts": 0,
                 "next_attempt_at": None if skip else at, "error": skip, "created_at": at,
                 "queued_at": at}
            )  # fmt: skip
    if not rows:
        return
    insert = pg_insert if _dialect(s) == "postgresql" else sqlite_insert
    s.execute(insert(OutboxMessage).on_conflict_do_nothing(index_elements=["key"]), rows)


def _recipient(kind: MessageKind, o: Any) -> tuple[str | None, str | None]:
    """(whom the message goes to, why it cannot go: None when it can)."""
    if kind is MessageKind.SHOP:
        if o.exchange_for_return_id is not None:
            # A replacement has no order in the shop: the return's own refund message told it.
            return o.channel, (
                f"a replacement for the return {o.shop_order_no}: the shop has no order of it "
                "(the return's refund request told the shop)"
            )
        return o.channel, None
    address, problem = check_mail_address(o.customer_email)
    if address is None:
        # Kept as the shop sent it (cut to fit), so a lead sees what was wrong with it.
        return (o.customer_email or "").strip()[:254] or None, problem
    return o.customer_email.strip(), None


def not_sent_because(settings: Settings, event_name: str, kind: str, channel: str) -> str | None:
    """Why the configuration says a message is not to be sent (the event switched off, the
    shop channel with nowhere to send its fulfilment); None when it is to be sent."""
    if not settings.notify.events.get(event_name, True):
        return f"the {event_name} event is switched off ([notify.events] {event_name})"
    if kind == MessageKind.SHOP.value:
        found = settings.channels.get(channel)
        if found is None or not found.fulfilment_url:
            return f"the shop channel {channel} has no fulfilment_url ([channels.{channel}])"
    return None


# --- what the operators see -------------------------------------------------------------------


@dataclass(frozen=True)
class MessageRow:
    """One outbox message as `picker notify list` shows it."""

    id: int
    order: str
    event: str
    kind: str
    status: str
    to: str | None
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
    error: str | None
    claimed_by: str | None
    key: str

    def as_json(self) -> dict[str, Any]:
        """The keys of ``notify list --format json`` (only ever added to)."""
        return {
            "id": self.id, "order": self.order, "event": self.event, "kind": self.kind,
            "status": self.status, "to": self.to, "attempts": self.attempts,
            "sent_at": self.sent_at.isoformat() if self.sent_at else None, "error": self.error,
            "created_at": self.created_at.isoformat(),
            "next_attempt_at": self.next_attempt_at.isoformat() if self.next_attempt_at
            else None,
        }  # fmt: skip


def _rows() -> Any:
    return select(
        OutboxMessage.id, Order.number, OutboxMessage.event, OutboxMessage.kind,
        OutboxMessage.status, OutboxMessage.recipient, OutboxMessage.attempts,
        OutboxMessage.created_at, OutboxMessage.next_attempt_at, OutboxMessage.sent_at,
        OutboxMessage.error, OutboxMessage.claimed_by, OutboxMessage.key,
    ).join(Order, Order.id == OutboxMessage.order_id)  # fmt: skip


def _row(r: Any) -> MessageRow:
    return MessageRow(*r)


STATUSES = tuple(s.value for s in MessageStatus)


def messages(
    db: Database,
    *,
    status: str | None = None,
    order: str | None = None,
    limit: int | None = None,
) -> list[MessageRow]:
    """Outbox messages, newest first: of one status, of one order (by number), or all."""
    query = _rows().order_by(OutboxMessage.id.desc())
    if status is not None:
        if status not in STATUSES:
            raise ServiceError(f"{status!r} is not a message status ({', '.join(STATUSES)})")
        query = query.where(OutboxMessage.status == status)
    with db.read() as s:
        if order is not None:
            order_id = s.scalar(select(Order.id).where(Order.number == order.strip()))
            if order_id is None:
                raise NotFound(f"no order {order}")
            query = query.where(OutboxMessage.order_id == order_id)
        if limit is not None:
            query = query.limit(limit)
        return [_row(r) for r in s.execute(query)]


def order_messages(s: Session, order_id: int) -> list[MessageRow]:
    """An order's messages, oldest first (for `picker order show`)."""
    return [
        _row(r)
        for r in s.execute(
            _rows().where(OutboxMessage.order_id == order_id).order_by(OutboxMessage.id)
        )
    ]


def message(db: Database, message_id_: int) -> MessageRow:
    with db.read() as s:
        found = s.execute(_rows().where(OutboxMessage.id == message_id_)).one_or_none()
    if found is None:
        raise NotFound(f"no message {message_id_} in the outbox")
    return _row(found)


@dataclass(frozen=True)
class Summary:
    """What waits and what failed, per kind: the title line's words."""

    failed: dict[str, int]
    waiting: dict[str, int]

    @property
    def words(self) -> str | None:
        """``mail: 3 failed, 12 waiting; shop: 1 failed`` — only kinds with a failure; None
        when nothing failed."""
        return self.alert()

    def alert(self, *, mail_configured: bool = True) -> str | None:
        """The title line's words: :attr:`words`, and, with mail not configured (no
        ``[notify] smtp_url``) while e-mail messages wait, ``mail: not configured, 12
        waiting`` — they will not leave until it is."""
        parts = []
        for kind, label in ((MessageKind.EMAIL.value, "mail"), (MessageKind.SHOP.value, "shop")):
            failed, waiting = self.failed.get(kind, 0), self.waiting.get(kind, 0)
            stuck = kind == MessageKind.EMAIL.value and not mail_configured and waiting > 0
            if not (failed or stuck):
                continue
            said = ["not configured"] if stuck else []
            said += [f"{failed} failed"] if failed else []
            said += [f"{waiting} waiting"] if waiting else []
            parts.append(f"{label}: {', '.join(said)}")
        return "; ".join(parts) or None


_STATUS_COUNTS = (
    select(OutboxMessage.kind, OutboxMessage.status, func.count())
    .where(OutboxMessage.status.in_([_FAILED, *(w.value for w in WAITING)]))
    .group_by(OutboxMessage.kind, OutboxMessage.status)
)


def summary(db: Database) -> Summary:
    failed: dict[str, int] = {}
    waiting: dict[str, int] = defaultdict(int)
    with db.read() as s:
        for kind, status, n in s.execute(_STATUS_COUNTS):
            if status == _FAILED:
                failed[kind] = int(n)
            else:
                waiting[kind] += int(n)
    return Summary(failed, dict(waiting))


def mail_not_configured(db: Database, settings: Settings) -> str | None:
    """Why no e-mail leaves at all, in words, with how many wait: mail is not configured (no
    ``[notify] smtp_url``); None when it is."""
    if settings.notify.mail_configured:
        return None
    n = summary(db).waiting.get(MessageKind.EMAIL.value, 0)
    queued = how_many_wait(n, "e-mail message")
    return (
        f"mail is not configured ([notify] smtp_url is empty): {queued}, queued, to be sent "
        "once it is set"
    )


# --- a lead's actions -------------------------------------------------------------------------


def retry(
    db: Database,
    actor: Actor,
    message_ids: Sequence[int] | None = None,
    *,
    clock: Clock = system_clock,
) -> list[int]:
    """Send failed messages again (the ones named, or every failed one when ``message_ids`` is
    None): queued, due now, with a fresh count of attempts (and so a fresh give-up time).
    Refused in words, nothing changed, for a message that is not failed."""
    allow(actor, "notify.outbox.retry")
    now = clock()

    def work(s: Session) -> list[int]:
        if message_ids is None:
            ids = list(s.scalars(select(OutboxMessage.id).where(OutboxMessage.status == _FAILED)))
        else:
            ids = list(dict.fromkeys(message_ids))
            found = dict(
                s.execute(
                    select(OutboxMessage.id, OutboxMessage.status).where(OutboxMessage.id.in_(ids))
                ).all()
            )
            for i in ids:
                if i not in found:
                    raise NotFound(f"no message {i} in the outbox; nothing was changed")
                if found[i] != _FAILED:
                    raise ServiceError(
                        f"message {i} is {found[i]}, not failed: only a failed message is sent "
                        "again; nothing was changed"
                    )
        if not ids:
            return []
        done = s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.status == _FAILED)
            .values(status=_Q, next_attempt_at=now, attempts=0, queued_at=now,
                    lease_until=None, claimed_by=None)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        if done.rowcount != len(ids):  # type: ignore[attr-defined]
            raise Conflict("a message was changed by another dispatcher; look again")
        return ids

    return db.run(work)


def cancel(
    db: Database, actor: Actor, message_id_: int, reason: str, *, clock: Clock = system_clock
) -> MessageRow:
    """A lead cancels a message that is not sent (queued, or failed): it is never sent. The
    reason, who and when are kept in its error. Refused in words, nothing changed, without a
    reason, or for a message sent, being sent, or unknown."""
    allow(actor, "notify.outbox.cancel")
    why = " ".join((reason or "").split())
    if not why or not why.isprintable():
        raise ServiceError(f"say why message {message_id_} is cancelled; nothing was changed")

    def work(s: Session) -> None:
        status = s.scalar(select(OutboxMessage.status).where(OutboxMessage.id == message_id_))
        if status is None:
            raise NotFound(f"no message {message_id_} in the outbox")
        if status not in (_Q, _FAILED):
            raise ServiceError(
                f"message {message_id_} is {status}: only a queued or failed message can be "
                "cancelled; nothing was changed"
            )
        who = f" by {actor.operator.name}" if actor.operator else ""
        done = s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id_, OutboxMessage.status.in_((_Q, _FAILED)))
            .values(status=_CANCELLED, next_attempt_at=None,
                    error=f"cancelled on {actor.terminal_id}{who} at "
                          f"{clock():%Y-%m-%d %H:%M} UTC: {why}")
        )  # fmt: skip
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(f"message {message_id_} was just claimed by a dispatcher; look again")

    db.run(work)
    return message(db, message_id_)


@dataclass(frozen=True)
class Resent:
    """A copy of an order's last customer mail, queued (``notify.outbox.resend``)."""

    number: str
    message_id: int
    """The copy's outbox id: a message of its own (its own key and Message-ID)."""
    copy_of: int
    event: str
    to: str


def resend(db: Database, actor: Actor, number: str, *, clock: Clock = system_clock) -> Resent:
    """A lead sends the customer their order's last mail again ("I never got it"): a copy of
    the last e-mail that was sent (or failed) is queued as a new outbox message, with a key
    of its own (so a Message-ID of its own: a mail server that dropped or filed the first
    will not drop this one as a duplicate), to the address the order has now, and journaled
    on the order with who asked. Refused in words, nothing queued: an unknown order, no mail
    sent yet, one still waiting to go (a copy would be a second mail), a mail no longer true
    (its order moved on), an order with no address to send to."""
    allow(actor, "notify.outbox.resend")
    number = number.strip()

    def work(s: Session) -> Resent:
        order = s.execute(
            select(Order.id, Order.number, Order.status, Order.hold_reasons,
                   Order.customer_email, Order.channel, Order.customer_locale)
            .where(Order.number == number)
        ).one_or_none()  # fmt: skip
        if order is None:
            raise NotFound(f"There is no order {number}.")
        last = _last_mail(s, order.id, order.number)
        stale = out_of_date(last.event, order.status.value, order.hold_reasons or ())
        if stale is not None:
            raise ServiceError(f"{order.number}: not sent again, {stale}.")
        to, problem = _recipient(MessageKind.EMAIL, order)
        if problem is not None or to is None:
            raise ServiceError(f"{order.number}: not sent again, {problem or 'no e-mail address'}.")
        now = clock()
        copies = s.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.order_id == order.id)
        )
        key = resend_key(last.key, int(copies or 0))
        insert = pg_insert if _dialect(s) == "postgresql" else sqlite_insert
        done = s.execute(
            insert(OutboxMessage).on_conflict_do_nothing(index_elements=["key"])
            .values(key=key, order_id=order.id, event=last.event, kind=MessageKind.EMAIL.value,
                    parcels=last.parcels, detail={**(last.detail or {}), "copy_of": last.id},
                    recipient=to, locale=order.customer_locale, status=_Q, attempts=0,
                    next_attempt_at=now, created_at=now, queued_at=now)
            .returning(OutboxMessage.id)
        ).scalar_one_or_none()  # fmt: skip
        if done is None:
            raise Conflict(f"{order.number}: its mail was just sent again from another terminal")
        who = actor.operator.name if actor.operator else actor.source or actor.terminal_id
        record_event(
            s, order_id=order.id, status=order.status, actor=actor, at=now,
            reason=f"mail sent again by {who}: {last.event} to {to} (message {done}, a copy "
            f"of message {last.id})",
        )  # fmt: skip
        return Resent(order.number, done, last.id, last.event, to)

    return db.run(work)


def _last_mail(s: Session, order_id: int, number: str) -> Any:
    """The order's last customer e-mail that went (or tried to): refused in words when none
    did, or when one is still waiting to go."""
    last = s.execute(
        select(OutboxMessage.id, OutboxMessage.key, OutboxMessage.event, OutboxMessage.status,
               OutboxMessage.parcels, OutboxMessage.detail, OutboxMessage.recipient)
        .where(OutboxMessage.order_id == order_id, OutboxMessage.kind == MessageKind.EMAIL.value,
               OutboxMessage.status.in_((_Q, _SENDING, _SENT, _FAILED)))
        .order_by(OutboxMessage.id.desc()).limit(1)
    ).one_or_none()  # fmt: skip
    if last is None:
        raise ServiceError(f"{number}: no mail has gone to this customer yet; nothing to resend.")
    if last.status in (_Q, _SENDING):
        raise ServiceError(
            f"{number}: its {last.event} mail (message {last.id}) is waiting to be sent; "
            "nothing more queued."
        )
    return last
