"""``picker order timeline NUMBER``: the order's whole story, in time order."""

from __future__ import annotations

import argparse

from picker.cli.database import open_database, require_head
from picker.cli.errors import EXIT_OK
from picker.cli.output import to_json
from picker.config import Settings
from picker.domain.text import plural, printable


def add_timeline(order: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``timeline`` action of ``picker order``."""
    ot = order.add_parser(
        "timeline",
        help="one order's whole story in time order: statuses, scans, parcels, prints, "
        "pickup, messages",
        description="Every status change, every scan on the order (terminal and operator), its "
        "parcels closed and handed over, label jobs and reprints, the pickup and its manifest, "
        "and the messages queued and sent, oldest first, each saying who, where and when "
        "(times in UTC, as `order show` prints them).",
    )
    ot.add_argument("number")
    ot.add_argument("--format", choices=("table", "json"), default="table")


def order_timeline(args: argparse.Namespace, settings: Settings) -> int:
    from picker.services.orders.timeline import order_timeline as timeline_of

    db = open_database(settings)
    try:
        require_head(db)
        timeline = timeline_of(db, args.number)
    finally:
        db.dispose()
    if args.format == "json":
        print(to_json(timeline.as_json()))
        return EXIT_OK
    print(f"{timeline.order}  {timeline.status}  {printable(timeline.customer)}")
    print(f"{'at (UTC)':<19} {'kind':<7} {'who':<9} {'where':<9} what")
    for e in timeline.entries:
        # Who: the operator, else the data feed that acted with none (OSUSER@HOST).
        who = printable(e.operator or e.source or "-")
        print(f"{e.at:%Y-%m-%d %H:%M:%S} {e.kind:<7} {who:<9} {printable(e.terminal or '-'):<9} "
              f"{printable(e.what)}")  # fmt: skip
    print(plural(len(timeline.entries), "entry", "entries"))
    return EXIT_OK
