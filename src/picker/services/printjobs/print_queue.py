"""The persisted print queue: every document a stored job, never lost.

Every document to print is a stored job, sent when its printer answers, retried with
back-off while it does not, never lost.

How a job travels. :func:`enqueue` stores it ``queued`` inside the caller's transaction (a
parcel's label commits with the parcel). :func:`deliver_due` claims one due job at a time with a
conditional UPDATE (``queued`` → ``printing``), so two terminals or workers never both send it;
sends it *outside* any transaction (a printer may take seconds); then marks it ``done`` — or, when
the printer is down, puts it back ``queued`` with the error in words and the next attempt 5 s,
10 s, 20 s … at most 5 minutes later. Each job keeps its own schedule (``next_attempt_at``), and
a printer that is down holds every job waiting for it until its next try: it is tried once per
back-off, by the job queued first, however many jobs wait.

At least once, on purpose. A terminal that dies between sending and marking the job done leaves
it ``printing``; after :data:`STALE_AFTER` any terminal queues it again and it is sent again. The
printer may then print it twice: a label printed twice is thrown away, a label lost stops a parcel.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session, aliased

from picker.config import Settings
from picker.printing.backends import Backend, PrinterDown, backend_for
from picker.services.actors import Actor, Clock, allow, system_clock
from picker.services.errors import Conflict, NotFound, ServiceError, describe_failure
from picker.store.engine import Database
from picker.store.models import CourierPickup, Operator, Order, Parcel, PrintJob

KINDS = ("label", "manifest", "pick_list", "packing_slip", "floor_sheet")
STATUSES = ("queued", "printing", "done", "failed", "cancelled")
#: Waiting for a printer: not printed yet and not given up on.
WAITING = ("queued", "printing")

FIRST_BACKOFF = timedelta(seconds=5)
MAX_BACKOFF = timedelta(minutes=5)
#: A job ``printing`` for longer than this belongs to a sender that died mid-send: it is queued
#: again. Well above the longest back-end timeout ([printer] timeout_s, at most 60 s), so a
#: slow but live send is never taken over.
STALE_AFTER = timedelta(minutes=2)

_NOUNS = {
    "label": ("label", "labels"),
    "manifest": ("manifest", "manifests"),
    "pick_list": ("pick list", "pick lists"),
    "packing_slip": ("packing slip", "packing slips"),
    "floor_sheet": ("floor sheet", "floor sheets"),
}


def backoff(attempts: int) -> timedelta:
    """How long a job waits after its ``attempts``-th send failed: 5 s, then doubling, at most
    5 minutes."""
    if attempts <= 1:
        return FIRST_BACKOFF
    return min(FIRST_BACKOFF * 2 ** min(attempts - 1, 20), MAX_BACKOFF)


@dataclass(frozen=True)
class Delivery:
    """What one :func:`deliver_due` pass did for one printer."""

    #: Jobs sent to the printer, in order.
    printed: list[int]
    #: The printer is down: the :class:`PrinterDown` message (the pass stopped there).
    down: str | None
    #: Jobs of this printer still waiting (queued, or being sent by another terminal).
    queued: int
    #: Jobs that cannot be sent as they are (their file is gone): ``failed`` until retried.
    failed: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class PrinterStatus:
    """A printer as the station's status line shows it ("printer T01 down, 3 labels queued")."""

    #: Jobs waiting for the printer (queued, or being sent right now).
    queued: int
    #: When the oldest of them was queued.
    oldest_queued_at: datetime | None
    #: Why the latest failed send failed (or why the queue could not be read), in words.
    last_error: str | None
    #: The printer's latest send failed and jobs are waiting for it.
    down: bool
    printer: str = ""
    #: How many of the waiting jobs are labels.
    labels: int = 0
    #: Jobs that need a person (``failed``: their file is gone) — `picker print retry`.
    failed: int = 0

    @property
    def words(self) -> str:
        """One line for the status bar: "printer T01 down, 3 labels queued", "printer T01 ready"."""
        name = f"printer {self.printer}" if self.printer else "printer"
        if self.queued == 0:
            state = "down" if self.down else "ready"
            return f"{name} {state}" + (f", {self.failed} failed" if self.failed else "")
        noun = ("label", "labels") if self.labels == self.queued else ("document", "documents")
        waiting = f"{self.queued} {noun[0] if self.queued == 1 else noun[1]} queued"
        text = f"{name} down, {waiting}" if self.down else f"{name}: {waiting}"
        return text + (f", {self.failed} failed" if self.failed else "")


