"""The demo floor: a realistic warehouse, built deterministically from a seed.

Products with valid EAN-13 barcodes, bins in three zones, stock, three couriers with different
tracking schemes, packaging, operators, totes and N orders in a mix of statuses with their events,
parcels and pickups, consistent with each other (reserved stock matches the open pick tasks, a
handed-over parcel sits on a closed pickup, every status has the event walk that led to it).

Rows are generated as plain tuples and written through :class:`~picker.store.bulk.BulkWriter`,
a chunk of orders at a time, so a million orders take minutes and constant memory.
"""

from __future__ import annotations

import multiprocessing
import time as time_
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from queue import Empty
from typing import Any

from sqlalchemy import func, select, text

from picker.demo.floor_data import COURIERS, PACKAGING, DemoOperator
from picker.demo.rows import Progress, RowBuilder, Sink
from picker.services.errors import ServiceError
from picker.store import migrate
from picker.store.bulk import BulkWriter
from picker.store.engine import Database
from picker.store.models import Operator, Order, Product


@dataclass
class DemoResult:
    orders: int
    products: int
    bins: int
    couriers: int
    packaging: int
    totes: int
    operators: list[DemoOperator]
    by_status: dict[str, int]
    seconds: float = 0.0
    work: dict[str, str | None] = field(default_factory=dict)
    """Per badge, the work its operator finds at their station on logging in (None: none)."""


class FloorNotEmpty(ServiceError):
    pass


@dataclass(frozen=True)
class _Summary:
    n: int
    products: list[tuple[int, str, str, int]]
    bins: list[tuple[int, str]]
    n_totes: int
    operators: list[DemoOperator]
    by_status: dict[str, int]


#: From this many orders, rows are generated in a second process while this one writes them.
PARALLEL_FROM = 50_000


def _generate(sink: Sink, n: int, seed: int, now: datetime, progress: Progress) -> _Summary:
    b = RowBuilder(n, seed, now, progress)
    progress("catalogue", 0, 1)
    b.catalogue(sink)
    b.couriers(sink)
    b.people(sink)
    progress("catalogue", 1, 1)
    b.orders(sink)
    b.stock(sink)
    b.receiving(sink)
    b.counters(sink)
    return _Summary(b.n, b.products, b.bins, b.n_totes, b.operators, b.by_status)


class _QueueSink:
    def __init__(self, queue: Any) -> None:
        self.queue = queue

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        self.queue.put(("insert", table, columns, rows))

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.queue.put(("execute", sql, params))


def _generator_main(queue: Any, n: int, seed: int, now: datetime) -> None:
    """Entry point of the generating process: rows, progress and the summary go to ``queue``."""
    try:
        summary = _generate(
            _QueueSink(queue), n, seed, now, lambda *args: queue.put(("progress", *args))
        )
        queue.put(("done", summary))
    except BaseException as exc:  # reported to the writing process, in words
        queue.put(("error", f"{type(exc).__name__}: {exc}"))


