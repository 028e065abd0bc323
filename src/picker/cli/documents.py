"""``picker print``, ``parcel``, ``manifest`` and ``label``: documents, parcels and their labels.

Open to anyone: pick lists, the print queue, sending due jobs (``print run``, the printer's
housekeeping), manifests written to a folder, label previews. With a role's authority
(``--as``): ``print retry`` / ``reprint`` (a packer), ``print cancel``, ``parcel void`` and a
manifest printed again (a lead)."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from picker.cli.acting import operator_actor
from picker.cli.arguments import count, day
from picker.cli.database import open_database, require_head
from picker.cli.errors import EXIT_FAILED, EXIT_OK, CliError
from picker.cli.output import to_json
from picker.config import Settings
from picker.domain.text import plural, printable, waiting

if TYPE_CHECKING:
    from picker.services.printjobs.labels import CourierInfo


def add_print(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("print", help="documents")
    parser.set_defaults(handler=_print)
    pr = parser.add_subparsers(dest="print_command", metavar="DOCUMENT", required=True)
    pl = pr.add_parser("picklist", help="A4 pick lists in walking order, for picking from paper")
    pl.add_argument("numbers", nargs="+", metavar="ORDER")
    pl.add_argument("--output", metavar="FILE", help="PDF file (default var/print/picklist-….pdf)")
    pq = pr.add_parser("queue", help="print jobs, newest first, with why one waits")
    pq.add_argument("--status", choices=("queued", "printing", "done", "failed", "cancelled"))
    pq.add_argument("--printer", metavar="NAME", help="only this printer's jobs")
    pq.add_argument("--last", type=count, default=50, help="how many jobs (default 50)")
    pq.add_argument("--json", action="store_true", help="print one JSON object")
    prt = pr.add_parser("retry", help="send a waiting or failed job now")
    prt.add_argument("job", type=count, metavar="JOB")
    prp = pr.add_parser("reprint", help="print a parcel's label again (journaled: who and why)")
    prp.add_argument("parcel", metavar="PARCEL", help="tracking number or parcel id")
    prp.add_argument("--reason", required=True, help="why (jammed, smudged, lost…)")
    prp.add_argument("--printer", metavar="NAME", help="default: this terminal's printer")
    pc = pr.add_parser("cancel", help="a waiting job is never printed (lead)")
    pc.add_argument("job", type=count, metavar="JOB")
    pc.add_argument("--reason", required=True)
    prn = pr.add_parser("run", help="send this printer's waiting jobs (once, or --watch)")
    prn.add_argument("--watch", action="store_true", help="keep sending until Ctrl+C")
    lb = pr.add_parser(
        "labels",
        help="label sheets for the floor: bins, totes, lanes, packaging, badges",
        description="Scannable Code 128 labels of what is in use on the floor, each with its "
        "code written under the bars and a caption: bins in walking order (their place), "
        "totes, each courier's handoff lane (its name), packaging (its name), badges (the "
        "operator's name; never a PIN). a4: 24 labels of 70 x 37 mm a page; 4x6: one label "
        "a page, for a thermal printer.",
    )
    lb.add_argument("kind", choices=("bins", "totes", "lanes", "packaging", "badges"))
    lb.add_argument(
        "--from", dest="first", metavar="CODE", help="the first code (bins: by place), inclusive"
    )
    lb.add_argument("--to", dest="last", metavar="CODE", help="the last code, inclusive")
    lb.add_argument("--format", choices=("a4", "4x6"), default="a4", help="default a4")
    lb.add_argument("--out", metavar="FILE", required=True, help="the PDF file to write")


def add_parcel(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("parcel", help="parcels")
    parser.set_defaults(handler=_parcel)
    parcel = parser.add_subparsers(dest="parcel_command", metavar="ACTION", required=True)
    pv = parcel.add_parser(
        "void",
        help="void a closed parcel: its label is void, its items back to the packing checklist",
        description="A packed order goes back to the packing table, for any packer to repack "
        "(scan its order number there). Journaled with the reason.",
    )
    pv.add_argument("parcel", metavar="PARCEL", help="tracking number or parcel id")
    pv.add_argument("--reason", required=True, help="why (box crushed, wrong item…)")


def add_manifest(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    mf = sub.add_parser(
        "manifest", help="print a day's courier manifests again (or write them to a folder)"
    )
    mf.add_argument("--date", required=True, type=day, metavar="YYYY-MM-DD")
    mf.add_argument("--courier", metavar="CODE", help="one courier's (default: all)")
    mf.add_argument("--out", metavar="DIR", help="write PU-….pdf files here instead of printing")
    mf.set_defaults(handler=_manifest)


def add_label(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("label", help="courier labels")
    parser.set_defaults(handler=_label)
    label = parser.add_subparsers(dest="label_command", metavar="ACTION", required=True)
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
    lc = label.add_parser(
        "check",
        help="check layout files: each one's problems, or ok (exit 1 on problems)",
        description="Read each layout file as a parcel close would, and draw the sample parcel "
        "with it, then once for each courier of the floor's database whose layout it is, with "
        "the courier's widest tracking number: every problem named with its key. No file: "
        "every layout in [labels] dir.",
    )
    lc.add_argument("files", nargs="*", metavar="FILE", help="layout files (.toml)")


# --- print -------------------------------------------------------------------------------------


def _print(args: argparse.Namespace, settings: Settings) -> int:
    db = open_database(settings)
    require_head(db)
    try:
        return _print_command(args, settings, db)
    finally:
        db.dispose()


#: Order numbers a pick list file is named after; more are counted ("-and-3-more").
_NAMED_IN_FILE = 3


def picklist_file_name(numbers: Sequence[str]) -> str:
    """The file name of the pick lists of ``numbers``, after all of them when they are few:
    ``picklist-PO-1.pdf``, ``picklist-PO-1-PO-2.pdf``, ``picklist-PO-1-and-3-more.pdf``. An
    order number is typed by a person: anything but letters, digits, '.', '_' and '-' becomes
    '_', so it cannot lead the file elsewhere."""
    safe = [re.sub(r"[^A-Za-z0-9._-]", "_", n).lstrip(".") or "_" for n in numbers]
    if len(safe) <= _NAMED_IN_FILE:
        return f"picklist-{'-'.join(safe)}.pdf"
    return f"picklist-{safe[0]}-and-{len(safe) - 1}-more.pdf"


#: The use-case of each ``picker print`` command that acts with a role's authority.
_PRINT_ACTIONS = {
    "retry": "printjobs.print_queue.retry",
    "reprint": "printjobs.print_queue.reprint",
    "cancel": "printjobs.print_queue.cancel",
}


def _print_command(args: argparse.Namespace, settings: Settings, db: Any) -> int:
    from picker.services.printjobs import print_queue

    command = args.print_command
    actor = None
    if command in _PRINT_ACTIONS:
        actor = operator_actor(args, settings, db, f"print {command}", _PRINT_ACTIONS[command])
    if command == "picklist":
        from picker.services.printjobs.pick_lists import write_pick_lists

        numbers = list(dict.fromkeys(args.numbers))  # an order named twice prints once
        default = settings.var_dir / "print" / picklist_file_name(numbers)
        path = Path(args.output) if args.output else default
        write_pick_lists(db, numbers, path)
        print(f"{plural(len(numbers), 'pick list')} written to {path}")
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
    elif command == "labels":
        from picker.services.printjobs.floor_labels import write_floor_labels

        done = write_floor_labels(db, args.kind, Path(args.out), sheet=args.format,
                                  first=args.first, last=args.last)  # fmt: skip
        print(f"{plural(done.count, _LABEL_KINDS[args.kind] + ' label')} on "
              f"{plural(done.pages, 'page')} ({args.format}) written to {done.path}")  # fmt: skip
    else:
        return _print_run(args, settings, db)
    return EXIT_OK


def _print_jobs(rows: Sequence[Any], as_json: bool) -> None:
    if as_json:
        print(to_json({"jobs": [
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
    print(plural(len(rows), "job"))


#: ``print labels KIND``: what one label of the kind is called.
_LABEL_KINDS = {"bins": "bin", "totes": "tote", "lanes": "lane", "packaging": "packaging",
                "badges": "badge"}  # fmt: skip


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
            print(f"{printable(done.down)}; {waiting(done.queued, 'job')}", file=sys.stderr)
        if not args.watch:
            if not done.printed and not done.down:
                print(f"nothing due for {name} ({waiting(done.queued, 'job')})")
            return EXIT_OK if not done.down else EXIT_FAILED
        time.sleep(settings.printer.poll_s)


# --- parcel, manifest, label -------------------------------------------------------------------


def _parcel(args: argparse.Namespace, settings: Settings) -> int:
    from picker.services.floor.parcels import void_parcel

    db = open_database(settings)
    require_head(db)
    try:
        actor = operator_actor(args, settings, db, "parcel void", "floor.parcels.void_parcel")
        done = void_parcel(db, actor, args.parcel, args.reason)
    finally:
        db.dispose()
    jobs = ""
    if done.cancelled_jobs:
        jobs += f"; {plural(done.cancelled_jobs, 'label job')} not yet printed cancelled"
    if done.printing_jobs:
        jobs += "; its label is printing right now: take it off the parcel"
    print(f"parcel {printable(done.tracking_no)} of {done.order_number} voided{jobs}. "
          f"{done.order_number} is {done.order_status}: its items are back on the packing "
          "checklist.")  # fmt: skip
    return EXIT_OK


def _manifest(args: argparse.Namespace, settings: Settings) -> int:
    from picker.services.errors import NotFound
    from picker.services.floor import handoff

    db = open_database(settings)
    require_head(db)
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
        # Printing them again queues print jobs: a lead's; writing them out changes nothing.
        actor = operator_actor(args, settings, db, "manifest", "floor.handoff.reprint_manifests")
        queued = handoff.reprint_manifests(db, actor, settings, args.date, args.courier)
    finally:
        db.dispose()
    for number, job in queued:
        print(f"{number} queued as job {job} on {settings.printer.name}")
    return EXIT_OK


def _label(args: argparse.Namespace, settings: Settings) -> int:
    from picker.services.printjobs.labels import preview

    if args.label_command == "check":
        return _label_check(args, settings)

    db = None
    if args.courier or args.parcel:
        db = open_database(settings)
        require_head(db)
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


def _label_check(args: argparse.Namespace, settings: Settings) -> int:
    from picker.services.printjobs.labels import check_layouts, fonts

    chain = fonts(settings)
    print(f"fonts: {', '.join(chain.families)}", file=sys.stderr)
    for missing in chain.missing:
        print(f"font not used: {printable(missing)}", file=sys.stderr)
    couriers = _couriers_widest(settings)
    checks = check_layouts(settings, [Path(f) for f in args.files], couriers)
    if not checks:
        print(f"no layouts in {settings.labels.dir}", file=sys.stderr)
        return EXIT_FAILED
    for check in checks:
        if not check.problems:
            print(f"{printable(str(check.path))}: ok")
        else:
            print(f"{printable(str(check.path))}:")
            for problem in check.problems:
                print(f"  {printable(problem)}")
        for warning in check.warnings:
            print(f"  warning: {printable(warning)}")
    return EXIT_FAILED if any(c.problems for c in checks) else EXIT_OK


def _couriers_widest(settings: Settings) -> list[CourierInfo]:
    """The floor's couriers, each with its widest tracking number, named on stderr; none when
    there is no floor database yet (layouts are then drawn with the sample parcel alone)."""
    from picker.services.printjobs.labels import couriers_widest

    try:
        db = open_database(settings)
    except CliError as exc:
        print(f"couriers' tracking numbers not drawn: {printable(str(exc))}", file=sys.stderr)
        return []
    try:
        require_head(db)
        couriers = couriers_widest(db)
    except CliError as exc:
        print(f"couriers' tracking numbers not drawn: {printable(str(exc))}", file=sys.stderr)
        return []
    finally:
        db.dispose()
    if couriers:
        drawn = ", ".join(f"{c.code} {c.tracking} ({c.layout})" for c in couriers)
        print(f"widest tracking numbers: {printable(drawn)}", file=sys.stderr)
    return couriers
