"""Intake: ``picker import`` (orders), ``picker bin`` (the shelves), ``picker product`` (the
catalogue), ``picker stock`` (set, imported, shown).

The imports (bins too) are data feeds: without ``--as`` they run as the machine's integration, named
``OSUSER@HOST`` in the events and stock movements they write. ``stock set`` is a lead's
correction by hand: it needs ``--as`` a lead."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from picker.cli.acting import feed_actor, operator_actor
from picker.cli.arguments import count
from picker.cli.database import open_database, require_head
from picker.cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CliError
from picker.cli.progress import ProgressBar
from picker.config import Settings
from picker.domain.text import plural, printable


def add_import(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    imp = sub.add_parser("import", help="import orders (Shopify / WooCommerce JSON, CSV)")
    imp.add_argument("file", help="the export file")
    imp.add_argument("--format", choices=("shopify", "woocommerce", "csv"), help="default: detect")
    imp.add_argument("--channel", help="sales channel name (default: the format)")
    imp.add_argument("--dry-run", action="store_true", help="check and report, change nothing")
    imp.set_defaults(handler=_import)


def add_bin(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("bin", help="bin locations")
    parser.set_defaults(handler=_bin)
    action = parser.add_subparsers(dest="bin_command", metavar="ACTION", required=True)
    action.add_parser(
        "import",
        help="create or update bins from a CSV (code, zone, role)",
        description="Each row a bin: its code (zone-aisle-bay-level, as the scanner's bin pattern "
        "says), its zone, and optionally its role, pick (default) or reserve. Bins take their "
        "place in the walking order from their code. Importing the same file again changes "
        "nothing.",
    ).add_argument("file")
    bs = action.add_parser(
        "set",
        help="a bin's role (pick face or reserve) and a pick face's min/max levels",
        description="Sets a bin's role, pickface (a pick face, also said pick) or reserve, "
        "and a pick face's replenishment levels: below --min on hand, picker replenish plan "
        "refills it from reserve up to --max. Give both levels or neither; --no-levels "
        "clears them (a reserve bin has none). Quarantine and receiving bins are not changed "
        "here. Needs --as a lead.",
    )
    bs.add_argument("code", metavar="BIN")
    bs.add_argument("--role", choices=("pickface", "pick", "reserve"))
    bs.add_argument("--min", dest="min_qty", type=_level, metavar="N", help="refill below N")
    bs.add_argument("--max", dest="max_qty", type=_level, metavar="M", help="refill up to M")
    bs.add_argument("--no-levels", action="store_true", help="clear the levels")


def _level(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: a level is 0 or more")
    return value


def add_product(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("product", help="the catalogue")
    parser.set_defaults(handler=_product)
    product = parser.add_subparsers(dest="product_command", metavar="ACTION", required=True)
    product.add_parser("import", help="create or update products from a CSV").add_argument("file")
    pl = product.add_parser(
        "list",
        help="products by SKU: barcodes, stock, bins, open orders",
        description="Products by SKU, each with its barcodes, stock on hand and reserved (all "
        "bins), the bins it lies in and how many open orders (not yet handed to the courier) "
        "want it.",
    )
    pl.add_argument(
        "--search", metavar="TEXT", help="only products whose SKU or name contains TEXT (any "
        "case), or with the barcode TEXT",
    )  # fmt: skip
    pl.add_argument("--limit", type=count, help="at most this many")
    pl.add_argument("--format", choices=("table", "json"), default="table")
    ps = product.add_parser(
        "show",
        help="one product: barcodes, bins with stock and reserved, open orders",
        description="One product, by its SKU or one of its barcodes: its barcodes, its pick "
        "faces and other bins each with stock on hand and reserved, and the open orders that "
        "want it.",
    )
    ps.add_argument("code", metavar="SKU|BARCODE")
    ps.add_argument("--format", choices=("table", "json"), default="table")


def add_stock(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("stock", help="stock in bins")
    parser.set_defaults(handler=_stock)
    stock = parser.add_subparsers(dest="stock_command", metavar="ACTION", required=True)
    stock.add_parser("import", help="set stock from a count CSV (sku, bin, on_hand)").add_argument(
        "file"
    )
    st = stock.add_parser("set", help="set the stock of one product in one bin")
    st.add_argument("sku")
    st.add_argument("bin")
    st.add_argument("quantity", type=count)
    ss = stock.add_parser(
        "show",
        help="one product's stock: bins, role, on hand, reserved, quarantined",
        description="Every bin holding a stock row of the product (by its SKU or a barcode): "
        "pick faces first, then reserve bins, then quarantine, each with its stock on hand "
        "and reserved. Units in a quarantine bin (returns judged damaged, defective or "
        "incomplete) are on hand but never reserved nor picked: counted apart as quarantined. "
        "Open to anyone.",
    )
    ss.add_argument("code", metavar="SKU|BARCODE")
    ss.add_argument("--format", choices=("table", "json"), default="table")
    sm = stock.add_parser(
        "moves",
        help="one product's stock ledger, newest first",
        description="Every change to the product's stock (by its SKU or a barcode), newest "
        "first: when, the bin, the change, its reason (receipt, pick, put_back, count, move, "
        "putaway…), the document (a receipt's reference, CNT-…, MOV-…), the operator and "
        "the terminal. --since D: the last D days; --since YYYY-MM-DD: from that day (UTC). "
        "Open to anyone.",
    )
    sm.add_argument("code", metavar="SKU|BARCODE")
    sm.add_argument("--since", metavar="D|YYYY-MM-DD", help="only from then on")
    sm.add_argument("--limit", type=count, default=1000, help="at most this many (1000)")
    sm.add_argument("--format", choices=("table", "json"), default="table")


def _read_input(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CliError(f"{path}: {exc.strerror or exc}") from None


def _print_report(report: Any, labels: Sequence[tuple[str, str]], shown: int = 50) -> None:
    for problem in report.problems[:shown]:
        print(f"  {printable(str(problem))}", file=sys.stderr)
    if len(report.problems) > shown:
        print(f"  … and {len(report.problems) - shown} more problems", file=sys.stderr)
    print(", ".join(f"{label} {report.counts[key]:,}" for key, label in labels))


def _import(args: argparse.Namespace, settings: Settings) -> int:
    from picker.channels.files import FileRefused
    from picker.services.intake.order_import import import_orders, read_export

    path = Path(args.file)
    data = _read_input(path)
    db = open_database(settings)
    require_head(db)
    actor = feed_actor(args, settings, db)
    try:
        parsed = read_export(
            data, settings=settings, file_name=path.name, format=args.format, channel=args.channel
        )
    except FileRefused as exc:
        raise CliError(f"{path}: {exc}; nothing imported") from None
    bar = ProgressBar()
    report = import_orders(
        db,
        actor,
        parsed,
        settings=settings,
        file_name=path.name,
        dry_run=args.dry_run,
        progress=lambda done, total: bar("orders", done, total),
    )
    if args.dry_run:
        print("Dry run: nothing was changed. It would have been:")
    # Records that are no work for the floor are named only when there are some.
    quiet = [(key, label) for key, label in (("fulfilled_in_shop", "fulfilled in the shop"),
             ("nothing_to_ship", "nothing to ship"), ("changed_in_shop",
             "still on the floor though the shop changed them")) if report.counts[key]]  # fmt: skip
    _print_report(
        report,
        [("imported", "imported"), ("on_hold", "on hold"), ("already_imported",
         "already imported"), *quiet, ("failed", "failed")] + ([] if args.dry_run else
         [("assigned", "assigned to pickers")]),
    )  # fmt: skip
    db.dispose()
    # An order the shop took back while it is on the floor needs the lead: not a clean import.
    return EXIT_FAILED if report.failed or report.counts["changed_in_shop"] else EXIT_OK


def _retry_short(db: Any, actor: Any, settings: Settings) -> None:
    """Orders held for stock, tried again after stock arrived: by whoever brought it (the
    operator of ``stock set``, or the stock feed)."""
    from picker.services.orders.lead_actions import retry_short_orders

    results = retry_short_orders(db, actor, settings=settings)
    released = [r.number for r in results if r.released]
    if results:
        print(f"orders held for stock: {len(released)} of {len(results)} released"
              + (f" ({', '.join(released[:10])}{' …' if len(released) > 10 else ''})"
                 if released else ""))  # fmt: skip


def _bin(args: argparse.Namespace, settings: Settings) -> int:
    from picker.services.intake.catalogue import import_bins

    if args.bin_command == "set":
        return _bin_set(args, settings)

    def run(db: Any, actor: Any, data: bytes, name: str, progress: Any) -> Any:
        pattern = settings.scanner.patterns["bin"]
        return import_bins(
            db, actor, data, file_name=name, bin_pattern=pattern, progress=progress
        )  # fmt: skip

    return _catalogue_file(args, settings, "bins", run, ("added", "changed"))


def _bin_set(args: argparse.Namespace, settings: Settings) -> int:
    from picker.services.replenish import set_bin

    if args.role is None and args.min_qty is None and args.max_qty is None and not args.no_levels:
        raise CliError("bin set: say what to set: --role, --min and --max, or --no-levels",
                       EXIT_USAGE)  # fmt: skip
    db = open_database(settings)
    require_head(db)
    try:
        actor = operator_actor(args, settings, db, "bin set", "replenish.set_bin")
        view = set_bin(
            db, actor, args.code, role=args.role, min_qty=args.min_qty, max_qty=args.max_qty,
            clear_levels=args.no_levels,
        )  # fmt: skip
    finally:
        db.dispose()
    role = "pick face" if view.role == "pick" else view.role
    levels = (f"min {view.min_qty}, max {view.max_qty}" if view.min_qty is not None
              else "no levels")  # fmt: skip
    print(f"{view.code}: {role}, {levels}")
    return EXIT_OK


def _product(args: argparse.Namespace, settings: Settings) -> int:
    from picker.services.intake.catalogue import import_products

    if args.product_command in ("list", "show"):
        return _product_view(args, settings)

    def run(db: Any, actor: Any, data: bytes, name: str, progress: Any) -> Any:
        return import_products(db, actor, data, file_name=name, progress=progress)

    return _catalogue_file(args, settings, "products", run, ("created", "updated"))


def _product_view(args: argparse.Namespace, settings: Settings) -> int:
    """``product list`` and ``product show``: reading only, open to anyone."""
    from picker.cli.output import to_json
    from picker.services import products

    db = open_database(settings)
    require_head(db)
    try:
        if args.product_command == "list":
            found = products.list_products(db, search=args.search, limit=args.limit)
            if args.format == "json":
                print(to_json({"products": [p.as_json() for p in found]}))
            else:
                _print_products(found)
        else:
            detail = products.product_detail(db, args.code)
            if args.format == "json":
                print(to_json(detail.as_json()))
            else:
                _print_product(detail)
    finally:
        db.dispose()
    return EXIT_OK


def _cut(text: str, width: int) -> str:
    text = printable(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def _print_products(found: Sequence[Any]) -> None:
    print(f"{'sku':<16} {'name':<28} {'barcode':<16} {'on hand':>7} {'reserved':>8} "
          f"{'bins':>4} {'open orders':>11}")  # fmt: skip
    for p in found:
        barcode = p.barcodes[0] if p.barcodes else "-"
        if len(p.barcodes) > 1:
            barcode += f" +{len(p.barcodes) - 1}"
        print(f"{_cut(p.sku, 16):<16} {_cut(p.name, 28):<28} {printable(barcode):<16} "
              f"{p.on_hand:>7} {p.reserved:>8} {p.bins:>4} {p.open_orders:>11}")  # fmt: skip
    print(plural(len(found), "product"))


def _print_product(d: Any) -> None:
    p = d.summary
    print(f"{printable(p.sku)}  {printable(p.name)}")
    traits = [f"{p.weight_g} g"]
    traits += ["fragile"] if p.fragile else []
    traits += [] if p.ships else ["does not ship (recorded on orders, never picked)"]
    traits += [] if p.active else ["retired"]
    print("; ".join(traits))
    print("barcodes: " + (", ".join(printable(b) for b in p.barcodes) or "none"))
    for title, bins in (("pick face", d.pick_faces), ("other bins", d.other_bins)):
        if not bins:
            print(f"{title}: none")
            continue
        print(f"{title}:")
        for b in bins:
            role = "" if b.role == "pick" else f"  ({b.role})"
            retired = "  (bin retired)" if not b.active else ""
            print(f"  {printable(b.bin):<14} on hand {b.on_hand:>5}  reserved {b.reserved:>5}"
                  f"{role}{retired}")  # fmt: skip
    free = p.on_hand - p.reserved
    print(f"stock: {p.on_hand} on hand, {p.reserved} reserved, {free} free, in "
          f"{plural(p.bins, 'bin')}")  # fmt: skip
    numbers = ", ".join(d.open_order_numbers)
    more = " …" if p.open_orders > len(d.open_order_numbers) else ""
    print(f"open orders: {p.open_orders}" + (f" ({numbers}{more})" if numbers else ""))


def _catalogue_file(
    args: argparse.Namespace,
    settings: Settings,
    what: str,
    run: Callable[[Any, Any, bytes, str, Any], Any],
    counted: tuple[str, str],
) -> int:
    """A catalogue file (products, bins) imported as a data feed, with a progress bar: its
    counts printed, every refused line on stderr, exit status 1 when a line was refused."""
    from picker.channels.files import FileRefused

    path = Path(args.file)
    data = _read_input(path)
    db = open_database(settings)
    require_head(db)
    actor = feed_actor(args, settings, db)
    bar = ProgressBar()
    try:
        report = run(db, actor, data, path.name, lambda done, total: bar(what, done, total))
    except FileRefused as exc:
        raise CliError(f"{path}: {exc}; nothing imported") from None
    finally:
        db.dispose()
    _print_report(report, [(key, key) for key in (*counted, "unchanged", "failed")])
    return EXIT_FAILED if report.failed else EXIT_OK


def _stock(args: argparse.Namespace, settings: Settings) -> int:
    from picker.channels.files import FileRefused
    from picker.services.intake.catalogue import import_stock, set_stock

    if args.stock_command == "show":
        return _stock_show(args, settings)
    if args.stock_command == "moves":
        return _stock_moves(args, settings)
    db = open_database(settings)
    require_head(db)
    if args.stock_command == "set":
        actor = operator_actor(args, settings, db, "stock set", "intake.catalogue.set_stock")
    else:
        actor = feed_actor(args, settings, db)
    pattern = settings.scanner.patterns["bin"]
    code = EXIT_OK
    if args.stock_command == "set":
        change = set_stock(db, actor, args.sku, args.bin, args.quantity, bin_pattern=pattern)
        print(f"{printable(change.sku)} in {change.bin}: {change.before} → {change.after}")
        increased = change.after > change.before
    else:
        path = Path(args.file)
        data = _read_input(path)
        bar = ProgressBar()
        try:
            result = import_stock(
                db,
                actor,
                data,
                file_name=path.name,
                bin_pattern=pattern,
                progress=lambda done, total: bar("stock", done, total),
            )
        except FileRefused as exc:
            raise CliError(f"{path}: {exc}; nothing changed") from None
        _print_report(result, [("changed", "changed"), ("unchanged", "unchanged"),
                               ("failed", "failed")])  # fmt: skip
        if result.bins_created:
            print(f"new bins: {', '.join(result.bins_created)}")
        increased = bool(result.increased)
        code = EXIT_FAILED if result.failed else EXIT_OK
    if increased:
        _retry_short(db, actor, settings)
    db.dispose()
    return code


def _stock_show(args: argparse.Namespace, settings: Settings) -> int:
    """``stock show``: reading only, open to anyone."""
    from picker.cli.output import to_json
    from picker.services.products import QUARANTINE, stock_of

    db = open_database(settings)
    require_head(db)
    try:
        view = stock_of(db, args.code)
    finally:
        db.dispose()
    if args.format == "json":
        print(to_json(view.as_json()))
        return EXIT_OK
    print(f"{printable(view.sku)}  {printable(view.name)}")
    if view.bins:
        print(f"  {'bin':<14} {'role':<10} {'on hand':>7} {'reserved':>8} {'min':>5} "
              f"{'max':>5}  {'last counted':<16}")  # fmt: skip
    for b in view.bins:
        retired = "  (bin retired)" if not b.active else ""
        never = "  (never reserved)" if b.role == QUARANTINE else ""
        low = "-" if b.min_qty is None else str(b.min_qty)
        high = "-" if b.max_qty is None else str(b.max_qty)
        counted = "never" if b.counted_at is None else f"{b.counted_at:%Y-%m-%d %H:%M}"
        print(f"  {printable(b.bin):<14} {b.role:<10} {b.on_hand:>7} {b.reserved:>8} "
              f"{low:>5} {high:>5}  {counted:<16}{never}{retired}".rstrip())  # fmt: skip
    if not view.bins:
        print("  in no bin")
    print(f"on hand {view.on_hand}, reserved {view.reserved}, available {view.available}, "
          f"quarantined {view.quarantined}")  # fmt: skip
    return EXIT_OK


def since_arg(text: str, now: Any) -> Any:
    """``--since``: a number of days back from ``now``, or a day (YYYY-MM-DD, from its
    midnight UTC)."""
    from datetime import UTC, datetime, timedelta

    text = text.strip()
    if text.isdigit():
        return now - timedelta(days=int(text))
    try:
        day = datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        raise CliError(
            f"--since {printable(text)!r} is neither a number of days nor a date (YYYY-MM-DD)",
            EXIT_USAGE,
        ) from None
    return day.replace(tzinfo=UTC)


def _stock_moves(args: argparse.Namespace, settings: Settings) -> int:
    """``stock moves``: reading only, open to anyone."""
    from datetime import UTC, datetime

    from picker.cli.output import to_json
    from picker.services.products import stock_moves

    since = None if args.since is None else since_arg(args.since, datetime.now(UTC))
    db = open_database(settings)
    require_head(db)
    try:
        view = stock_moves(db, args.code, since=since, limit=args.limit)
    finally:
        db.dispose()
    if args.format == "json":
        print(to_json(view.as_json()))
        return EXIT_OK
    print(f"{printable(view.sku)}  {printable(view.name)}")
    print(f"  {'when (UTC)':<16} {'bin':<14} {'change':>7}  {'reason':<12} {'document':<14} "
          f"{'terminal':<8} operator")  # fmt: skip
    for r in view.rows:
        who = r.operator or r.source or "-"
        print(f"  {r.at:%Y-%m-%d %H:%M} {printable(r.bin):<14} {r.delta:>+7}  "
              f"{printable(r.reason):<12} {printable(r.document or r.order or '-'):<14} "
              f"{printable(r.terminal or '-'):<8} {printable(who)}")  # fmt: skip
    more = f" (the newest {len(view.rows)}: more with --limit)" if view.more else ""
    print(plural(len(view.rows), "movement") + more)
    return EXIT_OK
