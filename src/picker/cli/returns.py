"""``picker return``: returns from the back office — an authorisation ahead of the parcel (an
RMA, with a return label), a parcel received without the station (for scripts and desks), and
the returns listed and shown.

``authorize`` and ``receive`` act with the authority of the ``returns`` role (or a lead's): they
need ``--as BADGE``. ``list`` and ``show`` are read-only, open to anyone."""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from picker.cli.acting import operator_actor
from picker.cli.database import open_database, require_head
from picker.cli.errors import EXIT_OK, EXIT_USAGE, CliError
from picker.cli.output import to_json
from picker.config import Settings
from picker.domain.text import plural, printable, spreadsheet_cell

#: What the command line accepts as a unit's condition (``--line SKU:QTY:CONDITION``).
CONDITIONS = ("resell", "damaged", "defect", "incomplete", "scrap", "foreign")
STATUSES = ("authorized", "open", "closed", "cancelled")


def _quantity(text: str, given: str) -> int:
    try:
        quantity = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{given!r}: {text!r} is not a whole number") from None
    if quantity < 1:
        raise argparse.ArgumentTypeError(f"{given!r}: the quantity must be 1 or more")
    return quantity


def sku_quantity(text: str) -> tuple[str, int]:
    """``SKU:QTY`` (a SKU may itself hold a colon: the quantity is after the last one)."""
    sku, sep, qty = text.strip().rpartition(":")
    if not sep or not sku.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not SKU:QTY (e.g. SKU-00001:2)")
    return sku.strip(), _quantity(qty.strip(), text)


def receive_line(text: str) -> tuple[str, int, str, str | None]:
    """``SKU:QTY:CONDITION[:BIN]``: the SKU, the units, their condition, and the bin a
    resellable unit goes to (none: the product's suggested bin)."""
    parts = [p.strip() for p in text.strip().split(":")]
    example = "e.g. SKU-00001:1:resell:A-01-03-2 or SKU-00001:2:damaged"
    if len(parts) < 3:
        raise argparse.ArgumentTypeError(f"{text!r} is not SKU:QTY:CONDITION[:BIN] ({example})")
    if parts[-1].lower() in CONDITIONS:
        bin_code, (*sku, qty, condition) = None, parts
    elif len(parts) >= 4 and parts[-2].lower() in CONDITIONS:
        *sku, qty, condition, bin_code = parts
    else:
        raise argparse.ArgumentTypeError(
            f"{text!r}: the condition must be one of {', '.join(CONDITIONS)} ({example})"
        )
    name = ":".join(sku)
    if not name:
        raise argparse.ArgumentTypeError(f"{text!r} names no SKU ({example})")
    return name, _quantity(qty, text), condition.lower(), bin_code or None


def add_return(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "return",
        help="returns: authorise one ahead (RMA, label), receive one, list and show them",
        description="A parcel that comes back is received at the returns station (station "
        "'returns'), unit by unit. From the back office: authorise a return ahead of the "
        "parcel (an RMA number, the lines expected, a return label), or receive one without "
        "the station; list and show returns. authorize and receive need --as an operator with "
        "the returns role (or a lead).",
    )
    parser.set_defaults(handler=_return)
    ret = parser.add_subparsers(dest="return_command", metavar="ACTION", required=True)
    ra = ret.add_parser(
        "authorize",
        help="an RMA for an order: the lines and quantities expected back, the reason",
        description="Authorises a return of a shipped order ahead of its parcel: an RMA number "
        "(RMA-000012, a scan of its own at the station) with the lines and quantities "
        "expected and the reason (one of [returns] reasons). --exchange: the customer wants "
        "replacement goods instead of money. --label: a return label (the courier's layout "
        "with the addresses swapped, a tracking number of its own), printed on this "
        "terminal's printer, or written to --out FILE.pdf.",
    )
    ra.add_argument("order", metavar="ORDER", help="our order number")
    ra.add_argument(
        "--line", dest="lines", action="append", required=True, type=sku_quantity,
        metavar="SKU:QTY", help="a line expected back and its units (repeat for more)",
    )  # fmt: skip
    ra.add_argument("--reason", required=True, metavar="CODE", help="one of [returns] reasons")
    ra.add_argument("--exchange", action="store_true", help="replacement goods, not a refund")
    ra.add_argument("--label", action="store_true", help="make a return label")
    ra.add_argument("--out", metavar="FILE.pdf", help="write the label here (implies --label)")
    rr = ret.add_parser(
        "receive",
        help="receive a returned parcel without the station: every unit and its condition",
        description="Receives a returned parcel as the station would and closes the return, "
        "all in one transaction: REF is the order number, the RMA or a tracking number (the "
        "outbound parcel's or the return label's). Each --line SKU:QTY:CONDITION[:BIN] gives "
        f"units and their condition ({', '.join(CONDITIONS)}): resell puts them in BIN (by "
        "default the product's suggested bin), damaged, defect and incomplete in the "
        "quarantine bin ([returns] quarantine_bin), scrap takes no stock (give --note, the "
        "reason). The order becomes 'returned' when everything shipped is back; the refund "
        "is computed, the customer's mail and the shop's refund request queued. --exchange "
        "SKU:QTY … closes it as an exchange: a replacement order instead of money. When any "
        "line is refused (not in the order, more than shipped, an unknown bin…) nothing is "
        "changed and the exit status is 1, naming the line.",
    )
    rr.add_argument("ref", metavar="ORDER|RMA|TRACKING")
    rr.add_argument(
        "--line", dest="lines", action="append", required=True, type=receive_line,
        metavar="SKU:QTY:CONDITION[:BIN]", help="units received (repeat for more)",
    )  # fmt: skip
    rr.add_argument("--reason", metavar="CODE", help="one of [returns] reasons")
    rr.add_argument("--note", metavar="TEXT", help="a note (scrap: the reason)")
    rr.add_argument(
        "--exchange", nargs="+", action="extend", type=sku_quantity, metavar="SKU:QTY",
        help="close as an exchange: the replacement goods (the same SKU or another)",
    )  # fmt: skip
    rl = ret.add_parser("list", help="returns, newest first")
    rl.add_argument("--status", choices=STATUSES, help="only returns of this status")
    rl.add_argument("--format", choices=("table", "csv", "json"), default="table")
    rs = ret.add_parser("show", help="one return: its lines, units and their condition, refund")
    rs.add_argument("ref", metavar="RMA|ORDER")
    rs.add_argument("--format", choices=("table", "json"), default="table")


