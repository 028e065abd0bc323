"""The ``picker`` command: the terminal, the demo floor, the database, operators, benchmarks."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from picker import __version__
from picker.config import ConfigError, Settings, load_settings

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

    bench = sub.add_parser("bench", help="benchmarks").add_subparsers(
        dest="bench_command", metavar="NAME", required=True
    )
    bd = bench.add_parser("demo", help="time building a demo floor of N orders")
    bd.add_argument("--orders", type=_count, default=100_000)
    bd.add_argument("--database", metavar="URL", help="scratch database (emptied!)")
    bd.add_argument("--json", action="store_true", help="print one JSON object")
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
        from picker.services.common import describe_failure

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
    from picker.services.demo import build_demo
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
        from picker.services.floor_sheet import write_floor_sheet

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
    from picker.domain.text import printable
    from picker.services import auth
    from picker.services.common import Actor

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


# --- bench -------------------------------------------------------------------------------------


def _bench(args: argparse.Namespace, settings: Settings) -> int:
    from picker.services.demo import build_demo
    from picker.store.engine import describe_url

    url = args.database or f"sqlite:///{settings.var_dir / 'bench' / 'demo.db'}"
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    db = _database(settings, _normalise(url))
    progress = ProgressBar() if not args.json else (lambda *a: None)
    result = build_demo(db, orders=args.orders, progress=progress, reset=True)
    size = _database_size(db)
    rate = result.orders / result.seconds if result.seconds else 0.0
    metrics = {
        "build_time": {
            "median": round(result.seconds, 2),
            "p99": round(result.seconds, 2),
            "unit": "s",
            "target": 600.0,
            "pass": result.seconds <= 600.0,
        },
        "orders_per_s": {
            "median": round(rate),
            "p99": round(rate),
            "unit": "per_s",
            "target": None,
            "pass": True,
        },
        "database_size": {
            "median": round(size / 2**20, 1),
            "p99": round(size / 2**20, 1),
            "unit": "MiB",
            "target": None,
            "pass": True,
        },
    }
    report = {"bench": "demo", "database": db.dialect, "orders": result.orders, "metrics": metrics}
    if args.json:
        print(json.dumps(report))
    else:
        print(f"bench demo on {describe_url(db.url)} ({db.dialect}), {result.orders:,} orders")
        print(f"{'metric':<16} {'median':>12} {'p99':>12} {'target':>10}  pass")
        for name, m in metrics.items():
            target = "-" if m["target"] is None else f"{m['target']:g}"
            print(
                f"{name:<16} {m['median']:>12,} {m['p99']:>12,} {target:>10}  "
                f"{'yes' if m['pass'] else 'NO'}  {m['unit']}"
            )
    db.dispose()
    return EXIT_OK


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
