"""``picker notify``: what customers and shops are told — the outbox, listed and shown (open to
anyone), messages sent again or cancelled (a lead's, with ``--as``), a mail previewed, and the
dispatcher that sends them (``notify run``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from picker.cli.acting import operator_actor
from picker.cli.arguments import count
from picker.cli.database import open_database, require_head
from picker.cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CliError
from picker.cli.output import to_json
from picker.config import Settings
from picker.domain.notify import EVENTS
from picker.domain.text import plural, printable, printable_lines


def add_notify(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from picker.services.notify.outbox import STATUSES

    parser = sub.add_parser(
        "notify",
        help="mail to customers and fulfilment to shops: the outbox and its dispatcher",
        description="Messages to customers (e-mail) and to shops (fulfilment), queued with the "
        "change that causes them and sent by a dispatcher. Events: "
        + "; ".join(f"{name}: {e.describe}" for name, e in EVENTS.items()) + ".",
    )  # fmt: skip
    parser.set_defaults(handler=_notify)
    notify = parser.add_subparsers(dest="notify_command", metavar="ACTION", required=True)
    nl = notify.add_parser("list", help="messages, newest first")
    nl.add_argument("--status", choices=STATUSES, help="only messages of this status")
    nl.add_argument("--order", metavar="NUMBER", help="only the messages of this order")
    nl.add_argument("--format", choices=("table", "json"), default="table")
    nl.add_argument("--limit", type=count, default=None, help="at most this many")
    ns = notify.add_parser(
        "show",
        help="one message as it is sent: the mail (headers and text, decoded), or the requests",
    )
    ns.add_argument("id", type=count)
    ns.add_argument(
        "--raw",
        action="store_true",
        help="the mail's bytes as sent (the .eml: encoded headers, MIME parts)",
    )
    nr = notify.add_parser("retry", help="send failed messages again (lead)")
    which = nr.add_mutually_exclusive_group(required=True)
    which.add_argument("id", type=count, nargs="?", help="the message")
    which.add_argument("--failed", action="store_true", help="every failed message")
    nc = notify.add_parser("cancel", help="cancel a message that is not sent (lead)")
    nc.add_argument("id", type=count)
    nc.add_argument("--reason", required=True)
    np = notify.add_parser("preview", help="render an order's mail for an event, send nothing")
    np.add_argument("order", metavar="ORDER")
    np.add_argument("event", choices=tuple(EVENTS))
    np.add_argument("--out", metavar="FILE.eml", required=True, help="where to write it")
    nu = notify.add_parser(
        "run",
        help="send what is due ([notify] smtp_url, [channels.NAME])",
        description="Claims due messages (a lease, so several dispatchers may run at once), "
        "sends them and reports. With --watch it goes on until interrupted (Ctrl-C).",
    )
    nu.add_argument("--watch", action="store_true", help="keep sending as messages come")


def message_line(m: Any) -> str:
    """One message in a table row: id, order, event, kind, status, tries, recipient, why."""
    to = printable(m.to or "-")
    to = to if len(to) <= 28 else to[:27] + "…"
    why = f"  {printable(m.error)}" if m.error else ""
    return (f"{m.id:>6} {m.order:<11} {m.event:<16} {m.kind:<5} {m.status:<9} "
            f"{m.attempts:>3} {to:<28}{why}")  # fmt: skip


_HEADER = f"{'id':>6} {'order':<11} {'event':<16} {'kind':<5} {'status':<9} {'try':>3} to"


def _notify(args: argparse.Namespace, settings: Settings) -> int:
    command = args.notify_command
    db = open_database(settings)
    require_head(db)
    try:
        return _run(args, settings, db, command)
    finally:
        db.dispose()


def _run(args: argparse.Namespace, settings: Settings, db: Any, command: str) -> int:
    from picker.services.notify import compose, outbox

    if command == "list":
        found = outbox.messages(db, status=args.status, order=args.order, limit=args.limit)
        if args.format == "json":
            print(to_json({"messages": [m.as_json() for m in found]}))
            return EXIT_OK
        print(_HEADER)
        for m in found:
            print(message_line(m))
        print(plural(len(found), "message"))
        return EXIT_OK
    if command == "show":
        return _show(args, settings, db)
    if command == "preview":
        from picker.services.actors import system_clock

        data = compose.preview_event(db, settings, args.order, args.event, at=system_clock())
        out = Path(args.out)
        try:
            out.write_bytes(data)
        except OSError as exc:
            raise CliError(f"{out}: cannot be written ({exc.strerror or exc})") from None
        print(f"{args.event} mail of {args.order} written to {out} ({len(data)} bytes)")
        return EXIT_OK
    if command == "retry":
        actor = operator_actor(args, settings, db, "notify retry", "notify.outbox.retry")
        ids = outbox.retry(db, actor, None if args.failed else [args.id])
        print(f"{plural(len(ids), 'message')} queued to be sent again" +
              (f": {', '.join(map(str, ids))}" if ids else ""))  # fmt: skip
        return EXIT_OK
    if command == "cancel":
        actor = operator_actor(args, settings, db, "notify cancel", "notify.outbox.cancel")
        row = outbox.cancel(db, actor, args.id, args.reason)
        print(f"message {row.id} cancelled: it will not be sent")
        return EXIT_OK
    if command == "run":
        return _dispatch(args, settings, db)
    raise CliError(f"unknown action {command}", EXIT_USAGE)


def _show(args: argparse.Namespace, settings: Settings, db: Any) -> int:
    from picker.services.notify import compose, outbox

    row = outbox.message(db, args.id)
    shown = compose.show(db, settings, args.id)
    if args.raw:
        if shown.raw is None:
            raise CliError(f"message {row.id} has no mail to show: {shown.problem}")
        sys.stdout.flush()
        sys.stdout.buffer.write(shown.raw)
        sys.stdout.buffer.flush()
        return EXIT_OK
    why = f"; {printable(row.error)}" if row.error else ""
    print(f"message {row.id}: {row.event} {row.kind} of {row.order}, {row.status}, "
          f"{plural(row.attempts, 'attempt')}{why}")  # fmt: skip
    if shown.problem and shown.problem != row.error:
        print(f"no mail can be made of it: {printable(shown.problem)}")
    print()
    for name, value in shown.headers:
        print(f"{name}: {printable(value)}")
    if shown.headers:
        print()
    body = printable_lines(shown.body.replace("\r\n", "\n"))
    sys.stdout.write(body if not body or body.endswith("\n") else body + "\n")
    return EXIT_OK


def _dispatch(args: argparse.Namespace, settings: Settings, db: Any) -> int:
    from picker.services.notify import dispatcher, outbox
    from picker.services.notify.mail import parse_smtp_url

    n = settings.notify
    if not n.mail_configured:
        way = "nowhere: mail is not configured"
    elif n.folder is not None:
        way = f"the folder {n.folder}"
    else:
        server = parse_smtp_url(n.smtp_url)
        way = f"{server.host}:{server.port}"
    totals = {"sent": 0, "retrying": 0, "failed": 0, "skipped": 0}

    def report(done: Any) -> None:
        for m in done.failed:
            print(f"message {m[0]} failed: {printable(m[1])}")
        for m in done.retrying:
            print(f"message {m[0]} waits for another try: {printable(m[1])}")
        for key in totals:
            totals[key] += len(getattr(done, key))
        if args.watch and (done.sent or done.skipped):
            print(f"{len(done.sent)} sent, {len(done.skipped)} skipped", flush=True)

    worker = dispatcher.Dispatcher(db, settings,
                                   claimed_by=dispatcher.claimant(f"{settings.terminal.id}:cli"),
                                   on_pass=report)  # fmt: skip
    if args.watch:
        unconfigured = outbox.mail_not_configured(db, settings)
        doing = f"{unconfigured}; sending shop messages only" if unconfigured else (
            f"sending mail to {way}")  # fmt: skip
        print(f"{doing}; Ctrl-C stops", flush=True)
        worker.run()  # until interrupted (main() reports Ctrl-C)
        return EXIT_OK
    while True:
        done = worker.run_once()
        if worker.last_error:
            raise CliError(worker.last_error)
        if done.handled == 0:  # nothing more is due (a message waiting for its retry is not)
            break
    print(f"{totals['sent']} sent, {totals['retrying']} waiting for another try, "
          f"{totals['failed']} failed, {totals['skipped']} skipped (mail to {way})")  # fmt: skip
    if not n.mail_configured:
        print(outbox.mail_not_configured(db, settings))
    return EXIT_FAILED if totals["failed"] else EXIT_OK
