"""``picker bench returns``: parcels received back at the returns desk, on a big demo floor.

The demo floor's history holds executed and delivered orders whose parcels went to the courier.
``--returns`` of them (drawn at random, seeded, among the newest shipped orders that have no
return yet, so a floor reused with ``--reuse`` gives fresh ones) come back, and each is
received as the station receives it, by the desk's own service calls in the order a returns
clerk scans: the parcel (its outbound tracking number, or the order number), then per unit its
barcode, its condition, and for a resellable unit the bin it goes to (the suggested one); a few
orders come back partly. Then the return is closed (refund, order status, outbox rows in one
transaction).

Each call is timed from the call to its answer: what a scan's feedback waits for at the station
(its journal row and effect committed), without the screen's drawing. Reported: every scan
(median, p99, p99.9, max; target p99 ≤ 50 ms), each kind of scan, and the close (target p99 ≤
150 ms).
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from picker.config import Settings
from picker.store.engine import Database

#: Targets of issue 22, p99 in ms.
SCAN_TARGET_MS = 50.0
CLOSE_TARGET_MS = 150.0
#: The newest shipped orders the returns are drawn from (returns come back within weeks).
RECENT = 20_000
#: How each unit is judged, by weight: mostly back on the shelf.
_CONDITIONS = (("resell", 70), ("damaged", 12), ("defect", 10), ("incomplete", 8))
#: The share of returns that bring back only part of what shipped.
_PARTIAL = 0.3


@dataclass
class Timings:
    """Milliseconds of each timed call, by kind."""

    by_kind: dict[str, list[float]] = field(default_factory=dict)

    def add(self, kind: str, ms: float) -> None:
        self.by_kind.setdefault(kind, []).append(ms)

    def all_scans(self) -> list[float]:
        return [ms for kind, values in self.by_kind.items() if kind != "close" for ms in values]


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (nearest rank); 0 for none."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def latency_row(values: Sequence[float], target: float | None) -> dict[str, Any]:
    """A report row of many calls: median, p99, p99.9 and max in ms; passes when the p99 is
    within the target."""
    p99 = round(percentile(values, 0.99), 2)
    return {
        "median": round(statistics.median(values), 2) if values else 0.0,
        "p99": p99,
        "p99_9": round(percentile(values, 0.999), 2),
        "max": round(max(values), 2) if values else 0.0,
        "count": len(values),
        "unit": "ms",
        "target": target,
        "pass": target is None or (bool(values) and p99 <= target),
    }


def returnable_orders(db: Database, n: int, seed: int = 22) -> list[tuple[str, str | None]]:
    """``n`` shipped orders without a return, drawn from the newest :data:`RECENT`: each its
    number and one of its parcels' tracking numbers (the parcel scanned at the desk)."""
    from picker.store.models import Order, Parcel, Return

    with db.read() as s:
        has_return = select(Return.id).where(Return.order_id == Order.id).exists()
        ids = list(
            s.scalars(
                select(Order.id)
                .where(Order.status.in_(("executed", "delivered")), ~has_return)
                .order_by(Order.id.desc())
                .limit(RECENT)
            )
        )
        chosen = random.Random(seed).sample(ids, min(n, len(ids)))
        rows = s.execute(
            select(Order.id, Order.number).where(Order.id.in_(chosen)).order_by(Order.id)
        ).all()
        tracking: dict[int, str] = {}
        for order_id, number in s.execute(
            select(Parcel.order_id, Parcel.tracking_no).where(
                Parcel.order_id.in_(chosen),
                Parcel.status == "handed_over",
                Parcel.tracking_no.is_not(None),
            )
        ):
            tracking.setdefault(order_id, number)
    return [(number, tracking.get(order_id)) for order_id, number in rows]


def _barcodes(db: Database) -> dict[str, str]:
    """SKU → the barcode a scanner reads off the unit (the first one of each product)."""
    from picker.store.models import Product, ProductBarcode

    found: dict[str, str] = {}
    with db.read() as s:
        for sku, barcode in s.execute(
            select(Product.sku, ProductBarcode.barcode)
            .join(ProductBarcode, ProductBarcode.product_id == Product.id)
            .order_by(ProductBarcode.id)
        ):
            found.setdefault(sku, barcode)
    return found


@dataclass(frozen=True)
class ReturnsRun:
    returns: int
    """Returns received and closed."""
    units: int
    partial: int
    """Returns that brought back only part of what shipped."""
    timings: Timings
    refused: list[str]
    """Calls the desk refused (none expected): what was asked, and the refusal."""


