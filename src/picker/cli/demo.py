"""``picker demo``: build a demo floor, print its operators' badges, write the floor sheet."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from picker.cli.arguments import count
from picker.cli.database import open_database
from picker.cli.errors import EXIT_OK
from picker.cli.progress import ProgressBar
from picker.config import Settings
from picker.domain.text import plural


def add_demo(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser("demo", help="build a demo floor (products, bins, stock, orders…)")
    demo.add_argument("--orders", type=count, default=60, help="number of orders (default 60)")
    demo.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    demo.add_argument(
        "--reset", action="store_true", help="empty the database first if it holds a floor"
    )
    demo.add_argument("--no-sheet", action="store_true", help="do not write the floor sheet PDF")
    demo.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from picker.demo.builder import build_demo
    from picker.store.engine import describe_url

    db = open_database(settings, create=True)
    print(
        f"Building a demo floor of {plural(args.orders, 'order')} (seed {args.seed}) in "
        f"{describe_url(db.url)}"
    )
    result = build_demo(
        db, orders=args.orders, seed=args.seed, reset=args.reset, progress=ProgressBar()
    )
    print(
        f"Done in {result.seconds:.1f} s: {result.products} products, {result.bins} bins, "
        f"{result.couriers} couriers, {result.packaging} packaging types, {result.totes} totes, "
        f"{plural(result.orders, 'order')}."
    )
    print("Orders by status: " + ", ".join(f"{k} {v:,}" for k, v in result.by_status.items()))
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    badges = _badge_table(result.operators)
    from picker.demo.private_files import write_private

    write_private(settings.var_dir / "demo-badges.txt", (badges + "\n").encode())
    print("\nDemo operators (also in var/demo-badges.txt):\n" + badges)
    if not args.no_sheet:
        from picker.demo.floor_sheet import write_floor_sheet

        path = write_floor_sheet(db, settings.var_dir / "floor-sheet.pdf", result.operators)
        print(f"\nFloor sheet with badges, bins, products, totes and commands: {path}")
    db.dispose()
    return EXIT_OK


def _badge_table(operators: Sequence[Any]) -> str:
    lines = [f"  {'badge':<10} {'PIN':<6} {'role':<8} name"]
    lines += [f"  {o.badge:<10} {o.pin:<6} {o.roles:<8} {o.name}" for o in operators]
    return "\n".join(lines)
