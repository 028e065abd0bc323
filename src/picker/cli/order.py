"""``picker order``: list and show orders (open to anyone); release, hold, cancel and assign
them (with a lead's authority: ``--as`` a lead)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from picker.cli.acting import operator_actor
from picker.cli.arguments import count
from picker.cli.database import open_database, require_head
from picker.cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CliError
from picker.cli.output import to_json
from picker.cli.timeline import add_timeline, order_timeline
from picker.config import Settings
from picker.domain.notify import CUSTOMER_REASONS, DEFAULT_CUSTOMER_REASON
from picker.domain.text import plural, printable, spreadsheet_cell


def add_order(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("order", help="orders")
    parser.set_defaults(handler=_order)
    order = parser.add_subparsers(dest="order_command", metavar="ACTION", required=True)
    ol = order.add_parser("list", help="list orders, oldest first")
    ol.add_argument("--status", help="only orders of this status")
    ol.add_argument("--format", choices=("table", "csv", "json"), default="table")
    ol.add_argument("--limit", type=count, help="at most this many")
    os_ = order.add_parser("show", help="one order: lines, status, hold reasons, events")
    os_.add_argument("number", help="our order number, or the shop's (1004, #1004)")
    os_.add_argument("--format", choices=("table", "json"), default="table")
    _add_find(order)
    add_timeline(order)
    order.add_parser("release", help="re-check a held order and release it").add_argument("number")
    for name, text in (("hold", "put an order on hold"), ("cancel", "cancel an order")):
        cmd = order.add_parser(name, help=text)
        cmd.add_argument("number")
        cmd.add_argument("--reason", required=True, help="why, for the floor (journaled)")
        if name == "cancel":
            cmd.add_argument(
                "--customer-reason",
                choices=CUSTOMER_REASONS,
                default=DEFAULT_CUSTOMER_REASON,
                help="why, as a paid order's customer is told in the cancellation mail: "
                "customer_request (as you asked), out_of_stock, payment, address, or other "
                "(the default: no reason given). --reason is never shown to the customer",
            )
    lt = order.add_parser(
        "label-text",
        help="what the order's labels print for recipient letters no label font has (lead)",
        description="A label whose recipient has characters no font of [labels] fonts can "
        "draw is refused at the packing table. A lead chooses for the order: --transliterate "
        "writes those characters in Latin letters, --hand-write prints a blank '_' for each, "
        "to write in by hand. Journaled on the order; the packer then closes the parcel.",
    )
    lt.add_argument("number")
    how = lt.add_mutually_exclusive_group(required=True)
    how.add_argument("--transliterate", action="store_true", help="in Latin letters (anyascii)")
    how.add_argument("--hand-write", action="store_true", help="blanks to write in by hand")
    oa = order.add_parser("assign", help="give orders to pickers (one to a named picker)")
    oa.add_argument("number", nargs="?", help="the order (default: assign all that are ready)")
    oa.add_argument("--to", metavar="BADGE", help="the picker's badge")
    oa.add_argument(
        "--reason", default="", help="why (journaled); an order being picked is taken over"
    )


#: The use-case each lead's action of ``picker order`` runs, by its command.
_LEAD_ACTIONS = {
    "release": "orders.lead_actions.release_order",
    "hold": "orders.lead_actions.hold_order",
    "cancel": "orders.lead_actions.cancel_order",
    "label-text": "printjobs.labels.choose_label_text",
}


def _order(args: argparse.Namespace, settings: Settings) -> int:
    from picker.services.orders import lead_actions, views

    command = args.order_command
    if command == "timeline":
        return order_timeline(args, settings)
    if command == "assign" and bool(args.number) != bool(args.to):
        raise CliError("give both an order number and --to BADGE, or neither", EXIT_USAGE)
    db = open_database(settings)
    require_head(db)
    actor = None
    if command == "find":
        return _find(args, db)
    if command not in ("list", "show"):
        use_case = _LEAD_ACTIONS.get(command) or (
            "orders.lead_actions.assign_order" if args.number
            else "orders.lead_actions.assign_ready_orders"
        )  # fmt: skip
        actor = operator_actor(args, settings, db, f"order {command}", use_case)
    if command == "list":
        found = views.list_orders(db, status=args.status, limit=args.limit)
        _print_orders(found, args.format)
    elif command == "show":
        detail = _detail(db, args.number)
        if args.format == "json":
            print(to_json(detail.as_json()))
        else:
            _print_detail(detail)
    elif command == "release":
        result = lead_actions.release_order(db, actor, args.number, settings=settings)
        if not result.released:
            reasons = "; ".join(printable(r) for r in result.reasons)
            raise CliError(f"{args.number} stays on hold: {reasons}")
        print(f"{args.number} released")
    elif command == "hold":
        change = lead_actions.hold_order(db, actor, args.number, args.reason)
        print(f"{args.number} on hold")
        _print_put_back(change.put_back)
    elif command == "cancel":
        change = lead_actions.cancel_order(db, actor, args.number, args.reason,
                                           customer_reason=args.customer_reason,
                                           settings=settings)  # fmt: skip
        print(f"{args.number} cancelled; its reserved stock is free again")
        _print_put_back(change.put_back)
    elif command == "label-text":
        _label_text(args, settings, db, actor)
    elif args.number:
        lead_actions.assign_order(db, actor, args.number, args.to, reason=args.reason)
        print(f"{args.number} assigned to {args.to.upper()}")
    else:
        done = lead_actions.assign_ready_orders(db, actor, settings=settings)
        for a in done:
            print(f"{a.order_number} → {a.badge}")
        print(f"{plural(len(done), 'order')} assigned")
    db.dispose()
    return EXIT_OK


def _add_find(order: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    of = order.add_parser(
        "find",
        help="find orders by any key: number, shop number, tracking, e-mail, phone, name",
        description="TEXT is tried as our order number, the shop's order number (1004, "
        "#1004), a parcel's tracking number, the customer's e-mail (any case), the ship "
        "phone (any punctuation; the last 9 digits are compared, so a country prefix or a "
        "trunk 0 does not matter) and name words (any case, accents ignored; every word must "
        "be in the customer's or the recipient's name). Newest orders first. Exit status 1 "
        "when no order matches.",
    )
    of.add_argument("text", metavar="TEXT")
    of.add_argument("--format", choices=("table", "json"), default="table")
    of.add_argument("--limit", type=count, default=20, help="at most this many (20)")


def _find(args: argparse.Namespace, db: Any) -> int:
    from picker.services.orders import views
    from picker.services.orders.find import find_orders

    # One more than asked: whether there are more to tell about.
    found = find_orders(db, args.text, args.limit + 1)
    more, found = len(found) > args.limit, found[: args.limit]
    if args.format == "json":
        summaries = views.summaries_of(db, [o.number for o in found])
        print(to_json({"orders": [o.as_json() for o in summaries]}))
    elif found:
        print(f"{'number':<11} {'status':<10} {'placed (UTC)':<16} {'customer':<22} "
              f"{'courier':<7} {'shop no':<12} matched")  # fmt: skip
        for o in found:
            name = printable(o.customer)
            name = name if len(name) <= 22 else name[:21] + "…"
            shop = printable(o.shop_order_no)
            shop = shop if len(shop) <= 12 else shop[:11] + "…"
            print(f"{o.number:<11} {o.status:<10} {o.placed_at:%Y-%m-%d %H:%M} {name:<22} "
                  f"{o.courier or '-':<7} {shop:<12} {', '.join(o.matched)}")  # fmt: skip
        note = f" (more match: --limit {args.limit * 2}, or search for more of it)"
        print(plural(len(found), "order") + (note if more else ""))
    db.dispose()
    if not found:
        print(f"no order matches {printable(args.text.strip())!r}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _detail(db: Any, number: str) -> Any:
    """The order of our number, else of the shop's number (``1004``, ``#1004``) when that
    names one order; several are listed for the user to choose from."""
    from picker.services.errors import NotFound
    from picker.services.orders import views
    from picker.services.orders.find import find_by_shop_number

    try:
        return views.order_detail(db, number)
    except NotFound:
        candidates = find_by_shop_number(db, number)
        if not candidates:
            raise
    if len(candidates) == 1:
        return views.order_detail(db, candidates[0].number)
    for o in candidates:
        print(f"{o.number:<11} {o.channel:<12} #{printable(o.shop_order_no):<10} {o.status:<10} "
              f"{printable(o.customer)}")  # fmt: skip
    raise CliError(
        f"{printable(number)} is the shop number of {len(candidates)} orders (one per "
        "channel): give our order number, as listed above"
    )


def _label_text(args: argparse.Namespace, settings: Settings, db: Any, actor: Any) -> None:
    from picker.domain.label_text import LabelText
    from picker.services.printjobs.labels import choose_label_text

    choice = LabelText.TRANSLITERATE if args.transliterate else LabelText.HAND_WRITE
    done = choose_label_text(db, actor, settings, args.number, choice)
    print(f"{done.number}: its labels print recipient letters no font has {choice.words}")
    for words, text in done.printed:
        print(f"  {words}: {printable(text)}")
    if not done.printed:
        print("  (every letter of its recipient can be drawn: the labels print it as written)")


def _print_put_back(put_back: Sequence[Any]) -> None:
    """What a stopped order's tote held, and the bin each unit goes back to (booked already)."""
    for p in put_back:
        print(f"put back {p.quantity} × {printable(p.sku)} → {printable(p.bin)}")