@dataclass(frozen=True)
class JobRow:
    """One print job as `picker print queue` lists it."""

    id: int
    created_at: datetime
    kind: str
    printer: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    printed_at: datetime | None
    title: str | None
    content_type: str
    #: Bytes of stored content (None when the job prints a file: ``path``).
    size: int | None
    path: str | None
    terminal_id: str
    claimed_by: str | None
    parcel_id: int | None
    tracking_no: str | None
    order_id: int | None
    order_number: str | None
    pickup_id: int | None
    pickup_number: str | None
    #: A reprint's reason and who asked for it (None: a first print, or asked at the command line).
    reason: str | None
    requested_by: int | None
    requested_by_name: str | None

    @property
    def noun(self) -> str:
        return _NOUNS.get(self.kind, (self.kind, self.kind))[0]


# --- queueing --------------------------------------------------------------------------------


def enqueue(
    s: Session | Connection,
    *,
    kind: str,
    printer: str,
    content: bytes,
    content_type: str,
    terminal_id: str,
    parcel_id: int | None = None,
    order_id: int | None = None,
    pickup_id: int | None = None,
    reason: str | None = None,
    requested_by: int | None = None,
    title: str | None = None,
    at: datetime | None = None,
) -> int:
    """Store a document to print, inside the caller's transaction; returns the job's id.

    The job is ``queued`` and due at once (``at``, default now). ``title`` names the document (a
    spool file's name, the printer queue's job title); by default the parcel's tracking number,
    else the order's or the pickup's number. A parcel's job also names the parcel's order.
    """
    if kind not in KINDS:
        raise ServiceError(f"{kind!r} is not a document Picker prints ({', '.join(KINDS)})")
    if not content:
        raise ServiceError(f"the {_NOUNS[kind][0]} to print is empty; nothing was queued")
    return _insert(
        s, kind=kind, printer=printer, content=content, path=None, content_type=content_type,
        terminal_id=terminal_id, parcel_id=parcel_id, order_id=order_id, pickup_id=pickup_id,
        reason=reason, requested_by=requested_by, title=title, at=at or system_clock(),
    )  # fmt: skip


def _insert(
    s: Session | Connection,
    *,
    kind: str,
    printer: str,
    content: bytes | None,
    path: str | None,
    content_type: str,
    terminal_id: str,
    parcel_id: int | None,
    order_id: int | None,
    pickup_id: int | None,
    reason: str | None,
    requested_by: int | None,
    title: str | None,
    at: datetime,
) -> int:
    _check_printer(printer)
    if not content_type or len(content_type) > 32:
        raise ServiceError(f"{content_type!r} is not a content type (e.g. application/pdf)")
    if parcel_id is not None and (title is None or order_id is None):
        parcel = s.execute(
            select(Parcel.tracking_no, Parcel.order_id).where(Parcel.id == parcel_id)
        ).one_or_none()
        if parcel is not None:
            title = title if title is not None else parcel.tracking_no
            order_id = order_id if order_id is not None else parcel.order_id
    if title is None:
        title = _default_title(s, order_id, pickup_id)
    job_id = s.execute(
        insert(PrintJob)
        .values(
            created_at=at, kind=kind, printer=printer, content_type=content_type,
            content=content, path=path, status="queued", attempts=0, terminal_id=terminal_id,
            parcel_id=parcel_id, order_id=order_id, pickup_id=pickup_id, reason=reason,
            requested_by=requested_by, title=title[:100] if title else None,
            next_attempt_at=_next_try(s, printer, at),
        )
        .returning(PrintJob.id)
    ).scalar_one()  # fmt: skip
    return int(job_id)


def _check_printer(printer: str) -> None:
    if not printer or len(printer) > 64 or not printer.isprintable():
        raise ServiceError(f"{printer!r} is not a printer name (1-64 characters)")


def _default_title(
    s: Session | Connection, order_id: int | None, pickup_id: int | None
) -> str | None:
    if order_id is not None:
        number = s.scalar(select(Order.number).where(Order.id == order_id))
        if number:
            return str(number)
    if pickup_id is not None:
        number = s.scalar(select(CourierPickup.number).where(CourierPickup.id == pickup_id))
        if number:
            return str(number)
    return None