def _return(args: argparse.Namespace, settings: Settings) -> int:
    db = open_database(settings)
    require_head(db)
    try:
        if args.return_command == "authorize":
            return _authorize(args, settings, db)
        if args.return_command == "receive":
            return _receive(args, settings, db)
        if args.return_command == "list":
            return _list(args, db)
        return _show(args, db)
    finally:
        db.dispose()


def _reason(settings: Settings, reason: str | None) -> str | None:
    """The reason code, refused in words (exit 2) when [returns] reasons does not list it."""
    if reason is None:
        return None
    known = settings.returns.reasons
    code = reason.strip().lower()
    if code not in known:
        raise CliError(
            f"--reason {printable(reason)!r} is not one of [returns] reasons: {', '.join(known)}",
            EXIT_USAGE,
        )
    return code


def _authorize(args: argparse.Namespace, settings: Settings, db: Any) -> int:
    from picker.services.actors import system_clock
    from picker.services.returns import backoffice

    reason = _reason(settings, args.reason)
    actor = operator_actor(
        args, settings, db, "return authorize", "returns.backoffice.authorize"
    )  # fmt: skip
    summary = backoffice.authorize(
        db, actor, args.order, args.lines, reason, exchange=args.exchange,
        settings=settings, clock=system_clock,
    )  # fmt: skip
    what = ", ".join(f"{q} × {printable(sku)}" for sku, q in args.lines)
    kind = "an exchange" if args.exchange else "a refund"
    print(f"{summary.number} authorized for {summary.order_number}: {what}; reason {reason}; "
          f"{kind}")  # fmt: skip
    if args.label or args.out:
        _label(args, settings, db, actor, summary.number)
    return EXIT_OK


def _label(args: argparse.Namespace, settings: Settings, db: Any, actor: Any, rma: str) -> None:
    raise CliError(
        f"{rma} is authorized, but its return label cannot be made yet: this Picker has no "
        "return label renderer. Ask for it, then print it with the RMA number"
    )


def _receive(args: argparse.Namespace, settings: Settings, db: Any) -> int:
    from picker.services.actors import system_clock
    from picker.services.returns import backoffice

    reason = _reason(settings, args.reason)
    actor = operator_actor(args, settings, db, "return receive", "returns.backoffice.receive")
    lines = [backoffice.ReceiveLine(sku, qty, condition, bin_code)
             for sku, qty, condition, bin_code in args.lines]  # fmt: skip
    closed = backoffice.receive(
        db, actor, args.ref, lines, reason=reason, note=args.note, exchange=args.exchange,
        settings=settings, clock=system_clock,
    )  # fmt: skip
    _print_closed(closed)
    return EXIT_OK


def _print_closed(closed: Any) -> None:
    print(f"{closed.number} closed: {closed.order_number} is {closed.order_status}")
    print(f"refund {closed.refund} {closed.currency}")


_LIST_COLUMNS = ("number", "order_number", "status", "reason", "exchange", "created_at",
                 "closed_at", "units", "refund_amount", "currency")  # fmt: skip


def _list(args: argparse.Namespace, db: Any) -> int:
    from picker.services.returns import views

    found = views.list_returns(db, status=args.status)
    if args.format == "json":
        print(to_json({"returns": [r.as_json() for r in found]}))
        return EXIT_OK
    if args.format == "csv":
        _csv([r.as_json() for r in found], _LIST_COLUMNS)
        return EXIT_OK
    print(f"{'number':<11} {'order':<11} {'status':<10} {'reason':<16} {'created (UTC)':<16} "
          f"{'units':>5} {'refund':>12}")  # fmt: skip
    for r in found:
        refund = "-" if r.refund_amount is None else f"{r.refund_amount} {r.currency}"
        print(f"{r.number:<11} {r.order_number:<11} {r.status:<10} "
              f"{printable(r.reason or '-'):<16} {r.created_at:%Y-%m-%d %H:%M} {r.units:>5} "
              f"{refund:>12}")  # fmt: skip
    print(plural(len(found), "return"))
    return EXIT_OK


def _show(args: argparse.Namespace, db: Any) -> int:
    from picker.services.returns import views

    detail = views.show(db, args.ref)
    if args.format == "json":
        print(to_json(detail.as_json()))
        return EXIT_OK
    print(detail)
    return EXIT_OK


def _csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    """Data for scripts that may land in a spreadsheet (a formula-like cell stays text) or on a
    terminal (control characters escaped)."""
    writer = csv.writer(sys.stdout)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([
            "" if row.get(c) is None else spreadsheet_cell(printable(str(row[c]))) for c in columns
        ])  # fmt: skip


_ = Path
