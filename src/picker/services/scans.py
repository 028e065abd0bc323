"""The scan journal: every scan a terminal received, what it was read as and what came of it.

Station services call :func:`journal` inside the transaction that applies the scan, so the journal
row and the effect commit together (or neither does). A scan with no effect of its own (a refused
scan, a scan on the home screen, the scanner test) is recorded alone with :func:`record`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from picker.domain.scanning import Scan, ScanError
from picker.services.common import Actor, Clock, system_clock
from picker.store.engine import Database
from picker.store.models import Operator, ScanJournal

RESULTS = ("accepted", "refused", "misread")
#: The kind journaled for a scan the router could not read at all.
UNREADABLE = "unreadable"


@dataclass(frozen=True)
class ScanOutcome:
    """What a screen made of one scan, as the journal records it."""

    raw: str
    kind: str
    result: str
    message: str = ""
    fields: dict[str, str] | None = None
    order_id: int | None = None

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


def journal(
    s: Session,
    actor: Actor,
    station: str,
    screen: str,
    outcome: ScanOutcome,
    *,
    at: datetime,
) -> None:
    """Add the journal row to the caller's transaction."""
    if outcome.result not in RESULTS:
        raise ValueError(f"scan result {outcome.result!r} is not one of {', '.join(RESULTS)}")
    # A Core INSERT, not a unit-of-work object: a scan is journaled on every screen, and the
    # ORM's flush costs a terminal about a millisecond of Python each time.
    s.execute(
        insert(ScanJournal).values(
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
        )
    )


def record(
    db: Database,
    actor: Actor,
    station: str,
    screen: str,
    outcome: ScanOutcome,
    *,
    clock: Clock = system_clock,
) -> None:
    """Journal a scan that changes nothing else, in a transaction of its own."""
    with db.transaction() as s:
        journal(s, actor, station, screen, outcome, at=clock())


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
