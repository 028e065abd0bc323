"""``picker setup``: set a floor up from a file (``apply``), write the one there is (``export``)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from picker.cli.acting import feed_actor
from picker.cli.database import open_database, require_head
from picker.cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CliError
from picker.config import Settings
from picker.domain.text import plural, printable, printable_lines


def add_setup(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "setup", help="set the floor up from a file: couriers, lanes, packaging, totes, zones"
    )
    parser.set_defaults(handler=_setup)
    setup = parser.add_subparsers(dest="setup_command", metavar="ACTION", required=True)
    apply = setup.add_parser(
        "apply",
        help="make the database match FILE (see warehouse.example.toml); all or nothing",
    )
    apply.add_argument("file", help="the floor's set-up file (TOML)")
    apply.add_argument(
        "--dry-run", action="store_true", help="say what would change, change nothing"
    )
    export = setup.add_parser("export", help="write the floor as it is, as a set-up file")
    export.add_argument("--out", metavar="FILE", help="write to FILE (default: print it)")


def _setup(args: argparse.Namespace, settings: Settings) -> int:
    if args.setup_command == "apply":
        return _apply(args, settings)
    return _export(args, settings)


def _apply(args: argparse.Namespace, settings: Settings) -> int:
    import tomllib

    from picker.domain.floor_setup import Rules, SetupError, read_spec
    from picker.printing.layouts import layout_names
    from picker.services.setup import SetupRefused, apply_setup

    path = Path(args.file)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CliError(f"{path}: {exc.strerror or exc}", EXIT_USAGE) from None
    except UnicodeDecodeError:
        raise CliError(f"{path}: not UTF-8 text; nothing changed", EXIT_USAGE) from None
    except tomllib.TOMLDecodeError as exc:
        raise CliError(f"{path}: not a TOML file ({exc}); nothing changed", EXIT_USAGE) from None
    patterns = settings.scanner.patterns
    rules = Rules(
        layouts=frozenset(layout_names(settings.labels.dir)),
        packaging_pattern=patterns.get("packaging", ""),
        tote_pattern=patterns.get("tote", ""),
        layouts_dir=str(settings.labels.dir),
    )
    try:
        spec = read_spec(data, rules)
    except SetupError as exc:
        _problems(f"{path} cannot be applied; nothing changed:", exc.problems)
        return EXIT_USAGE
    db = open_database(settings)
    require_head(db)
    try:
        report = apply_setup(
            db,
            feed_actor(args, settings, db),
            spec,
            shipping=settings.intake.shipping,
            dry_run=args.dry_run,
        )
    except SetupRefused as exc:
        _problems(f"{path} would break live work; nothing changed:", exc.problems)
        return EXIT_FAILED
    finally:
        db.dispose()
    for change in report.changes:
        print(f"  {printable(str(change))}")
    n = len(report.changes)
    if not n:
        print(f"{path}: the floor already matches; nothing to change")
    elif report.dry_run:
        print(f"dry run: {plural(n, 'change')} would be made; nothing changed")
    else:
        print(f"{plural(n, 'change')} applied")
    for warning in report.warnings:
        print(f"warning: {printable(warning)}", file=sys.stderr)
    return EXIT_OK


def _problems(title: str, problems: list[str]) -> None:
    print(f"picker: {printable_lines(title)}", file=sys.stderr)
    for problem in problems:
        print(f"  {printable(problem)}", file=sys.stderr)


def _export(args: argparse.Namespace, settings: Settings) -> int:
    from picker.domain.floor_setup import to_toml
    from picker.services.files import write_whole
    from picker.services.setup import export_setup
    from picker.store.engine import describe_url

    db = open_database(settings)
    require_head(db)
    try:
        spec = export_setup(db)
    finally:
        db.dispose()
    header = (
        f"Picker floor set-up, exported {datetime.now(UTC):%Y-%m-%d %H:%M} UTC from "
        f"{describe_url(settings.database.url)}.\n"
        "Apply it to a database with: picker setup apply FILE (see warehouse.example.toml)."
    )
    text = to_toml(spec, header)
    if args.out is None:
        sys.stdout.write(text)
        return EXIT_OK
    out = Path(args.out)
    try:
        write_whole(out, text.encode("utf-8"))
    except OSError as exc:
        raise CliError(f"{out}: {exc.strerror or exc}") from None
    print(f"wrote {out}")
    return EXIT_OK
