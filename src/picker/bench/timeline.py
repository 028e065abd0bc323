"""``picker bench timeline``: an order's whole story read back, on a demo floor.

The demo floor's history gives the order tables their size (events, parcels, pickups). It
journals no scans and prints nothing, so the benchmark first gives every order of the floor a
scan and a printed packing slip (one INSERT … SELECT each), which the timeline's queries must
skip by index. Then one shipped order of the floor gets a story of ``--events`` entries through
the real services (scans journaled, events recorded, label jobs queued), and
:func:`~picker.services.orders.timeline.order_timeline` is timed over ``--calls`` calls.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, text

from picker.domain.statuses import OrderStatus
from picker.services import scans
from picker.services.actors import Actor, Clock
from picker.services.orders.status import record_event
from picker.services.orders.timeline import order_timeline
from picker.services.printjobs import print_queue
from picker.services.scans import ScanOutcome
from picker.store.engine import Database
from picker.store.models import Order, Parcel, ScanJournal

#: The terminal of the background rows (so a reused floor is not given them twice).
BACKGROUND = "BENCH-BG"
#: The terminal that writes the benchmark order's story.
TERMINAL = "BENCH"


@dataclass(frozen=True)
class TimelineRun:
    order: str
    entries: int
    p50_ms: float
    p99_ms: float
    max_ms: float


def add_background(db: Database) -> int:
    """One scan and one printed packing slip for every order of the floor that has none (a
    floor reused keeps them); returns the orders given them."""
    with db.read() as s:
        if s.scalar(select(ScanJournal.id).where(ScanJournal.terminal_id == BACKGROUND).limit(1)):
            return 0
    with db.transaction() as s:
        s.execute(
            text(
                "INSERT INTO scan_journal (at, terminal_id, station, screen, raw, kind, fields, "
                "result, message, order_id) SELECT placed_at, :t, 'packing', 'pack', number, "
                "'order', '{}', 'accepted', '', id FROM orders"
            ),
            {"t": BACKGROUND},
        )
        done = s.execute(
            text(
                "INSERT INTO print_jobs (created_at, kind, printer, content_type, path, status, "
                "attempts, printed_at, order_id, terminal_id, title) SELECT placed_at, "
                "'packing_slip', 'bench', 'application/pdf', 'bench.pdf', 'done', 1, placed_at, "
                "id, :t, number FROM orders"
            ),
            {"t": BACKGROUND},
        )
    if db.dialect == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE scan_journal"))
            conn.execute(text("ANALYZE print_jobs"))
    return int(done.rowcount or 0)  # type: ignore[attr-defined]


def _fixed(at: datetime) -> Clock:
    """A clock that always reads ``at``."""
    return lambda: at


def story_order(db: Database, settings: Any, events: int) -> str:
    """A shipped order of the floor (parcels, pickup, events) whose timeline is made
    ``events`` entries long through the real services: about six scans to every two events
    and two label jobs. Returns its number."""
    with db.read() as s:
        found = s.execute(
            select(Order.id, Order.number, Order.status)
            .where(Order.status == OrderStatus.EXECUTED.value)
            .order_by(Order.id.desc())
            .limit(1)
        ).one_or_none()
        if found is None:
            raise RuntimeError("the demo floor has no executed order: more --orders")
        parcel = s.scalar(select(Parcel.id).where(Parcel.order_id == found.id).limit(1))
    actor = Actor(TERMINAL)
    have = len(order_timeline(db, found.number).entries)
    at = datetime.now(UTC) - timedelta(hours=1)
    for n in range(max(0, events - have)):
        at += timedelta(seconds=1)
        if n % 10 < 6:
            scan = ScanOutcome(f"{found.number}-{n}", "order", "accepted", order_id=found.id)
            scans.record(db, actor, "packing", "pack", scan, clock=_fixed(at))
            continue
        with db.transaction() as s:
            if n % 10 < 8:
                record_event(s, order_id=found.id, status=OrderStatus(found.status),
                             actor=actor, reason=f"bench note {n}", at=at)  # fmt: skip
            else:
                print_queue.enqueue(
                    s, kind="label", printer=settings.printer.name, content=b"%PDF-1.4 bench",
                    content_type="application/pdf", terminal_id=TERMINAL, parcel_id=parcel,
                    order_id=found.id, reason=f"bench reprint {n}", at=at,
                )  # fmt: skip
    return str(found.number)


def bench_timeline(
    db: Database, settings: Any, *, events: int, calls: int, progress: Any
) -> TimelineRun:
    progress("background", 0, 1)
    add_background(db)
    progress("background", 1, 1)
    number = story_order(db, settings, events)
    entries = len(order_timeline(db, number).entries)  # warm: connections, statement caches
    times = []
    for i in range(calls):
        started = time.perf_counter()
        order_timeline(db, number)
        times.append((time.perf_counter() - started) * 1000)
        progress("timeline", i + 1, calls)
    times.sort()
    p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
    return TimelineRun(number, entries, round(statistics.median(times), 2), round(p99, 2),
                       round(times[-1], 2))  # fmt: skip
