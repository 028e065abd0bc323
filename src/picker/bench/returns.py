"""``picker bench returns``: parcels received back at the returns desk, on a big demo floor.

The demo floor's history holds executed and delivered orders whose parcels went to the courier.
``--returns`` of them (drawn at random, seeded, among the newest shipped orders that have no
return yet, so a floor reused with ``--reuse`` gives fresh ones) come back, and a returns clerk
of the run's own receives each in the order the station asks: the parcel (its outbound tracking
number, or the order number), then per unit its barcode, its condition (``CMD-RESELL``…), and for
a resellable unit the bin it goes to (the suggested one); about a third of the parcels of more
than one unit hold only part of what shipped. Then ``CMD-CLOSE``, confirmed by a second
``CMD-CLOSE``: refund, order status and outbox rows in one transaction.

By default the scans are typed into the real app running headless, on its returns station, as
``bench scan`` and ``bench pick`` do (a character every 1-3 ms through the terminal parser), and
each is timed from its Enter to its feedback on the screen (journal row and effect committed
first). With ``--services`` (or in a Picker without the returns screen) the desk's service calls
are timed instead, call to answer, without the screen. Reported: every scan (median, p99,
p99.9, max; target p99 ≤ 50 ms), each kind of scan, and the close (target p99 ≤ 150 ms).
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
#: Parcels received before the timed ones (connections, statement caches, the screen warmed).
_WARM = 5
#: How each unit is judged, by weight: mostly back on the shelf.
_CONDITIONS = (("resell", 70), ("damaged", 12), ("defect", 10), ("incomplete", 8))
#: The share of returns that bring back only part of what shipped.
_PARTIAL = 0.3


#: Timed, but not in the scans' row: the close (its own row), and the CMD-CLOSE that only asks
#: to confirm (no database call: it would flatter the scans).
_NOT_SCANS = ("close", "confirm")


@dataclass
class Timings:
    """Milliseconds of each timed call, by kind."""

    by_kind: dict[str, list[float]] = field(default_factory=dict)

    def add(self, kind: str, ms: float) -> None:
        self.by_kind.setdefault(kind, []).append(ms)

    def all_scans(self) -> list[float]:
        scans = [values for kind, values in self.by_kind.items() if kind not in _NOT_SCANS]
        return [ms for values in scans for ms in values]


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
        for order_id, tracking_no in s.execute(
            select(Parcel.order_id, Parcel.tracking_no).where(
                Parcel.order_id.in_(chosen),
                Parcel.status == "handed_over",
                Parcel.tracking_no.is_not(None),
            )
        ):
            tracking.setdefault(order_id, str(tracking_no))
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
    """Scans or calls the desk refused (none expected): what was asked, and the refusal."""
    split: list[str] = field(default_factory=list)
    """Scans typed that did not reach the screen whole (the app only)."""


@dataclass
class _Plan:
    """What comes back in each parcel, decided up front (seeded) whatever drives the desk."""

    rng: random.Random
    barcodes: dict[str, str]
    conditions: list[str]

    @classmethod
    def of(cls, db: Database, seed: int) -> _Plan:
        return cls(random.Random(seed), _barcodes(db),
                   [c for c, weight in _CONDITIONS for _ in range(weight)])  # fmt: skip

    def opening(self, i: int, number: str, tracking: str | None) -> str:
        """Half the parcels are opened by their tracking number, half by the order number."""
        return tracking if tracking and i % 2 else number

    def units(self, lines: Sequence[Any]) -> tuple[list[str], bool]:
        """The SKU of each unit in the parcel (all that may come back, or part), and whether it
        is a partial return."""
        todo = [ln.sku for ln in lines for _ in range(ln.shipped - ln.returned_before)]
        if len(todo) > 1 and self.rng.random() < _PARTIAL:
            return todo[: self.rng.randrange(1, len(todo))], True
        return todo, False

    def condition(self) -> str:
        return self.rng.choice(self.conditions)


def receive_by_services(
    db: Database,
    settings: Settings,
    actor: Any,
    orders: Sequence[tuple[str, str | None]],
    progress: Callable[[int, int], None],
    seed: int = 22,
) -> ReturnsRun:
    """Each parcel received by the desk's service calls, timed call to answer."""
    from picker.services.actors import system_clock
    from picker.services.errors import ServiceError
    from picker.services.returns import desk

    plan = _Plan.of(db, seed)
    timings = Timings()
    refused: list[str] = []
    units = partial = closed = 0
    kw: dict[str, Any] = {"settings": settings, "clock": system_clock}

    def timed(kind: str, what: str, call: Callable[..., Any], *args: Any) -> Any:
        started = time.perf_counter()
        try:
            answer = call(db, actor, *args, **kw)
        except ServiceError as exc:
            refused.append(f"{what}: {exc}")
            return None
        finally:
            timings.add(kind, (time.perf_counter() - started) * 1000)
        return answer

    for i, (number, tracking) in enumerate(orders, start=1):
        scanned = plan.opening(i, number, tracking)
        view = timed("open", scanned, desk.open_return, scanned)
        if view is not None:
            rma = view.number
            todo, part = plan.units(view.lines)
            partial += part
            for sku in todo:
                code = plan.barcodes.get(sku, sku)
                condition = plan.condition()
                view = timed("item", code, desk.scan_item, rma, code)
                if view is not None:
                    view = timed("condition", f"{rma} {condition}", desk.judge, rma, condition)
                if view is None:
                    break
                if view.pending is not None and view.pending.needs == "bin":
                    where = view.pending.suggested_bin
                    if timed("bin", f"{rma} {where}", desk.put_away, rma, where) is None:
                        break
                units += 1
            closed += timed("close", f"close {rma}", desk.close, rma) is not None
        progress(i, len(orders))
    return ReturnsRun(closed, units, partial, timings, refused)


