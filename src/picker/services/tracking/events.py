"""``picker tracking import``: a courier's status file into tracking events.

Lines are taken in batches of :data:`BATCH`, each batch one transaction: its events, the
parcels' courier state, the orders it delivers with their events and their ``delivered``
mails in the outbox — all or nothing. A line that cannot be used (an unknown tracking number,
an unknown status, a voided parcel, a parcel not handed over…) is reported by line number and
tracking number and writes nothing; the rest of the file is imported.

Each event is stored once: the database's unique key (parcel, status, courier's time) settles
it, so importing a file twice, or two files that overlap, changes nothing the second time. A
parcel's courier state is its latest event by the courier's time, whatever order the events
arrive in. An order whose every handed-over parcel is delivered becomes ``delivered``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, exists, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from picker.config import Settings
from picker.domain.courier_events import (
    RANK,
    CourierStatus,
    EventProblem,
    RawEvent,
    courier_status,
    read_events,
)
from picker.domain.statuses import OrderStatus, ParcelStatus
from picker.services.actors import Actor, Clock, allow, system_clock
from picker.services.errors import NotFound
from picker.services.notify import outbox
from picker.services.orders.status import move_orders
from picker.store.engine import Database
from picker.store.models import Courier, Order, Parcel, TrackingEvent, UTCDateTime

#: Lines per transaction.
BATCH = 2000

Progress = Callable[[int, int], None]

_DELIVERED = CourierStatus.DELIVERED.value
_RETURNED = CourierStatus.RETURNED_TO_SENDER.value


@dataclass
class TrackingReport:
    """What an import did: counts (``imported``, ``already_imported``, ``skipped``), each
    skipped line's problem, the orders it delivered and the parcels now coming back."""

    lines: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    problems: list[EventProblem] = field(default_factory=list)
    delivered: list[str] = field(default_factory=list)
    returning: list[str] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return self.counts["skipped"]


@dataclass(frozen=True)
class _Batch:
    """One batch's outcome (returned from its transaction, which may run more than once)."""

    imported: int
    already: int
    problems: tuple[EventProblem, ...]
    delivered: tuple[str, ...]
    returning: tuple[str, ...]


def read_file(data: bytes, settings: Settings) -> list[RawEvent | EventProblem]:
    """The file's lines read (see :func:`~picker.domain.courier_events.read_events`): a time
    without an offset is the warehouse's. Raises ``EventFileRefused`` for a file that cannot
    be read at all."""
    return list(read_events(data, local=settings.warehouse.tz))


def import_events(
    db: Database,
    actor: Actor,
    lines: Sequence[RawEvent | EventProblem],
    *,
    settings: Settings,
    courier: str | None = None,
    clock: Clock = system_clock,
    progress: Progress | None = None,
) -> TrackingReport:
    """Import the lines of a courier's status file (see the module). ``courier`` (a code):
    the file is that courier's, its words mapped by its ``[couriers.CODE.statuses]``, and a
    line about another courier's parcel is skipped; None: each parcel's own courier."""
    allow(actor, "tracking.events.import_events")
    if courier is not None:
        courier = courier.strip().upper()
        with db.read() as s:
            if s.scalar(select(Courier.id).where(Courier.code == courier)) is None:
                raise NotFound(f"no courier {courier}")
    source = actor.source or (actor.operator.badge if actor.operator else None)
    report = TrackingReport(lines=len(lines))
    done = 0
    for start in range(0, len(lines), BATCH):
        chunk = lines[start : start + BATCH]
        bad = [p for p in chunk if isinstance(p, EventProblem)]
        good = [e for e in chunk if isinstance(e, RawEvent)]
        now = clock()

        def work(s: Session, good: list[RawEvent] = good, now: datetime = now) -> _Batch:
            return _import_batch(s, actor, good, settings, courier, source, now)

        batch = db.run(work) if good else _Batch(0, 0, (), (), ())
        problems = sorted([*bad, *batch.problems], key=lambda p: p.line)
        report.problems.extend(problems)
        report.counts["skipped"] += len(problems)
        report.counts["imported"] += batch.imported
        report.counts["already_imported"] += batch.already
        report.delivered.extend(batch.delivered)
        report.returning.extend(batch.returning)
        done += len(chunk)
        if progress:
            progress(done, len(lines))
    if progress and not lines:
        progress(0, 0)
    return report


