"""``picker run``, also ``picker`` without a command: the terminal itself."""

from __future__ import annotations

import argparse

from picker.cli.database import open_database, require_head
from picker.cli.errors import EXIT_OK
from picker.config import Settings


def add_run(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser("run", help="start the terminal (the default)").set_defaults(
        handler=start_terminal
    )


def start_terminal(args: argparse.Namespace, settings: Settings) -> int:
    """The terminal on the configured database, once it is at the newest schema."""
    db = open_database(settings)
    require_head(db)
    from picker.tui.app import make_app

    app = make_app(settings, db)
    app.run()
    db.dispose()
    return EXIT_OK