def _generate_in_process(
    w: BulkWriter, n: int, seed: int, now: datetime, progress: Progress
) -> _Summary:
    """Generate in a second process and write here: the two cores work at once."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue(maxsize=6)
    worker = ctx.Process(target=_generator_main, args=(queue, n, seed, now), daemon=True)
    worker.start()
    try:
        while True:
            try:
                kind, *rest = queue.get(timeout=1.0)
            except Empty:
                if not worker.is_alive():
                    raise ServiceError(
                        "the process generating the demo floor stopped unexpectedly"
                    ) from None
                continue
            if kind == "insert":
                w.insert(*rest)
            elif kind == "execute":
                w.execute(*rest)
            elif kind == "progress":
                progress(*rest)
            elif kind == "done":
                return rest[0]
            else:
                raise ServiceError(f"generating the demo floor failed: {rest[0]}")
    finally:
        if worker.is_alive():
            worker.terminate()
        worker.join()


def build_demo(
    db: Database,
    *,
    orders: int = 60,
    seed: int = 1,
    now: datetime | None = None,
    progress: Progress | None = None,
    reset: bool = False,
) -> DemoResult:
    """Build the demo floor into ``db`` (migrated to head first). Refuses a floor with data
    unless ``reset`` (which empties the database first)."""
    if orders < 0:
        raise ServiceError("--orders must be 0 or more")
    started = time_.perf_counter()
    progress = progress or (lambda stage, done, total: None)
    if reset:
        migrate.downgrade(db.engine, "base")
    migrate.upgrade(db.engine)
    with db.read() as s:
        has = (
            s.scalar(select(func.count()).select_from(Product))
            or s.scalar(select(func.count()).select_from(Order))
            or s.scalar(select(func.count()).select_from(Operator))
        )
    if has:
        raise FloorNotEmpty(
            "the database already holds a floor; use --reset to replace it with a new demo floor"
        )
    now = now or datetime.now(UTC)
    w = BulkWriter(db.engine)
    try:
        if orders >= PARALLEL_FROM:
            summary = _generate_in_process(w, orders, seed, now, progress)
        else:
            summary = _generate(w, orders, seed, now, progress)
        w.commit()
    except BaseException:
        w.rollback()
        raise
    if db.dialect == "postgresql":
        # Planner statistics for what was just loaded: without them PostgreSQL guesses, until
        # autovacuum comes round, and a terminal's first queries may scan whole tables.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    b = summary
    return DemoResult(
        orders=b.n,
        products=len(b.products),
        bins=len(b.bins),
        couriers=len(COURIERS),
        packaging=len(PACKAGING),
        totes=b.n_totes,
        operators=b.operators,
        by_status=dict(sorted(b.by_status.items())),
        seconds=time_.perf_counter() - started,
        work=work_at_login(db, b.operators),
    )


def work_at_login(db: Database, operators: Sequence[DemoOperator]) -> dict[str, str | None]:
    """What each operator finds at their station on logging in, in words; None when nothing,
    or when what they find would stop them (a packer with two orders at the table cannot
    open either). A picker: orders in the queue; a packer: the order they left open, or totes
    waiting at the table; a receiver: deliveries expected; a lead: parcels in the handoff lanes
    and orders on hold."""
    with db.read() as s:
        ids: dict[str, int] = {b: i for b, i in s.execute(select(Operator.badge, Operator.id))}

        def count(sql: str, **params: object) -> int:
            return int(s.scalar(text(sql), params) or 0)

        work: dict[str, str | None] = {}
        waiting = count("SELECT COUNT(*) FROM orders o JOIN totes t ON t.order_id = o.id "
                        "WHERE o.status = 'picked'")  # fmt: skip
        for op in operators:
            me = ids[op.badge]
            found: str | None = None
            if "picker" in op.roles:
                queued = count("SELECT COUNT(*) FROM orders WHERE assignee_id = :me AND status "
                               "IN ('assigned', 'picking')", me=me)  # fmt: skip
                started = count("SELECT COUNT(*) FROM orders WHERE assignee_id = :me AND "
                                "status = 'picking'", me=me)  # fmt: skip
                if queued:
                    found = f"{queued} orders in the queue, {started} of them started"
            elif "packer" in op.roles:
                open_ = s.scalars(
                    select(Order.number).where(Order.packer_id == me, Order.status == "packing")
                ).all()
                if len(open_) == 1:
                    found = f"{open_[0]} open at the packing table"
                elif not open_ and waiting:
                    found = f"{waiting} totes waiting at the packing table"
            elif "receiver" in op.roles:
                due = count("SELECT COUNT(*) FROM receipts WHERE status IN ('expected', 'open')")
                if due:
                    found = f"{due} deliveries expected at the dock"
            else:
                parcels = count("SELECT COUNT(*) FROM parcels WHERE status = 'closed'")
                held = count("SELECT COUNT(*) FROM orders WHERE status = 'on_hold'")
                if parcels or held:
                    found = f"{parcels} parcels in the handoff lanes, {held} orders on hold"
            work[op.badge] = found
    return work