_LIST_COLUMNS = ("number", "status", "placed_at", "customer", "country", "courier", "lines",
                 "units", "total", "currency", "cod", "assignee", "hold_reasons")  # fmt: skip


def _print_orders(found: Sequence[Any], fmt: str) -> None:
    from picker.services.orders.views import amount

    if fmt == "json":
        print(to_json({"orders": [o.as_json() for o in found]}))
        return
    if fmt == "csv":
        import csv

        writer = csv.writer(sys.stdout)
        writer.writerow(_LIST_COLUMNS)
        for o in found:
            row = o.as_json()
            row["hold_reasons"] = "; ".join(row["hold_reasons"])
            # Data for scripts, but it may land on a terminal (control characters escaped) or
            # in a spreadsheet (a cell that starts like a formula stays text).
            writer.writerow([spreadsheet_cell(printable(str(row[c]))) if row[c] is not None
                             else "" for c in _LIST_COLUMNS])  # fmt: skip
        return
    print(f"{'number':<11} {'status':<10} {'placed (UTC)':<16} {'customer':<22} {'cc':<2} "
          f"{'courier':<6} {'units':>5} {'total':>12} {'picker':<9} hold")  # fmt: skip
    for o in found:
        name = printable(o.customer)
        name = name if len(name) <= 22 else name[:21] + "…"
        total = f"{amount(o.total, o.currency)} {o.currency}"
        print(f"{o.number:<11} {o.status:<10} {o.placed_at:%Y-%m-%d %H:%M} {name:<22} "
              f"{printable(o.country):<2} {o.courier or '-':<6} {o.units:>5} {total:>12} "
              f"{o.assignee or '-':<9} {printable('; '.join(o.hold_reasons))}")  # fmt: skip
    print(plural(len(found), "order"))


