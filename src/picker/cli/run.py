"""``picker run``, also ``picker`` without a command: the terminal itself."""

from __future__ import annotations

import argparse

from picker.cli.database import open_database, require_head
from picker.cli.errors import EXIT_OK
from picker.config import STATIONS, Settings, TerminalChoice


def add_run(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "run",
        help="start the terminal (the default)",
        description="Start the terminal. --station, --terminal and --printer choose this "
        "terminal's station, id and printer over $PICKER_STATION, $PICKER_TERMINAL, "
        "$PICKER_PRINTER and the config file, so one config serves every terminal: "
        "picker run --station packing --terminal PACK-1",
    )
    # dest run_*: other commands have their own --terminal/--printer (filters), never overrides.
    p.add_argument(
        "--station",
        dest="run_station",
        metavar="STATION",
        help=f"the station this terminal stands at: {', '.join(STATIONS)} "
        "(default: $PICKER_STATION, else [terminal] station)",
    )
    p.add_argument(
        "--terminal",
        dest="run_terminal",
        metavar="ID",
        help="this terminal's id, unique on the floor (default: $PICKER_TERMINAL, else "
        "[terminal] id)",
    )
    p.add_argument(
        "--printer",
        dest="run_printer",
        metavar="NAME",
        help="the printer's name its jobs are queued under (default: $PICKER_PRINTER, else "
        "[printer] name, else the terminal's id)",
    )
    p.set_defaults(handler=start_terminal)


def terminal_choice(args: argparse.Namespace) -> TerminalChoice:
    """What ``picker run`` was told about this terminal (nothing, for other commands)."""
    return TerminalChoice(
        station=getattr(args, "run_station", None),
        terminal=getattr(args, "run_terminal", None),
        printer=getattr(args, "run_printer", None),
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
