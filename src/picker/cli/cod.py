"""``picker cod``: cash on delivery settled — couriers' remittance files imported (a data feed,
like ``picker import``), the delivered COD parcels not paid yet, and the lines kept for the lead
(open to anyone)."""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from picker.cli.acting import feed_actor
from picker.cli.database import open_database, require_head
from picker.cli.errors import EXIT_FAILED, EXIT_OK, CliError
from picker.cli.output import to_json
from picker.cli.progress import ProgressBar
from picker.config import Settings
from picker.domain.cod import COLUMNS
from picker.domain.text import plural, printable, spreadsheet_cell


def add_cod(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "cod",
        help="cash on delivery: couriers' remittances, what is still owed, problems",
        description="Couriers collect the cash of COD parcels and pay it in batches, with a "
        "remittance file. Amounts are exact, in the currency's minor units (EUR 2 decimals, "
        "JPY and VND none).",
    )
    parser.set_defaults(handler=_cod)
    cod = parser.add_subparsers(dest="cod_command", metavar="ACTION", required=True)
    ci = cod.add_parser(
        "import",
        help="settle COD parcels from a courier's remittance file (CSV)",
        description=f"CSV with the columns {', '.join(COLUMNS)}. Each line settles the cash of "
        "the order its tracking number names (any live parcel of the order) when the order "
        "is delivered and the amount and currency are exactly its COD. Every other line is "
        "kept for the lead with its problem (short-paid, over-paid, other currency, unknown "
        "tracking number, another courier's or a voided parcel, prepaid order, not delivered "
        "yet, duplicate) and reported by line and tracking number; the exit status is then 1. "
        "A line is imported once, by courier, reference and tracking number: importing the "
        "same file again changes nothing. A file with a line that cannot be read (a missing "
        "column, a bad amount, currency or date) is refused whole.",
    )
    ci.add_argument("file", help="the remittance file")
    ci.add_argument("--courier", required=True, metavar="CODE", help="the courier who paid")
    co = cod.add_parser(
        "open",
        help="delivered COD parcels not paid yet, oldest delivery first, with totals",
        description="Delivered COD parcels whose cash no remittance has settled yet, oldest "
        "delivery first, with the totals per courier and currency. CSV has the parcels only.",
    )
    co.add_argument("--courier", metavar="CODE", help="only this courier's")
    co.add_argument("--format", choices=("table", "csv", "json"), default="table")
    cp = cod.add_parser(
        "problems",
        help="remittance lines kept for the lead, with their problem",
        description="Every remittance line that settled nothing, in the order imported: the "
        "file and line, tracking number, amount, and the problem in words.",
    )
    cp.add_argument("--courier", metavar="CODE", help="only this courier's")
    cp.add_argument("--format", choices=("table", "csv", "json"), default="table")


def _cod(args: argparse.Namespace, settings: Settings) -> int:
    db = open_database(settings)
    require_head(db)
    try:
        if args.cod_command == "import":
            return _import(args, settings, db)
        if args.cod_command == "open":
            return _open(args, db)
        return _problems(args, db)
    finally:
        db.dispose()


def _import(args: argparse.Namespace, settings: Settings, db: Any) -> int:
    from picker.domain.cod import RemittanceRefused
    from picker.services.cod import import_remittances

    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CliError(f"{path}: {exc.strerror or exc}") from None
    actor = feed_actor(args, settings, db)
    bar = ProgressBar()
    try:
        report = import_remittances(
            db, actor, data, courier=args.courier, file_name=path.name,
            progress=lambda done, total: bar("lines", done, total),
        )  # fmt: skip
    except RemittanceRefused as exc:
        raise CliError(f"{exc}; nothing imported") from None
    for problem in report.problems:
        print(f"  {printable(str(problem))}", file=sys.stderr)
    again = f" ({report.already_kept:,} of them kept for the lead)" if report.already_kept else ""
    print(f"settled {report.counts['settled']:,}, kept for the lead {report.failed:,}, "
          f"already imported {report.counts['already_imported']:,}{again}")  # fmt: skip
    if report.failed:
        print("the kept lines: picker cod problems", file=sys.stderr)
    return EXIT_FAILED if report.failed else EXIT_OK


def _open(args: argparse.Namespace, db: Any) -> int:
    from picker.services.cod import open_cod

    found = open_cod(db, courier=args.courier)
    if args.format == "json":
        print(to_json(found.as_json()))
        return EXIT_OK
    if args.format == "csv":
        _csv([p.as_json() for p in found.parcels], _OPEN_COLUMNS)
        return EXIT_OK
    print(f"{'delivered (UTC)':<16} {'order':<11} {'tracking':<24} {'courier':<7} "
          f"{'amount':>14} cur")  # fmt: skip
    for p in found.parcels:
        print(f"{p.delivered_at:%Y-%m-%d %H:%M} {p.order:<11} {printable(p.tracking_no):<24} "
              f"{p.courier:<7} {p.amount:>14} {p.currency}")  # fmt: skip
    print(plural(len(found.parcels), "parcel") + " not paid yet")
    if found.totals:
        print("totals:")
    for t in found.totals:
        print(f"  {t.courier:<7} {t.currency} {t.amount:>16}  ({plural(t.parcels, 'parcel')})")
    if found.problems:
        print(f"{plural(found.problems, 'remittance line')} kept for the lead: "
              "picker cod problems")  # fmt: skip
    return EXIT_OK


_OPEN_COLUMNS = ("delivered_at", "order", "tracking_no", "courier", "amount", "currency",
                 "amount_minor")  # fmt: skip
_PROBLEM_COLUMNS = ("at", "courier", "file", "line", "tracking_no", "reference", "amount",
                    "currency", "remitted_at", "problem", "order", "detail")  # fmt: skip


def _problems(args: argparse.Namespace, db: Any) -> int:
    from picker.services.cod import cod_problems

    found = cod_problems(db, courier=args.courier)
    if args.format == "json":
        print(to_json({"problems": [p.as_json() for p in found]}))
        return EXIT_OK
    if args.format == "csv":
        _csv([p.as_json() for p in found], _PROBLEM_COLUMNS)
        return EXIT_OK
    for p in found:
        problem = p.problem.words if p.problem else "-"
        print(f"{p.at:%Y-%m-%d %H:%M} {p.courier:<6} {printable(p.file_name)}:{p.line_no} "
              f"{printable(p.tracking_no)}  {p.amount} {p.currency}  ref "
              f"{printable(p.reference)}")  # fmt: skip
        print(f"    {problem}: {printable(p.detail)}")
    print(plural(len(found), "remittance line") + " kept for the lead")
    return EXIT_OK


def _csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    """Data for scripts that may land in a spreadsheet (a formula-like cell stays text) or on a
    terminal (control characters escaped)."""
    writer = csv.writer(sys.stdout)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([
            "" if row[c] is None else spreadsheet_cell(printable(str(row[c]))) for c in columns
        ])  # fmt: skip
