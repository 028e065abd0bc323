"""The dispatcher: sends what the outbox holds, each message once in the absence of crashes.

How a message travels. :func:`dispatch_due` claims a batch of due messages in one short
transaction: a conditional UPDATE (``queued`` and due, or ``sending`` whose lease ran out →
``sending``, ``claimed_by`` this dispatcher, ``lease_until`` now + ``[notify] lease_s``), so two
dispatchers (two machines) never both hold one. It then reads and sends them one by one with
no transaction open, and settles each in a transaction of its own: ``sent``; or back to
``queued`` with the reason and the next attempt 30 s, 1 min, 2 min … at most an hour later (a
passing failure: the server down, a 4xx reply); or ``failed`` with the server's words (a 5xx
reply, or a passing failure that went on for ``[notify] give_up_after_h``). A lease about to
run out while the batch is still being sent is renewed first.

At least once, on purpose. A dispatcher killed between sending a message and settling it
leaves it ``sending``; when its lease runs out another dispatcher sends it again — the same
message, with the same Message-ID (a shop request with the same idempotency key), so the
duplicate is recognisable. A message is never silently dropped.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.orm import Session

from picker.config import Settings
from picker.domain.notify import MessageKind, MessageStatus, backoff, out_of_date
from picker.services.actors import Clock, system_clock
from picker.services.errors import describe_failure
from picker.services.notify import compose, shop
from picker.services.notify.mail import (
    MailTransport,
    Permanent,
    SendFailed,
    Temporary,
    transport_for,
)
from picker.services.notify.outbox import Summary, not_sent_because, summary
from picker.services.notify.templates import TemplateProblem
from picker.store.engine import Database
from picker.store.models import OutboxMessage

_Q, _SENDING = MessageStatus.QUEUED.value, MessageStatus.SENDING.value
_SENT, _FAILED, _SKIPPED = MessageStatus.SENT.value, MessageStatus.FAILED.value, "skipped"


def default_claimant() -> str:
    """Who claims messages when the caller names no one: this process, as host:pid."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}"


def claimant(name: str) -> str:
    """A dispatcher's name in the outbox (``claimed_by``): ``name`` (a terminal id, or
    ``T05:cli``) and this process as host:pid. Two machines may share one config.toml, and so
    one terminal id: under one name each would take the other's claims for its own. At most
    59 characters (a claim holds 64)."""
    return f"{name[:20]}@{default_claimant()}"


@dataclass
class Dispatched:
    """What one :func:`dispatch_due` pass did."""

    sent: list[int] = field(default_factory=list)
    #: Put back for later (a passing failure), with the reason.
    retrying: list[tuple[int, str]] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    #: Claimed but given back unsent (the server went away mid-batch, or the lease was lost).
    released: list[int] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return len(self.sent) + len(self.retrying) + len(self.failed) + len(self.skipped)


def _due(now: datetime, kinds: Sequence[str] | None = None) -> Any:
    due = or_(
        and_(OutboxMessage.status == _Q, OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == _SENDING, OutboxMessage.lease_until < now),
    )
    return due if kinds is None else and_(due, OutboxMessage.kind.in_(kinds))


def claim(
    s: Session,
    *,
    me: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    kinds: Sequence[str] | None = None,
) -> list[int]:
    """Claim up to ``limit`` due messages (oldest first; of ``kinds`` only, when named) for
    ``me`` until ``now + lease``.

    Two steps in one transaction: the due rows are read and locked (on PostgreSQL, rows
    another dispatcher is claiming right now are skipped, not waited for; SQLite has one
    writer at a time), then the UPDATE repeats the condition, so a row that stopped being due
    between the two is left alone. (One statement, ``UPDATE … WHERE id IN (SELECT … LIMIT n
    FOR UPDATE SKIP LOCKED)``, may claim more than ``n`` rows on PostgreSQL: measured, it
    took a whole outbox of 20 with a limit of 5.)
    """
    due = _due(now, kinds)
    ids = list(
        s.scalars(
            select(OutboxMessage.id)
            .where(due)
            .order_by(OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if not ids:
        return []
    claimed = s.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), due)
        .values(status=_SENDING, claimed_by=me, lease_until=now + lease,
                attempts=OutboxMessage.attempts + 1)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ).scalars()  # fmt: skip
    return sorted(claimed)


