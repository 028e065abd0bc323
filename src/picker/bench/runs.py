"""The measuring behind ``picker bench NAME``: each run on its floor, as rows of its report."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

from picker.config import Settings


def metric(value: float, unit: str, target: float | None = None, higher: bool = False) -> dict:
    """One row of a benchmark table: a single run, so median and p99 are the same figure."""
    passed = target is None or (value >= target if higher else value <= target)
    return {"median": value, "p99": value, "unit": unit, "target": target, "pass": passed}


def latency(median: float, p99: float, target: float) -> dict:
    """A row of many measurements: passes when the p99 is within the target."""
    return {"median": median, "p99": p99, "unit": "ms", "target": target, "pass": p99 <= target}


def labels_metrics(args: argparse.Namespace, settings: Settings, progress: Any) -> dict:
    """Labels per second of each renderer (no database), and how WeasyPrint compares."""
    from picker.bench.drivers import bench_labels

    run = bench_labels(settings, args.labels, progress, layout_name=args.layout)
    metrics = {
        "pdf_per_s": metric(round(run.pdf_per_s), "per_s", 200.0, higher=True),
        "pdf_batch_per_s": metric(round(run.pdf_batch_per_s), "per_s"),
        "zpl_per_s": metric(round(run.zpl_per_s), "per_s"),
        "png_preview": metric(round(run.png_ms, 1), "ms"),
    }
    if run.weasyprint_per_s is None:
        print("WeasyPrint is not installed (pip install -e '.[bench]'): no comparison",
              file=sys.stderr)  # fmt: skip
    else:
        metrics["weasyprint_per_s"] = metric(round(run.weasyprint_per_s, 1), "per_s")
        ratio = run.pdf_per_s / run.weasyprint_per_s
        metrics["vs_weasyprint"] = metric(round(ratio, 1), "x", 10.0, higher=True)
    return metrics


def _bench_scan(
    args: argparse.Namespace, settings: Settings, db: Any, progress: Any
) -> tuple[int, dict]:
    """A demo floor, a lead of the benchmark's own, and ``--scans`` scans of every kind."""
    import asyncio
    import dataclasses

    from sqlalchemy import select

    from picker.bench.terminal import measure_scan_latency
    from picker.demo.builder import build_demo
    from picker.domain.ean import with_check_digit
    from picker.services import auth
    from picker.services.actors import Actor
    from picker.store.models import Bin, ProductBarcode
    from picker.tui.app import make_app

    orders = args.orders
    build_demo(db, orders=orders, progress=progress, reset=True)
    auth.add_operator(db, Actor("BENCH"), "EMP-9901", "Bench Lead", "lead", "2468")
    with db.read() as s:
        barcodes = list(s.scalars(select(ProductBarcode.barcode).limit(200)))
        bins = list(s.scalars(select(Bin.code).limit(100)))
    gtin = with_check_digit("0" + barcodes[0][:-1].zfill(12)) if barcodes else "09501101530003"
    kinds = [
        *barcodes,
        *bins,
        *(f"T-{i:04d}" for i in range(1, 51)),
        *(f"]C101{gtin}17271231" + f"10LOT{i}\x1d21SN{i:05d}" for i in range(50)),
        "4006381333932",  # a misread: wrong check digit
    ]
    codes = [kinds[i % len(kinds)] for i in range(args.scans)]
    # The terminal as a floor runs it; the benchmark's own terminal id in the journal.
    terminal = dataclasses.replace(settings.terminal, id="BENCH")
    app = make_app(dataclasses.replace(settings, terminal=terminal), db)
    result = asyncio.run(
        measure_scan_latency(
            app, codes, badge="EMP-9901", pin="2468",
            progress=lambda done, total: progress("scan", done, total),
        )
    )  # fmt: skip
    return orders, {
        "scan_to_feedback": latency(result.p50_ms, result.p99_ms, 100.0),
        "slowest_scan": metric(result.max_ms, "ms"),
        "scans": metric(result.scans, "scans", args.scans, higher=True),
    }


