"""A finished round compared with the stock, and what follows: done, a recount by another
operator, a lead's approval, or the stock adjusted — with the orders whose reservations the
count took away moved to other bins or held. The lead's approve / reject / cancel.

A count below what is reserved reuses the picking station's shortage handling
(:func:`picker.services.floor.picking.cover_elsewhere`): the reservations that no longer fit
are taken off their pick tasks (``short``), and each order affected is reserved again from other
bins (new lines of its walk, same walking-order rule as allocation) or put on hold
``short: SKU``, its other reservations given back as allocation does for a shortage.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from picker.config import Settings
from picker.services.actors import Actor, Clock, allow, system_clock
from picker.services.counts import _core as core
from picker.services.counts.shapes import CountRefused, CountResult, ProductResult

# The picking module imports the count lock from this package: imported as a module, so
# either may be loaded first.
from picker.services.floor import picking as floor_picking
from picker.services.orders.lead_actions import retry_held_short
from picker.store.engine import Database
from picker.store.models import (
    Bin,
    CountLine,
    CountTask,
    Order,
    PickTask,
    Product,
    Stock,
    StockMovement,
)


def _compare(s: Session, task: CountTask, now: datetime) -> list[tuple[int, ProductResult]]:
    """Each product of the round (and any the bin holds that the round never saw, counted 0)
    against the bin's on hand now; the lines record that on hand as ``expected``. The bin's
    stock rows are locked (in id order) for what follows."""
    on_hand = {
        r.product_id: r.on_hand
        for r in s.execute(
            select(Stock.id, Stock.product_id, Stock.on_hand)
            .where(Stock.bin_id == task.bin_id)
            .order_by(Stock.id)
            .with_for_update()
        )
    }
    lines = {
        r.product_id: r
        for r in s.execute(
            select(CountLine.id, CountLine.product_id, CountLine.counted)
            .where(CountLine.task_id == task.id, CountLine.round == task.round)
            .with_for_update()
        )
    }
    for product_id, n in on_hand.items():
        if n > 0 and product_id not in lines:  # arrived after the round began: not counted
            s.execute(
                insert(CountLine).values(
                    task_id=task.id, round=task.round, product_id=product_id, expected=n,
                    counted=0, at=now,
                )
            )  # fmt: skip
    s.execute(
        update(CountLine)
        .where(CountLine.task_id == task.id, CountLine.round == task.round)
        .values(expected=0)
    )
    for product_id, n in on_hand.items():
        if n > 0:
            s.execute(
                update(CountLine)
                .where(CountLine.task_id == task.id, CountLine.round == task.round,
                       CountLine.product_id == product_id)
                .values(expected=n)
            )  # fmt: skip
    rows = s.execute(
        select(CountLine.product_id, Product.sku, Product.name, CountLine.expected,
               CountLine.counted)
        .join(Product, Product.id == CountLine.product_id)
        .where(CountLine.task_id == task.id, CountLine.round == task.round)
        .order_by(Product.sku)
    ).all()  # fmt: skip
    # Picked units a hold or cancel booked back into this bin while it was counted (no other
    # bin of the product to take them): kept by the bin until the count closes, so the counter
    # never saw them — they are in the stock and count as found.
    aside: dict[int, int] = {
        r.product_id: int(r.units)
        for r in s.execute(
            select(StockMovement.product_id, func.sum(StockMovement.delta).label("units"))
            .where(StockMovement.bin_id == task.bin_id, StockMovement.reason == "put_back",
                   StockMovement.document == task.number)
            .group_by(StockMovement.product_id)
        )
    }  # fmt: skip
    return [
        (r.product_id,
         ProductResult(r.sku, r.name, r.expected, r.counted + aside.get(r.product_id, 0)))
        for r in rows
    ]  # fmt: skip


def _close(s: Session, task: CountTask, status: str, now: datetime) -> None:
    task.status = status
    task.held_by_terminal = None
    task.held_by = None
    task.closed_at = now
    task.version += 1
    if status == "done":
        s.execute(update(Bin).where(Bin.id == task.bin_id).values(counted_at=now))
    s.flush()


def settle(
    s: Session, actor: Actor, task: CountTask, *, settings: Settings, now: datetime,
    counter: int,
) -> tuple[CountResult, tuple[str, ...]]:  # fmt: skip
    """Finish the round of ``task`` (held, locked). Returns the result and the SKUs the count
    found more of (to release orders held short of them once this commits)."""
    compared = _compare(s, task, now)
    products = tuple(p for _, p in compared)
    code = core.bin_code(s, task.bin_id)
    counting = settings.counting

    def result(status: str, **kw: object) -> CountResult:
        return CountResult(task.number, code, status, task.round, products, **kw)  # type: ignore[arg-type]

    if not any(p.difference for p in products):
        _close(s, task, "done", now)
        return result("done", adjusted=False), ()
    if task.first_counter is None:
        task.first_counter = counter
    if task.round == 1 and any(counting.recount_over.exceeded(p.expected, p.counted)
                               for p in products):  # fmt: skip
        task.status = "recount"
        task.held_by_terminal = None
        task.held_by = None
        task.version += 1
        s.flush()
        return result("recount", adjusted=False), ()
    if any(counting.approve_over.exceeded(p.expected, p.counted) for p in products):
        task.status = "approval"
        task.held_by_terminal = None
        task.held_by = None
        task.version += 1
        s.flush()
        return result("approval", adjusted=False), ()
    return adjust(s, actor, task, compared, now, result)


def adjust(
    s: Session, actor: Actor, task: CountTask, compared: list[tuple[int, ProductResult]],
    now: datetime, result: Callable[..., CountResult],
) -> tuple[CountResult, tuple[str, ...]]:  # fmt: skip
    """Set the bin's stock to what was counted (``count`` ledger rows, document the count's
    number); reservations that no longer fit are moved or their orders held. Closes the task
    (done, the bin's ``counted_at`` set)."""
    lost: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    grown: list[str] = []
    for product_id, p in compared:
        if not p.difference:
            continue
        row = s.execute(
            select(Stock.id, Stock.on_hand, Stock.reserved)
            .where(Stock.bin_id == task.bin_id, Stock.product_id == product_id)
        ).one_or_none()  # fmt: skip
        if row is None:
            s.execute(
                insert(Stock).values(
                    product_id=product_id, bin_id=task.bin_id, on_hand=p.counted, reserved=0
                )
            )
        elif p.counted >= row.reserved:
            s.execute(update(Stock).where(Stock.id == row.id).values(on_hand=p.counted))
        else:
            _void(s, task.bin_id, product_id, row.reserved - p.counted, lost, now)
            s.execute(
                update(Stock)
                .where(Stock.id == row.id)
                .values(on_hand=p.counted, reserved=p.counted)
            )
        s.execute(
            insert(StockMovement).values(
                at=now, product_id=product_id, bin_id=task.bin_id, delta=p.difference,
                reason="count", operator_id=actor.operator_id, terminal_id=actor.terminal_id,
                source=actor.source, document=task.number,
            )
        )  # fmt: skip
        if p.difference > 0:
            grown.append(p.sku)
    re_reserved: list[str] = []
    held: list[str] = []
    totes: list[tuple[str, str]] = []
    for order_id, lines in sorted(lost.items()):
        number = s.scalar(select(Order.number).where(Order.id == order_id)) or "?"
        bins, on_hold = floor_picking.cover_elsewhere(s, actor, order_id, dict(lines), now)
        if on_hold is not None:
            held.append(on_hold.number)
            if on_hold.tote:
                totes.append((on_hold.number, on_hold.tote))
        elif bins:
            re_reserved.append(number)
    _close(s, task, "done", now)
    done = result("done", adjusted=True, re_reserved=tuple(re_reserved), held=tuple(held),
                  totes_to_shelf=tuple(totes))  # fmt: skip
    return done, tuple(grown)


def _void(
    s: Session, bin_id: int, product_id: int, excess: int, lost: dict[int, dict[int, int]],
    now: datetime,
) -> None:  # fmt: skip
    """Take ``excess`` reserved units of the product in the bin off the open pick tasks that
    hold them: orders being picked keep theirs longest, then the oldest tasks; what each order
    lost is added to ``lost`` (order → order line → units)."""
    tasks = s.execute(
        select(PickTask.id, PickTask.order_id, PickTask.order_line_id, PickTask.quantity,
               PickTask.picked, PickTask.short, Order.status)
        .join(Order, Order.id == PickTask.order_id)
        .where(PickTask.product_id == product_id, PickTask.bin_id == bin_id,
               PickTask.retired_at.is_(None),
               PickTask.picked + PickTask.short < PickTask.quantity)
        .order_by(PickTask.id)
        .with_for_update(of=PickTask.__table__)
    ).all()  # fmt: skip
    keep_first = sorted(tasks, key=lambda t: (t.status != "picking", t.id))
    for t in reversed(keep_first):
        if excess <= 0:
            break
        gone = min(excess, t.quantity - t.picked - t.short)
        s.execute(
            update(PickTask)
            .where(PickTask.id == t.id)
            .values(short=PickTask.short + gone, updated_at=now)
        )
        lost[t.order_id][t.order_line_id] += gone
        excess -= gone


def release_found(
    db: Database, result: CountResult, grown: tuple[str, ...], *, actor: Actor,
    settings: Settings, clock: Clock,
) -> CountResult:  # fmt: skip
    """Orders held short of what the count found more of, tried again (each its own
    transaction, after the count's commit); those released are named in the result."""
    released: list[str] = []
    for sku in grown:
        for r in retry_held_short(db, actor=actor, settings=settings, clock=clock, sku=sku):
            if r.released and r.number not in released:
                released.append(r.number)
    if not released:
        return result
    return replace(result, released=tuple(released))


def _reason(reason: str) -> str:
    text = " ".join(reason.split())
    if not text or not text.isprintable():
        raise CountRefused("say why (a reason in printable text)")
    return text


def approve(
    db: Database,
    actor: Actor,
    number: str,
    reason: str,
    *,
    settings: Settings,
    clock: Clock = system_clock,
) -> CountResult:
    """A lead accepts a count waiting for approval: the stock is adjusted to it now (as a
    count within the thresholds would have been), with the reason recorded."""
    allow(actor, "counts.decide.approve")
    why = _reason(reason)
    now = clock()

    def work(s: Session) -> tuple[CountResult, tuple[str, ...]]:
        task = core.load(s, number)
        if task.status != "approval":
            raise CountRefused(f"{task.number} is {task.status}: only a count waiting for "
                               "approval can be approved.")  # fmt: skip
        compared = _compare(s, task, now)
        products = tuple(p for _, p in compared)
        code = core.bin_code(s, task.bin_id)
        task.decided_by = actor.operator_id
        task.decision_reason = why

        def result(status: str, **kw: object) -> CountResult:
            return CountResult(task.number, code, status, task.round, products, **kw)  # type: ignore[arg-type]

        if not any(p.difference for p in products):
            _close(s, task, "done", now)
            return result("done", adjusted=False), ()
        return adjust(s, actor, task, compared, now, result)

    result, grown = db.run(work)
    return release_found(db, result, grown, actor=actor, settings=settings, clock=clock)


def reject(
    db: Database,
    actor: Actor,
    number: str,
    reason: str,
    *,
    settings: Settings,
    clock: Clock = system_clock,
) -> CountResult:
    """A lead refuses a count waiting for approval (or for its recount): the stock stays as it
    is, the bin is unlocked."""
    allow(actor, "counts.decide.reject")
    why = _reason(reason)
    now = clock()

    def work(s: Session) -> CountResult:
        task = core.load(s, number)
        if task.status not in ("approval", "recount"):
            raise CountRefused(f"{task.number} is {task.status}: only a count waiting for "
                               "approval (or a recount) can be rejected.")  # fmt: skip
        products = _products(s, task)
        task.decided_by = actor.operator_id
        task.decision_reason = why
        _close(s, task, "rejected", now)
        return CountResult(
            task.number, core.bin_code(s, task.bin_id), "rejected", task.round, products, False
        )

    return db.run(work)


def cancel(
    db: Database,
    actor: Actor,
    number: str,
    *,
    settings: Settings,
    clock: Clock = system_clock,
) -> CountResult:
    """A lead withdraws a count not finished yet (planned, or being counted: a terminal that
    died mid-count): the bin is unlocked, the stock unchanged."""
    allow(actor, "counts.decide.cancel")
    now = clock()

    def work(s: Session) -> CountResult:
        task = core.load(s, number)
        if task.status not in ("planned", "counting"):
            raise CountRefused(f"{task.number} is {task.status}: only a planned count or one "
                               "being counted can be cancelled.")  # fmt: skip
        task.decided_by = actor.operator_id
        _close(s, task, "cancelled", now)
        return CountResult(
            task.number, core.bin_code(s, task.bin_id), "cancelled", task.round, (), False
        )

    return db.run(work)


def _products(s: Session, task: CountTask) -> tuple[ProductResult, ...]:
    rows = s.execute(
        select(Product.sku, Product.name, CountLine.expected, CountLine.counted)
        .join(Product, Product.id == CountLine.product_id)
        .where(CountLine.task_id == task.id, CountLine.round == task.round)
        .order_by(Product.sku)
    ).all()
    return tuple(ProductResult(r.sku, r.name, r.expected, r.counted) for r in rows)