def _import_batch(
    s: Session,
    actor: Actor,
    events: list[RawEvent],
    settings: Settings,
    courier: str | None,
    source: str | None,
    now: datetime,
) -> _Batch:
    parcels = _parcels(s, {e.tracking_no for e in events})
    problems: list[EventProblem] = []
    accepted: list[tuple[RawEvent, Any, CourierStatus]] = []
    for e in events:
        parcel = parcels.get(e.tracking_no)
        reason, status = _judge(e, parcel, settings, courier)
        if reason is not None:
            problems.append(EventProblem(e.line, e.tracking_no, reason))
        else:
            accepted.append((e, parcel, status))  # type: ignore[arg-type]
    stored = _stored(s, {p.id for _, p, _ in accepted}, [e.at for e, _, _ in accepted])
    rows: list[dict[str, Any]] = []
    already = 0
    for e, p, status in accepted:
        key = (p.id, status.value, e.at)
        if key in stored:
            already += 1
            continue
        stored.add(key)
        rows.append({"parcel_id": p.id, "courier_id": p.courier_id, "status": status.value,
                     "at": e.at, "location": e.location, "detail": e.detail,
                     "raw_status": e.raw_status, "imported_at": now, "source": source})  # fmt: skip
    if rows:
        insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
        s.execute(
            insert(TrackingEvent).on_conflict_do_nothing(
                index_elements=["parcel_id", "status", "at"]
            ),
            rows,
        )
    by_id = {p.id: p for p in parcels.values()}
    newly_delivered = _update_parcels(s, rows, by_id)
    returning = sorted({by_id[r["parcel_id"]].tracking_no for r in rows
                        if r["status"] == _RETURNED})  # fmt: skip
    if returning:
        s.execute(
            update(Parcel)
            .where(Parcel.tracking_no.in_(returning))
            .values(returned_to_sender=True)
            .execution_options(synchronize_session=False)
        )
    delivered = _deliver_orders(s, actor, settings, newly_delivered, by_id, now)
    return _Batch(len(rows), already, tuple(problems), delivered, tuple(returning))


def _parcels(s: Session, tracking: Iterable[str]) -> dict[str, Any]:
    """The parcels of these tracking numbers, with their courier's code."""
    found = s.execute(
        select(
            Parcel.id, Parcel.tracking_no, Parcel.status, Parcel.order_id, Parcel.courier_id,
            Parcel.seq, Parcel.courier_status, Parcel.courier_status_at,
            Courier.code.label("courier"),
        )
        .join(Courier, Courier.id == Parcel.courier_id)
        .where(Parcel.tracking_no.in_(list(tracking)))
    ).all()  # fmt: skip
    return {p.tracking_no: p for p in found}


def _judge(
    e: RawEvent, parcel: Any, settings: Settings, courier: str | None
) -> tuple[str | None, CourierStatus | None]:
    """(why the line is skipped, None) or (None, the event's status)."""
    if parcel is None:
        return "no parcel of ours has this tracking number", None
    if courier is not None and parcel.courier != courier:
        return f"a parcel of {parcel.courier}, not of {courier}", None
    if parcel.status == ParcelStatus.VOIDED:
        return "the parcel was voided (its label is not in use)", None
    if parcel.status != ParcelStatus.HANDED_OVER:
        return "the parcel was not handed to its courier yet", None
    words = settings.couriers.get(parcel.courier)
    status = courier_status(e.raw_status, words.statuses if words else {})
    if status is None:
        return (
            f"unknown status {e.raw_status!r} (a courier's own word maps to ours in "
            f"[couriers.{parcel.courier}.statuses])",
            None,
        )
    return None, status