def _bench_pick(
    args: argparse.Namespace, settings: Settings, db: Any, progress: Any
) -> tuple[int, dict]:
    """A demo floor, a picker of the benchmark's own given orders as a lead would (refilled as
    they run out), and picking by scans through the headless app."""
    import asyncio
    import dataclasses

    from sqlalchemy import select

    from picker.bench.drivers import bench_operator, import_fresh, settle, shopify_export, stock_up
    from picker.bench.terminal import measure_picking
    from picker.services.actors import Actor
    from picker.services.errors import ServiceError
    from picker.services.orders import lead_actions
    from picker.store.models import Order, PickTask
    from picker.tui.app import make_app

    lead = Actor("BENCH")
    held = _demo_floor(args, db, progress)
    # A built floor's history is handed over; today's orders arrive from the shop, enough of
    # them (stocked) for every pick the benchmark makes.
    skus = stock_up(db, 10_000)
    import_fresh(db, settings, shopify_export(skus, args.picks, seed=2, first=held),
                 lambda done, total: progress("new orders", done, total))  # fmt: skip
    settle(db)
    # A picker of the run's own: a reused floor may hold an earlier run's picker, mid-pick.
    badge = bench_operator(db, 99, "Bench Picker", "picker").badge

    def refill() -> int:
        """Give the bench picker as many assigned orders as a picker may hold."""
        with db.read() as s:
            reserved = select(PickTask.id).where(PickTask.order_id == Order.id).exists()
            numbers = list(
                s.scalars(
                    select(Order.number)
                    .where(
                        (Order.status == "assigned")
                        | ((Order.status == "unhandled") & reserved & Order.assignee_id.is_(None))
                    )
                    .order_by(Order.id.desc())
                    .limit(settings.intake.max_orders_per_picker)
                )
            )
        given = 0
        for number in numbers:
            try:
                lead_actions.assign_order(db, lead, number, badge)
                given += 1
            except ServiceError:
                continue
        return given

    terminal = dataclasses.replace(settings.terminal, id="BENCH")
    app = make_app(dataclasses.replace(settings, terminal=terminal), db)
    result = asyncio.run(
        measure_picking(
            app, badge=badge, pin="1357", picks=args.picks, refill=refill,
            progress=lambda done, total: progress("pick", done, total),
        )
    )  # fmt: skip
    return args.orders, {
        "scan_to_feedback": latency(result.scans.p50_ms, result.scans.p99_ms, 50.0),
        "queue_open": latency(result.queue_p50_ms, result.queue_p99_ms, 200.0),
        "picks": metric(result.picks, "units", args.picks, higher=True),
        "scans": metric(result.scans.scans, "scans"),
    }


def _bench_pack(
    args: argparse.Namespace, settings: Settings, db: Any, progress: Any
) -> tuple[int, dict]:
    """A demo floor, a packer of the benchmark's own, and the floor's picked orders packed by
    scans through the headless app (closed by CMD-CLOSE, so a close is timed on its own)."""
    import asyncio
    import dataclasses

    from sqlalchemy import select

    from picker.bench.drivers import bench_operator, pick_fresh_orders, settle
    from picker.bench.terminal import measure_packing
    from picker.store.models import Order, Tote
    from picker.tui.app import make_app

    _demo_floor(args, db, progress)
    with db.read() as s:
        totes = list(
            s.scalars(
                select(Tote.code)
                .join(Order, Order.id == Tote.order_id)
                .where(Order.status == "picked")
                .order_by(Order.id.desc())
                .limit(args.packs)
            )
        )
    if len(totes) < args.packs:
        # Today's orders from the shop, picked: the floor's own picked orders are a few.
        totes += pick_fresh_orders(
            db, settings, args.packs - len(totes), first=_floor_orders(db) + 1, progress=progress
        )
    settle(db)
    badge = bench_operator(db, 99, "Bench Packer", "packer").badge
    bench_settings = dataclasses.replace(
        settings,
        terminal=dataclasses.replace(settings.terminal, id="BENCH", station="packing"),
        packing=dataclasses.replace(settings.packing, auto_close=False, packing_slip=False),
    )
    app = make_app(bench_settings, db)
    result = asyncio.run(
        measure_packing(
            app, badge=badge, pin="1357", totes=totes,
            progress=lambda done, total: progress("pack", done, total),
        )
    )  # fmt: skip
    return args.orders, {
        "verify_scan": latency(result.verify.p50_ms, result.verify.p99_ms, 50.0),
        "close_scan": latency(result.close.p50_ms, result.close.p99_ms, 150.0),
        "other_scans": latency(result.other.p50_ms, result.other.p99_ms, 50.0),
        "orders_packed": metric(result.orders, "orders", len(totes), higher=True),
        "verifies": metric(result.verify.scans, "scans"),
    }