def _renew(s: Session, *, ids: Sequence[int], me: str, until: datetime) -> list[int]:
    """Longer leases for the claimed messages still ours; those no longer ours are returned
    out (another dispatcher took them over)."""
    kept = s.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.status == _SENDING,
               OutboxMessage.claimed_by == me)
        .values(lease_until=until)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ).scalars()  # fmt: skip
    return sorted(kept)


def _settle(s: Session, *, message_id: int, me: str, mine: bool = True, **values: Any) -> bool:
    """Write the outcome of a send, if the message is still ``sending`` (and still ours when
    ``mine``: a message sent is settled ``sent`` whoever holds it now)."""
    where = [OutboxMessage.id == message_id, OutboxMessage.status == _SENDING]
    if mine:
        where.append(OutboxMessage.claimed_by == me)
    done = s.execute(
        update(OutboxMessage)
        .where(*where)
        .values(lease_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


def _release(s: Session, *, ids: Sequence[int], me: str, at: datetime) -> None:
    """Claimed messages given back unsent: queued again, due at ``at``, the attempt not
    counted."""
    if not ids:
        return
    s.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.status == _SENDING,
               OutboxMessage.claimed_by == me)
        .values(status=_Q, lease_until=None, next_attempt_at=at,
                attempts=OutboxMessage.attempts - 1)
        .execution_options(synchronize_session=False)
    )  # fmt: skip


class Senders:
    """The ways out, opened when first needed and kept for a batch: the mail transport and
    the shop client."""

    def __init__(
        self,
        settings: Settings,
        *,
        mail: MailTransport | None = None,
        shop_client: shop.ShopClient | None = None,
    ) -> None:
        self.settings = settings
        self._mail = mail
        self._shop = shop_client

    @property
    def mail(self) -> MailTransport:
        if self._mail is None:
            self._mail = transport_for(self.settings.notify)
        return self._mail

    @property
    def shop(self) -> shop.ShopClient:
        if self._shop is None:
            self._shop = shop.ShopClient(self.settings)
        return self._shop

    def close(self) -> None:
        if self._mail is not None:
            self._mail.close()
        if self._shop is not None:
            self._shop.close()


def _file_name(letter: compose.Letter) -> str:
    order = "".join(c for c in letter.order_number if c.isalnum() or c in "-_")[:20]
    return f"{letter.id:08d}-{order}-{letter.event}"


def not_sent_now(settings: Settings, letter: compose.Letter) -> str | None:
    """Why ``letter`` is not to be sent now, if it is not: the configuration says so (see
    :func:`~picker.services.notify.outbox.not_sent_because`), or its mail would tell the
    customer what is no longer true (an "accepted" mail for an order cancelled meanwhile, a
    "fix your address" mail for a hold since released). A shop is told what happened
    whatever happened since."""
    skip = not_sent_because(settings, letter.event, letter.kind, letter.channel)
    if skip is None and letter.kind == MessageKind.EMAIL.value:
        skip = out_of_date(letter.event, letter.order_status, letter.hold_reasons)
    return skip


def build_mail(letter: compose.Letter, settings: Settings) -> bytes:
    """The mail's bytes. A mail that cannot be made for a reason someone can mend (a broken
    override template, a templates folder that cannot be read) is a passing failure, in words;
    anything else (an address mail cannot go to, text the email package refuses) will not
    mend itself and fails the message at once, in words."""
    try:
        return compose.email_bytes(letter, compose.render_mail(letter, settings), settings)
    except compose.UnsendableMail as exc:
        raise Permanent(str(exc)) from None
    except (TemplateProblem, OSError) as exc:
        words = describe_failure(exc) or f"{type(exc).__name__}: {exc}"
        raise Temporary(f"the mail cannot be made: {words}") from None
    except Exception as exc:
        words = describe_failure(exc) or " ".join(f"{type(exc).__name__}: {exc}".split())
        raise Permanent(f"the mail cannot be made: {words}") from None


