"""``picker replenish``: pick faces refilled from reserve — the moves planned, listed, cancelled.

``plan`` and ``cancel`` act with a lead's authority (``--as BADGE``); ``list`` is read-only,
open to anyone. The moves themselves are done by scan at the moves screen."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from picker.cli.acting import operator_actor
from picker.cli.database import open_database, require_head
from picker.cli.errors import EXIT_OK
from picker.cli.output import to_json
from picker.config import Settings
from picker.domain.text import plural, printable
from picker.store.models import MOVE_STATUSES


def add_replenish(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "replenish",
        help="replenishment: plan moves reserve → pick face, list them",
        description="Pick faces with levels (picker bin set CODE --min N --max M) are refilled "
        "from reserve bins by move tasks (MOV-…), done by scan at the moves screen. plan and "
        "cancel need --as a lead.",
    )
    parser.set_defaults(handler=_replenish)
    action = parser.add_subparsers(dest="replenish_command", metavar="ACTION", required=True)
    rp = action.add_parser(
        "plan",
        help="make move tasks for faces below min or short of today's demand",
        description="A move task for every pick face with levels whose on hand is below its "
        "min, or whose free stock is below today's demand on it (unpicked pick tasks of "
        "orders placed within [replenish] demand_hours): enough units to reach its max (or "
        "the demand, whichever is more), from free stock in the nearest reserve bin. Faces "
        "that already have an active move, faces being counted and faces with no free "
        "reserve stock are skipped and named.",
    )
    rp.add_argument("--format", choices=("table", "json"), default="table")
    rl = action.add_parser("list", help="moves in walking order (default: the active ones)")
    rl.add_argument("--status", choices=MOVE_STATUSES, help="only moves of this status")
    rl.add_argument("--format", choices=("table", "json"), default="table")
    rc = action.add_parser("cancel", help="cancel a move not yet done")
    rc.add_argument("number", metavar="MOV-…")


def _replenish(args: argparse.Namespace, settings: Settings) -> int:
    from picker.services import replenish

    db = open_database(settings)
    require_head(db)
    try:
        if args.replenish_command == "plan":
            actor = operator_actor(
                args, settings, db, "replenish plan", "replenish.plan_replenishment"
            )
            plan = replenish.plan_replenishment(db, actor, settings=settings)
            if args.format == "json":
                print(to_json(plan.as_json()))
                return EXIT_OK
            _print_moves(plan.moves)
            _print_skipped(plan.skipped)
            print(f"{plural(len(plan.moves), 'move')} planned, {len(plan.skipped)} skipped")
            return EXIT_OK
        if args.replenish_command == "cancel":
            actor = operator_actor(args, settings, db, "replenish cancel", "replenish.cancel_move")
            replenish.cancel_move(db, actor, args.number)
            print(f"{args.number.strip().upper()} cancelled")
            return EXIT_OK
        moves = replenish.list_moves(db, status=args.status)
        if args.format == "json":
            print(to_json({"moves": [m.as_json() for m in moves]}))
            return EXIT_OK
        _print_moves(moves)
        print(plural(len(moves), "move"))
        return EXIT_OK
    finally:
        db.dispose()


def _print_moves(moves: Sequence[Any]) -> None:
    if not moves:
        return
    print(f"{'move':<10} {'sku':<14} {'from':<12} {'to':<12} {'qty':>5} {'moved':>5}  "
          f"{'status':<8} {'reason':<9} at")  # fmt: skip
    for m in moves:
        print(f"{m.number:<10} {printable(m.sku):<14} {printable(m.from_bin):<12} "
              f"{printable(m.to_bin):<12} {m.quantity:>5} {m.moved:>5}  {m.status:<8} "
              f"{m.reason:<9} {m.held_by_terminal or ''}".rstrip())  # fmt: skip


#: Faces named per reason a plan skipped them (``--format json`` lists every one).
_SKIPPED_SHOWN = 5


def _print_skipped(skipped: Any) -> None:
    """Skipped faces grouped by why, a few named each: a floor of thousands of faces without
    reserve stock is one line, not thousands."""
    by_why: dict[str, list[str]] = {}
    for k in skipped:
        by_why.setdefault(printable(k.why), []).append(f"{printable(k.sku)} in {printable(k.bin)}")
    for why, faces in by_why.items():
        named = ", ".join(faces[:_SKIPPED_SHOWN])
        more = f" and {len(faces) - _SKIPPED_SHOWN} more" if len(faces) > _SKIPPED_SHOWN else ""
        print(f"skipped ({why}): {named}{more}")