def _courier_state(p: Any) -> str:
    """What the courier last said of a parcel, and when (UTC); empty before any event."""
    from picker.domain.courier_events import WORDS, CourierStatus

    if p.courier_status is None:
        return ""
    back = " · coming back to us" if p.returned_to_sender else ""
    return (
        f"  {WORDS[CourierStatus(p.courier_status)]} {p.courier_status_at:%Y-%m-%d %H:%M} UTC{back}"
    )


def _print_detail(d: Any) -> None:
    from picker.services.orders.views import amount

    o = d.summary
    print(f"{o.number}  {o.status}  ({o.channel} {printable(o.shop_order_no)})")
    print(f"placed {o.placed_at:%Y-%m-%d %H:%M} UTC; courier {o.courier or '-'} "
          f"({printable(d.shipping_method)}); picker {o.assignee or '-'}")  # fmt: skip
    cod = f"; COD {amount(o.cod, o.currency)} {o.currency}" if o.cod else ""
    print(f"total {amount(o.total, o.currency)} {o.currency}{cod}")
    locale = f" ({printable(d.customer_locale)})" if d.customer_locale else ""
    email = f" <{printable(d.customer_email)}>" if d.customer_email else ""
    ship_name = d.ship_address[0] if d.ship_address else ""
    if o.customer != ship_name or email or locale:  # the buyer, apart from the recipient
        print(f"customer: {printable(o.customer)}{email}{locale}")
    print("ship to: " + " / ".join(printable(p) for p in d.ship_address))
    if d.note:
        print(f"note: {printable(d.note)}")
    for reason in o.hold_reasons:
        print(f"ON HOLD: {printable(reason)}")
    print("lines:")
    for ln in d.lines:
        print(f"  {ln.line_no:>2}. {printable(ln.sku):<14} x{ln.quantity:<4} reserved "
              f"{ln.reserved:<4} {amount(ln.unit_price, o.currency):>10}  "
              f"{printable(ln.name)}")  # fmt: skip
    if d.lines_not_shipped:
        print("not shipped (recorded, not picked):")
        for ln in d.lines_not_shipped:
            sku, name, why = (printable(str(ln.get(k, ""))) for k in ("sku", "name", "reason"))
            print(f"      {sku:<14} x{ln.get('quantity', 0):<4} {why}  {name}")
    if d.parcels:
        print("parcels:")
        for p in d.parcels:
            weight = f"{p.weight_g} g" if p.weight_g else "-"
            print(f"  {p.seq:>2}. {printable(p.tracking_no or '-'):<24} {p.courier:<6} "
                  f"{p.status:<11} {weight}{_courier_state(p)}")  # fmt: skip
    if d.messages:
        from picker.cli.notify import message_line

        print("messages (picker notify show ID):")
        for m in d.messages:
            print("  " + message_line(m).lstrip())
    print("events:")
    for e in d.events:
        # Who: the operator, else the data feed that acted with none (OSUSER@HOST).
        who = e.operator or (printable(e.source) if e.source else "-")
        print(f"  {e.at:%Y-%m-%d %H:%M:%S} {e.from_status or '-':>9} → {e.to_status:<9} "
              f"{who:<9} {e.terminal:<5} {printable(e.reason)}")  # fmt: skip