def send_one(
    letter: compose.Letter,
    senders: Senders,
    mark_done: Callable[[str], object] | None = None,
    built: Future[bytes] | None = None,
) -> None:
    """Send one message by its kind; raises :class:`Temporary` or :class:`Permanent`.
    ``mark_done`` records each step of a shop message made (see :mod:`.shop`); ``built`` is
    the mail made ahead (see :func:`dispatch_due`)."""
    if letter.kind == MessageKind.EMAIL.value:
        try:
            recipient = compose.mail_recipient(letter)
        except compose.UnsendableMail as exc:
            raise Permanent(str(exc)) from None
        message = built.result() if built is not None else build_mail(letter, senders.settings)
        senders.mail.send(message, recipient, _file_name(letter))
        return
    senders.shop.send(letter, frozenset(letter.detail.get("done", ())), mark_done)


def _mark_step(s: Session, *, message_id: int, step: str) -> None:
    detail = dict(
        s.scalar(select(OutboxMessage.detail).where(OutboxMessage.id == message_id)) or {}
    )
    detail["done"] = [*detail.get("done", []), step]
    s.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(detail=detail))


#: Mails sent are marked ``sent`` in groups of this many (one transaction a group, not one a
#: mail): a dispatcher killed mid-batch may send up to this many again (same Message-IDs).
SETTLE_EVERY = 20


def dispatch_due(
    db: Database,
    settings: Settings,
    *,
    clock: Clock = system_clock,
    limit: int | None = None,
    claimed_by: str | None = None,
    senders: Senders | None = None,
) -> Dispatched:
    """Claim up to ``limit`` (default ``[notify] batch``) due messages and send them. With
    mail not configured (no ``[notify] smtp_url``) e-mail messages are left queued, untried."""
    n = settings.notify
    kinds = None if n.mail_configured else (MessageKind.SHOP.value,)
    me = (claimed_by or default_claimant())[:64]
    lease = timedelta(seconds=n.lease_s)
    give_up = timedelta(hours=n.give_up_after_h)
    margin = timedelta(seconds=n.timeout_s * 2)
    result = Dispatched()
    now = clock()
    ids = db.run(partial(claim, me=me, now=now, lease=lease, limit=limit or n.batch, kinds=kinds))
    if not ids:
        return result
    with db.read() as s:
        letters = compose.load_many(s, ids, settings)
    own = senders is None
    senders = senders or Senders(settings)
    lease_until = now + lease
    sent: list[tuple[int, datetime]] = []
    # Mails are made (templates, MIME) one ahead in a thread of their own while this one
    # waits for the server's replies: measured, ~40 % more mails a second on two cores.
    maker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="notify-make")
    built = {
        i: maker.submit(build_mail, letter, settings)
        for i, letter in letters.items()
        if letter.kind == MessageKind.EMAIL.value and letter.recipient
        and not_sent_now(settings, letter) is None
    }  # fmt: skip
    try:
        for position, message_id in enumerate(ids):
            now = clock()
            if now + margin >= lease_until:  # the lease would run out during this send
                _mark_sent(db, sent)
                rest = ids[position:]
                lease_until = now + lease
                kept = set(db.run(partial(_renew, ids=rest, me=me, until=lease_until)))
                if message_id not in kept:
                    continue  # another dispatcher took it over (our lease had run out)
            out = _send_and_settle(
                db, senders, letters[message_id], me, now, give_up, built.get(message_id)
            )
            if out.kind == "sent":
                result.sent.append(message_id)
                sent.append((message_id, now))
                if len(sent) >= SETTLE_EVERY:
                    _mark_sent(db, sent)
            else:
                getattr(result, out.kind).append((message_id, out.words))
            if out.broken:  # the way out is down: the rest would fail the same way
                rest = ids[position + 1 :]
                db.run(partial(_release, ids=rest, me=me, at=clock() + backoff(1)))
                result.released.extend(rest)
                break
    finally:
        maker.shutdown(wait=True, cancel_futures=True)
        _mark_sent(db, sent)
        if own:
            senders.close()
    return result


_SENT_UPDATE = (
    update(OutboxMessage)
    .where(OutboxMessage.id == bindparam("mid"), OutboxMessage.status == _SENDING)
    .values(status=_SENT, sent_at=bindparam("at"), lease_until=None, error=None,
            next_attempt_at=None)
)  # fmt: skip


def _mark_sent(db: Database, sent: list[tuple[int, datetime]]) -> None:
    """Settle the mails sent so far as ``sent`` (whoever holds them now: they were sent),
    in one transaction; empties ``sent``."""
    if not sent:
        return
    rows = [{"mid": i, "at": at} for i, at in sent]
    sent.clear()

    def work(s: Session) -> None:
        s.connection().execute(_SENT_UPDATE, rows)

    db.run(work)


