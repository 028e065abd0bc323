"""``picker bench tracking``: a courier's status file of N events imported into a demo floor.

The floor's parcels on their way (handed over, their orders ``executed``) each get in_transit,
out_for_delivery and delivered, in that order in time, until the file holds ``--events`` lines
(written as CSV, the way a courier sends it); the real import reads and stores it as
``picker tracking import`` does, delivering orders and queueing their mails. Measured: events
imported per second (the file read, the batches written), and the time of the whole import.
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from picker.bench.runs import _demo_floor, metric
from picker.config import Settings
from picker.services.actors import Actor
from picker.services.tracking.events import import_events, read_file
from picker.store.models import Order, Parcel

STEPS = (("in_transit", 6), ("out_for_delivery", 20), ("delivered", 26))  # (status, hours)
#: Target of issue 21 (SQLite).
TARGET_PER_S = 5000.0


def status_file(db: Any, events: int) -> tuple[bytes, int]:
    """A CSV status file of ``events`` lines about the floor's parcels on their way, and how
    many parcels it names."""
    per_parcel = len(STEPS)
    with db.read() as s:
        parcels = s.execute(
            select(Parcel.tracking_no, Parcel.handed_over_at)
            .join(Order, Order.id == Parcel.order_id)
            .where(Parcel.status == "handed_over", Order.status == "executed")
            .order_by(Parcel.id)
            .limit(-(-events // per_parcel))
        ).all()
    if not parcels:
        raise RuntimeError("the demo floor has no parcels on their way: give it more --orders")
    lines = ["tracking_no,status,at,location,detail"]
    n = 0
    while n < events:  # too few parcels: the same again a week later (new events)
        for tracking, handed in parcels:
            for status, hours in STEPS:
                if n == events:
                    break
                at = handed + timedelta(hours=hours, days=7 * (n // (len(parcels) * per_parcel)))
                lines.append(f"{tracking},{status},{at.isoformat()},Hub {n % 17},")
                n += 1
    return ("\n".join(lines) + "\n").encode(), len(parcels)


def tracking_metrics(
    args: argparse.Namespace, settings: Settings, db: Any, progress: Any
) -> tuple[int, dict]:
    orders = _demo_floor(args, db, progress)
    data, parcels = status_file(db, args.events)
    actor = Actor(settings.terminal.id, source="bench@tracking")
    started = time.perf_counter()
    lines = read_file(data, settings)
    report = import_events(
        db, actor, lines, settings=settings,
        progress=lambda done, total: progress("events", done, total),
    )  # fmt: skip
    seconds = time.perf_counter() - started
    imported = report.counts["imported"]
    return orders, {
        "events_per_s": metric(round(imported / seconds if seconds else 0), "per_s",
                               TARGET_PER_S, higher=True),
        "import_time": metric(round(seconds, 2), "s"),
        "imported": metric(imported, "events", args.events, higher=True),
        "skipped": metric(report.skipped, "events", 0),
        "parcels": metric(parcels, "parcels"),
        "orders_delivered": metric(len(report.delivered), "orders"),
    }  # fmt: skip