def _bench_handoff(
    args: argparse.Namespace, settings: Settings, db: Any, progress: Any
) -> tuple[int, dict]:
    """A demo floor whose lanes are filled to ``--lanes`` parcels by orders picked and packed
    through the services, then a lead of the benchmark's own scanning ``--pickup`` parcels of
    the fullest lane into a pickup through the headless app, and closing it."""
    import asyncio
    import dataclasses

    from sqlalchemy import select

    from picker.bench.drivers import bench_operator, pack_fresh_orders, settle
    from picker.bench.terminal import measure_handoff
    from picker.services.actors import system_clock
    from picker.services.floor import handoff
    from picker.store.models import Order, Parcel
    from picker.tui.app import make_app

    _demo_floor(args, db, progress)
    waiting = sum(ln.parcels for ln in handoff.lanes(db, settings, now=system_clock()))
    if waiting < args.lanes:
        pack_fresh_orders(
            db, settings, args.lanes - waiting, first=_floor_orders(db) + 1, progress=progress
        )
    settle(db)
    fullest = max(handoff.lanes(db, settings, now=system_clock()), key=lambda ln: ln.parcels)
    with db.read() as s:
        parcels = list(
            s.scalars(
                select(Parcel.tracking_no)
                .join(Order, Order.id == Parcel.order_id)
                .where(
                    Parcel.courier_id == fullest.courier_id,
                    Parcel.status == "closed",
                    Order.status == "packed",
                )
                .order_by(Parcel.id)
                .limit(args.pickup)
            )
        )
    badge = bench_operator(db, 96, "Bench Lead", "lead").badge
    bench_settings = dataclasses.replace(
        settings, terminal=dataclasses.replace(settings.terminal, id="BENCH", station="handoff")
    )
    app = make_app(bench_settings, db)
    result = asyncio.run(
        measure_handoff(
            app, badge=badge, pin="1357", lane=fullest.lane, parcels=parcels,
            progress=lambda done, total: progress("handoff", done, total),
        )
    )  # fmt: skip
    return args.orders, {
        "parcel_scan": latency(result.scans.p50_ms, result.scans.p99_ms, 50.0),
        "close_pickup": metric(result.close_ms, "ms", 2000.0),
        "parcels_on_pickup": metric(result.parcels, "parcels", args.pickup, higher=True),
        "lanes_before": metric(max(waiting, args.lanes), "parcels"),
    }


def _bench_terminal(
    args: argparse.Namespace, settings: Settings, db: Any, progress: Any
) -> tuple[int, dict]:
    """``picker run`` itself on a pseudo-terminal against the floor: command → login screen,
    then a lead logs in and opens the station; the process's peak memory."""
    from picker.bench.drivers import bench_operator
    from picker.bench.terminal import measure_terminal

    _demo_floor(args, db, progress)
    badge = bench_operator(db, 95, "Bench Lead", "lead").badge
    command = [sys.executable, "-m", "picker"]
    if settings.source is not None:
        command += ["--config", str(settings.source)]
    env = {**os.environ, "PICKER_DATABASE_URL": db.url, "TERM": "xterm-256color",
           "COLUMNS": "80", "LINES": "24"}  # fmt: skip
    run = measure_terminal(
        [*command, "run"],
        env,
        badge=badge,
        pin="1357",
        ready="Scan your badge",
        after="scan a tote",  # the picker queue, this terminal's station, opened
    )
    return args.orders, {
        "startup": metric(run.startup_ms, "ms", 2000.0),
        "peak_memory": metric(run.peak_rss_mib, "MiB", 300.0),
    }


