"""``picker inbound``: suppliers' deliveries — inbound notices imported, listed and shown, a
delivery received and put away from the back office, a receipt closed.

``import`` is a data feed (the machine's integration, or ``--as`` a lead). ``receive`` and
``close`` act with a receiver's (or a lead's) authority: they need ``--as BADGE``. ``list`` and
``show`` are read-only, open to anyone."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from picker.cli.acting import feed_actor, operator_actor
from picker.cli.database import open_database, require_head
from picker.cli.errors import EXIT_FAILED, EXIT_OK, CliError
from picker.cli.output import to_json
from picker.cli.progress import ProgressBar
from picker.config import Settings
from picker.domain.text import plural, printable

STATUSES = ("expected", "open", "closed", "cancelled")


def receive_line(text: str) -> tuple[str, int, str | None]:
    """``SKU:QTY[:BIN]``: the SKU (which may hold a colon), the units, and the bin they go to
    (none: the suggested bin)."""
    parts = [p.strip() for p in text.strip().split(":")]
    example = "e.g. SKU-00001:12 or SKU-00001:12:A-01-03-2"
    if len(parts) >= 3 and parts[-2].isdigit() and not parts[-1].isdigit():
        *sku, qty, bin_code = parts
    elif len(parts) >= 2:
        *sku, qty = parts
        bin_code = ""
    else:
        raise argparse.ArgumentTypeError(f"{text!r} is not SKU:QTY[:BIN] ({example})")
    name = ":".join(sku)
    if not name:
        raise argparse.ArgumentTypeError(f"{text!r} names no SKU ({example})")
    if not qty.isdigit() or int(qty) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: the quantity must be a whole number ≥ 1")
    return name, int(qty), bin_code or None


def add_inbound(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "inbound",
        help="suppliers' deliveries: notices imported, listed, shown; received; closed",
        description="Goods suppliers send: inbound notices (ASN) are imported ahead and "
        "received by scan at the receiving station (station 'receiving'); goods wait in the "
        "dock ([receiving] dock_bin) until put away. From the back office: import notices, "
        "list and show receipts, receive a delivery and put it away in one command, close a "
        "receipt.",
    )
    parser.set_defaults(handler=_inbound)
    inb = parser.add_subparsers(dest="inbound_command", metavar="ACTION", required=True)
    ii = inb.add_parser(
        "import",
        help="inbound notices from a CSV (reference,supplier,expected_at,sku,qty[,lot,expiry])",
        description="One receipt per reference, its lines in file order. A reference that "
        "exists already is left as it is (importing the same file again changes nothing). A "
        "bad line (unknown SKU, a quantity that is not a whole number ≥ 1, a bad date) is "
        "named by its CSV line and column, and its whole receipt is left out; the others are "
        "imported (exit status 1 when any was left out). Dates are YYYY-MM-DD. A data feed: "
        "with --as, a lead.",
    )
    ii.add_argument("file", metavar="FILE.csv")
    il = inb.add_parser("list", help="receipts: to receive first, then the others newest first")
    il.add_argument("--status", choices=STATUSES, help="only receipts of this status")
    il.add_argument("--limit", type=int, default=200, help="at most this many (default 200)")
    il.add_argument("--format", choices=("table", "json"), default="table")
    ish = inb.add_parser("show", help="one receipt: its lines, expected and received")
    ish.add_argument("reference", metavar="REF")
    ish.add_argument("--format", choices=("table", "json"), default="table")
    ir = inb.add_parser(
        "receive",
        help="receive a delivery and put it away, in one transaction",
        description="Receives each --line SKU:QTY[:BIN] into the dock and puts it away into "
        "BIN (by default the suggested bin: the product's pick face when it has room, else "
        "the nearest empty bin), all in one transaction. A reference without a notice is "
        "created. More than a notice's line expects (beyond [receiving] over_tolerance_pct), "
        "or a product it does not list, needs --accept REASON (a lead). --close closes the "
        "receipt and lists its discrepancies. Orders held short of the SKUs are tried again. "
        "When any line is refused nothing is changed and the exit status is 1, naming the "
        "line. Needs --as a receiver or a lead.",
    )
    ir.add_argument("reference", metavar="REF")
    ir.add_argument(
        "--line", dest="lines", action="append", required=True, type=receive_line,
        metavar="SKU:QTY[:BIN]", help="units received, and their bin (repeat for more)",
    )  # fmt: skip
    ir.add_argument("--supplier", metavar="NAME", help="the supplier (a new receipt)")
    ir.add_argument("--close", action="store_true", help="close the receipt afterwards")
    ir.add_argument("--accept", metavar="REASON", help="a lead accepts what is over or extra")
    ic = inb.add_parser(
        "close",
        help="close a receipt: its discrepancies (short, over, unknown, not on the notice)",
        description="Closes the receipt (not while another terminal is receiving it) and "
        "lists each line received other than its notice said. Needs --as a receiver or a "
        "lead.",
    )
    ic.add_argument("reference", metavar="REF")


def _inbound(args: argparse.Namespace, settings: Settings) -> int:
    if args.inbound_command == "import":
        return _import(args, settings)
    db = open_database(settings)
    require_head(db)
    try:
        if args.inbound_command == "list":
            return _list(args, db)
        if args.inbound_command == "show":
            return _show(args, db)
        if args.inbound_command == "receive":
            return _receive(args, settings, db)
        return _close(args, settings, db)
    finally:
        db.dispose()


def _import(args: argparse.Namespace, settings: Settings) -> int:
    from picker.channels.files import FileRefused
    from picker.services.inbound import import_notices

    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CliError(f"{path}: {exc.strerror or exc}") from None
    db = open_database(settings)
    require_head(db)
    try:
        actor = feed_actor(args, settings, db)
        bar = ProgressBar()
        try:
            report = import_notices(
                db, actor, data, path.name, progress=lambda done, total: bar("lines", done, total)
            )
        except FileRefused as exc:
            raise CliError(f"{exc}; nothing imported") from None
    finally:
        db.dispose()
    shown = 50
    for problem in report.problems[:shown]:
        print(f"  {printable(str(problem))}", file=sys.stderr)
    if len(report.problems) > shown:
        print(f"  … and {len(report.problems) - shown} more problems", file=sys.stderr)
    c = report.counts
    print(f"receipts {c['receipts']:,} ({c['lines']:,} lines), already imported "
          f"{c['already_imported']:,}, failed {c['failed']:,}")  # fmt: skip
    return EXIT_FAILED if report.failed else EXIT_OK


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def summary_json(r: Any) -> dict[str, Any]:
    """A receipt in a list, for scripts (keys are only ever added)."""
    return {
        "reference": r.reference,
        "supplier": r.supplier,
        "expected_at": _iso(r.expected_at),
        "status": r.status,
        "lines": r.lines,
        "expected_units": r.expected_units,
        "received_units": r.received_units,
        "held_by_terminal": r.held_by_terminal,
        "held_by": r.held_by,
    }


def view_json(v: Any) -> dict[str, Any]:
    """One receipt in full, for scripts (keys are only ever added)."""
    return {
        "reference": v.reference,
        "supplier": v.supplier,
        "expected_at": _iso(v.expected_at),
        "status": v.status,
        "expected_units": v.expected_units,
        "received_units": v.received_units,
        "held_by_terminal": v.held_by_terminal,
        "held_by": v.held_by,
        "lines": [
            {"line_no": ln.line_no, "sku": ln.sku, "name": ln.name, "expected": ln.expected,
             "received": ln.received, "lot": ln.lot, "expiry": _iso(ln.expiry),
             "accepted_reason": ln.accepted_reason, "known": ln.known}
            for ln in v.lines
        ],
    }  # fmt: skip


def _cut(text: str | None, width: int) -> str:
    words = printable(text or "-")
    return words if len(words) <= width else words[: width - 1] + "…"


def _list(args: argparse.Namespace, db: Any) -> int:
    from picker.services.inbound import list_receipts

    found = list_receipts(db, status=args.status, limit=args.limit)
    if args.format == "json":
        print(to_json({"receipts": [summary_json(r) for r in found]}))
        return EXIT_OK
    print(f"{'reference':<20} {'supplier':<20} {'expected':<10} {'status':<9} {'lines':>5} "
          f"{'received':>17}  held at")  # fmt: skip
    for r in found:
        when = r.expected_at.isoformat() if r.expected_at else "-"
        units = f"{r.received_units:,}/{r.expected_units:,}"
        held = (
            f"{r.held_by_terminal} {printable(r.held_by or '')}".strip()
            if r.held_by_terminal
            else ""
        )
        print(f"{_cut(r.reference, 20):<20} {_cut(r.supplier, 20):<20} {when:<10} "
              f"{r.status:<9} {r.lines:>5} {units:>17}  {held}")  # fmt: skip
    print(plural(len(found), "receipt"))
    return EXIT_OK


def _show(args: argparse.Namespace, db: Any) -> int:
    from picker.services.inbound import receipt_view

    v = receipt_view(db, args.reference)
    if args.format == "json":
        print(to_json(view_json(v)))
        return EXIT_OK
    when = f", expected {v.expected_at.isoformat()}" if v.expected_at else ""
    print(f"{printable(v.reference)}  {v.status}  {printable(v.supplier or '-')}{when}")
    print(f"received {v.received_units:,} of {v.expected_units:,} units expected")
    if v.held_by_terminal:
        by = f" by {printable(v.held_by)}" if v.held_by else ""
        print(f"being received at {v.held_by_terminal}{by}")
    _print_lines(v.lines)
    return EXIT_OK


def _print_lines(lines: Any) -> None:
    print(f"  {'#':>3} {'sku':<16} {'name':<24} {'expected':>8} {'received':>8}  lot / expiry")
    for ln in lines:
        lot = " ".join(x for x in (printable(ln.lot or ""), _iso(ln.expiry) or "") if x)
        note = f"  accepted: {printable(ln.accepted_reason)}" if ln.accepted_reason else ""
        name = ln.name if ln.known else "(not in the catalogue)"
        print(f"  {ln.line_no:>3} {_cut(ln.sku, 16):<16} {_cut(name, 24):<24} "
              f"{ln.expected:>8} {ln.received:>8}  {lot}{note}")  # fmt: skip


def _print_discrepancies(d: Any) -> None:
    if d.clean:
        print(f"{printable(d.reference)} closed: everything as the notice said "
              f"({d.received_units:,} units)")  # fmt: skip
        return
    print(f"{printable(d.reference)} closed: received {d.received_units:,} of "
          f"{d.expected_units:,} units expected; discrepancies:")  # fmt: skip
    words = {"short": "short", "over": "over", "unknown": "not in the catalogue",
             "not_on_notice": "not on the notice"}  # fmt: skip
    for x in d.lines:
        note = f"  (accepted: {printable(x.accepted_reason)})" if x.accepted_reason else ""
        print(f"  {_cut(x.sku, 16):<16} {words[x.kind]:<21} expected {x.expected:>6}, "
              f"received {x.received:>6}{note}")  # fmt: skip


def _receive(args: argparse.Namespace, settings: Settings, db: Any) -> int:
    from picker.services.inbound import InboundRefused, receive_lines

    actor = operator_actor(args, settings, db, "inbound receive", "inbound.putaway.receive_lines")
    try:
        done = receive_lines(
            db, actor, args.reference, args.lines, supplier=args.supplier, close=args.close,
            accept=args.accept, settings=settings,
        )  # fmt: skip
    except InboundRefused as exc:
        raise CliError(f"{str(exc).rstrip('.')}; nothing changed") from None
    made = " (new receipt)" if done.created else ""
    units = plural(sum(ln.units for ln in done.lines), "unit")
    print(f"{printable(done.reference)}{made}: {units} received and put away")
    for ln in done.lines:
        print(f"  {ln.units:>6} × {printable(ln.sku):<16} → {ln.bin}")
    if done.released:
        print(f"released {', '.join(done.released)} (they were waiting for this stock)")
    if done.discrepancies is not None:
        _print_discrepancies(done.discrepancies)
    return EXIT_OK


def _close(args: argparse.Namespace, settings: Settings, db: Any) -> int:
    from picker.services.inbound import close_receipt

    actor = operator_actor(args, settings, db, "inbound close", "inbound.dock.close_receipt")
    _print_discrepancies(close_receipt(db, actor, args.reference, settings=settings))
    return EXIT_OK
