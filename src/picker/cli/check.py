"""``picker check``: the floor's invariants, one line each."""

from __future__ import annotations

import argparse

from picker.cli.database import open_database, require_head
from picker.cli.errors import EXIT_FAILED, EXIT_OK
from picker.cli.progress import ProgressBar
from picker.config import Settings
from picker.domain.text import plural, printable


def add_check(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser(
        "check",
        help="check the floor's invariants (stock conserved, nothing held twice, legal walks…)",
    ).set_defaults(handler=_check)


def _check(args: argparse.Namespace, settings: Settings) -> int:
    from picker.services.check import check

    db = open_database(settings)
    require_head(db)
    try:
        bar = ProgressBar()
        findings = check(db, progress=lambda done, total: bar("invariants", done, total))
    finally:
        db.dispose()
    for f in findings:
        print(f"{'ok ' if not f.broken else 'BROKEN'} {f.name}"
              + (f": {plural(f.broken, 'row')}" if f.broken else ""))  # fmt: skip
        for example in f.examples:
            print(f"       {printable(example)}")
    broken = sum(1 for f in findings if f.broken)
    print(f"{len(findings) - broken} of {len(findings)} invariants hold")
    return EXIT_FAILED if broken else EXIT_OK
