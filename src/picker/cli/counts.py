"""``picker count``: cycle counts from the back office — planned by a lead, listed and shown,
approved, rejected or cancelled. The counting itself is done by scan at the counting station.

``plan``, ``approve``, ``reject`` and ``cancel`` act with a lead's authority: they need
``--as BADGE``. ``list`` and ``show`` are read-only, open to anyone; ``show`` is the lead's
view (expected quantities included), never the counter's."""

from __future__ import annotations

import argparse
from typing import Any

from picker.cli.acting import operator_actor
from picker.cli.database import open_database, require_head
from picker.cli.errors import EXIT_OK
from picker.cli.output import to_json
from picker.config import Settings
from picker.domain.text import plural, printable

STATUSES = ("planned", "counting", "recount", "approval", "done", "rejected", "cancelled")


def _whole(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: 0 or more")
    return n


def add_count(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "count",
        help="cycle counts: plan them, list and show them, approve, reject or cancel one",
        description="A cycle count is made by scan at the counting station (station "
        "'counting', or F7 at the picker queue): blind, a recount by another operator when "
        "the count differs, the stock adjusted (a 'count' ledger row) or, above [counting] "
        "approve_over, waiting for a lead. A bin is not picked from while it is counted. "
        "plan, approve, reject and cancel need --as a lead.",
    )
    parser.set_defaults(handler=_count)
    cmd = parser.add_subparsers(dest="count_command", metavar="ACTION", required=True)
    cp = cmd.add_parser(
        "plan",
        help="count tasks for bins: a zone, the N least recently counted, a SKU's bins, or "
        "bins not counted for D days",
        description="Creates a count task for each active pick or reserve bin selected, "
        "least recently counted first (never counted, then oldest count, then walking "
        "order). A bin that already has an active count is skipped and named.",
    )
    which = cp.add_mutually_exclusive_group(required=True)
    which.add_argument("--zone", metavar="Z", help="every bin of zone Z")
    which.add_argument("--bins", metavar="N", type=_whole, help="the N least recently counted")
    which.add_argument("--sku", metavar="SKU", help="every bin holding SKU")
    which.add_argument("--since-days", metavar="D", type=_whole,
                       help="bins not counted for D days (or never)")  # fmt: skip
    cp.add_argument("--format", choices=("table", "json"), default="table")
    cl = cmd.add_parser("list", help="counts in walking order (by default the active ones)")
    cl.add_argument("--status", choices=STATUSES, help="only counts of this status")
    cl.add_argument("--format", choices=("table", "json"), default="table")
    cs = cmd.add_parser("show", help="one count: every round, expected and counted per product")
    cs.add_argument("number", metavar="CNT-…")
    cs.add_argument("--format", choices=("table", "json"), default="table")
    decisions = (
        ("approve", "adjust the stock to a count waiting for approval"),
        ("reject", "refuse a count waiting for approval (stock unchanged)"),
    )
    for name, words in decisions:
        c = cmd.add_parser(name, help=words)
        c.add_argument("number", metavar="CNT-…")
        c.add_argument("--reason", required=True, metavar="R", help="why (recorded)")
    cc = cmd.add_parser("cancel", help="withdraw a planned count or one being counted")
    cc.add_argument("number", metavar="CNT-…")


def _count(args: argparse.Namespace, settings: Settings) -> int:
    db = open_database(settings)
    require_head(db)
    try:
        command = args.count_command
        if command == "plan":
            return _plan(args, settings, db)
        if command == "list":
            return _list(args, db)
        if command == "show":
            return _show(args, db)
        return _decide(args, settings, db)
    finally:
        db.dispose()


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def summary_json(c: Any) -> dict[str, Any]:
    """A count in a list, for scripts (keys are only ever added)."""
    return {
        "number": c.number,
        "bin": c.bin,
        "zone": c.zone,
        "status": c.status,
        "round": c.round,
        "plan_reason": c.plan_reason,
        "planned_at": _iso(c.planned_at),
        "bin_counted_at": _iso(c.counted_at),
        "held_by_terminal": c.held_by_terminal,
        "held_by": c.held_by,
        "closed_at": _iso(c.closed_at),
    }


def _table(found: list[Any]) -> None:
    print(f"{'number':<10} {'bin':<12} {'status':<9} {'round':>5}  {'last counted':<16}  "
          "reason / held at")  # fmt: skip
    for c in found:
        last = f"{c.counted_at:%Y-%m-%d %H:%M}" if c.counted_at else "never"
        held = f" · at {c.held_by_terminal}" if c.held_by_terminal else ""
        print(f"{c.number:<10} {printable(c.bin):<12} {c.status:<9} {c.round:>5}  {last:<16}  "
              f"{printable(c.plan_reason or '-')}{held}")  # fmt: skip


def _plan(args: argparse.Namespace, settings: Settings, db: Any) -> int:
    from picker.services import counts

    actor = operator_actor(args, settings, db, "count plan", "counts.plan.plan_counts")
    planned = counts.plan_counts(
        db, actor, zone=args.zone, bins=args.bins, sku=args.sku, since_days=args.since_days
    )
    if args.format == "json":
        print(to_json({"planned": [summary_json(c) for c in planned],
                       "skipped": list(planned.skipped)}))  # fmt: skip
        return EXIT_OK
    if planned:
        _table(list(planned))
    print(counts.planned_words(planned))
    return EXIT_OK


def _list(args: argparse.Namespace, db: Any) -> int:
    from picker.services import counts

    found = counts.list_counts(db, status=args.status)
    if args.format == "json":
        print(to_json({"counts": [summary_json(c) for c in found]}))
        return EXIT_OK
    _table(found)
    print(plural(len(found), "count"))
    return EXIT_OK


def _show(args: argparse.Namespace, db: Any) -> int:
    from picker.services import counts

    v = counts.count_view(db, args.number, blind=False)
    if args.format == "json":
        print(to_json({
            "number": v.number, "bin": v.bin, "status": v.status, "round": v.round,
            "plan_reason": v.plan_reason, "planned_at": _iso(v.planned_at),
            "held_by_terminal": v.held_by_terminal, "held_by": v.held_by,
            "first_counter": v.first_counter, "decided_by": v.decided_by,
            "decision_reason": v.decision_reason, "closed_at": _iso(v.closed_at),
            "lines": [
                {"round": ln.round, "sku": ln.sku, "name": ln.name, "expected": ln.expected,
                 "counted": ln.counted, "difference": ln.counted - (ln.expected or 0),
                 "counted_by": ln.counted_by}
                for ln in v.lines
            ],
        }))  # fmt: skip
        return EXIT_OK
    print(f"{v.number}  {printable(v.bin)}  {v.status}  round {v.round}")
    if v.plan_reason:
        print(f"planned: {printable(v.plan_reason)}")
    if v.held_by_terminal:
        print(f"being counted at {v.held_by_terminal}"
              + (f" by {printable(v.held_by)}" if v.held_by else ""))  # fmt: skip
    if v.first_counter:
        print(f"first counted by {printable(v.first_counter)}")
    if v.decided_by or v.decision_reason:
        print(f"decided by {printable(v.decided_by or '-')}: {printable(v.decision_reason or '-')}")
    if not v.lines:
        print("nothing counted yet")
        return EXIT_OK
    print(f"  {'round':>5} {'sku':<16} {'expected':>8} {'counted':>7} {'diff':>5}  counted by")
    for ln in v.lines:
        diff = ln.counted - (ln.expected or 0)
        print(f"  {ln.round:>5} {printable(ln.sku):<16} {ln.expected or 0:>8} {ln.counted:>7} "
              f"{diff:>+5}  {printable(ln.counted_by or '-')}")  # fmt: skip
    return EXIT_OK


def _decide(args: argparse.Namespace, settings: Settings, db: Any) -> int:
    from picker.services import counts

    command = args.count_command
    actor = operator_actor(args, settings, db, f"count {command}", f"counts.decide.{command}")
    if command == "approve":
        result = counts.approve(db, actor, args.number, args.reason, settings=settings)
    elif command == "reject":
        result = counts.reject(db, actor, args.number, args.reason, settings=settings)
    else:
        result = counts.cancel(db, actor, args.number, settings=settings)
    print(result.words)
    for number, tote in result.totes_to_shelf:
        print(f"  {number}: tote {tote} to the problem shelf")
    return EXIT_OK