# --- delivering ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claimed:
    id: int
    kind: str
    title: str | None
    content_type: str
    content: bytes | None
    path: str | None
    attempts: int
    claimed_at: datetime

    @property
    def document_title(self) -> str:
        """Unique per job, so two documents of one parcel never overwrite each other's file."""
        return f"{self.kind}-{self.title}-{self.id}" if self.title else f"{self.kind}-{self.id}"


def default_claimant() -> str:
    """Who claims jobs when the caller names no terminal: this process, as host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


def deliver_due(
    db: Database,
    printer: str,
    backend: Backend,
    *,
    clock: Clock = system_clock,
    limit: int = 20,
    claimed_by: str | None = None,
    stale_after: timedelta = STALE_AFTER,
) -> Delivery:
    """Send up to ``limit`` due jobs of ``printer`` through ``backend``, one at a time.

    Each job is claimed in its own short transaction, sent with no transaction open, and settled
    in another. The pass stops at the first :class:`PrinterDown` (the rest would fail the same
    way): that job goes back to the queue with its error and back-off. ``claimed_by`` (the
    terminal's id) is written on each claim, for the person reading `picker print queue`.
    """
    me = (claimed_by or default_claimant())[:64]
    printed: list[int] = []
    failed: list[int] = []
    down: str | None = None
    for _ in range(max(limit, 0)):
        now = clock()
        job = db.run(partial(_claim_next, printer=printer, me=me, now=now, stale_after=stale_after))
        if job is None:
            break
        if job.content is not None:
            data = job.content
        else:
            try:
                data = Path(job.path or "").read_bytes()
            except OSError as exc:
                reason = exc.strerror or type(exc).__name__
                error = f"the file {job.path} cannot be read ({reason.lower()})"
                db.run(partial(_settle_failed, job=job, me=me, error=error))
                failed.append(job.id)
                continue
        try:
            backend.send(data, content_type=job.content_type, title=job.document_title)
        except PrinterDown as exc:
            down = str(exc)
            db.run(partial(_settle_retry, job=job, me=me, error=down, now=clock(), printer=printer))
            break
        except Exception as exc:
            # Not a printer that is down but a fault of ours: keep the job, then let it be seen.
            error = f"{type(exc).__name__}: {exc}"
            db.run(partial(_settle_retry, job=job, me=me, error=error, now=clock()))
            raise
        db.run(partial(_settle_done, job=job, me=me, now=clock(), printer=printer))
        printed.append(job.id)
    with db.read() as s:
        queued = s.scalar(
            select(func.count()).where(PrintJob.printer == printer, PrintJob.status.in_(WAITING))
        )
    return Delivery(printed=printed, down=down, queued=int(queued or 0), failed=failed)


def _claim_next(
    s: Session, printer: str, me: str, now: datetime, stale_after: timedelta
) -> _Claimed | None:
    _requeue_stale(s, printer, now, stale_after)
    due = or_(PrintJob.next_attempt_at.is_(None), PrintJob.next_attempt_at <= now)
    for _ in range(5):
        # The oldest job whose own schedule says it is due. While the printer is down every
        # job waiting for it is due no sooner than the printer's next try (see _settle_retry
        # and _insert), so that try takes the job queued first, and labels still come out in
        # the order they were queued. PostgreSQL: skip rows another terminal is claiming right
        # now instead of waiting for them (SQLite has one writer at a time and ignores it).
        job_id = s.scalar(
            select(PrintJob.id)
            .where(PrintJob.status == "queued", PrintJob.printer == printer, due)
            .order_by(PrintJob.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if job_id is None:
            return None
        claimed = s.execute(
            update(PrintJob)
            .where(PrintJob.id == job_id, PrintJob.status == "queued")
            .values(
                status="printing",
                claimed_at=now,
                claimed_by=me,
                attempts=PrintJob.attempts + 1,
            )
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            continue  # another terminal took it between our look and our claim
        row = s.execute(
            select(
                PrintJob.kind, PrintJob.title, PrintJob.content_type, PrintJob.content,
                PrintJob.path, PrintJob.attempts,
            ).where(PrintJob.id == job_id)
        ).one()  # fmt: skip
        return _Claimed(
            job_id, row.kind, row.title, row.content_type, row.content, row.path, row.attempts, now
        )
    return None


def _requeue_stale(s: Session, printer: str, now: datetime, stale_after: timedelta) -> None:
    """Jobs whose sender died mid-send are queued again, due at once (they may print twice)."""
    stale = s.execute(
        select(PrintJob.id, PrintJob.claimed_at, PrintJob.claimed_by).where(
            PrintJob.status == "printing",
            PrintJob.printer == printer,
            PrintJob.claimed_at < now - stale_after,
        )
    ).all()
    for row in stale:
        started = f"{row.claimed_at:%Y-%m-%d %H:%M:%S} UTC" if row.claimed_at else "long ago"
        s.execute(
            update(PrintJob)
            .where(
                PrintJob.id == row.id,
                PrintJob.status == "printing",
                PrintJob.claimed_at == row.claimed_at,
            )
            .values(
                status="queued",
                next_attempt_at=now,
                last_error=(
                    f"the send by {row.claimed_by or 'another terminal'} began {started} and "
                    "never finished; sent again (it may print twice)"
                ),
            )
        )


def _mine(job: _Claimed, me: str) -> Any:
    return and_(
        PrintJob.id == job.id,
        PrintJob.status == "printing",
        PrintJob.claimed_by == me,
        PrintJob.claimed_at == job.claimed_at,
    )


def _settle_done(s: Session, job: _Claimed, me: str, now: datetime, printer: str) -> None:
    # Also when another terminal meanwhile took the job for stale and queued it again: it has
    # been printed now, so it is not sent once more (if it is already being sent, so be it).
    s.execute(
        update(PrintJob)
        .where(or_(_mine(job, me), and_(PrintJob.id == job.id, PrintJob.status == "queued")))
        .values(status="done", printed_at=now)
    )
    # The printer answers again: what waited out its back-off is due now, in the order it was
    # queued, and the errors of the outage no longer say the printer is down.
    s.execute(
        update(PrintJob)
        .where(
            PrintJob.printer == printer,
            PrintJob.status == "queued",
            or_(PrintJob.next_attempt_at > now, PrintJob.last_error.is_not(None)),
        )
        .values(next_attempt_at=now, last_error=None)
    )


def _settle_retry(
    s: Session, job: _Claimed, me: str, error: str, now: datetime, printer: str | None = None
) -> None:
    """The send failed: the job waits out its back-off. With ``printer`` (the printer is down)
    the printer's whole queue waits for the same next try: a printer that is down is tried
    once per back-off, not once per job waiting for it."""
    attempts = job.attempts
    if printer is not None:
        # The printer's run of failures, also when the job tried first was cancelled meanwhile.
        most = s.scalar(
            select(func.max(PrintJob.attempts)).where(
                PrintJob.printer == printer,
                PrintJob.status == "queued",
                PrintJob.last_error.is_not(None),
            )
        )
        attempts = max(attempts, int(most or 0))
    next_try = now + backoff(attempts)
    s.execute(
        update(PrintJob)
        .where(_mine(job, me))
        .values(status="queued", last_error=error, next_attempt_at=next_try)
    )
    if printer is not None:
        s.execute(
            update(PrintJob)
            .where(
                PrintJob.printer == printer,
                PrintJob.status == "queued",
                or_(PrintJob.next_attempt_at.is_(None), PrintJob.next_attempt_at < next_try),
            )
            .values(next_attempt_at=next_try)
        )


def _next_try(s: Session | Connection, printer: str, at: datetime) -> datetime:
    """When a job queued ``at`` for ``printer`` is first due: at once, or, while the printer
    is down, at the printer's next try (a new label does not bring that try forward)."""
    down_until = s.scalar(
        select(func.min(PrintJob.next_attempt_at)).where(
            PrintJob.printer == printer,
            PrintJob.status == "queued",
            PrintJob.attempts > 0,
            PrintJob.last_error.is_not(None),
        )
    )
    return max(at, down_until) if down_until is not None else at


def _settle_failed(s: Session, job: _Claimed, me: str, error: str) -> None:
    s.execute(update(PrintJob).where(_mine(job, me)).values(status="failed", last_error=error))


# --- looking ---------------------------------------------------------------------------------


def status(db: Database, printer: str) -> PrinterStatus:
    """The printer's queue as the station's status line shows it."""
    with db.read() as s:
        waiting = s.execute(
            select(
                func.count(),
                func.min(PrintJob.created_at),
                func.count().filter(PrintJob.kind == "label"),
            ).where(PrintJob.printer == printer, PrintJob.status.in_(WAITING))
        ).one()
        # Down: a job waits whose latest send failed. It stays so until a send works.
        error = s.scalar(
            select(PrintJob.last_error)
            .where(
                PrintJob.printer == printer,
                PrintJob.status == "queued",
                PrintJob.attempts > 0,
                PrintJob.last_error.is_not(None),
            )
            .order_by(PrintJob.claimed_at.desc(), PrintJob.id.desc())
            .limit(1)
        )
        failed = s.scalar(
            select(func.count()).where(PrintJob.printer == printer, PrintJob.status == "failed")
        )
    return PrinterStatus(
        queued=int(waiting[0] or 0),
        oldest_queued_at=waiting[1],
        last_error=error,
        down=error is not None,
        printer=printer,
        labels=int(waiting[2] or 0),
        failed=int(failed or 0),
    )


def _job_rows(s: Session, *conditions: Any, limit: int) -> list[JobRow]:
    requester = aliased(Operator)
    rows = s.execute(
        select(
            PrintJob.id, PrintJob.created_at, PrintJob.kind, PrintJob.printer, PrintJob.status,
            PrintJob.attempts, PrintJob.last_error, PrintJob.next_attempt_at, PrintJob.printed_at,
            PrintJob.title, PrintJob.content_type, func.length(PrintJob.content), PrintJob.path,
            PrintJob.terminal_id, PrintJob.claimed_by, PrintJob.parcel_id, Parcel.tracking_no,
            PrintJob.order_id, Order.number, PrintJob.pickup_id, CourierPickup.number,
            PrintJob.reason, PrintJob.requested_by, requester.name,
        )
        .outerjoin(Parcel, Parcel.id == PrintJob.parcel_id)
        .outerjoin(Order, Order.id == PrintJob.order_id)
        .outerjoin(CourierPickup, CourierPickup.id == PrintJob.pickup_id)
        .outerjoin(requester, requester.id == PrintJob.requested_by)
        .where(*conditions)
        .order_by(PrintJob.id.desc())
        .limit(limit)
    ).all()  # fmt: skip
    return [JobRow(*tuple(row)) for row in rows]


def jobs(
    db: Database, *, status: str | None = None, limit: int = 50, printer: str | None = None
) -> list[JobRow]:
    """Print jobs, newest first: all, or those of one ``status`` (and one ``printer``)."""
    conditions: list[Any] = []
    if status is not None:
        if status not in STATUSES:
            raise ServiceError(f"{status!r} is not a print job status ({', '.join(STATUSES)})")
        conditions.append(PrintJob.status == status)
    if printer is not None:
        conditions.append(PrintJob.printer == printer)
    with db.read() as s:
        return _job_rows(s, *conditions, limit=max(limit, 0))


def job(db: Database, job_id: int) -> JobRow:
    """One print job; :class:`NotFound` in words when there is none."""
    with db.read() as s:
        found = _job_rows(s, PrintJob.id == job_id, limit=1)
    if not found:
        raise NotFound(f"there is no print job {job_id}")
    return found[0]


# --- people acting on the queue --------------------------------------------------------------


def _waiting_job(s: Session, job_id: int, verb: str) -> None:
    """Refused in words unless the job exists and waits (queued or failed, not being sent)."""
    row = s.execute(
        select(PrintJob.status, PrintJob.printed_at, PrintJob.claimed_by).where(
            PrintJob.id == job_id
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"there is no print job {job_id}")
    _refuse_unless_waiting(job_id, row.status, row.printed_at, row.claimed_by, verb)


def retry(db: Database, actor: Actor, job_id: int, *, clock: Clock = system_clock) -> JobRow:
    """A queued or failed job is due now again (its attempts are kept). Refused in words, and
    nothing changed, when the job is printed, cancelled, being sent, or unknown."""
    allow(actor, "printjobs.print_queue.retry")

    def work(s: Session) -> None:
        _waiting_job(s, job_id, "retried")
        done = s.execute(
            update(PrintJob)
            .where(PrintJob.id == job_id, PrintJob.status.in_(("queued", "failed")))
            .values(status="queued", next_attempt_at=clock())
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(f"print job {job_id} was changed on another terminal; look again")

    db.run(work)
    return job(db, job_id)


def _refuse_unless_waiting(
    job_id: int, status: str, printed_at: datetime | None, claimed_by: str | None, verb: str
) -> None:
    if status == "done":
        when = f" at {printed_at:%Y-%m-%d %H:%M} UTC" if printed_at else ""
        raise ServiceError(
            f"print job {job_id} was printed{when}; it is not {verb} (reprint the parcel's "
            "label with a reason instead)"
        )
    if status == "cancelled":
        raise ServiceError(f"print job {job_id} was cancelled; it is not {verb}")
    if status == "printing":
        raise ServiceError(
            f"print job {job_id} is being sent right now (by {claimed_by or 'another terminal'}); "
            f"it is not {verb}"
        )


def find_parcel(s: Session, reference: str) -> Any:
    """The parcel (id, tracking_no, status) a person named by its tracking number or, all
    digits, by its id; refused in words when there is none."""
    wanted = reference.strip()
    columns = select(Parcel.id, Parcel.tracking_no, Parcel.status)
    found = s.execute(columns.where(Parcel.tracking_no == wanted)).one_or_none()
    if found is None and wanted.isdigit():
        found = s.execute(columns.where(Parcel.id == int(wanted))).one_or_none()
    if found is None:
        raise NotFound(f"there is no parcel {wanted!r} (give its tracking number or id)")
    return found


def reprint(
    db: Database,
    actor: Actor,
    parcel: str,
    reason: str,
    printer: str,
    *,
    clock: Clock = system_clock,
) -> int:
    """Print a parcel's label again: its latest label job's document becomes a new job, with
    ``reason`` and the operator who asked (the journal of who and why). ``parcel`` is a tracking
    number or a parcel id. Refused in words, nothing queued, without a reason, for an unknown
    or voided parcel, or one that has no label yet."""
    allow(actor, "printjobs.print_queue.reprint")
    why = " ".join((reason or "").split())
    if not why:
        raise ServiceError("say why the label is printed again (e.g. 'label jammed')")
    _check_printer(printer)
    wanted = parcel.strip()

    def work(s: Session) -> int:
        found = find_parcel(s, wanted)
        name = found.tracking_no or f"#{found.id}"
        if found.status == "voided":
            raise ServiceError(f"parcel {name} was voided; its label is void and is not reprinted")
        source = s.execute(
            select(
                PrintJob.content, PrintJob.path, PrintJob.content_type, PrintJob.title,
                PrintJob.order_id,
            )
            .where(PrintJob.parcel_id == found.id, PrintJob.kind == "label")
            .order_by(PrintJob.id.desc())
            .limit(1)
        ).one_or_none()  # fmt: skip
        if source is None:
            raise ServiceError(f"parcel {name} has no label to print again (it is {found.status})")
        return _insert(
            s, kind="label", printer=printer, content=source.content, path=source.path,
            content_type=source.content_type, terminal_id=actor.terminal_id,
            parcel_id=found.id, order_id=source.order_id, pickup_id=None, reason=why,
            requested_by=actor.operator_id, title=source.title, at=clock(),
        )  # fmt: skip

    return db.run(work)


def cancel(
    db: Database, actor: Actor, job_id: int, reason: str, *, clock: Clock = system_clock
) -> JobRow:
    """A lead cancels a job that waits (queued or failed): it is never printed. Refused in
    words, nothing changed, without a reason or for a job printed, being sent or unknown."""
    allow(actor, "printjobs.print_queue.cancel")
    why = " ".join((reason or "").split())
    if not why:
        raise ServiceError(f"say why print job {job_id} is cancelled; nothing was changed")

    def work(s: Session) -> None:
        _waiting_job(s, job_id, "cancelled")
        who = f" by {actor.operator.name}" if actor.operator else ""
        done = s.execute(
            update(PrintJob)
            .where(PrintJob.id == job_id, PrintJob.status.in_(("queued", "failed")))
            .values(
                status="cancelled",
                last_error=f"cancelled on {actor.terminal_id}{who} at "
                f"{clock():%Y-%m-%d %H:%M} UTC: {why}",
            )
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(f"print job {job_id} was changed on another terminal; look again")

    db.run(work)
    return job(db, job_id)


# --- the worker ------------------------------------------------------------------------------


class PrintWorker:
    """Delivers one printer's jobs in a daemon thread, every ``interval_s`` or when woken.

    Never raises out of its thread: a database that cannot be used, or any other fault, becomes
    the status's ``last_error`` (and :attr:`last_error`) and the next pass tries again.
    ``on_status`` is called from the worker's thread with a :class:`PrinterStatus` after the
    first pass and whenever it changes (a TUI hands it to its event loop with
    ``call_from_thread``).
    """

    def __init__(
        self,
        db: Database,
        printer: str,
        backend: Backend,
        *,
        interval_s: float = 2.0,
        on_status: Callable[[PrinterStatus], object] | None = None,
        clock: Clock = system_clock,
        claimed_by: str | None = None,
        limit: int = 20,
    ) -> None:
        self.db = db
        self.printer = printer
        self.backend = backend
        self.interval_s = interval_s
        self.on_status = on_status
        self.clock = clock
        self.claimed_by = claimed_by
        self.limit = limit
        self.last_status: PrinterStatus | None = None
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._run, name=f"print-worker-{self.printer}", daemon=True
        )
        self._thread.start()

    def wake(self) -> None:
        """Look at the queue now (a job was just queued) rather than at the next interval."""
        self._wake.set()

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop after the send in progress (if any); waits up to ``timeout`` seconds."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run_once(self) -> tuple[PrinterStatus, bool]:
        """One pass: deliver what is due, then read the status. Returns the status and whether
        more may be due at once (the pass hit its limit)."""
        more = False
        known = self.last_status
        idle = known is not None and not (known.queued or known.failed or known.down)
        try:
            if idle and not waiting(self.db, self.printer):
                # The usual pass on a quiet printer: one indexed look, nothing else. (A full
                # pass costs a terminal some milliseconds of Python each time, felt as a
                # slower scan now and then.)
                assert known is not None
                return known, False
            delivery = deliver_due(
                self.db, self.printer, self.backend, clock=self.clock, limit=self.limit,
                claimed_by=self.claimed_by,
            )  # fmt: skip
            more = len(delivery.printed) + len(delivery.failed) >= self.limit > 0
            current = status(self.db, self.printer)
            self.last_error = current.last_error
        except Exception as exc:
            words = describe_failure(exc) or f"{type(exc).__name__}: {exc}"
            self.last_error = words
            current = PrinterStatus(
                queued=known.queued if known else 0,
                oldest_queued_at=known.oldest_queued_at if known else None,
                last_error=words,
                down=known.down if known else False,
                printer=self.printer,
                labels=known.labels if known else 0,
                failed=known.failed if known else 0,
            )
        if current != self.last_status:
            self.last_status = current
            if self.on_status is not None:
                try:
                    self.on_status(current)
                except Exception as exc:  # the screen's trouble must not stop the printing
                    self.last_error = f"the status could not be shown: {exc}"
        return current, more

    def _run(self) -> None:
        while not self._stop.is_set():
            _, more = self.run_once()
            if more:
                continue
            self._wake.wait(self.interval_s)
            self._wake.clear()


_WAITING = (
    select(PrintJob.id)
    .where(
        PrintJob.printer == bindparam("printer"),
        PrintJob.status.in_(("queued", "printing", "failed")),
    )
    .limit(1)
)


def waiting(db: Database, printer: str) -> bool:
    """Has ``printer`` any job that is not finished (queued, being sent, or failed)?"""
    with db.read() as s:
        return s.execute(_WAITING, {"printer": printer}).first() is not None


def terminal_worker(
    db: Database,
    settings: Settings,
    *,
    on_status: Callable[[PrinterStatus], object] | None = None,
    clock: Clock = system_clock,
) -> PrintWorker:
    """The worker of this terminal's printer, as config [printer] describes it."""
    printer = settings.printer
    return PrintWorker(
        db, printer.name, backend_for(printer, printer.name), interval_s=printer.poll_s,
        on_status=on_status, clock=clock, claimed_by=settings.terminal.id,
    )  # fmt: skip


def alert(current: PrinterStatus) -> str | None:
    """What a station shows about its printer: nothing while it prints, else the trouble."""
    if current.down or current.failed:
        return current.words
    if current.last_error and current.queued:
        return f"{current.words} ({current.last_error})"
    return None
