"""``picker scans`` (the scan journal) and ``picker scan explain`` (how one scan is read)."""

from __future__ import annotations

import argparse
import sys

from picker.cli.arguments import count
from picker.cli.database import open_database, require_head
from picker.cli.errors import EXIT_FAILED, EXIT_OK
from picker.cli.output import to_json
from picker.config import Settings
from picker.domain.text import plural, printable


def add_scans(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sc = sub.add_parser("scans", help="the scan journal, newest last")
    sc.add_argument("--last", type=count, default=50, help="how many scans (default 50)")
    sc.add_argument("--terminal", metavar="ID", help="only this terminal's scans")
    sc.add_argument("--json", action="store_true", help="print one JSON object")
    sc.set_defaults(handler=_scans)


def add_scan(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("scan", help="scanner set-up")
    parser.set_defaults(handler=_scan)
    scan = parser.add_subparsers(dest="scan_command", metavar="ACTION", required=True)
    se = scan.add_parser(
        "explain",
        help="show how a scan is read: hidden characters, kind, fields, or why it is refused",
        description="Write the GS separator as <GS> (the form the journal shows); '-' reads the "
        "scan from standard input exactly as a scanner types it.",
    )
    se.add_argument("text")


def _scans(args: argparse.Namespace, settings: Settings) -> int:
    from picker.domain.scanning import visible
    from picker.services import scans

    db = open_database(settings)
    require_head(db)
    entries = scans.recent(db, last=args.last, terminal=args.terminal)
    db.dispose()
    if args.json:
        print(to_json({"scans": [
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
    print(plural(len(entries), "scan"))
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