def _bench_floor(
    args: argparse.Namespace, settings: Settings, db: Any, progress: Any
) -> tuple[int, dict]:
    from picker.bench.floor import run_floor

    _demo_floor(args, db, progress)
    url = db.url
    db.dispose()
    seconds = args.minutes * 60
    run = run_floor(
        url, settings, terminals=args.terminals, seconds=seconds,
        orders=max(50, int(args.terminals * args.minutes * 40)),
        folder=settings.var_dir / "bench" / "floor", kills=args.kills, drops=args.drops,
        pace_s=args.pace,
        progress=progress,
    )  # fmt: skip
    for f in run.findings:
        if f.broken:
            print(f"BROKEN {f.name}: {'; '.join(f.examples)}", file=sys.stderr)
    stations = {
        f"{name}_scans": latency(p50, p99, 50.0) for name, (_, p50, p99) in run.stations.items()
    }
    for failure in run.resume_failures:
        print(f"NOT RESUMED {failure}", file=sys.stderr)
    return args.orders, {
        "scan_latency": latency(run.p50_ms, run.p99_ms, 50.0),
        **stations,
        "other_calls": {
            "median": run.action_p50_ms,
            "p99": run.action_p99_ms,
            "unit": "ms",
            "target": None,
            "pass": True,
        },
        "scans_per_s": metric(round(run.scans_per_s, 1), "per_s"),
        "orders_per_hour": metric(round(run.orders_per_hour), "per_hour"),
        "scans_lost": metric(run.lost, "scans", 0),
        "violations": metric(run.violations, "rows", 0),
        "kills": metric(run.kills, "kills", args.kills, higher=True),
        "crashed": metric(run.crashed, "terminals", 0),
        "resumed": metric(run.resumed, "terminals"),
        "resume_failures": metric(len(run.resume_failures), "terminals", 0),
        "connections_cut": metric(run.dropped, "connections"),
        "scans_resent": metric(run.resent, "scans"),
        "already_saved": metric(run.already_saved, "scans"),
    }


#: The benchmarks through the real app on a demo floor: name → run, giving (orders, metrics).
def _bench_notify(
    args: argparse.Namespace, settings: Settings, db: Any, progress: Any
) -> tuple[int, dict]:
    from picker.bench.notify import notify_metrics

    return notify_metrics(args, settings, db, progress)


def _bench_find(
    args: argparse.Namespace, settings: Settings, db: Any, progress: Any
) -> tuple[int, dict]:
    from picker.bench.find import find_metrics

    return find_metrics(args, settings, db, progress)


def _bench_timeline(
    args: argparse.Namespace, settings: Settings, db: Any, progress: Any
) -> tuple[int, dict]:
    """A demo floor with a scan and a packing slip per order, one of its shipped orders given
    a story of ``--events`` entries, and that order's timeline read ``--calls`` times."""
    from picker.bench.timeline import bench_timeline

    held = _demo_floor(args, db, progress)
    run = bench_timeline(db, settings, events=args.events, calls=args.calls, progress=progress)
    return held, {
        "timeline": latency(run.p50_ms, run.p99_ms, 100.0),
        "slowest_call": metric(run.max_ms, "ms"),
        "entries": metric(run.entries, "entries", args.events, higher=True),
    }


def _bench_returns(
    args: argparse.Namespace, settings: Settings, db: Any, progress: Any
) -> tuple[int, dict]:
    from picker.bench.returns import returns_metrics

    return returns_metrics(args, settings, db, progress)


def _bench_receive(
    args: argparse.Namespace, settings: Settings, db: Any, progress: Any
) -> tuple[int, dict]:
    from picker.bench.receive import receive_metrics

    return receive_metrics(args, settings, db, progress)


FLOOR_RUNS: dict[str, Callable[[argparse.Namespace, Settings, Any, Any], tuple[int, dict]]] = {
    "scan": _bench_scan,
    "pick": _bench_pick,
    "pack": _bench_pack,
    "handoff": _bench_handoff,
    "terminal": _bench_terminal,
    "floor": _bench_floor,
    "notify": _bench_notify,
    "find": _bench_find,
    "timeline": _bench_timeline,
    "returns": _bench_returns,
    "receive": _bench_receive,
}


def _demo_floor(args: argparse.Namespace, db: Any, progress: Any) -> int:
    """The benchmark's demo floor of ``--orders`` orders: kept with ``--reuse`` when the
    database holds one that big already, else built afresh. Returns the orders it holds."""
    held = _floor_orders(db) if args.reuse else 0
    if held < args.orders:
        from picker.demo.builder import build_demo

        build_demo(db, orders=args.orders, progress=progress, reset=True)
        held = args.orders
    return held


def _floor_orders(db: Any) -> int:
    """How many orders the database's floor holds (0: no floor, or not at the newest schema)."""
    from sqlalchemy import text

    from picker.store import migrate

    try:
        if migrate.current_revision(db.engine) != migrate.head_revision():
            return 0
        with db.engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM orders")).scalar() or 0)
    except Exception:  # no database yet, or not ours: build one
        return 0
