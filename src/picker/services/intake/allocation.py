"""Stock reservation and picker assignment, settled in the database.

A reservation is ``reserved = reserved + n WHERE on_hand - reserved >= n`` per bin, rows taken in
id order: if any bin no longer has what was planned (another terminal took it), what this attempt
took is given back and the plan made again from fresh numbers. The pick tasks written with it are
the record of what is reserved where, so ``stock.reserved`` always equals the open pick quantities.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import Connection, and_, case, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from picker.config import Settings
from picker.domain.cutoffs import next_cutoff, parse_cutoffs
from picker.domain.picking import PutBack, put_backs
from picker.domain.reservation import BinStock, Need, Plan, plan_reservation
from picker.domain.roles import Role
from picker.domain.statuses import OrderStatus
from picker.services.actors import Actor, Clock
from picker.services.errors import Conflict
from picker.services.orders.status import move_order
from picker.store import statements as sql
from picker.store.models import (
    COUNT_LOCKING,
    Bin,
    CountTask,
    CourierService,
    Operator,
    OperatorRole,
    Order,
    PickTask,
    Product,
    Stock,
    StockMovement,
)

#: Fresh plans tried when other terminals keep taking the planned stock first.
ATTEMPTS = 5
#: Statuses in which an order counts towards a picker's load.
PICKER_LOAD = (OrderStatus.ASSIGNED.value, OrderStatus.PICKING.value)


def reserve_order(
    conn: Connection, order_id: int, at: datetime, needs: list[Need] | None = None
) -> Plan:
    """Reserve all of an order's stock, or nothing; returns the plan (``short`` when not).

    ``needs`` are the order's lines with a known product (read from the database when not
    given). Each bin is taken with a conditional UPDATE; if one is no longer there (another
    terminal was faster) what this attempt took is given back and a new plan is made from
    fresh numbers.
    """
    if needs is None:
        needs = [Need(*row) for row in sql.order_lines(conn, order_id)]
    products = sorted({need.product_id for need in needs})
    for _ in range(ATTEMPTS):
        stock: dict[int, list[BinStock]] = defaultdict(list)
        for stock_id, product_id, bin_id, seq, available in sql.available_stock(conn, products):
            stock[product_id].append(BinStock(stock_id, bin_id, seq, available))
        plan = plan_reservation(needs, stock)
        if not plan.complete:
            return plan
        taken: list[tuple[int, int]] = []
        # Rows are updated in one global order (by id), so two terminals reserving the same
        # bins can never wait on each other in a circle (a deadlock on PostgreSQL).
        for take in sorted(plan.takes, key=lambda t: t.stock_id):
            if not sql.reserve(conn, take.stock_id, take.quantity):
                break
            taken.append((take.stock_id, take.quantity))
        else:
            sql.insert_tasks(
                conn,
                [
                    (order_id, t.line_id, t.product_id, t.bin_id, seq, t.quantity)
                    for seq, t in enumerate(plan.takes, start=1)
                ],
                at,
            )
            return plan
        for stock_id, quantity in taken:
            sql.unreserve(conn, stock_id, quantity)
    # Stock kept moving under us: treat as short for now; a retry will find it settled.
    return Plan((), tuple(sorted({n.sku for n in needs})))


def release_reservation(s: Session, order_id: int, at: datetime) -> int:
    """Give back what an order still has reserved (its open pick quantities); returns units.
    The tasks that stay (the ledger names them) are retired: closed, out of every pick list.

    The bins' stock rows are locked first, in the global order reservations lock in, then the
    tasks are read (and locked) afresh: a pick committing meanwhile on another terminal is
    either wholly before (its units are no longer open here) or waits until after."""
    on_stock = (Stock.product_id == PickTask.product_id) & (Stock.bin_id == PickTask.bin_id)
    stock_ids = s.scalars(
        select(Stock.id).join(PickTask, on_stock).where(PickTask.order_id == order_id)
    ).all()
    s.execute(
        select(Stock.id).where(Stock.id.in_(set(stock_ids))).order_by(Stock.id).with_for_update()
    )
    open_tasks = s.execute(
        select(PickTask.id, Stock.id.label("stock_id"), PickTask.quantity, PickTask.picked,
               PickTask.short)
        .join(Stock, on_stock)
        .where(PickTask.order_id == order_id)
        .order_by(Stock.id)
        .with_for_update(of=PickTask.__table__)
    ).all()  # fmt: skip
    released = 0
    for t in open_tasks:
        left = t.quantity - t.picked - t.short
        if left <= 0:
            continue
        s.execute(
            update(Stock).where(Stock.id == t.stock_id).values(reserved=Stock.reserved - left)
        )
        released += left
    untouched = [t.id for t in open_tasks if t.picked == 0 and t.short == 0]
    if untouched:
        # A task the ledger names (picked, then undone) stays, as the ledger's reference.
        in_ledger = select(StockMovement.id).where(StockMovement.pick_task_id == PickTask.id)
        s.execute(delete(PickTask).where(PickTask.id.in_(untouched), ~in_ledger.exists()))
    # Tasks that stay are closed: what they did not pick is no longer to be picked (so open
    # pick quantities keep matching stock.reserved), and retired.
    s.execute(
        update(PickTask)
        .where(PickTask.order_id == order_id, PickTask.retired_at.is_(None))
        .values(short=PickTask.quantity - PickTask.picked, retired_at=at)
    )
    return released


def put_back_picked(s: Session, actor: Actor, order_id: int, at: datetime) -> tuple[PutBack, ...]:
    """An order that stopped (held, cancelled) gives back the units it had picked, to the bins
    they came from: each is booked in the ledger (``put_back``) and on the bin's stock, and its
    task counts nothing picked any more. Returns what goes where, for the person who puts the
    units back. Called after :func:`release_reservation`, which locked the bins' stock rows.

    A bin being counted is not put back into (the count compares with on hand when it
    finishes: units slipped in after the counter passed would be written off as a shortage).
    A hold or a cancel is never refused for it: the units go to another bin of the product
    (:func:`_put_back_elsewhere`), and only when the floor has none, to the counted bin with
    the count's number as the ledger row's document — the person keeps them by the bin until
    the count closes, and the count adds them to what it found."""
    # Imported here: the counts package imports the picking station, which imports this module.
    from picker.services.counts.lock import lock_of

    rows = s.execute(
        select(PickTask.id, PickTask.product_id, PickTask.bin_id, PickTask.picked, Product.sku,
               Bin.code)
        .join(Product, Product.id == PickTask.product_id)
        .join(Bin, Bin.id == PickTask.bin_id)
        .where(PickTask.order_id == order_id, PickTask.picked > 0)
        .order_by(Bin.code, Product.sku, PickTask.id)
    ).all()  # fmt: skip
    where: list[tuple[str, str, int]] = []
    for r in rows:
        bin_id, code, document = r.bin_id, r.code, None
        counting = lock_of(s, r.bin_id)
        if counting is not None:
            other = _put_back_elsewhere(s, r.product_id, r.bin_id)
            if other is None:
                document, code = counting, f"{r.code} once {counting} closes (keep them by it)"
            else:
                bin_id, code = other
        s.execute(
            _upsert(s)(Stock)
            .values(product_id=r.product_id, bin_id=bin_id, on_hand=r.picked, reserved=0)
            .on_conflict_do_update(
                index_elements=["product_id", "bin_id"], set_={"on_hand": Stock.on_hand + r.picked}
            )
        )
        s.execute(
            insert(StockMovement).values(
                at=at, product_id=r.product_id, bin_id=bin_id, delta=r.picked,
                reason="put_back", operator_id=actor.operator_id, terminal_id=actor.terminal_id,
                source=actor.source, order_id=order_id, pick_task_id=r.id, document=document,
            )
        )  # fmt: skip
        s.execute(
            update(PickTask)
            .where(PickTask.id == r.id)
            .values(picked=0, short=PickTask.quantity, updated_at=at)
        )
        where.append((code, r.sku, r.picked))
    return put_backs(where)


def _upsert(s: Session) -> Any:
    return pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert


def _put_back_elsewhere(s: Session, product_id: int, counted_bin: int) -> tuple[int, str] | None:
    """(id, code) of the bin picked units go back to when theirs is being counted: the
    nearest (in walking order) active pick or reserve bin not locked by a count that holds the
    product (its pick faces first), else the nearest such bin that holds nothing. Its row is
    locked and the count lock checked again under it (a count may just have started there)."""
    from picker.services.counts.lock import hold_bin, lock_of

    seq = s.scalar(select(Bin.pick_seq).where(Bin.id == counted_bin)) or 0
    locked = (
        select(CountTask.id)
        .where(CountTask.bin_id == Bin.id, CountTask.status.in_(COUNT_LOCKING))
        .exists()
    )
    usable = and_(Bin.id != counted_bin, Bin.active.is_(True), Bin.role.in_(("pick", "reserve")),
                  ~locked)  # fmt: skip
    near = func.abs(Bin.pick_seq - seq)
    holding = (
        select(Bin.id, Bin.code)
        .join(Stock, Stock.bin_id == Bin.id)
        .where(usable, Stock.product_id == product_id)
        .order_by((Bin.role == "pick").desc(), near, Bin.code)
        .limit(3)
    )
    held_anything = select(Stock.id).where(Stock.bin_id == Bin.id, Stock.on_hand > 0).exists()
    empty = select(Bin.id, Bin.code).where(usable, ~held_anything).order_by(near, Bin.code).limit(3)
    for query in (holding, empty):
        for row in s.execute(query).all():
            hold_bin(s, row.id)
            if lock_of(s, row.id) is None:
                return int(row.id), str(row.code)
    return None


@dataclass(frozen=True)
class Assignment:
    order_number: str
    badge: str


def _cutoff_ranks(s: Session, now: datetime, tz: tzinfo) -> dict[int, int]:
    """Service id → its rank by next cutoff (0 = soonest); services without one are left out."""
    nexts = {}
    for service_id, cutoffs in s.execute(select(CourierService.id, CourierService.cutoffs)):
        at = next_cutoff(parse_cutoffs(cutoffs or ()), now, tz)
        if at is not None:
            nexts[service_id] = at
    rank = {at: n for n, at in enumerate(sorted(set(nexts.values())))}  # equal times tie
    return {service_id: rank[at] for service_id, at in nexts.items()}


def assign_ready(
    s: Session, actor: Actor, *, now: datetime, max_per_picker: int, tz: tzinfo,
    only: Collection[int] | None = None,
) -> list[Assignment]:  # fmt: skip
    """Assign reserved, unassigned orders to active pickers: most urgent first, least loaded
    picker first, never above ``max_per_picker`` open orders each. ``only``: of these orders
    (ids) alone — those a retry just released — instead of every ready order on the floor.

    The pickers' rows are locked first, so two terminals assigning at once take turns and no
    picker is given more than the limit.
    """
    pickers = s.execute(
        select(Operator.id, Operator.badge)
        .join(OperatorRole, OperatorRole.operator_id == Operator.id)
        .where(Operator.active.is_(True), OperatorRole.role == Role.PICKER)
        .order_by(Operator.id)
        .with_for_update(of=Operator.__table__)
    ).all()
    if not pickers:
        return []
    loads = dict.fromkeys((p.id for p in pickers), 0)
    for assignee, n in s.execute(
        select(Order.assignee_id, func.count())
        .where(Order.status.in_(PICKER_LOAD), Order.assignee_id.in_(loads))
        .group_by(Order.assignee_id)
    ):
        loads[assignee] = n
    capacity = sum(max(0, max_per_picker - n) for n in loads.values())
    if capacity == 0:
        return []
    badges = {p.id: p.badge for p in pickers}
    # Most urgent: express service, then the service's next cutoff (later today before
    # tomorrow's), then age. Services are few: their next cutoffs are ranked here and the
    # ranks handed to the query as a CASE on the order's service.
    soonest = _cutoff_ranks(s, now, tz)
    by_cutoff = [case(soonest, value=Order.service_id, else_=len(soonest))] if soonest else []
    reserved = (
        select(PickTask.id)
        .where(PickTask.order_id == Order.id, PickTask.retired_at.is_(None))
        .exists()
    )
    ready = s.execute(
        select(Order.id, Order.number, Order.version)
        .outerjoin(CourierService, CourierService.id == Order.service_id)
        .where(
            and_(Order.status == OrderStatus.UNHANDLED.value, Order.assignee_id.is_(None)),
            reserved,
            *([Order.id.in_(sorted(only))] if only is not None else []),
        )
        .order_by(
            CourierService.express.desc(),
            Order.priority.desc(),
            *by_cutoff,
            Order.placed_at,
            Order.id,
        )
        .limit(capacity)
    ).all()
    done: list[Assignment] = []
    for order in ready:
        picker = min((p for p in loads if loads[p] < max_per_picker), key=lambda p: (loads[p], p))
        savepoint = s.begin_nested()
        try:
            move_order(
                s,
                order_id=order.id,
                number=order.number,
                from_=OrderStatus.UNHANDLED,
                version=order.version,
                to=OrderStatus.ASSIGNED,
                actor=actor,
                reason=f"assigned to {badges[picker]}",
                at=now,
                assignee_id=picker,
            )
        except Conflict:  # changed meanwhile (cancelled, held): leave it
            savepoint.rollback()
            continue
        savepoint.commit()
        loads[picker] += 1
        done.append(Assignment(order.number, badges[picker]))
    return done


def assign_with_settings(
    s: Session, actor: Actor, settings: Settings, clock: Clock,
    only: Collection[int] | None = None,
) -> list[Assignment]:  # fmt: skip
    """Assign every ready order (or ``only`` these) as the settings say (pickers' limit, the
    warehouse time zone)."""
    return assign_ready(
        s,
        actor,
        now=clock(),
        max_per_picker=settings.intake.max_orders_per_picker,
        tz=settings.warehouse.tz,
        only=only,
    )