async def receive_by_app(
    app: Any,
    *,
    badge: str,
    pin: str,
    orders: Sequence[tuple[str, str | None]],
    plan: _Plan,
    progress: Callable[[int, int], None],
    warm: int = 0,
) -> ReturnsRun:
    """Log in on the returns station of the headless app and receive each parcel by scans,
    each timed from its Enter to its feedback shown; the first ``warm`` parcels warm the app
    and the database up, neither timed nor counted."""
    import asyncio

    from picker.bench.terminal import TimedScans, open_station
    from picker.tui.screens.returns import ReturnsScreen

    timings = Timings()
    refused: list[str] = []
    split: list[str] = []
    units = partial = closed = 0
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_station(app, pilot, badge, pin, ReturnsScreen)
        timed = TimedScans(app)

        counted = False

        async def scan(code: str, kind: str) -> bool:
            incoming = await timed.scan(code)
            if counted:
                timings.add(kind, timed.ms[-1])
            if incoming.raw != code:  # the capture did not get it whole (split, or spilt)
                split.append(f"{code} arrived as {incoming.raw!r}")
            if screen.feedback.kind == "error":
                refused.append(f"{code} (arrived as {incoming.raw!r}): {screen.feedback.message}")
                return False
            return True

        for i, (number, tracking) in enumerate(orders, start=1):
            counted = i > warm
            progress(max(0, i - 1 - warm), len(orders) - warm)
            if not await scan(plan.opening(i, number, tracking), "open") or screen.view is None:
                continue
            todo, part = plan.units(screen.view.lines)
            partial += part and counted
            for sku in todo:
                condition = plan.condition()
                if not await scan(plan.barcodes.get(sku, sku), "item"):
                    break
                if not await scan(f"CMD-{condition.upper()}", "condition"):
                    break
                pending = screen.view.pending if screen.view is not None else None
                needs_bin = pending is not None and pending.needs == "bin"
                if needs_bin and not await scan(pending.suggested_bin or "-", "bin"):  # type: ignore[union-attr]
                    break
                units += counted
            # The first CMD-CLOSE asks (the refund so far shown), the second closes.
            if await scan("CMD-CLOSE", "confirm") and await scan("CMD-CLOSE", "close"):
                closed += counted and screen.view is None and screen.closed is not None
            while screen.view is not None:  # refused mid-way: park it, go on with the next
                await pilot.press("escape")
                await pilot.pause()
            await asyncio.sleep(0.005)
        progress(len(orders) - warm, len(orders) - warm)
    return ReturnsRun(closed, units, partial, timings, refused, split)


def _returns_screen() -> bool:
    """Whether this Picker has the returns station's screen."""
    try:
        import picker.tui.screens.returns  # noqa: F401
    except ImportError:
        return False
    return True


def returns_metrics(
    args: Any, settings: Settings, db: Database, progress: Any
) -> tuple[int, dict[str, Any]]:
    """``picker bench returns``'s table: its demo floor, a returns clerk of the run's own, and
    ``--returns`` parcels received and closed."""
    import asyncio
    import dataclasses

    from picker.bench.drivers import bench_operator, settle
    from picker.bench.runs import _demo_floor, metric
    from picker.services.actors import Actor

    held = _demo_floor(args, db, progress)
    orders = returnable_orders(db, args.returns + _WARM)
    if len(orders) <= _WARM:
        raise RuntimeError("the demo floor has no shipped order left to return: more --orders")
    settle(db)
    clerk = bench_operator(db, 94, "Bench Returns", "returns")
    via_app = not args.services and _returns_screen()
    if not via_app and not args.services:
        print("This Picker has no returns screen: the desk's service calls are timed, "
              "without the screen", file=sys.stderr)  # fmt: skip
    warm, timed = orders[:_WARM], orders[_WARM:]
    if via_app:
        from picker.tui.app import make_app

        bench_settings = dataclasses.replace(
            settings,
            terminal=dataclasses.replace(settings.terminal, id="BENCH", station="returns"),
        )
        app = make_app(bench_settings, db)
        run = asyncio.run(
            receive_by_app(
                app, badge=clerk.badge, pin="1357", orders=orders, plan=_Plan.of(db, 22),
                progress=lambda done, total: progress("returns", done, total), warm=len(warm),
            )
        )  # fmt: skip
    else:
        actor = Actor("BENCH", clerk)
        receive_by_services(db, settings, actor, warm, lambda done, total: None, seed=1)
        run = receive_by_services(
            db, settings, actor, timed, lambda done, total: progress("returns", done, total)
        )
    t = run.timings
    metrics: dict[str, Any] = {
        "scan_to_feedback": latency_row(t.all_scans(), SCAN_TARGET_MS),
        **{
            f"{kind}_scan": latency_row(t.by_kind.get(kind, []), SCAN_TARGET_MS)
            for kind in ("open", "item", "condition", "bin")
        },
        "close": latency_row(t.by_kind.get("close", []), CLOSE_TARGET_MS),
        "returns_closed": metric(run.returns, "returns", len(timed), higher=True),
        "units": metric(run.units, "units"),
        "partial_returns": metric(run.partial, "returns"),
        "refused": metric(len(run.refused), "scans", 0),
        "scans_not_whole": metric(len(run.split), "scans", 0),
        "headless_app": metric(int(via_app), "yes=1"),
    }
    for line in run.split[:10]:
        print(f"not whole: {line}", file=sys.stderr)
    for line in run.refused[:10]:
        print(f"refused: {line}", file=sys.stderr)
    return held, metrics