@dataclass(frozen=True)
class _Outcome:
    kind: str  # sent, skipped, failed, retrying (the field of Dispatched it goes to)
    words: str = ""
    #: A passing failure of the way out itself (the server down), not of this message.
    broken: bool = False


def _send_and_settle(
    db: Database,
    senders: Senders,
    letter: compose.Letter,
    me: str,
    now: datetime,
    give_up: timedelta,
    built: Future[bytes] | None = None,
) -> _Outcome:
    """Send one message; settle it unless it was sent (the caller settles those in groups)."""
    message_id = letter.id
    skip = not_sent_now(senders.settings, letter)
    if skip is not None:
        db.run(partial(_settle, message_id=message_id, me=me, status=_SKIPPED, error=skip,
                       next_attempt_at=None))  # fmt: skip
        return _Outcome("skipped", skip)

    def mark_done(step: str) -> None:
        db.run(partial(_mark_step, message_id=message_id, step=step))

    try:
        send_one(letter, senders, mark_done, built)
    except Permanent as exc:
        db.run(partial(_settle, message_id=message_id, me=me, status=_FAILED, error=exc.words,
                       next_attempt_at=None))  # fmt: skip
        return _Outcome("failed", exc.words)
    except SendFailed as exc:
        queued_at = letter.queued_at
        if queued_at is not None and now - queued_at >= give_up:
            hours = give_up.total_seconds() / 3600
            words = f"gave up after {hours:g} h: {exc.words}"
            db.run(partial(_settle, message_id=message_id, me=me, status=_FAILED, error=words,
                           next_attempt_at=None))  # fmt: skip
            return _Outcome("failed", words, exc.broken_connection)
        db.run(
            partial(_settle, message_id=message_id, me=me, status=_Q, error=exc.words,
                    next_attempt_at=now + backoff(letter.attempts))
        )  # fmt: skip
        return _Outcome("retrying", exc.words, exc.broken_connection)
    return _Outcome("sent")


# --- the worker ------------------------------------------------------------------------------


class Dispatcher:
    """``dispatch_due`` in a daemon thread, every ``[notify] poll_s`` (at once while a pass
    found a full batch), until stopped. Never raises out of its thread: a database or server
    that cannot be used becomes :attr:`last_error` and the next pass tries again.
    ``on_summary`` is called from the thread with the outbox :class:`Summary` after the first
    pass and whenever it changes (a terminal hands it to its event loop for the title line).
    With ``dispatch`` False it only watches: the summary, nothing sent."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        clock: Clock = system_clock,
        claimed_by: str | None = None,
        on_summary: Callable[[Summary], object] | None = None,
        on_pass: Callable[[Dispatched], object] | None = None,
        dispatch: bool = True,
    ) -> None:
        self.db = db
        self.dispatch = dispatch
        self.settings = settings
        self.clock = clock
        self.claimed_by = claimed_by or default_claimant()
        self.on_summary = on_summary
        self.on_pass = on_pass
        self.last_error: str | None = None
        self.last_summary: Summary | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> Dispatched:
        done = Dispatched()
        try:
            if self.dispatch:
                done = dispatch_due(self.db, self.settings, clock=self.clock,
                                    claimed_by=self.claimed_by)  # fmt: skip
            self.last_error = None
        except Exception as exc:
            self.last_error = describe_failure(exc) or f"{type(exc).__name__}: {exc}"
        if self.on_pass is not None:
            self.on_pass(done)
        if self.on_summary is not None:
            try:
                current = summary(self.db)
            except Exception as exc:
                self.last_error = describe_failure(exc) or f"{type(exc).__name__}: {exc}"
            else:
                if current != self.last_summary:
                    self.last_summary = current
                    self.on_summary(current)
        return done

    def run(self) -> None:
        """Pass after pass until :meth:`stop` (in the calling thread)."""
        while not self._stop.is_set():
            done = self.run_once()
            full = done.handled + len(done.released) >= self.settings.notify.batch
            if not full:
                self._stop.wait(self.settings.notify.poll_s)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self.run, name="notify-dispatcher",
                                            daemon=True)  # fmt: skip
            self._thread.start()

    def stop(self, timeout: float | None = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
