"""``picker bench``: the benchmarks' options, their scratch databases, and their report."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from picker.cli.arguments import count
from picker.cli.database import open_database
from picker.cli.errors import EXIT_OK, EXIT_USAGE, CliError
from picker.cli.progress import ProgressBar
from picker.config import Settings


def add_bench(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("bench", help="benchmarks")
    parser.set_defaults(handler=_bench)
    bench = parser.add_subparsers(dest="bench_command", metavar="NAME", required=True)
    bd = bench.add_parser("demo", help="time building a demo floor of N orders")
    bd.add_argument("--orders", type=count, default=100_000)
    bd.add_argument("--database", metavar="URL", help="scratch database (emptied!)")
    bd.add_argument("--json", action="store_true", help="print one JSON object")
    bi = bench.add_parser("import", help="time importing N Shopify orders into a fresh floor")
    bi.add_argument("--orders", type=count, default=100_000)
    bi.add_argument("--database", metavar="URL", help="scratch database (emptied!)")
    bi.add_argument("--json", action="store_true", help="print one JSON object")
    bp = bench.add_parser("pick", help="picking through the real app on a big floor (headless)")
    bp.add_argument("--picks", type=count, default=200)
    _floor_options(bp)
    bk = bench.add_parser("pack", help="packing through the real app on a big floor (headless)")
    bk.add_argument("--packs", type=count, default=100, help="orders to pack")
    _floor_options(bk)
    bh = bench.add_parser(
        "handoff", help="handing parcels to a courier through the real app on a big floor"
    )
    bh.add_argument("--lanes", type=count, default=5000, help="parcels waiting in the lanes")
    bh.add_argument("--pickup", type=count, default=500, help="parcels on the pickup timed")
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
    bf.add_argument("--terminals", type=count, default=16)
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
    ba.add_argument("--orders", type=count, default=1_000_000, help="demo floor size")
    ba.add_argument(
        "--floor-terminals", type=count, default=16, help="terminals of the floor run (16)"
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
    bl.add_argument("--labels", type=count, default=1000, help="labels per renderer")
    bl.add_argument("--layout", default="4x6", metavar="NAME", help="the layout (default 4x6)")
    bl.add_argument("--json", action="store_true", help="print one JSON object")
    bn = bench.add_parser(
        "notify",
        help="shipped events queued in the outbox and mailed to a local SMTP server",
        description="Enqueues --messages shipped events (the demo floor's shipped orders told "
        "again) and sends them with the real dispatcher over SMTP to a local aiosmtpd server "
        "(a process of its own). Needs aiosmtpd (pip install -e '.[dev]').",
    )
    bn.add_argument("--messages", type=count, default=2000, help="mails to send (2000)")
    _floor_options(bn)
    bn.set_defaults(orders=20_000)
    bk = bench.add_parser(
        "tracking",
        help="courier tracking events imported per second (picker tracking import)",
        description="A status file of --events lines (in_transit, out_for_delivery, "
        "delivered for the demo floor's parcels on their way) imported by the real import.",
    )
    bk.add_argument("--events", type=count, default=30_000, help="lines of the file (30000)")
    _floor_options(bk)
    bk.set_defaults(orders=20_000)
    bfind = bench.add_parser(
        "find",
        help="finding an order by each kind of key (picker order find) on a big floor",
        description="Looks up --queries orders drawn at random by our number, the shop's "
        "number, a tracking number, the e-mail, the phone and the name (typed as a person "
        "would), and text that matches nothing: p50 and p99 per kind (target p99 50 ms).",
    )
    bfind.add_argument("--queries", type=count, default=200, help="searches of each kind (200)")
    _floor_options(bfind)
    bw = bench.add_parser(
        "timeline",
        help="an order's whole story (picker order timeline) read back on a big floor",
        description="Gives every order of the demo floor a scan and a printed packing slip, "
        "one shipped order a story of --events entries through the real services, and times "
        "that order's timeline over --calls calls (target p99 100 ms).",
    )
    bw.add_argument("--events", type=count, default=200, help="entries of the order (200)")
    bw.add_argument("--calls", type=count, default=200, help="timelines read (200)")
    _floor_options(bw)
    br = bench.add_parser(
        "returns",
        help="parcels received back at the returns station on a big floor (headless app)",
        description="Draws --returns shipped orders of the demo floor and receives each back "
        "at the returns station of the headless app, by scans as a clerk makes them: the "
        "parcel, then per unit its barcode, its condition and (resellable) its bin; some "
        "partly. Then closes it. Times each scan, to its feedback (median, p99, p99.9, max; "
        "target p99 50 ms) and the close (target p99 150 ms).",
    )
    br.add_argument("--returns", type=count, default=500, help="parcels received (500)")
    br.add_argument(
        "--services", action="store_true",
        help="time the desk's service calls, not scans through the headless app",
    )  # fmt: skip
    _floor_options(br)
    brc = bench.add_parser(
        "receive",
        help="inbound import, receiving and put-away, and cycle counts on a big floor (headless)",
        description="Imports --lines generated inbound notice lines (lines/s, target 10,000 on "
        "SQLite); then a receiver of the run's own receives --receipts of them at the "
        "receiving station of the headless app by scans (units, cases, GS1-128 lots, keyed "
        "counts), closes each and puts its goods away in the suggested bins; then a picker "
        "counts --counts bins a lead planned (some one unit off, recounted by the lead). Each "
        "scan timed to its feedback (median, p99, p99.9, max; target p99 50 ms).",
    )
    brc.add_argument("--lines", type=count, default=100_000, help="notice lines imported")
    brc.add_argument("--receipts", type=count, default=20, help="receipts received by scan (20)")
    brc.add_argument("--counts", type=count, default=200, help="bins counted by scan (200)")
    brc.add_argument(
        "--services", action="store_true",
        help="time the stations' service calls, not scans through the headless app",
    )  # fmt: skip
    _floor_options(brc)
    bs = bench.add_parser("scan", help="scan-to-feedback latency through the real app (headless)")
    bs.add_argument("--scans", type=count, default=1000)
    bs.add_argument("--orders", type=count, default=200, help="demo floor size (default 200)")
    bs.add_argument("--database", metavar="URL", help="scratch database (emptied!)")
    bs.add_argument("--json", action="store_true", help="print one JSON object")


def _floor_options(parser: argparse.ArgumentParser) -> None:
    """What every benchmark on a demo floor takes: its size, reuse, the database, JSON."""
    parser.add_argument("--orders", type=count, default=1_000_000, help="demo floor size")
    parser.add_argument(
        "--reuse", action="store_true",
        help="keep the database's floor if it already holds --orders orders (no rebuild)",
    )  # fmt: skip
    parser.add_argument("--database", metavar="URL", help="scratch database (emptied!)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


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
    db = open_database(settings, _normalise(url), create=True)
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
    from picker.bench.runs import FLOOR_RUNS, labels_metrics, metric
    from picker.store.engine import describe_url

    progress = ProgressBar() if not args.json else (lambda *a: None)
    if args.bench_command == "labels":
        return _report_bench(args, "-", "-", 0, labels_metrics(args, settings, progress))
    if args.bench_command == "all":
        return _bench_all(args, settings)
    db = _bench_database(args, settings, args.bench_command)
    if args.bench_command == "demo":
        from picker.demo.builder import build_demo

        result = build_demo(db, orders=args.orders, progress=progress, reset=True)
        orders, seconds = result.orders, result.seconds
        metrics = {
            "build_time": metric(round(seconds, 2), "s", 600.0),
            "orders_per_s": metric(round(orders / seconds if seconds else 0), "per_s"),
            "database_size": metric(round(_database_size(db) / 2**20, 1), "MiB"),
        }
    elif args.bench_command == "tracking":
        from picker.bench.tracking import tracking_metrics

        try:
            orders, metrics = tracking_metrics(args, settings, db, progress)
        except RuntimeError as exc:
            raise CliError(f"bench tracking stopped: {exc}") from None
    elif args.bench_command in FLOOR_RUNS:
        run = FLOOR_RUNS[args.bench_command]
        try:
            orders, metrics = run(args, settings, db, progress)
        except RuntimeError as exc:  # the app did not do what the benchmark expected
            raise CliError(f"bench {args.bench_command} stopped: {exc}") from None
    else:
        from picker.bench.drivers import bench_import

        run = bench_import(db, settings, args.orders, settings.var_dir / "bench", progress)
        orders = run.orders
        metrics = {
            "orders_per_s": metric(round(run.per_second), "per_s", 2000.0, higher=True),
            "import_time": metric(round(run.seconds, 2), "s"),
            "imported": metric(run.report.counts["imported"], "orders", orders, higher=True),
            "failed": metric(run.report.failed, "orders", 0),
            "file_size": metric(round(run.file_bytes / 2**20, 1), "MiB"),
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
        # A benchmark whose rows also tell the far tail (p99.9, max) shows those columns.
        tail = any("p99_9" in m for m in metrics.values())
        extra = f" {'p99.9':>10} {'max':>10}" if tail else ""
        print(f"{'metric':<16} {'median':>12} {'p99':>12}{extra} {'target':>10}  pass")
        for name, m in metrics.items():
            target = "-" if m["target"] is None else f"{m['target']:g}"
            far = f" {m['p99_9']:>10,} {m['max']:>10,}" if "p99_9" in m else f" {'-':>10}" * 2
            far = far if tail else ""
            print(
                f"{name:<16} {m['median']:>12,} {m['p99']:>12,}{far} {target:>10}  "
                f"{'yes' if m['pass'] else 'NO'}  {m['unit']}"
            )
    return EXIT_OK


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
        for row, m in report["metrics"].items():
            target = "-" if m["target"] is None else f"{m['target']:g}"
            print(f"{report['bench']:<9} {row:<18} {m['median']:>10,} {m['p99']:>10,} "
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