def _stored(
    s: Session, parcel_ids: set[int], times: list[datetime]
) -> set[tuple[int, str, datetime]]:
    """The events already stored for these parcels within the batch's span of courier's
    times, as (parcel, status, courier's time)."""
    if not parcel_ids:
        return set()
    return {
        (r.parcel_id, r.status, r.at)
        for r in s.execute(
            select(TrackingEvent.parcel_id, TrackingEvent.status, TrackingEvent.at).where(
                TrackingEvent.parcel_id.in_(list(parcel_ids)),
                TrackingEvent.at.between(min(times), max(times)),
            )
        )
    }


def _later(a: tuple[datetime, str], b: tuple[datetime | None, str | None]) -> bool:
    """Whether state ``a`` (courier's time, status) is later than ``b``: by time, then (two
    events at one moment) by the step of the journey."""
    if b[0] is None:
        return True
    if a[0] != b[0]:
        return a[0] > b[0]
    return RANK[CourierStatus(a[1])] > RANK[CourierStatus(b[1])] if b[1] else True


def _update_parcels(
    s: Session, rows: list[dict[str, Any]], parcels: Mapping[int, Any]
) -> dict[int, datetime]:
    """Each parcel's courier state set to its latest event, unless it has a later one
    already (events out of order). Returns the parcels now ``delivered``: id → courier's
    time."""
    latest: dict[int, tuple[datetime, str]] = {}
    for r in rows:
        mine = latest.get(r["parcel_id"])
        if mine is None or _later((r["at"], r["status"]), mine):
            latest[r["parcel_id"]] = (r["at"], r["status"])
    changes: list[dict[str, Any]] = []
    for parcel_id, (at, status) in latest.items():
        p = parcels[parcel_id]
        if _later((at, status), (p.courier_status_at, p.courier_status)):
            changes.append({"b_id": parcel_id, "b_status": status, "b_at": at})
    if changes:
        table = cast(Table, Parcel.__table__)
        s.connection().execute(
            update(table)
            .where(
                table.c.id == bindparam("b_id"),
                or_(
                    table.c.courier_status_at.is_(None),
                    table.c.courier_status_at <= bindparam("b_at", type_=UTCDateTime()),
                ),
            )
            .values(
                courier_status=bindparam("b_status"),
                courier_status_at=bindparam("b_at", type_=UTCDateTime()),
            ),
            changes,
        )
    return {c["b_id"]: c["b_at"] for c in changes if c["b_status"] == _DELIVERED}


def _deliver_orders(
    s: Session,
    actor: Actor,
    settings: Settings,
    delivered: Mapping[int, datetime],
    parcels: Mapping[int, Any],
    now: datetime,
) -> tuple[str, ...]:
    """Orders whose every handed-over parcel is now delivered: ``delivered``, the event naming
    the parcel that arrived last and the courier's time, and the delivered mail queued."""
    last: dict[int, tuple[datetime, Any]] = {}
    for parcel_id, at in delivered.items():
        p = parcels[parcel_id]
        if p.order_id not in last or at > last[p.order_id][0]:
            last[p.order_id] = (at, p)
    if not last:
        return ()
    on_the_way = exists().where(
        Parcel.order_id == Order.id,
        Parcel.status == ParcelStatus.HANDED_OVER.value,
        or_(Parcel.courier_status.is_(None), Parcel.courier_status != _DELIVERED),
    )
    orders = s.execute(
        select(Order.id, Order.number)
        .where(Order.id.in_(list(last)), Order.status == OrderStatus.EXECUTED.value, ~on_the_way)
        .order_by(Order.id)
        .with_for_update()
    ).all()
    reasons = {}
    for o in orders:
        at, p = last[o.id]
        reasons[o.id] = (f"parcel {p.seq} ({p.tracking_no}) delivered by {p.courier} at "
                         f"{at:%Y-%m-%d %H:%M} UTC")  # fmt: skip
    move_orders(
        s, orders=[(o.id, o.number) for o in orders], from_=OrderStatus.EXECUTED,
        to=OrderStatus.DELIVERED, actor=actor, reason="delivered", reasons=reasons, at=now,
    )  # fmt: skip
    outbox.enqueue(s, [o.id for o in orders], "delivered", settings=settings, at=now,
                   delivered_at={o.id: last[o.id][0] for o in orders})  # fmt: skip
    return tuple(o.number for o in orders)
