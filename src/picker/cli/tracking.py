"""``picker tracking``: couriers' status files imported (a data feed), and the parcels and
orders the lead chases the courier about (read-only).

``tracking import`` runs as the machine's integration (``OSUSER@HOST`` in the events it
writes), or as the operator named with ``--as``; it exits 1 when it skipped lines, as
``picker import`` does."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from picker.cli.acting import feed_actor
from picker.cli.arguments import count
from picker.cli.database import open_database, require_head
from picker.cli.errors import EXIT_FAILED, EXIT_OK, CliError
from picker.cli.output import to_json
from picker.cli.progress import ProgressBar
from picker.config import Settings
from picker.domain.text import plural, printable

#: Skipped lines named one by one; the rest counted.
SHOWN = 50


def add_tracking(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "tracking",
        help="couriers' tracking events: import a status file; stale parcels, late orders",
    )
    parser.set_defaults(handler=_tracking)
    tracking = parser.add_subparsers(dest="tracking_command", metavar="ACTION", required=True)
    ti = tracking.add_parser(
        "import",
        help="import a courier's status file (CSV or JSON lines)",
        description="A courier's status file: CSV with the header tracking_no,status,at,"
        "location,detail, or JSON lines with the same keys. Statuses: in_transit, "
        "out_for_delivery, delivered, failed_attempt, exception, returned_to_sender, or the "
        "courier's own words mapped in [couriers.CODE.statuses]. Times ISO 8601 with their "
        "offset (without one: the warehouse's time zone). Each event is stored once; a line "
        "with an unknown tracking number or status, or about a voided parcel, is named and "
        "skipped (exit status 1), the rest imported. An order whose every parcel is delivered "
        "becomes delivered, and its customer's delivered mail is queued.",
    )
    ti.add_argument("file", help="the courier's status file")
    ti.add_argument(
        "--courier", metavar="CODE",
        help="the file is this courier's: its words are mapped, other couriers' parcels skipped",
    )  # fmt: skip
    ts = tracking.add_parser(
        "stale",
        help="parcels with no courier event for days, and orders delivered late",
        description="Parcels handed over and not yet delivered whose last courier event (or "
        "handoff) is more than N days old (default: each courier's [couriers.CODE] "
        "stale_days, else 3), and orders delivered in the last 30 days later than their "
        "service's promised days.",
    )
    ts.add_argument("--days", type=count, help="quiet for more than N days (default per courier)")
    ts.add_argument("--courier", metavar="CODE", help="only this courier's")
    ts.add_argument("--format", choices=("table", "json"), default="table")


def _tracking(args: argparse.Namespace, settings: Settings) -> int:
    if args.tracking_command == "stale":
        return _stale(args, settings)
    return _import(args, settings)


def _import(args: argparse.Namespace, settings: Settings) -> int:
    from picker.domain.courier_events import EventFileRefused
    from picker.services.errors import NotFound
    from picker.services.tracking.events import import_events, read_file

    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CliError(f"{path}: {exc.strerror or exc}") from None
    db = open_database(settings)
    require_head(db)
    actor = feed_actor(args, settings, db)
    try:
        lines = read_file(data, settings)
    except EventFileRefused as exc:
        raise CliError(f"{path}: {exc}; nothing imported") from None
    bar = ProgressBar()
    try:
        report = import_events(
            db, actor, lines, settings=settings, courier=args.courier,
            progress=lambda done, total: bar("events", done, total),
        )  # fmt: skip
    except NotFound as exc:
        raise CliError(f"{exc}; nothing imported") from None
    finally:
        db.dispose()
    for problem in report.problems[:SHOWN]:
        print(f"  {path.name}:{printable(str(problem))}", file=sys.stderr)
    if len(report.problems) > SHOWN:
        print(f"  … and {len(report.problems) - SHOWN} more lines skipped", file=sys.stderr)
    c = report.counts
    print(f"imported {c['imported']:,}, already imported {c['already_imported']:,}, "
          f"skipped {c['skipped']:,}")  # fmt: skip
    if report.delivered:
        print(f"{plural(len(report.delivered), 'order')} delivered: "
              + _listed(report.delivered))  # fmt: skip
    if report.returning:
        print(f"{plural(len(report.returning), 'parcel')} coming back to us (returned to "
              f"sender): {_listed(report.returning)}")  # fmt: skip
    return EXIT_FAILED if report.skipped else EXIT_OK


def _listed(names: list[str], shown: int = 10) -> str:
    more = f" … and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(printable(n) for n in names[:shown]) + more


def _stale(args: argparse.Namespace, settings: Settings) -> int:
    from picker.services.actors import system_clock
    from picker.services.errors import NotFound
    from picker.services.tracking.stale import late_orders, stale_parcels

    db = open_database(settings)
    require_head(db)
    now = system_clock()
    try:
        stale = stale_parcels(db, settings, now=now, days=args.days, courier=args.courier)
        late = late_orders(db, settings, now=now, courier=args.courier)
    except NotFound as exc:
        raise CliError(str(exc)) from None
    finally:
        db.dispose()
    if args.format == "json":
        print(to_json({"stale": [p.as_json() for p in stale],
                       "late": [o.as_json() for o in late]}))  # fmt: skip
        return EXIT_OK
    _print_stale(stale, settings)
    print()
    _print_late(late, settings)
    return EXIT_OK


def _print_stale(stale: list[Any], settings: Settings) -> None:
    if not stale:
        print("No stale parcels: every parcel on its way has news from its courier.")
        return
    print(f"{plural(len(stale), 'stale parcel')} (no courier event for days):")
    print(f"  {'tracking':<24} {'order':<12} {'courier':<7} {'quiet':>5}  last")
    tz = settings.warehouse.tz
    for p in stale:
        when = (p.last_at or p.handed_over_at).astimezone(tz)
        print(f"  {printable(p.tracking_no):<24} {p.order:<12} {p.courier:<7} "
              f"{p.quiet_days:>4}d  {p.last_words} {when:%Y-%m-%d %H:%M}")  # fmt: skip


def _print_late(late: list[Any], settings: Settings) -> None:
    if not late:
        print("No order delivered late in the last 30 days.")
        return
    print(f"{plural(len(late), 'order')} delivered late (last 30 days):")
    print(f"  {'order':<12} {'courier':<7} {'service':<10} {'took':>5} {'promised':>8}  delivered")
    tz = settings.warehouse.tz
    for o in late:
        print(f"  {o.order:<12} {o.courier:<7} {printable(o.service):<10} {o.took_days:>4}d "
              f"{o.promised_days:>7}d  {o.delivered_at.astimezone(tz):%Y-%m-%d %H:%M}")  # fmt: skip
