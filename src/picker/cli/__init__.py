"""The ``picker`` command: the terminal, the demo floor, the database, operators, benchmarks."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from picker import __version__
from picker.cli import (
    bench,
    check,
    cod,
    db,
    demo,
    documents,
    inbound,
    intake,
    notify,
    operator,
    order,
    returns,
    run,
    scans,
    setup,
    tracking,
)
from picker.cli.acting import add_as_option
from picker.cli.errors import EXIT_FAILED, EXIT_USAGE, CliError
from picker.config import ConfigError, load_settings
from picker.domain.text import printable_lines

#: The commands, in the order ``picker --help`` lists them: each adds its parser and handler.
_COMMANDS: tuple[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None], ...] = (
    run.add_run,
    db.add_db,
    setup.add_setup,
    demo.add_demo,
    operator.add_operator,
    intake.add_import,
    intake.add_bin,
    intake.add_product,
    intake.add_stock,
    order.add_order,
    notify.add_notify,
    tracking.add_tracking,
    cod.add_cod,
    returns.add_return,
    inbound.add_inbound,
    documents.add_print,
    documents.add_parcel,
    check.add_check,
    documents.add_manifest,
    documents.add_label,
    scans.add_scans,
    scans.add_scan,
    bench.add_bench,
)


class _Parser(argparse.ArgumentParser):
    """argparse, whose usage errors echo arguments: shown as safely as data (its subcommands'
    parsers are of the same class)."""

    def _print_message(self, message: str, file: Any = None) -> None:
        super()._print_message(printable_lines(message) if message else message, file)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="picker",
        description="Picker, the warehouse floor terminal. Without a command: start the terminal.",
    )
    p.add_argument("--version", action="version", version=f"picker {__version__}")
    p.add_argument(
        "--config",
        metavar="PATH",
        help="configuration file (default: $PICKER_CONFIG, else ./config.toml)",
    )
    add_as_option(p)
    p.set_defaults(handler=run.start_terminal)  # no command: the terminal
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for add in _COMMANDS:
        add(sub)
    return p


#: The exit status of a command whose output's reader went away (``picker order list | head
#: -1``), as Unix tools killed by SIGPIPE report it (128 + 13).
EXIT_PIPE_CLOSED = 141


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``picker`` command; its exit status."""
    try:
        try:
            code = _main(argv)
        finally:  # here, not at exit (also after --help): a reader gone is answered quietly
            sys.stdout.flush()
        return code
    except BrokenPipeError:
        if not _stdout_closed():
            raise  # another pipe or socket (a printer): not ours to hush
        return _pipe_closed()


def _stdout_closed() -> bool:
    """Whether standard output is a pipe nobody reads any more (poll says POLLERR)."""
    import select

    try:
        poll = select.poll()
        poll.register(sys.stdout.fileno(), select.POLLOUT)
        return any(event & select.POLLERR for _, event in poll.poll(0))
    except (OSError, ValueError, AttributeError):  # no file behind it (a test's capture)
        return False


def _pipe_closed() -> int:
    """Stop writing quietly, as ``head`` expects of a command it stopped reading: what is left
    in the buffer goes to /dev/null (else Python's own flush at exit complains)."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EXIT_PIPE_CLOSED


def _main(argv: Sequence[str] | None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    for n, arg in enumerate(given, start=1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:  # bytes the OS could not decode arrive as lone surrogates
            shown = printable_lines(
                arg.encode("utf-8", "surrogateescape").decode("ascii", "backslashreplace")
            )
            print(f"picker: argument {n} ({shown}) is not UTF-8 text", file=sys.stderr)
            return EXIT_USAGE
    args = _parser().parse_args(given)
    try:
        settings = load_settings(args.config, choice=run.terminal_choice(args))
        return args.handler(args, settings)
    except ConfigError as exc:
        print(f"picker: configuration: {printable_lines(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except CliError as exc:  # messages echo arguments: shown as safely as data
        print(f"picker: {printable_lines(str(exc))}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("picker: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence: words, not a traceback
        if isinstance(exc, BrokenPipeError) and _stdout_closed():
            return _pipe_closed()  # the reader of our output went away (| head): no error
        from picker.services.errors import describe_failure

        message = describe_failure(exc)
        if message is None:
            raise
        print(f"picker: {printable_lines(message)}", file=sys.stderr)
        return EXIT_FAILED
