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
from decimal import Decimal
from pathlib import Path
from typing import Any

from picker.cli.acting import operator_actor
from picker.cli.database import open_database, require_head
from picker.cli.errors import EXIT_OK, EXIT_USAGE, CliError
from picker.cli.output import to_json
from picker.config import Settings
from picker.domain.returns import Condition
from picker.domain.text import plural, printable, spreadsheet_cell

#: What the command line accepts as a unit's condition (``--line SKU:QTY:CONDITION``).
CONDITIONS = tuple(c.value for c in Condition)
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
    ra.add_argument(
        "--courier", metavar="CODE", help="the courier of the label (default: the order's)"
    )
    ra.add_argument("--printer", metavar="NAME", help="print the label here (default: [printer])")
    rr = ret.add_parser(
        "receive",
        help="receive a returned parcel without the station: every unit and its condition",
        description="Receives a returned parcel as the station would and closes the return, "
        "all in one transaction: ORDER|RMA|TRACKING is the order number, the RMA or a "
        "tracking number (the outbound parcel's or the return label's). Each --line "
        "SKU:QTY:CONDITION[:BIN] gives units and their condition "
        f"({', '.join(CONDITIONS)}): resell puts them in BIN (by default the product's "
        "suggested bin), damaged, defect and incomplete in the quarantine bin ([returns] "
        "quarantine_bin); scrap takes no stock, nor does foreign (an item not ours, an empty "
        "box: SKU then says what it is); both need --note (why, what). The order becomes "
        "'returned' when everything shipped is back; the refund is computed, the customer's "
        "mail and the shop's refund request queued. --exchange SKU:QTY … closes it as an "
        "exchange: a replacement order instead of money. When any line is refused (not in the "
        "order, more than shipped, an unknown bin…) nothing is changed and the exit status is "
        "1, naming the line.",
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
    from picker.services.returns import backoffice

    reason = _reason(settings, args.reason)
    label = args.label or args.out is not None or args.courier is not None
    actor = operator_actor(args, settings, db, "return authorize", "returns.backoffice.authorize")
    out = Path(args.out) if args.out else None
    file = None
    if out is not None:  # a file that cannot be written is found before anything changes
        try:
            file = out.open("xb") if not out.exists() else out.open("r+b")
        except OSError as exc:
            raise CliError(f"--out {out}: {exc.strerror or exc}; nothing changed") from None
    try:
        summary = backoffice.authorize(
            db, actor, args.order, args.lines, reason or "", exchange=args.exchange,
            settings=settings,
        )  # fmt: skip
    except BaseException:
        if file is not None and out is not None:
            file.close()
            if out.stat().st_size == 0:
                out.unlink(missing_ok=True)
        raise
    what = ", ".join(f"{q} × {printable(sku)}" for sku, q in summary.expected)
    kind = "an exchange" if summary.exchange else "a refund"
    print(f"{summary.number} authorized for {summary.order_number}: {what}; reason "
          f"{summary.reason}; asks for {kind}")  # fmt: skip
    if label:
        _label(args, settings, db, actor, summary.number, out, file)
    return EXIT_OK


def _label(
    args: argparse.Namespace, settings: Settings, db: Any, actor: Any, rma: str,
    out: Path | None, file: Any,
) -> None:  # fmt: skip
    """The RMA's return label: written to ``out`` (open as ``file``), else queued on the
    printer. A label refused leaves the RMA authorized (it is said so, exit 1)."""
    from picker.services.errors import ServiceError
    from picker.services.returns.return_label import make_return_label

    printer = None if file is not None else (args.printer or settings.printer.name)
    try:
        made = make_return_label(db, actor, rma, settings=settings, courier=args.courier,
                                 printer=printer)  # fmt: skip
    except ServiceError as exc:
        if file is not None and out is not None:
            file.close()
            if out.stat().st_size == 0:
                out.unlink(missing_ok=True)
        raise CliError(f"{rma} is authorized, but its return label was not made: {exc}") from None
    for warning in made.warnings:
        print(f"  label: {printable(warning)}", file=sys.stderr)
    if file is not None:
        with file:
            file.truncate(0)
            file.write(made.pdf)
        print(f"return label {made.courier} {made.tracking_no} written to {out}")
    else:
        print(f"return label {made.courier} {made.tracking_no} queued on {printer} "
              f"(print job {made.job_id})")  # fmt: skip


def _receive(args: argparse.Namespace, settings: Settings, db: Any) -> int:
    from picker.services.returns import backoffice

    reason = _reason(settings, args.reason)
    actor = operator_actor(args, settings, db, "return receive", "returns.backoffice.receive")
    lines = [backoffice.ReceiveLine(sku, qty, condition, bin_code)
             for sku, qty, condition, bin_code in args.lines]  # fmt: skip
    try:
        closed = backoffice.receive(
            db, actor, args.ref, lines, reason=reason, note=args.note, exchange=args.exchange,
            settings=settings,
        )  # fmt: skip
    except backoffice.ReturnRefused as exc:
        raise CliError(f"{str(exc).rstrip('.')}; nothing changed") from None
    _print_closed(closed)
    return EXIT_OK


def _money(value: Decimal | None, currency: str) -> str:
    from picker.services.orders.views import amount

    return "-" if value is None else f"{amount(value, currency)} {currency}"


def _print_closed(c: Any) -> None:
    foreign = f" and {plural(c.foreign_units, 'item')} not ours" if c.foreign_units else ""
    whole = "everything shipped is back" if c.full_return else "a partial return"
    print(f"{c.number} closed: {plural(c.units, 'unit')} received{foreign}; {whole}; "
          f"order {c.order_number} is {c.order_status}")  # fmt: skip
    shipping = (f" (shipping {_money(c.refund_shipping, c.currency)})"
                if c.refund_shipping else "")  # fmt: skip
    print(f"refund {_money(c.refund, c.currency)}{shipping}")
    if c.exchange_order:
        due = (f"; {_money(c.exchange_due, c.currency)} due from the customer (held for the shop)"
               if c.exchange_due else "")  # fmt: skip
        print(f"exchange order {c.exchange_order}{due}")


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def _decimal(value: Decimal | None, currency: str) -> str | None:
    from picker.services.orders.views import amount

    return None if value is None else amount(value, currency)


def summary_json(r: Any) -> dict[str, Any]:
    """A return in a list, for scripts (keys are only ever added)."""
    return {
        "number": r.number,
        "order_number": r.order_number,
        "status": r.status,
        "reason": r.reason,
        "exchange": r.exchange,
        "tracking_no": r.tracking_no,
        "created_at": _iso(r.created_at),
        "closed_at": _iso(r.closed_at),
        "units": r.units,
        "foreign_units": r.foreign_units,
        "refund_amount": _decimal(r.refund_amount, r.currency),
        "currency": r.currency,
        "held_by_terminal": r.held_by_terminal,
        "exchange_order": r.exchange_order,
        "expected": [{"sku": sku, "quantity": q} for sku, q in r.expected],
    }


def detail_json(d: Any) -> dict[str, Any]:
    """One return in full, for scripts (keys are only ever added)."""
    data = summary_json(d.summary)
    currency = d.summary.currency
    data.update({
        "customer_name": d.customer_name,
        "order_status": d.order_status,
        "refund_shipping": _decimal(d.refund_shipping, currency),
        "note": d.note,
        "created_by": d.created_by,
        "closed_by": d.closed_by,
        "lines": [
            {"sku": ln.sku, "name": ln.name, "unit_price": _decimal(ln.unit_price, currency),
             "ordered": ln.ordered, "shipped": ln.shipped,
             "returned_before": ln.returned_before, "this_return": dict(ln.this_return),
             "expected": ln.expected}
            for ln in d.lines
        ],
        "units": [
            {"sku": u.sku, "name": u.name, "condition": u.condition, "bin": u.bin,
             "note": u.note, "at": _iso(u.at)}
            for u in d.units
        ],
    })  # fmt: skip
    return data


_LIST_COLUMNS = ("number", "order_number", "status", "reason", "exchange", "tracking_no",
                 "created_at", "closed_at", "units", "foreign_units", "refund_amount",
                 "currency", "held_by_terminal", "exchange_order")  # fmt: skip


def _list(args: argparse.Namespace, db: Any) -> int:
    from picker.services.returns import views

    found = views.list_returns(db, status=args.status)
    if args.format == "json":
        print(to_json({"returns": [summary_json(r) for r in found]}))
        return EXIT_OK
    if args.format == "csv":
        _csv([summary_json(r) for r in found], _LIST_COLUMNS)
        return EXIT_OK
    print(f"{'number':<10} {'order':<11} {'status':<10} {'reason':<16} {'created (UTC)':<16} "
          f"{'units':>5} {'refund':>16}  held at")  # fmt: skip
    for r in found:
        reason = _cut(r.reason or "-", 16) + (" ⇄" if r.exchange else "")
        print(f"{r.number:<10} {r.order_number:<11} {r.status:<10} {reason:<16} "
              f"{r.created_at:%Y-%m-%d %H:%M} {r.units:>5} "
              f"{_money(r.refund_amount, r.currency):>16}  {r.held_by_terminal or ''}")  # fmt: skip
    print(plural(len(found), "return"))
    return EXIT_OK


def _cut(text: str, width: int) -> str:
    text = printable(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def _show(args: argparse.Namespace, db: Any) -> int:
    from picker.domain.returns import CONDITION_WORDS
    from picker.services.returns import views

    d = views.show(db, args.ref)
    if args.format == "json":
        print(to_json(detail_json(d)))
        return EXIT_OK
    r = d.summary
    kind = "; asks for an exchange" if r.exchange else ""
    print(f"{r.number}  {r.status}  order {r.order_number} ({d.order_status}), "
          f"{printable(d.customer_name)}")  # fmt: skip
    print(f"reason {printable(r.reason or '-')}{kind}; created {r.created_at:%Y-%m-%d %H:%M} UTC"
          + (f" by {printable(d.created_by)}" if d.created_by else ""))  # fmt: skip
    if r.tracking_no:
        print(f"return label: {printable(r.tracking_no)}")
    if r.held_by_terminal:
        print(f"being received at {r.held_by_terminal}")
    if r.closed_at is not None:
        by = f" by {printable(d.closed_by)}" if d.closed_by else ""
        print(f"closed {r.closed_at:%Y-%m-%d %H:%M} UTC{by}; refund "
              f"{_money(r.refund_amount, r.currency)}"
              + (f" (shipping {_money(d.refund_shipping, r.currency)})"
                 if d.refund_shipping else ""))  # fmt: skip
    if r.exchange_order:
        print(f"exchange order {r.exchange_order}")
    if d.note:
        print(f"note: {printable(d.note)}")
    print("lines:")
    print(f"  {'sku':<16} {'shipped':>7} {'before':>6} {'now':>4} {'expected':>8}  conditions")
    for ln in d.lines:
        now = ", ".join(f"{n} {c}" for c, n in sorted(ln.this_return.items()))
        expected = "-" if ln.expected is None else str(ln.expected)
        print(f"  {_cut(ln.sku, 16):<16} {ln.shipped:>7} {ln.returned_before:>6} "
              f"{ln.this_total:>4} {expected:>8}  {now}")  # fmt: skip
    print(f"units ({len(d.units)}, last first):" if d.units else "units: none yet")
    for u in d.units:
        words = "pending" if u.condition is None else CONDITION_WORDS[Condition(u.condition)]
        where = f" → {printable(u.bin)}" if u.bin else ""
        note = f"  ({printable(u.note)})" if u.note else ""
        print(f"  {u.at:%Y-%m-%d %H:%M} {printable(u.sku or '-'):<16} {words}{where}{note}")
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
