"""The ``picker`` command: the terminal, the demo floor, the database, operators, benchmarks."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from picker import __version__
from picker.config import ConfigError, Settings, load_settings
from picker.domain.text import printable

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class CliError(Exception):
    """A failure to report in one line; ``code`` is the exit status."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="picker",
        description="Picker, the warehouse floor terminal. Without a command: start the terminal.",
    )
    p.add_argument("--version", action="version", version=f"picker {__version__}")
    p.add_argument(
        "--config",
        metavar="PATH",
        help="configuration file (default: $PICKER_CONFIG, else ./config.toml)",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("run", help="start the terminal (the default)")

    db = sub.add_parser("db", help="the database schema").add_subparsers(
        dest="db_command", metavar="ACTION", required=True
    )
    db.add_parser("upgrade", help="bring the database to the newest schema")
    db.add_parser("current", help="show the schema revision of the database and the newest one")
    db.add_parser("check", help="fail if the models and the migrations disagree")

    demo = sub.add_parser("demo", help="build a demo floor (products, bins, stock, orders…)")
    demo.add_argument("--orders", type=_count, default=60, help="number of orders (default 60)")
    demo.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    demo.add_argument(
        "--reset", action="store_true", help="empty the database first if it holds a floor"
    )
    demo.add_argument("--no-sheet", action="store_true", help="do not write the floor sheet PDF")

    op = sub.add_parser("operator", help="manage operators").add_subparsers(
        dest="op_command", metavar="ACTION", required=True
    )
    add = op.add_parser("add", help="add an operator")
    add.add_argument("badge", help="badge number, e.g. EMP-0042")
    add.add_argument("name", help="full name")
    add.add_argument("--roles", required=True, help="comma-separated: picker, packer, lead")
    add.add_argument("--pin", help="4-8 digits (asked for when not given)")
    op.add_parser("list", help="list operators")
    for name, text in (("disable", "disable a badge"), ("enable", "enable a badge, lift its lock")):
        op.add_parser(name, help=text).add_argument("badge")
    reset = op.add_parser("reset-pin", help="set a new PIN and lift any lock")
    reset.add_argument("badge")
    reset.add_argument("--pin", help="4-8 digits (asked for when not given)")

    imp = sub.add_parser("import", help="import orders (Shopify / WooCommerce JSON, CSV)")
    imp.add_argument("file", help="the export file")
    imp.add_argument("--format", choices=("shopify", "woocommerce", "csv"), help="default: detect")
    imp.add_argument("--channel", help="sales channel name (default: the format)")
    imp.add_argument("--dry-run", action="store_true", help="check and report, change nothing")

    product = sub.add_parser("product", help="the catalogue").add_subparsers(
        dest="product_command", metavar="ACTION", required=True
    )
    product.add_parser("import", help="create or update products from a CSV").add_argument("file")

    stock = sub.add_parser("stock", help="stock in bins").add_subparsers(
        dest="stock_command", metavar="ACTION", required=True
    )
    stock.add_parser("import", help="set stock from a count CSV (sku, bin, on_hand)").add_argument(
        "file"
    )
    st = stock.add_parser("set", help="set the stock of one product in one bin")
    st.add_argument("sku")
    st.add_argument("bin")
    st.add_argument("quantity", type=_count)

    order = sub.add_parser("order", help="orders").add_subparsers(
        dest="order_command", metavar="ACTION", required=True
    )
    ol = order.add_parser("list", help="list orders, oldest first")
    ol.add_argument("--status", help="only orders of this status")
    ol.add_argument("--format", choices=("table", "csv", "json"), default="table")
    ol.add_argument("--limit", type=_count, help="at most this many")
    os_ = order.add_parser("show", help="one order: lines, status, hold reasons, events")
    os_.add_argument("number")
    os_.add_argument("--format", choices=("table", "json"), default="table")
    order.add_parser("release", help="re-check a held order and release it").add_argument("number")
    for name, text in (("hold", "put an order on hold"), ("cancel", "cancel an order")):
        cmd = order.add_parser(name, help=text)
        cmd.add_argument("number")
        cmd.add_argument("--reason", required=True)
    oa = order.add_parser("assign", help="give orders to pickers (one to a named picker)")
    oa.add_argument("number", nargs="?", help="the order (default: assign all that are ready)")
    oa.add_argument("--to", metavar="BADGE", help="the picker's badge")
    oa.add_argument(
        "--reason", default="", help="why (journaled); an order being picked is taken over"
    )

    pr = sub.add_parser("print", help="documents").add_subparsers(
        dest="print_command", metavar="DOCUMENT", required=True
    )
    pl = pr.add_parser("picklist", help="A4 pick lists in walking order, for picking from paper")
    pl.add_argument("numbers", nargs="+", metavar="ORDER")
    pl.add_argument("--output", metavar="FILE", help="PDF file (default var/print/picklist-….pdf)")
    pq = pr.add_parser("queue", help="print jobs, newest first, with why one waits")
    pq.add_argument("--status", choices=("queued", "printing", "done", "failed", "cancelled"))
    pq.add_argument("--printer", metavar="NAME", help="only this printer's jobs")
    pq.add_argument("--last", type=_count, default=50, help="how many jobs (default 50)")
    pq.add_argument("--json", action="store_true", help="print one JSON object")
    prt = pr.add_parser("retry", help="send a waiting or failed job now")
    prt.add_argument("job", type=_count, metavar="JOB")
    prp = pr.add_parser("reprint", help="print a parcel's label again (journaled: who and why)")
    prp.add_argument("parcel", metavar="PARCEL", help="tracking number or parcel id")
    prp.add_argument("--reason", required=True, help="why (jammed, smudged, lost…)")
    prp.add_argument("--printer", metavar="NAME", help="default: this terminal's printer")
    pc = pr.add_parser("cancel", help="a waiting job is never printed (lead)")
    pc.add_argument("job", type=_count, metavar="JOB")
    pc.add_argument("--reason", required=True)
    prn = pr.add_parser("run", help="send this printer's waiting jobs (once, or --watch)")
    prn.add_argument("--watch", action="store_true", help="keep sending until Ctrl+C")

    parcel = sub.add_parser("parcel", help="parcels").add_subparsers(
        dest="parcel_command", metavar="ACTION", required=True
    )
    pv = parcel.add_parser(
        "void",
        help="void a closed parcel: its label is void, its items back to the packing checklist",
        description="A packed order goes back to the packing table, for any packer to repack "
        "(scan its order number there). Journaled with the reason.",
    )
    pv.add_argument("parcel", metavar="PARCEL", help="tracking number or parcel id")
    pv.add_argument("--reason", required=True, help="why (box crushed, wrong item…)")

    sub.add_parser(
        "check",
        help="check the floor's invariants (stock conserved, nothing held twice, legal walks…)",
    )
    mf = sub.add_parser(
        "manifest", help="print a day's courier manifests again (or write them to a folder)"
    )
    mf.add_argument("--date", required=True, type=_day, metavar="YYYY-MM-DD")
    mf.add_argument("--courier", metavar="CODE", help="one courier's (default: all)")
    mf.add_argument("--out", metavar="DIR", help="write PU-….pdf files here instead of printing")

    label = sub.add_parser("label", help="courier labels").add_subparsers(
        dest="label_command", metavar="ACTION", required=True
    )
    lp = label.add_parser(
        "preview",
        help="write a label as PDF, PNG (203 dpi) or ZPL, by the file's extension",
        description="Check a layout before it prints a real parcel: a sample parcel (cash on "
        "delivery, a long Vietnamese recipient) or a real one.",
    )
    lp.add_argument("--layout", metavar="NAME", help="a layout of labels/ (default: the courier's)")
    lp.add_argument("--courier", metavar="CODE", help="the courier's name, service and scheme")
    which = lp.add_mutually_exclusive_group()
    which.add_argument("--sample", action="store_true", help="a realistic sample parcel (default)")
    which.add_argument("--parcel", metavar="ID", help="a real parcel: tracking number or id")
    lp.add_argument("--out", metavar="FILE", required=True, help="FILE.pdf, FILE.png or FILE.zpl")

    sc = sub.add_parser("scans", help="the scan journal, newest last")
    sc.add_argument("--last", type=_count, default=50, help="how many scans (default 50)")
    sc.add_argument("--terminal", metavar="ID", help="only this terminal's scans")
    sc.add_argument("--json", action="store_true", help="print one JSON object")
    scan = sub.add_parser("scan", help="scanner set-up").add_subparsers(
        dest="scan_command", metavar="ACTION", required=True
    )
    se = scan.add_parser(
        "explain",
        help="show how a scan is read: hidden characters, kind, fields, or why it is refused",
        description="Write the GS separator as <GS> (the form the journal shows); '-' reads the "
        "scan from standard input exactly as a scanner types it.",
    )
    se.add_argument("text")

    bench = sub.add_parser("bench", help="benchmarks").add_subparsers(
        dest="bench_command", metavar="NAME", required=True
    )
    bd = bench.add_parser("demo", help="time building a demo floor of N orders")
    bd.add_argument("--orders", type=_count, default=100_000)
    bd.add_argument("--database", metavar="URL", help="scratch database (emptied!)")
    bd.add_argument("--json", action="store_true", help="print one JSON object")
    bi = bench.add_parser("import", help="time importing N Shopify orders into a fresh floor")
    bi.add_argument("--orders", type=_count, default=100_000)
    bi.add_argument("--database", metavar="URL", help="scratch database (emptied!)")
    bi.add_argument("--json", action="store_true", help="print one JSON object")
    bp = bench.add_parser("pick", help="picking through the real app on a big floor (headless)")
    bp.add_argument("--picks", type=_count, default=200)
    _floor_options(bp)
    bk = bench.add_parser("pack", help="packing through the real app on a big floor (headless)")
    bk.add_argument("--packs", type=_count, default=100, help="orders to pack")
    _floor_options(bk)
    bh = bench.add_parser(
        "handoff", help="handing parcels to a courier through the real app on a big floor"
    )
    bh.add_argument("--lanes", type=_count, default=5000, help="parcels waiting in the lanes")
    bh.add_argument("--pickup", type=_count, default=500, help="parcels on the pickup timed")
    _floor_options(bh)
    bt = bench.add_parser(
        "terminal",
        help="a real terminal on a pseudo-terminal: start-up to the login screen, peak memory",
    )
    _floor_options(bt)
    bf = bench.add_parser(
        "floor",
        help="many terminal processes working the real services at once, then picker check",
        description="Pickers (with shortages), packers (with two-parcel orders) and a lead "
        "(assigning, handing parcels to couriers) on a demo floor, each terminal a process of "
        "its own; --kills N kills one with SIGKILL N times and restarts it. Reports scans/s, "
        "orders/hour, p99 latency, scans lost, and the invariants.",
    )
    bf.add_argument("--terminals", type=_count, default=16)
    bf.add_argument("--minutes", type=float, default=2.0)
    bf.add_argument("--kills", type=int, default=0, help="SIGKILL a random terminal N times")
    bf.add_argument(
        "--drops", type=int, default=0,
        help="PostgreSQL: cut every terminal's connection N times (a server restart)",
    )  # fmt: skip
    bf.add_argument(
        "--pace", type=float, default=1.0, metavar="SECONDS",
        help="an operator's time between scans, on average (default 1; 0: flat out)",
    )  # fmt: skip
    _floor_options(bf)
    ba = bench.add_parser(
        "all",
        help="every benchmark on one floor, one table (and --out FILE.json)",
        description="Runs import, scan, pick, pack, handoff, labels, terminal and the floor "
        "run, each in a process of its own, on one demo floor of --orders orders (built once, "
        "then reused).",
    )
    ba.add_argument("--orders", type=_count, default=1_000_000, help="demo floor size")
    ba.add_argument(
        "--floor-terminals", type=_count, default=16, help="terminals of the floor run (16)"
    )
    ba.add_argument(
        "--floor-minutes", type=float, default=2.0, help="length of the floor run (2; 0: none)"
    )
    ba.add_argument("--database", metavar="URL", help="scratch database (emptied!)")
    ba.add_argument("--out", metavar="FILE", help="write the whole report as JSON here")
    ba.add_argument("--json", action="store_true", help="print one JSON object")
    bl = bench.add_parser(
        "labels", help="courier labels per second: PDF, ZPL, PNG, and WeasyPrint for comparison"
    )
    bl.add_argument("--labels", type=_count, default=1000, help="labels per renderer")
    bl.add_argument("--layout", default="4x6", metavar="NAME", help="the layout (default 4x6)")
    bl.add_argument("--json", action="store_true", help="print one JSON object")
    bs = bench.add_parser("scan", help="scan-to-feedback latency through the real app (headless)")
    bs.add_argument("--scans", type=_count, default=1000)
    bs.add_argument("--orders", type=_count, default=200, help="demo floor size (default 200)")
    bs.add_argument("--database", metavar="URL", help="scratch database (emptied!)")
    bs.add_argument("--json", action="store_true", help="print one JSON object")
    return p


def _count(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
        return _dispatch(args, settings)
    except ConfigError as exc:
        print(f"picker: configuration: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CliError as exc:
        print(f"picker: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("picker: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence: words, not a traceback
        from picker.services.errors import describe_failure

        message = describe_failure(exc)
        if message is None:
            raise
        print(f"picker: {message}", file=sys.stderr)
        return EXIT_FAILED


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    command = args.command or "run"
    handlers: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
        "run": _run,
        "db": _db,
        "demo": _demo,
        "operator": _operator,
        "bench": _bench,
        "import": _import,
        "product": _product,
        "stock": _stock,
        "order": _order,
        "scans": _scans,
        "print": _print,
        "label": _label,
        "parcel": _parcel,
        "manifest": _manifest,
        "check": _check,
        "scan": _scan,
    }
    return handlers[command](args, settings)


def _database(settings: Settings, url: str | None = None) -> Any:
    from picker.store.engine import Database

    return Database(url or settings.database.url, busy_timeout_s=settings.database.busy_timeout_s)


def _require_head(db: Any) -> None:
    from picker.store import migrate
    from picker.store.engine import describe_url

    current, head = migrate.current_revision(db.engine), migrate.head_revision()
    if current != head:
        where = describe_url(db.url)
        if current is not None and not migrate.known_revision(current):
            raise CliError(
                f"the database {where} has schema revision {current}, made by a newer Picker "
                f"than this one (which knows up to {head}). Update Picker on this terminal.",
                EXIT_USAGE,
            )
        if current is None:
            state = "has no Picker schema yet"
        else:
            state = f"is at schema revision {current}, Picker needs {head}"
        raise CliError(f"the database {where} {state}. Run: picker db upgrade", EXIT_USAGE)


# --- run ---------------------------------------------------------------------------------------


def _run(args: argparse.Namespace, settings: Settings) -> int:
    db = _database(settings)
    _require_head(db)
    from picker.tui.app import make_app

    app = make_app(settings, db)
    app.run()
    db.dispose()
    return EXIT_OK


# --- db ----------------------------------------------------------------------------------------


def _db(args: argparse.Namespace, settings: Settings) -> int:
    from picker.store import migrate
    from picker.store.engine import describe_url

    db = _database(settings)
    where = describe_url(db.url)
    if args.db_command == "upgrade":
        before = migrate.current_revision(db.engine)
        migrate.upgrade(db.engine)
        after = migrate.current_revision(db.engine)
        if before == after:
            print(f"{where}: already at the newest schema ({after})")
        else:
            print(f"{where}: upgraded from {before or 'empty'} to {after}")
    elif args.db_command == "current":
        current, head = migrate.current_revision(db.engine), migrate.head_revision()
        if current == head:
            state = "up to date"
        elif current is not None and not migrate.known_revision(current):
            state = "made by a newer Picker than this one: update Picker"
        else:
            state = "behind: run picker db upgrade"
        print(f"{where}: revision {current or 'none'} (newest {head}) — {state}")
    else:
        from alembic.util.exc import AutogenerateDiffsDetected

        migrate.upgrade(db.engine)
        try:
            migrate.check(db.engine)
        except AutogenerateDiffsDetected as exc:
            raise CliError(f"models and migrations disagree: {exc}") from None
        print("models and migrations agree")
    db.dispose()
    return EXIT_OK


# --- demo --------------------------------------------------------------------------------------


class ProgressBar:
    """A one-line progress bar on stderr (plain lines when stderr is not a terminal)."""

    def __init__(self, stream: TextIO | None = None, width: int = 30) -> None:
        self.stream = stream or sys.stderr
        self.width = width
        self.started = time.perf_counter()
        self.tty = self.stream.isatty()
        self._last_line = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        elapsed = time.perf_counter() - self.started
        share = done / total if total else 1.0
        filled = int(self.width * share)
        bar = "#" * filled + "." * (self.width - filled)
        text = f"{stage:<10} [{bar}] {done:>10,}/{total:,} {elapsed:6.1f}s"
        if self.tty:
            self.stream.write("\r" + text + ("\n" if done >= total else ""))
            self.stream.flush()
        elif done >= total or elapsed - self._last_line >= 5:
            self._last_line = elapsed
            self.stream.write(text + "\n")
            self.stream.flush()


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from picker.demo.builder import build_demo
    from picker.store.engine import describe_url

    db = _database(settings)
    print(
        f"Building a demo floor of {args.orders:,} orders (seed {args.seed}) in "
        f"{describe_url(db.url)}"
    )
    result = build_demo(
        db, orders=args.orders, seed=args.seed, reset=args.reset, progress=ProgressBar()
    )
    print(
        f"Done in {result.seconds:.1f} s: {result.products} products, {result.bins} bins, "
        f"{result.couriers} couriers, {result.packaging} packaging types, {result.totes} totes, "
        f"{result.orders:,} orders."
    )
    print("Orders by status: " + ", ".join(f"{k} {v:,}" for k, v in result.by_status.items()))
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    badges = _badge_table(result.operators)
    (settings.var_dir / "demo-badges.txt").write_text(badges + "\n", encoding="utf-8")
    print("\nDemo operators (also in var/demo-badges.txt):\n" + badges)
    if not args.no_sheet:
        from picker.demo.floor_sheet import write_floor_sheet

        path = write_floor_sheet(db, settings.var_dir / "floor-sheet.pdf", result.operators)
        print(f"\nFloor sheet with badges, bins, products, totes and commands: {path}")
    db.dispose()
    return EXIT_OK


def _badge_table(operators: Sequence[Any]) -> str:
    lines = [f"  {'badge':<10} {'PIN':<6} {'role':<8} name"]
    lines += [f"  {o.badge:<10} {o.pin:<6} {o.roles:<8} {o.name}" for o in operators]
    return "\n".join(lines)


# --- operator ----------------------------------------------------------------------------------


def _ask_pin(given: str | None) -> str:
    if given is not None:
        return given
    if not sys.stdin.isatty():
        raise CliError("give the PIN with --pin (no terminal to ask on)", EXIT_USAGE)
    first = getpass.getpass("New PIN (4-8 digits): ")
    if getpass.getpass("Again: ") != first:
        raise CliError("the two PINs differ; nothing changed")
    return first


def _operator(args: argparse.Namespace, settings: Settings) -> int:
    from picker.services import auth
    from picker.services.actors import Actor

    db = _database(settings)
    _require_head(db)
    actor = Actor(terminal_id=settings.terminal.id)
    if args.op_command == "add":
        op = auth.add_operator(
            db,
            actor,
            args.badge,
            args.name,
            args.roles,
            _ask_pin(args.pin),
            badge_pattern=settings.scanner.patterns["badge"],
        )
        print(f"added {op.badge} {op.name} ({', '.join(sorted(op.roles))})")
    elif args.op_command == "list":
        from datetime import UTC, datetime

        now = datetime.now(UTC)
        rows = auth.list_operators(db)
        print(f"{'badge':<12} {'roles':<20} {'state':<22} name")
        for r in rows:
            if not r.active:
                state = "disabled"
            elif r.locked_until and r.locked_until > now:
                state = f"locked until {r.locked_until:%H:%M} UTC"
            else:
                state = "active"
            roles = ",".join(sorted(r.roles))
            print(f"{r.badge:<12} {roles:<20} {state:<22} {printable(r.name)}")
        print(f"{len(rows)} operator(s)")
    elif args.op_command == "disable":
        auth.disable_operator(db, actor, args.badge)
        print(f"{args.badge} disabled")
    elif args.op_command == "enable":
        auth.enable_operator(db, actor, args.badge)
        print(f"{args.badge} enabled")
    else:
        auth.reset_pin(db, actor, args.badge, _ask_pin(args.pin))
        print(f"{args.badge}: new PIN set, lock lifted")
    db.dispose()
    return EXIT_OK


# --- intake: orders, products, stock ---------------------------------------------------------


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
    from picker.channels.orders import parse_orders
    from picker.services.actors import Actor
    from picker.services.intake.order_import import import_orders

    path = Path(args.file)
    data = _read_input(path)
    db = _database(settings)
    _require_head(db)
    try:
        parsed = parse_orders(
            data,
            file_name=path.name,
            format=args.format,
            channel=args.channel,
            cod_gateways=settings.intake.cod_gateways,
        )
    except FileRefused as exc:
        raise CliError(f"{path}: {exc}; nothing imported") from None
    bar = ProgressBar()
    report = import_orders(
        db,
        Actor(terminal_id=settings.terminal.id),
        parsed,
        settings=settings,
        file_name=path.name,
        dry_run=args.dry_run,
        progress=lambda done, total: bar("orders", done, total),
    )
    if args.dry_run:
        print("Dry run: nothing was changed. It would have been:")
    _print_report(
        report,
        [("imported", "imported"), ("on_hold", "on hold"), ("already_imported",
         "already imported"), ("failed", "failed")] + ([] if args.dry_run else
         [("assigned", "assigned to pickers")]),
    )  # fmt: skip
    db.dispose()
    return EXIT_FAILED if report.failed else EXIT_OK


def _retry_short(db: Any, settings: Settings) -> None:
    from picker.services.actors import Actor
    from picker.services.intake.order_import import retry_short_orders

    results = retry_short_orders(db, Actor(terminal_id=settings.terminal.id), settings=settings)
    released = [r.number for r in results if r.released]
    if results:
        print(f"orders held for stock: {len(released)} of {len(results)} released"
              + (f" ({', '.join(released[:10])}{' …' if len(released) > 10 else ''})"
                 if released else ""))  # fmt: skip


def _product(args: argparse.Namespace, settings: Settings) -> int:
    from picker.channels.files import FileRefused
    from picker.services.actors import Actor
    from picker.services.intake.catalogue import import_products

    path = Path(args.file)
    data = _read_input(path)
    db = _database(settings)
    _require_head(db)
    bar = ProgressBar()
    try:
        report = import_products(
            db,
            Actor(terminal_id=settings.terminal.id),
            data,
            file_name=path.name,
            progress=lambda done, total: bar("products", done, total),
        )
    except FileRefused as exc:
        raise CliError(f"{path}: {exc}; nothing imported") from None
    _print_report(
        report,
        [("created", "created"), ("updated", "updated"), ("unchanged", "unchanged"),
         ("failed", "failed")],
    )  # fmt: skip
    db.dispose()
    return EXIT_FAILED if report.failed else EXIT_OK


def _stock(args: argparse.Namespace, settings: Settings) -> int:
    from picker.channels.files import FileRefused
    from picker.services.actors import Actor
    from picker.services.intake.catalogue import import_stock, set_stock

    db = _database(settings)
    _require_head(db)
    actor = Actor(terminal_id=settings.terminal.id)
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
        _retry_short(db, settings)
    db.dispose()
    return code


def _order(args: argparse.Namespace, settings: Settings) -> int:
    from picker.services.actors import Actor
    from picker.services.intake import order_import as intake
    from picker.services.orders import views as queries

    db = _database(settings)
    _require_head(db)
    actor = Actor(terminal_id=settings.terminal.id)
    command = args.order_command
    if command == "list":
        found = queries.list_orders(db, status=args.status, limit=args.limit)
        _print_orders(found, args.format)
    elif command == "show":
        detail = queries.order_detail(db, args.number)
        if args.format == "json":
            print(_json(detail.as_json()))
        else:
            _print_detail(detail)
    elif command == "release":
        result = intake.release_order(db, actor, args.number, settings=settings)
        if not result.released:
            reasons = "; ".join(printable(r) for r in result.reasons)
            raise CliError(f"{args.number} stays on hold: {reasons}")
        print(f"{args.number} released")
    elif command == "hold":
        change = intake.hold_order(db, actor, args.number, args.reason)
        print(f"{args.number} on hold")
        _print_put_back(change.put_back)
    elif command == "cancel":
        change = intake.cancel_order(db, actor, args.number, args.reason)
        print(f"{args.number} cancelled; its reserved stock is free again")
        _print_put_back(change.put_back)
    elif args.number and args.to:
        intake.assign_order(db, actor, args.number, args.to, reason=args.reason)
        print(f"{args.number} assigned to {args.to.upper()}")
    elif args.number or args.to:
        raise CliError("give both an order number and --to BADGE, or neither", EXIT_USAGE)
    else:
        done = intake.assign_ready_orders(db, actor, settings=settings)
        for a in done:
            print(f"{a.order_number} → {a.badge}")
        print(f"{len(done)} order(s) assigned")
    db.dispose()
    return EXIT_OK


def _json(data: Any) -> str:
    """JSON for scripts: readable UTF-8, but C1 control characters (which JSON leaves raw and
    some terminals obey) escaped like the C0 ones."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    return re.sub("[\x7f-\x9f]", lambda m: f"\\u{ord(m.group()):04x}", text)


_LIST_COLUMNS = ("number", "status", "placed_at", "customer", "country", "courier", "lines",
                 "units", "total", "currency", "cod", "assignee", "hold_reasons")  # fmt: skip


def _print_orders(found: Sequence[Any], fmt: str) -> None:
    if fmt == "json":
        print(_json({"orders": [o.as_json() for o in found]}))
        return
    if fmt == "csv":
        import csv

        writer = csv.writer(sys.stdout)
        writer.writerow(_LIST_COLUMNS)
        for o in found:
            row = o.as_json()
            row["hold_reasons"] = "; ".join(row["hold_reasons"])
            # Data for scripts, but it may land on a terminal: control characters escaped.
            writer.writerow([printable(str(row[c])) if row[c] is not None else "" for c in
                             _LIST_COLUMNS])  # fmt: skip
        return
    print(f"{'number':<11} {'status':<10} {'placed (UTC)':<16} {'customer':<22} {'cc':<2} "
          f"{'courier':<6} {'units':>5} {'total':>12} {'picker':<9} hold")  # fmt: skip
    for o in found:
        name = printable(o.customer)
        name = name if len(name) <= 22 else name[:21] + "…"
        total = f"{o.total} {o.currency}"
        print(f"{o.number:<11} {o.status:<10} {o.placed_at:%Y-%m-%d %H:%M} {name:<22} "
              f"{printable(o.country):<2} {o.courier or '-':<6} {o.units:>5} {total:>12} "
              f"{o.assignee or '-':<9} {printable('; '.join(o.hold_reasons))}")  # fmt: skip
    print(f"{len(found)} order(s)")


def _print_detail(d: Any) -> None:
    o = d.summary
    print(f"{o.number}  {o.status}  ({o.channel} {printable(o.shop_order_no)})")
    print(f"placed {o.placed_at:%Y-%m-%d %H:%M} UTC; courier {o.courier or '-'} "
          f"({printable(d.shipping_method)}); picker {o.assignee or '-'}")  # fmt: skip
    print(f"total {o.total} {o.currency}" + (f"; COD {o.cod} {o.currency}" if o.cod else ""))
    print("ship to: " + " / ".join(printable(p) for p in d.ship_address))
    if d.note:
        print(f"note: {printable(d.note)}")
    for reason in o.hold_reasons:
        print(f"ON HOLD: {printable(reason)}")
    print("lines:")
    for ln in d.lines:
        print(f"  {ln.line_no:>2}. {printable(ln.sku):<14} x{ln.quantity:<4} reserved "
              f"{ln.reserved:<4} {ln.unit_price:>10}  {printable(ln.name)}")  # fmt: skip
    print("events:")
    for e in d.events:
        print(f"  {e.at:%Y-%m-%d %H:%M:%S} {e.from_status or '-':>9} → {e.to_status:<9} "
              f"{e.operator or '-':<9} {e.terminal:<5} {printable(e.reason)}")  # fmt: skip


# --- print -------------------------------------------------------------------------------------


def _print(args: argparse.Namespace, settings: Settings) -> int:
    db = _database(settings)
    _require_head(db)
    try:
        return _print_command(args, settings, db)
    finally:
        db.dispose()


def _print_command(args: argparse.Namespace, settings: Settings, db: Any) -> int:
    from picker.services.actors import Actor
    from picker.services.printjobs import print_queue

    actor = Actor(terminal_id=settings.terminal.id)
    command = args.print_command
    if command == "picklist":
        from picker.services.printjobs.pick_lists import write_pick_lists

        default = settings.var_dir / "print" / f"picklist-{args.numbers[0]}.pdf"
        path = Path(args.output) if args.output else default
        write_pick_lists(db, args.numbers, path)
        print(f"{len(args.numbers)} pick list(s) written to {path}")
    elif command == "queue":
        rows = print_queue.jobs(db, status=args.status, limit=args.last, printer=args.printer)
        _print_jobs(rows, args.json)
    elif command == "retry":
        row = print_queue.retry(db, actor, args.job)
        print(f"job {row.id} ({printable(row.title or row.kind)}) will be sent now to "
              f"{printable(row.printer)}")  # fmt: skip
    elif command == "cancel":
        row = print_queue.cancel(db, actor, args.job, args.reason)
        print(f"job {row.id} cancelled: it will not be printed")
    elif command == "reprint":
        printer = args.printer or settings.printer.name
        job_id = print_queue.reprint(db, actor, args.parcel, args.reason, printer)
        print(f"label of {printable(args.parcel)} queued again as job {job_id} on {printer}")
    else:
        return _print_run(args, settings, db)
    return EXIT_OK


def _print_jobs(rows: Sequence[Any], as_json: bool) -> None:
    if as_json:
        print(_json({"jobs": [
            {"id": r.id, "created_at": r.created_at.isoformat(), "kind": r.kind,
             "printer": r.printer, "status": r.status, "attempts": r.attempts,
             "title": r.title, "tracking_no": r.tracking_no, "order": r.order_number,
             "last_error": r.last_error, "reason": r.reason,
             "next_attempt_at": r.next_attempt_at.isoformat() if r.next_attempt_at else None,
             "printed_at": r.printed_at.isoformat() if r.printed_at else None}
            for r in rows]}))  # fmt: skip
        return
    print(f"{'job':>6} {'queued (UTC)':<16} {'kind':<12} {'printer':<10} {'status':<9} "
          f"{'tries':>5}  document / why")  # fmt: skip
    for r in rows:
        why = r.last_error if r.status != "done" else r.reason
        document = printable(r.title or r.tracking_no or r.order_number or "")
        print(f"{r.id:>6} {r.created_at:%Y-%m-%d %H:%M} {r.kind:<12} {printable(r.printer):<10} "
              f"{r.status:<9} {r.attempts:>5}  {document}"
              + (f" — {printable(why)}" if why else ""))  # fmt: skip
    print(f"{len(rows)} job(s)")


def _print_run(args: argparse.Namespace, settings: Settings, db: Any) -> int:
    """Send this terminal's printer's due jobs: once, or until Ctrl+C with --watch."""
    import time

    from picker.printing.backends import backend_for
    from picker.services.printjobs import print_queue

    name = settings.printer.name
    backend = backend_for(settings.printer, name)
    while True:
        done = print_queue.deliver_due(db, name, backend, claimed_by=settings.terminal.id)
        for job_id in done.printed:
            print(f"job {job_id} printed on {name}")
        if done.down:
            print(f"{printable(done.down)}; {done.queued} job(s) wait", file=sys.stderr)
        if not args.watch:
            if not done.printed and not done.down:
                print(f"nothing due for {name} ({done.queued} job(s) wait)")
            return EXIT_OK if not done.down else EXIT_FAILED
        time.sleep(settings.printer.poll_s)


def _check(args: argparse.Namespace, settings: Settings) -> int:
    from picker.services.check import check

    db = _database(settings)
    _require_head(db)
    try:
        bar = ProgressBar()
        findings = check(db, progress=lambda done, total: bar("invariants", done, total))
    finally:
        db.dispose()
    for f in findings:
        print(f"{'ok ' if not f.broken else 'BROKEN'} {f.name}"
              + (f": {f.broken} row(s)" if f.broken else ""))  # fmt: skip
        for example in f.examples:
            print(f"       {printable(example)}")
    broken = sum(1 for f in findings if f.broken)
    print(f"{len(findings) - broken} of {len(findings)} invariants hold")
    return EXIT_FAILED if broken else EXIT_OK


def _manifest(args: argparse.Namespace, settings: Settings) -> int:
    from picker.services.actors import Actor
    from picker.services.errors import NotFound
    from picker.services.floor import handoff

    db = _database(settings)
    _require_head(db)
    try:
        if args.out:
            found = handoff.manifests(db, settings, args.date, args.courier)
            if not found:
                raise NotFound(f"no pickup was closed on {args.date:%Y-%m-%d}")
            folder = Path(args.out)
            folder.mkdir(parents=True, exist_ok=True)
            for _, number, pdf in found:
                (folder / f"{number}.pdf").write_bytes(pdf)
                print(f"{number} written to {folder / f'{number}.pdf'}")
            return EXIT_OK
        queued = handoff.reprint_manifests(
            db, Actor(settings.terminal.id), settings, args.date, args.courier
        )
    finally:
        db.dispose()
    for number, job in queued:
        print(f"{number} queued as job {job} on {settings.printer.name}")
    return EXIT_OK


def _day(text: str) -> Any:
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _parcel(args: argparse.Namespace, settings: Settings) -> int:
    from picker.services.actors import Actor
    from picker.services.floor import packing

    db = _database(settings)
    _require_head(db)
    try:
        done = packing.void_parcel(db, Actor(settings.terminal.id), args.parcel, args.reason)
    finally:
        db.dispose()
    jobs = ""
    if done.cancelled_jobs:
        jobs += f"; {done.cancelled_jobs} label job(s) not yet printed cancelled"
    if done.printing_jobs:
        jobs += "; its label is printing right now: take it off the parcel"
    print(f"parcel {printable(done.tracking_no)} of {done.order_number} voided{jobs}. "
          f"{done.order_number} is {done.order_status}: its items are back on the packing "
          "checklist.")  # fmt: skip
    return EXIT_OK


def _label(args: argparse.Namespace, settings: Settings) -> int:
    from picker.services.printjobs.labels import preview

    db = None
    if args.courier or args.parcel:
        db = _database(settings)
        _require_head(db)
    try:
        done = preview(settings, Path(args.out), db=db, layout_name=args.layout,
                       courier=args.courier, parcel=args.parcel)  # fmt: skip
    finally:
        if db is not None:
            db.dispose()
    for warning in done.warnings:
        print(f"warning: {printable(warning)}", file=sys.stderr)
    print(f"label {done.tracking} (layout {done.layout}) written to {done.path}")
    return EXIT_OK


# --- scans -------------------------------------------------------------------------------------


def _scans(args: argparse.Namespace, settings: Settings) -> int:
    from picker.domain.scanning import visible
    from picker.services import scans

    db = _database(settings)
    _require_head(db)
    entries = scans.recent(db, last=args.last, terminal=args.terminal)
    db.dispose()
    if args.json:
        print(_json({"scans": [
            {"id": e.id, "at": e.at.isoformat(), "terminal": e.terminal_id,
             "operator": e.operator or None, "station": e.station, "screen": e.screen,
             "raw": e.raw, "kind": e.kind, "result": e.result, "message": e.message,
             "fields": e.fields}
            for e in entries]}))  # fmt: skip
        return EXIT_OK
    print(f"{'time (UTC)':<19} {'term':<5} {'operator':<9} {'screen':<12} {'kind':<10} "
          f"{'result':<8} scan / message")  # fmt: skip
    for e in entries:
        print(f"{e.at:%Y-%m-%d %H:%M:%S} {printable(e.terminal_id):<5} {e.operator or '-':<9} "
              f"{printable(e.screen):<12} {e.kind:<10} {e.result:<8} "
              f"{printable(visible(e.raw))}"
              + (f"  ({printable(e.message)})" if e.message else ""))  # fmt: skip
    print(f"{len(entries)} scan(s)")
    return EXIT_OK


def _scan(args: argparse.Namespace, settings: Settings) -> int:
    from picker.domain.scanning import ScanRouter, explain

    raw = sys.stdin.read() if args.text == "-" else args.text.replace("<GS>", "\x1d")
    scanner = settings.scanner
    explained = explain(raw, ScanRouter(scanner.patterns, scanner.prefix, scanner.suffix))
    print(f"raw:     {printable(explained.visible)}")
    scan = explained.scan
    if scan is not None:
        print(f"kind:    {scan.kind.value}")
        if scan.text != raw:
            print(f"read as: {printable(scan.text)}")
        for f in scan.fields:
            label = f"{f.name} ({f.ai})" if f.ai else f.name
            print(f"  {printable(label)}: {printable(f.value)}")
        for note in scan.notes:
            print(f"note:    {printable(note)}")
    else:
        print(f"refused: {printable(str(explained.error))}")
    for hint in explained.hints:
        print(f"hint:    {printable(hint)}")
    return EXIT_OK if scan is not None else EXIT_FAILED


# --- bench -------------------------------------------------------------------------------------


def _print_put_back(put_back: Sequence[Any]) -> None:
    """What a stopped order's tote held, and the bin each unit goes back to (booked already)."""
    for p in put_back:
        print(f"put back {p.quantity} × {printable(p.sku)} → {printable(p.bin)}")


def _metric(value: float, unit: str, target: float | None = None, higher: bool = False) -> dict:
    """One row of a benchmark table: a single run, so median and p99 are the same figure."""
    passed = target is None or (value >= target if higher else value <= target)
    return {"median": value, "p99": value, "unit": unit, "target": target, "pass": passed}


def _floor_options(parser: argparse.ArgumentParser) -> None:
    """What every benchmark on a demo floor takes: its size, reuse, the database, JSON."""
    parser.add_argument("--orders", type=_count, default=1_000_000, help="demo floor size")
    parser.add_argument(
        "--reuse", action="store_true",
        help="keep the database's floor if it already holds --orders orders (no rebuild)",
    )  # fmt: skip
    parser.add_argument("--database", metavar="URL", help="scratch database (emptied!)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _latency(median: float, p99: float, target: float) -> dict:
    """A row of many measurements: passes when the p99 is within the target."""
    return {"median": median, "p99": p99, "unit": "ms", "target": target, "pass": p99 <= target}


def _bench_database(args: argparse.Namespace, settings: Settings, name: str) -> Any:
    """The scratch database a benchmark empties: --database, else PICKER_DATABASE_URL (only if
    it holds no orders: it may be somebody's floor), else var/bench/NAME.db."""
    url = args.database
    from_env = os.environ.get("PICKER_DATABASE_URL") if url is None else None
    url = url or from_env or f"sqlite:///{settings.var_dir / 'bench' / f'{name}.db'}"
    reuse = getattr(args, "reuse", False)
    if url.startswith("sqlite:///") and not from_env and not args.database and not reuse:
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    db = _database(settings, _normalise(url))
    if from_env:
        from sqlalchemy import inspect, text

        with db.engine.connect() as conn:
            has_orders = (
                inspect(conn).has_table("orders")
                and conn.execute(text("SELECT EXISTS (SELECT 1 FROM orders)")).scalar()
            )
        if has_orders:
            raise CliError(
                "PICKER_DATABASE_URL names a database with orders, and a benchmark empties its "
                "database: give a scratch one with --database URL",
                EXIT_USAGE,
            )
    return db


def _bench(args: argparse.Namespace, settings: Settings) -> int:
    from picker.store.engine import describe_url

    progress = ProgressBar() if not args.json else (lambda *a: None)
    if args.bench_command == "labels":
        return _report_bench(args, "-", "-", 0, _bench_labels(args, settings, progress))
    if args.bench_command == "all":
        return _bench_all(args, settings)
    db = _bench_database(args, settings, args.bench_command)
    if args.bench_command == "demo":
        from picker.demo.builder import build_demo

        result = build_demo(db, orders=args.orders, progress=progress, reset=True)
        orders, seconds = result.orders, result.seconds
        metrics = {
            "build_time": _metric(round(seconds, 2), "s", 600.0),
            "orders_per_s": _metric(round(orders / seconds if seconds else 0), "per_s"),
            "database_size": _metric(round(_database_size(db) / 2**20, 1), "MiB"),
        }
    elif args.bench_command in ("scan", "pick", "pack", "handoff", "terminal", "floor"):
        run = {
            "scan": _bench_scan, "pick": _bench_pick, "pack": _bench_pack,
            "handoff": _bench_handoff, "terminal": _bench_terminal, "floor": _bench_floor,
        }[args.bench_command]  # fmt: skip
        try:
            orders, metrics = run(args, settings, db, progress)
        except RuntimeError as exc:  # the app did not do what the benchmark expected
            raise CliError(f"bench {args.bench_command} stopped: {exc}") from None
    else:
        from picker.bench.drivers import bench_import

        run = bench_import(db, settings, args.orders, settings.var_dir / "bench", progress)
        orders = run.orders
        metrics = {
            "orders_per_s": _metric(round(run.per_second), "per_s", 2000.0, higher=True),
            "import_time": _metric(round(run.seconds, 2), "s"),
            "imported": _metric(run.report.counts["imported"], "orders", orders, higher=True),
            "failed": _metric(run.report.failed, "orders", 0),
            "file_size": _metric(round(run.file_bytes / 2**20, 1), "MiB"),
        }
    db.dispose()
    return _report_bench(args, describe_url(db.url), db.dialect, orders, metrics)


def _report_bench(
    args: argparse.Namespace, where: str, dialect: str, orders: int, metrics: dict
) -> int:
    report = {"bench": args.bench_command, "database": dialect, "orders": orders,
              "metrics": metrics}  # fmt: skip
    if args.json:
        print(json.dumps(report))
    else:
        if dialect == "-":
            print(f"bench {args.bench_command}")
        else:
            print(f"bench {args.bench_command} on {where} ({dialect}), {orders:,} orders")
        print(f"{'metric':<16} {'median':>12} {'p99':>12} {'target':>10}  pass")
        for name, m in metrics.items():
            target = "-" if m["target"] is None else f"{m['target']:g}"
            print(
                f"{name:<16} {m['median']:>12,} {m['p99']:>12,} {target:>10}  "
                f"{'yes' if m['pass'] else 'NO'}  {m['unit']}"
            )
    return EXIT_OK


def _bench_labels(args: argparse.Namespace, settings: Settings, progress: Any) -> dict:
    from picker.bench.drivers import bench_labels

    run = bench_labels(settings, args.labels, progress, layout_name=args.layout)
    metrics = {
        "pdf_per_s": _metric(round(run.pdf_per_s), "per_s", 200.0, higher=True),
        "pdf_batch_per_s": _metric(round(run.pdf_batch_per_s), "per_s"),
        "zpl_per_s": _metric(round(run.zpl_per_s), "per_s"),
        "png_preview": _metric(round(run.png_ms, 1), "ms"),
    }
    if run.weasyprint_per_s is None:
        print("WeasyPrint is not installed (pip install -e '.[bench]'): no comparison",
              file=sys.stderr)  # fmt: skip
    else:
        metrics["weasyprint_per_s"] = _metric(round(run.weasyprint_per_s, 1), "per_s")
        ratio = run.pdf_per_s / run.weasyprint_per_s
        metrics["vs_weasyprint"] = _metric(round(ratio, 1), "x", 10.0, higher=True)
    return metrics


def _bench_scan(
    args: argparse.Namespace, settings: Settings, db: Any, progress: Any
) -> tuple[int, dict]:
    """A demo floor, a lead of the benchmark's own, and ``--scans`` scans of every kind."""
    import asyncio
    import dataclasses

    from sqlalchemy import select

    from picker.bench.terminal import measure_scan_latency
    from picker.demo.builder import build_demo
    from picker.domain.ean import with_check_digit
    from picker.services import auth
    from picker.services.actors import Actor
    from picker.store.models import Bin, ProductBarcode
    from picker.tui.app import make_app

    orders = args.orders
    build_demo(db, orders=orders, progress=progress, reset=True)
    auth.add_operator(db, Actor("BENCH"), "EMP-9901", "Bench Lead", "lead", "2468")
    with db.read() as s:
        barcodes = list(s.scalars(select(ProductBarcode.barcode).limit(200)))
        bins = list(s.scalars(select(Bin.code).limit(100)))
    gtin = with_check_digit("0" + barcodes[0][:-1].zfill(12)) if barcodes else "09501101530003"
    kinds = [
        *barcodes,
        *bins,
        *(f"T-{i:04d}" for i in range(1, 51)),
        *(f"]C101{gtin}17271231" + f"10LOT{i}\x1d21SN{i:05d}" for i in range(50)),
        "4006381333932",  # a misread: wrong check digit
    ]
    codes = [kinds[i % len(kinds)] for i in range(args.scans)]
    # The terminal as a floor runs it; the benchmark's own terminal id in the journal.
    terminal = dataclasses.replace(settings.terminal, id="BENCH")
    app = make_app(dataclasses.replace(settings, terminal=terminal), db)
    result = asyncio.run(
        measure_scan_latency(
            app, codes, badge="EMP-9901", pin="2468",
            progress=lambda done, total: progress("scan", done, total),
        )
    )  # fmt: skip
    return orders, {
        "scan_to_feedback": _latency(result.p50_ms, result.p99_ms, 100.0),
        "slowest_scan": _metric(result.max_ms, "ms"),
        "scans": _metric(result.scans, "scans", args.scans, higher=True),
    }


def _bench_pick(
    args: argparse.Namespace, settings: Settings, db: Any, progress: Any
) -> tuple[int, dict]:
    """A demo floor, a picker of the benchmark's own given orders as a lead would (refilled as
    they run out), and picking by scans through the headless app."""
    import asyncio
    import dataclasses

    from sqlalchemy import select

    from picker.bench.drivers import bench_operator, import_fresh, settle, shopify_export, stock_up
    from picker.bench.terminal import measure_picking
    from picker.services.actors import Actor
    from picker.services.errors import ServiceError
    from picker.services.intake import order_import as intake
    from picker.store.models import Order, PickTask
    from picker.tui.app import make_app

    lead = Actor("BENCH")
    held = _demo_floor(args, db, progress)
    # A built floor's history is handed over; today's orders arrive from the shop, enough of
    # them (stocked) for every pick the benchmark makes.
    skus = stock_up(db, 10_000)
    import_fresh(db, settings, shopify_export(skus, args.picks, seed=2, first=held),
                 lambda done, total: progress("new orders", done, total))  # fmt: skip
    settle(db)
    # A picker of the run's own: a reused floor may hold an earlier run's picker, mid-pick.
    badge = bench_operator(db, 99, "Bench Picker", "picker").badge

    def refill() -> int:
        """Give the bench picker as many assigned orders as a picker may hold."""
        with db.read() as s:
            reserved = select(PickTask.id).where(PickTask.order_id == Order.id).exists()
            numbers = list(
                s.scalars(
                    select(Order.number)
                    .where(
                        (Order.status == "assigned")
                        | ((Order.status == "unhandled") & reserved & Order.assignee_id.is_(None))
                    )
                    .order_by(Order.id.desc())
                    .limit(settings.intake.max_orders_per_picker)
                )
            )
        given = 0
        for number in numbers:
            try:
                intake.assign_order(db, lead, number, badge)
                given += 1
            except ServiceError:
                continue
        return given

    terminal = dataclasses.replace(settings.terminal, id="BENCH")
    app = make_app(dataclasses.replace(settings, terminal=terminal), db)
    result = asyncio.run(
        measure_picking(
            app, badge=badge, pin="1357", picks=args.picks, refill=refill,
            progress=lambda done, total: progress("pick", done, total),
        )
    )  # fmt: skip
    return args.orders, {
        "scan_to_feedback": _latency(result.scans.p50_ms, result.scans.p99_ms, 50.0),
        "queue_open": _latency(result.queue_p50_ms, result.queue_p99_ms, 200.0),
        "picks": _metric(result.picks, "units", args.picks, higher=True),
        "scans": _metric(result.scans.scans, "scans"),
    }


def _bench_pack(
    args: argparse.Namespace, settings: Settings, db: Any, progress: Any
) -> tuple[int, dict]:
    """A demo floor, a packer of the benchmark's own, and the floor's picked orders packed by
    scans through the headless app (closed by CMD-CLOSE, so a close is timed on its own)."""
    import asyncio
    import dataclasses

    from sqlalchemy import select

    from picker.bench.drivers import bench_operator, pick_fresh_orders, settle
    from picker.bench.terminal import measure_packing
    from picker.store.models import Order, Tote
    from picker.tui.app import make_app

    _demo_floor(args, db, progress)
    with db.read() as s:
        totes = list(
            s.scalars(
                select(Tote.code)
                .join(Order, Order.id == Tote.order_id)
                .where(Order.status == "picked")
                .order_by(Order.id.desc())
                .limit(args.packs)
            )
        )
    if len(totes) < args.packs:
        # Today's orders from the shop, picked: the floor's own picked orders are a few.
        totes += pick_fresh_orders(
            db, settings, args.packs - len(totes), first=_floor_orders(db) + 1, progress=progress
        )
    settle(db)
    badge = bench_operator(db, 99, "Bench Packer", "packer").badge
    bench_settings = dataclasses.replace(
        settings,
        terminal=dataclasses.replace(settings.terminal, id="BENCH", station="packing"),
        packing=dataclasses.replace(settings.packing, auto_close=False, packing_slip=False),
    )
    app = make_app(bench_settings, db)
    result = asyncio.run(
        measure_packing(
            app, badge=badge, pin="1357", totes=totes,
            progress=lambda done, total: progress("pack", done, total),
        )
    )  # fmt: skip
    return args.orders, {
        "verify_scan": _latency(result.verify.p50_ms, result.verify.p99_ms, 50.0),
        "close_scan": _latency(result.close.p50_ms, result.close.p99_ms, 150.0),
        "other_scans": _latency(result.other.p50_ms, result.other.p99_ms, 50.0),
        "orders_packed": _metric(result.orders, "orders", len(totes), higher=True),
        "verifies": _metric(result.verify.scans, "scans"),
    }


def _bench_handoff(
    args: argparse.Namespace, settings: Settings, db: Any, progress: Any
) -> tuple[int, dict]:
    """A demo floor whose lanes are filled to ``--lanes`` parcels by orders picked and packed
    through the services, then a lead of the benchmark's own scanning ``--pickup`` parcels of
    the fullest lane into a pickup through the headless app, and closing it."""
    import asyncio
    import dataclasses

    from sqlalchemy import select

    from picker.bench.drivers import bench_operator, pack_fresh_orders, settle
    from picker.bench.terminal import measure_handoff
    from picker.services.actors import system_clock
    from picker.services.floor import handoff
    from picker.store.models import Order, Parcel
    from picker.tui.app import make_app

    _demo_floor(args, db, progress)
    waiting = sum(ln.parcels for ln in handoff.lanes(db, settings, now=system_clock()))
    if waiting < args.lanes:
        pack_fresh_orders(
            db, settings, args.lanes - waiting, first=_floor_orders(db) + 1, progress=progress
        )
    settle(db)
    fullest = max(handoff.lanes(db, settings, now=system_clock()), key=lambda ln: ln.parcels)
    with db.read() as s:
        parcels = list(
            s.scalars(
                select(Parcel.tracking_no)
                .join(Order, Order.id == Parcel.order_id)
                .where(
                    Parcel.courier_id == fullest.courier_id,
                    Parcel.status == "closed",
                    Order.status == "packed",
                )
                .order_by(Parcel.id)
                .limit(args.pickup)
            )
        )
    badge = bench_operator(db, 96, "Bench Lead", "lead").badge
    bench_settings = dataclasses.replace(
        settings, terminal=dataclasses.replace(settings.terminal, id="BENCH", station="handoff")
    )
    app = make_app(bench_settings, db)
    result = asyncio.run(
        measure_handoff(
            app, badge=badge, pin="1357", lane=fullest.lane, parcels=parcels,
            progress=lambda done, total: progress("handoff", done, total),
        )
    )  # fmt: skip
    return args.orders, {
        "parcel_scan": _latency(result.scans.p50_ms, result.scans.p99_ms, 50.0),
        "close_pickup": _metric(result.close_ms, "ms", 2000.0),
        "parcels_on_pickup": _metric(result.parcels, "parcels", args.pickup, higher=True),
        "lanes_before": _metric(max(waiting, args.lanes), "parcels"),
    }


def _bench_terminal(
    args: argparse.Namespace, settings: Settings, db: Any, progress: Any
) -> tuple[int, dict]:
    """``picker run`` itself on a pseudo-terminal against the floor: command → login screen,
    then a lead logs in and opens the station; the process's peak memory."""
    from picker.bench.drivers import bench_operator
    from picker.bench.terminal import measure_terminal

    _demo_floor(args, db, progress)
    badge = bench_operator(db, 95, "Bench Lead", "lead").badge
    command = [sys.executable, "-m", "picker"]
    if settings.source is not None:
        command += ["--config", str(settings.source)]
    env = {**os.environ, "PICKER_DATABASE_URL": db.url, "TERM": "xterm-256color",
           "COLUMNS": "80", "LINES": "24"}  # fmt: skip
    run = measure_terminal(
        [*command, "run"],
        env,
        badge=badge,
        pin="1357",
        ready="Scan your badge",
        after="scan a tote",  # the picker queue, this terminal's station, opened
    )
    return args.orders, {
        "startup": _metric(run.startup_ms, "ms", 2000.0),
        "peak_memory": _metric(run.peak_rss_mib, "MiB", 300.0),
    }


def _bench_floor(
    args: argparse.Namespace, settings: Settings, db: Any, progress: Any
) -> tuple[int, dict]:
    from picker.bench.floor import run_floor

    _demo_floor(args, db, progress)
    url = db.url
    db.dispose()
    seconds = args.minutes * 60
    run = run_floor(
        url, settings, terminals=args.terminals, seconds=seconds,
        orders=max(50, int(args.terminals * args.minutes * 40)),
        folder=settings.var_dir / "bench" / "floor", kills=args.kills, drops=args.drops,
        pace_s=args.pace,
        progress=progress,
    )  # fmt: skip
    for f in run.findings:
        if f.broken:
            print(f"BROKEN {f.name}: {'; '.join(f.examples)}", file=sys.stderr)
    stations = {
        f"{name}_scans": _latency(p50, p99, 50.0) for name, (_, p50, p99) in run.stations.items()
    }
    for failure in run.resume_failures:
        print(f"NOT RESUMED {failure}", file=sys.stderr)
    return args.orders, {
        "scan_latency": _latency(run.p50_ms, run.p99_ms, 50.0),
        **stations,
        "other_calls": {
            "median": run.action_p50_ms,
            "p99": run.action_p99_ms,
            "unit": "ms",
            "target": None,
            "pass": True,
        },
        "scans_per_s": _metric(round(run.scans_per_s, 1), "per_s"),
        "orders_per_hour": _metric(round(run.orders_per_hour), "per_hour"),
        "scans_lost": _metric(run.lost, "scans", 0),
        "violations": _metric(run.violations, "rows", 0),
        "kills": _metric(run.kills, "kills", args.kills, higher=True),
        "crashed": _metric(run.crashed, "terminals", 0),
        "resumed": _metric(run.resumed, "terminals"),
        "resume_failures": _metric(len(run.resume_failures), "terminals", 0),
        "connections_cut": _metric(run.dropped, "connections"),
        "scans_resent": _metric(run.resent, "scans"),
        "already_saved": _metric(run.already_saved, "scans"),
    }


def _bench_all(args: argparse.Namespace, settings: Settings) -> int:
    """Each benchmark in a process of its own (its memory and its garbage collector its own),
    on one floor: built by the first, reused by the rest."""
    import subprocess

    url = args.database or f"sqlite:///{settings.var_dir / 'bench' / 'all.db'}"
    base = [sys.executable, "-m", "picker"]
    if settings.source is not None:
        base += ["--config", str(settings.source)]
    floor = ["--orders", str(args.orders), "--database", url]
    n = args.orders  # the benchmarks' own sizes, smaller for a small floor (a quick run)
    runs = [
        ("pick", [*floor, "--picks", str(min(200, max(10, n // 5)))]),  # builds the floor
        ("pack", [*floor, "--reuse", "--packs", str(min(100, max(5, n // 10)))]),
        ("handoff", [*floor, "--reuse", "--lanes", str(min(5000, max(20, n // 5))),
                     "--pickup", str(min(500, max(5, n // 20)))]),
        ("terminal", [*floor, "--reuse"]),
        *(
            [("floor", [*floor, "--reuse", "--terminals", str(args.floor_terminals),
                        "--minutes", str(args.floor_minutes)])]
            if args.floor_minutes > 0 else []
        ),
        ("labels", ["--labels", str(min(1000, max(20, n // 10)))]),
        ("scan", ["--orders", str(min(n, 1000)), "--scans", str(min(1000, max(50, n // 2))),
                  "--database", _scratch(url, "scan")]),
        ("import", ["--orders", str(min(n, 100_000)), "--database", _scratch(url, "import")]),
    ]  # fmt: skip
    reports = []
    for name, extra in runs:
        print(f"bench {name} …", file=sys.stderr, flush=True)
        done = subprocess.run(
            [*base, "bench", name, *extra, "--json"], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            message = (done.stderr.strip().splitlines() or ["failed"])[-1]
            raise CliError(f"bench {name}: {message}")
        reports.append(json.loads(done.stdout))
    summary = {"bench": "all", "database": reports[0]["database"], "orders": args.orders,
               "runs": reports}  # fmt: skip
    if args.out:
        Path(args.out).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(summary))
        return EXIT_OK
    print(f"bench all on {reports[0]['database']}, {args.orders:,} orders")
    print(f"{'bench':<9} {'metric':<18} {'median':>10} {'p99':>10} {'target':>8}  pass")
    for report in reports:
        for metric, m in report["metrics"].items():
            target = "-" if m["target"] is None else f"{m['target']:g}"
            print(f"{report['bench']:<9} {metric:<18} {m['median']:>10,} {m['p99']:>10,} "
                  f"{target:>8}  {'yes' if m['pass'] else 'NO'}  {m['unit']}")  # fmt: skip
    return EXIT_OK


def _scratch(url: str, name: str) -> str:
    """A scratch database beside ``url`` for a benchmark that empties its own: a SQLite file
    next to it, or the same PostgreSQL server's ``picker_bench_NAME``."""
    from sqlalchemy import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"sqlite:///{Path(parsed.database or 'bench.db').with_name(f'{name}.db')}"
    scratch = parsed.set(database=f"{parsed.database}_{name}")
    import psycopg

    admin = parsed.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (scratch.database,)
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{scratch.database}"')
    return scratch.render_as_string(hide_password=False)


def _demo_floor(args: argparse.Namespace, db: Any, progress: Any) -> int:
    """The benchmark's demo floor of ``--orders`` orders: kept with ``--reuse`` when the
    database holds one that big already, else built afresh. Returns the orders it holds."""
    held = _floor_orders(db) if args.reuse else 0
    if held < args.orders:
        from picker.demo.builder import build_demo

        build_demo(db, orders=args.orders, progress=progress, reset=True)
        held = args.orders
    return held


def _floor_orders(db: Any) -> int:
    """How many orders the database's floor holds (0: no floor, or not at the newest schema)."""
    from sqlalchemy import text

    from picker.store import migrate

    try:
        if migrate.current_revision(db.engine) != migrate.head_revision():
            return 0
        with db.engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM orders")).scalar() or 0)
    except Exception:  # no database yet, or not ours: build one
        return 0


def _normalise(url: str) -> str:
    from picker.config import normalise_database_url

    return normalise_database_url(url, Path.cwd(), "--database")


def _database_size(db: Any) -> int:
    from sqlalchemy import text

    if db.dialect == "sqlite":
        path = db.engine.url.database
        return sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))
    with db.engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar())


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