def receive_returns(
    db: Database,
    settings: Settings,
    actor: Any,
    orders: Sequence[tuple[str, str | None]],
    progress: Callable[[int, int], None],
    seed: int = 22,
) -> ReturnsRun:
    """Each order received back at the desk, call by call, as a clerk's scans drive it."""
    from picker.services.actors import system_clock
    from picker.services.errors import ServiceError
    from picker.services.returns import desk

    rng = random.Random(seed)
    barcodes = _barcodes(db)
    conditions = [c for c, weight in _CONDITIONS for _ in range(weight)]
    timings = Timings()
    refused: list[str] = []
    units = partial = closed = 0
    kw: dict[str, Any] = {"settings": settings, "clock": system_clock}

    def timed(kind: str, call: Callable[[], Any], what: str) -> Any:
        started = time.perf_counter()
        try:
            answer = call()
        except ServiceError as exc:
            refused.append(f"{what}: {exc}")
            return None
        finally:
            timings.add(kind, (time.perf_counter() - started) * 1000)
        return answer

    for i, (number, tracking) in enumerate(orders, start=1):
        scanned = tracking if tracking and i % 2 else number
        view = timed("open", lambda: desk.open_return(db, actor, scanned, **kw), scanned)
        if view is None:
            progress(i, len(orders))
            continue
        rma = view.number
        due = [(ln.sku, ln.shipped - ln.returned_before) for ln in view.lines]
        todo = [sku for sku, left in due for _ in range(left)]
        if len(todo) > 1 and rng.random() < _PARTIAL:
            todo = todo[: rng.randrange(1, len(todo))]
            partial += 1
        for sku in todo:
            code = barcodes.get(sku, sku)
            view = timed("item", lambda: desk.scan_item(db, actor, rma, code, **kw), code)
            if view is None:
                break
            condition = rng.choice(conditions)
            view = timed(
                "condition",
                lambda: desk.judge(db, actor, rma, condition, **kw),
                f"{rma} {sku} {condition}",
            )
            if view is None:
                break
            if view.pending is not None and view.pending.needs == "bin":
                where = view.pending.suggested_bin
                put = timed(
                    "bin", lambda: desk.put_away(db, actor, rma, where, **kw), f"{rma} {where}"
                )
                if put is None:
                    break
            units += 1
        done = timed("close", lambda: desk.close(db, actor, rma, **kw), f"close {rma}")
        closed += done is not None
        progress(i, len(orders))
    return ReturnsRun(closed, units, partial, timings, refused)


def returns_metrics(
    args: Any, settings: Settings, db: Database, progress: Any
) -> tuple[int, dict[str, Any]]:
    """``picker bench returns``'s table: its demo floor, a returns clerk of the run's own, and
    ``--returns`` parcels received and closed."""
    from picker.bench.drivers import bench_operator, settle
    from picker.bench.runs import _demo_floor, metric
    from picker.services.actors import Actor

    held = _demo_floor(args, db, progress)
    orders = returnable_orders(db, args.returns)
    if not orders:
        raise RuntimeError("the demo floor has no shipped order left to return: more --orders")
    settle(db)
    clerk = Actor("BENCH", bench_operator(db, 94, "Bench Returns", "returns"))
    warm = orders[: max(1, min(5, len(orders) // 20))]
    receive_returns(db, settings, clerk, warm, lambda done, total: None, seed=1)
    run = receive_returns(
        db, settings, clerk, orders[len(warm) :],
        lambda done, total: progress("returns", done, total),
    )  # fmt: skip
    t = run.timings
    metrics: dict[str, Any] = {
        "scan_to_feedback": latency_row(t.all_scans(), SCAN_TARGET_MS),
        **{
            f"{kind}_scan": latency_row(t.by_kind.get(kind, []), SCAN_TARGET_MS)
            for kind in ("open", "item", "condition", "bin")
        },
        "close": latency_row(t.by_kind.get("close", []), CLOSE_TARGET_MS),
        "returns_closed": metric(run.returns, "returns", len(orders) - len(warm), higher=True),
        "units": metric(run.units, "units"),
        "partial_returns": metric(run.partial, "returns"),
        "refused": metric(len(run.refused), "calls", 0),
    }
    for line in run.refused[:10]:
        print(f"refused: {line}", file=sys.stderr)
    return held, metrics
