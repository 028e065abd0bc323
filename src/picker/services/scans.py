"""The scan journal: every scan a terminal received, what it was read as and what came of it.

Station services call :func:`journal` inside the transaction that applies the scan, so the journal
row and the effect commit together (or neither does). A scan with no effect of its own (a refused
scan, a scan on the home screen, the scanner test) is recorded alone with :func:`record`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from picker.domain.scanning import Scan, ScanError
from picker.services.actors import Actor, Clock, allow, system_clock
from picker.store.engine import Database
from picker.store.models import Operator, ScanJournal

RESULTS = ("accepted", "refused", "misread")
#: The kind journaled for a scan the router could not read at all.
UNREADABLE = "unreadable"


@dataclass(frozen=True)
class ScanKey:
    """The key of the scan being applied, and whether this is its second sending."""

    value: str
    resent: bool = False


#: The scan being applied in this context (a terminal's scan consumer sets it; a thread started
#: with ``asyncio.to_thread`` inherits it). Outcomes built meanwhile carry its key.
_current: ContextVar[ScanKey | None] = ContextVar("scan_key", default=None)


@contextmanager
def sending(key: ScanKey) -> Iterator[None]:
    """Apply a scan under ``key``: what is journaled meanwhile is journaled with it."""
    token = _current.set(key)
    try:
        yield
    finally:
        _current.reset(token)


def _current_key() -> str | None:
    key = _current.get()
    return key.value if key is not None else None


class AlreadySaved(Exception):
    """The scan sent again was saved the first time (its answer was lost with the connection).

    Not a :class:`ServiceError`: screens turn those into refusals, and this must reach the scan
    consumer untouched, which reads the screen again and says what had been saved."""

    def __init__(self, result: str, message: str) -> None:
        self.result, self.message = result, message
        what = "refused" if result != "accepted" else "saved"
        words = f": {message}" if message else ""
        super().__init__(f"Already {what} before the connection dropped{words}")


@dataclass(frozen=True)
class ScanOutcome:
    """What a screen made of one scan, as the journal records it."""

    raw: str
    kind: str
    result: str
    message: str = ""
    fields: dict[str, str] | None = None
    order_id: int | None = None
    key: str | None = field(default_factory=_current_key)
    """The scan's key (see :class:`ScanKey`): the scan being applied when this was built."""

    @classmethod
    def of(
        cls, scan: Scan, result: str, message: str = "", order_id: int | None = None
    ) -> ScanOutcome:
        fields: dict[str, str] = {}
        for f in scan.fields:
            key = f.name if f.name not in fields else f"{f.name} ({f.ai or len(fields)})"
            fields[key] = f.value
        return cls(scan.raw, scan.kind.value, result, message, fields, order_id)

    @classmethod
    def unreadable(cls, raw: str, error: ScanError) -> ScanOutcome:
        return cls(raw, UNREADABLE, error.result, str(error))

    def for_order(self, order_id: int) -> ScanOutcome:
        """The same outcome, journaled against ``order_id``."""
        return replace(self, order_id=order_id)


def _storable(raw: str) -> str:
    # PostgreSQL text cannot hold NUL; nothing else is changed (GS and the like are kept).
    return raw.replace("\x00", "\ufffd")


def _not_saved(s: Session, key: ScanKey) -> None:
    before = s.execute(
        select(ScanJournal.result, ScanJournal.message)
        .where(ScanJournal.scan_key == key.value)
        .limit(1)
    ).first()
    if before is not None:
        raise AlreadySaved(before.result, before.message)


def not_saved_before(db: Database, key: ScanKey) -> None:
    """Before a scan is sent again: raises :class:`AlreadySaved` if its first sending was
    saved (checked again in the transaction that journals it: a screen's or a service's own
    checks would otherwise refuse it first, as one unit too many, say)."""
    if key.resent:
        with db.read() as s:
            _not_saved(s, key)


def journal(
    s: Session,
    actor: Actor,
    station: str,
    screen: str,
    outcome: ScanOutcome,
    *,
    at: datetime,
) -> None:
    """Add the journal row to the caller's transaction; raises :class:`AlreadySaved` (the
    caller's transaction must roll back) when the scan being sent again was saved before."""
    if outcome.result not in RESULTS:
        raise ValueError(f"scan result {outcome.result!r} is not one of {', '.join(RESULTS)}")
    sent = _current.get()
    if sent is not None and sent.resent:
        _not_saved(s, sent)
    # A Core INSERT, not a unit-of-work object: a scan is journaled on every screen, and the
    # ORM's flush costs a terminal about a millisecond of Python each time.
    row = insert(ScanJournal).values(
        at=at,
        terminal_id=actor.terminal_id,
        operator_id=actor.operator_id,
        station=station[:16],
        screen=screen[:24],
        raw=_storable(outcome.raw),
        kind=outcome.kind[:16],
        fields=dict(outcome.fields or {}),
        result=outcome.result,
        message=outcome.message,
        order_id=outcome.order_id,
        scan_key=outcome.key,
    )
    try:
        s.execute(row)
    except IntegrityError as exc:
        if sent is None or not sent.resent or "scan_key" not in str(exc.orig):
            raise
        # The first sending committed after this one looked for it (the unique key waited for
        # it): the same as found before.
        raise AlreadySaved("accepted", "") from None


def record(
    db: Database,
    actor: Actor,
    station: str,
    screen: str,
    outcome: ScanOutcome,
    *,
    clock: Clock = system_clock,
) -> None:
    """Journal a scan that changes nothing else, in a transaction of its own (a scan sent
    again that was journaled the first time is not journaled twice)."""
    allow(actor, "scans.record")
    try:
        with db.transaction() as s:
            journal(s, actor, station, screen, outcome, at=clock())
    except AlreadySaved:
        return


@dataclass(frozen=True)
class JournalEntry:
    id: int
    at: datetime
    terminal_id: str
    operator: str
    station: str
    screen: str
    raw: str
    kind: str
    result: str
    message: str
    fields: dict[str, str]


def recent(db: Database, *, last: int = 50, terminal: str | None = None) -> list[JournalEntry]:
    """The last ``last`` scans (of one terminal, or all), oldest first."""
    query = (
        select(ScanJournal, Operator.badge)
        .outerjoin(Operator, ScanJournal.operator_id == Operator.id)
        .order_by(ScanJournal.id.desc())
        .limit(max(0, last))
    )
    if terminal is not None:
        query = query.where(ScanJournal.terminal_id == terminal)
    with db.read() as s:
        rows = s.execute(query).all()
    return [
        JournalEntry(
            row.id,
            row.at,
            row.terminal_id,
            badge or "",
            row.station,
            row.screen,
            row.raw,
            row.kind,
            row.result,
            row.message,
            dict(row.fields or {}),
        )
        for row, badge in reversed(rows)
    ]
