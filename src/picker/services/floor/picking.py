"""The picker's station: the queue, orders started into totes, picks, undo and shortages.

Everything a picker does is settled in the database, so two terminals can never start the same
order or fill the same tote, and a pick is committed (stock, task, ledger, scan journal, and the
order's status when it was the last unit) before the screen says it was accepted. What a picker
has started is simply the orders in ``picking`` assigned to them: after a crash or a logout the
next login finds the same totes and the same counts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy import and_, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from picker.domain.cutoffs import is_late, next_cutoff, parse_cutoffs
from picker.domain.picking import PickLine, PutBack, put_backs, zones
from picker.domain.reservation import Need
from picker.domain.statuses import OrderStatus
from picker.domain.text import plural
from picker.services import scans
from picker.services.actors import Actor, Clock, allow, system_clock
from picker.services.counts.lock import lock_of
from picker.services.errors import Conflict, NotFound, ServiceError
from picker.services.intake.allocation import put_back_picked, release_reservation, reserve_order
from picker.services.orders.status import move_order
from picker.services.scans import ScanOutcome
from picker.store.engine import Database
from picker.store.models import (
    Bin,
    Courier,
    CourierService,
    Operator,
    Order,
    OrderLine,
    PickTask,
    Product,
    ProductBarcode,
    Return,
    Stock,
    StockMovement,
    Tote,
)

STATION = "picking"
#: How far back an undo looks in the operator's picks.
UNDO_DEPTH = 500
PROBLEM_SHELF = "problem_shelf"


class PickRefused(ServiceError):
    """A pick action the database refused (over-pick, an order no longer the picker's…)."""


#: What a picker refused at a counted bin does next.
NEXT_LINE = "go on to the next line; this one comes back when the count closes"


class BinCounted(PickRefused):
    """The line's bin is locked by a count: the picker goes on, the line comes back later."""

    def __init__(self, bin_code: str, number: str, then: str = NEXT_LINE) -> None:
        self.bin, self.number = bin_code, number
        super().__init__(f"{bin_code} is being counted ({number}) — {then}")


def _refuse_if_counted(s: Session, bin_id: int, bin_code: str) -> None:
    """One lookup in the partial unique index of active counts."""
    number = lock_of(s, bin_id)
    if number is not None:
        raise BinCounted(bin_code, number)


# --- the queue -------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueEntry:
    order_id: int
    number: str
    status: str
    lines: int
    units: int
    courier: str | None
    service: str | None
    express: bool
    cutoff_at: datetime | None
    """The service's next cutoff (UTC), later today or, when all went by, tomorrow's first."""
    placed_at: datetime
    zones: tuple[str, ...]
    tote: str | None
    late: bool = False
    """The last pickup of the day it was placed for went without it."""

    @property
    def started(self) -> bool:
        return self.status == OrderStatus.PICKING.value

    def minutes_to_cutoff(self, now: datetime) -> int | None:
        if self.cutoff_at is None:
            return None
        return int((self.cutoff_at - now).total_seconds() // 60)


def queue(db: Database, operator_id: int, *, now: datetime, tz: tzinfo) -> list[QueueEntry]:
    """The operator's orders: started ones first (to go on with), then most urgent first —
    express, then the service's next cutoff, then age."""
    mine = and_(
        Order.assignee_id == operator_id,
        Order.status.in_([OrderStatus.ASSIGNED.value, OrderStatus.PICKING.value]),
    )
    with db.read() as s:
        orders = s.execute(
            select(
                Order.id, Order.number, Order.status, Order.placed_at, Order.priority,
                Courier.code.label("courier"), CourierService.cutoffs,
                CourierService.code.label("service"), CourierService.express,
            )
            .outerjoin(Courier, Courier.id == Order.courier_id)
            .outerjoin(CourierService, CourierService.id == Order.service_id)
            .where(mine)
        ).all()  # fmt: skip
        ids = [o.id for o in orders]
        sizes = {
            r.order_id: (r.lines, r.units)
            for r in s.execute(
                select(
                    OrderLine.order_id,
                    func.count().label("lines"),
                    func.sum(OrderLine.quantity).label("units"),
                )
                .where(OrderLine.order_id.in_(ids))
                .group_by(OrderLine.order_id)
            )
        }
        visits: dict[int, list[str]] = defaultdict(list)
        for order_id, code in s.execute(
            select(PickTask.order_id, Bin.code)
            .join(Bin, Bin.id == PickTask.bin_id)
            .where(PickTask.order_id.in_(ids), PickTask.retired_at.is_(None))
        ):
            visits[order_id].append(code)
        totes = {
            r.order_id: r.code
            for r in s.execute(select(Tote.order_id, Tote.code).where(Tote.order_id.in_(ids)))
        }
    entries = []
    for o in orders:
        lines, units = sizes.get(o.id, (0, 0))
        cutoffs = parse_cutoffs(o.cutoffs or ())
        cutoff = next_cutoff(cutoffs, now, tz)
        entries.append(
            (
                (o.status != OrderStatus.PICKING.value, not o.express, -o.priority,
                 cutoff or datetime.max.replace(tzinfo=now.tzinfo), o.placed_at, o.id),
                QueueEntry(
                    o.id, o.number, o.status, lines, int(units or 0), o.courier, o.service,
                    bool(o.express), cutoff, o.placed_at, tuple(zones(visits[o.id])),
                    totes.get(o.id), is_late(cutoffs, o.placed_at, now, tz),
                ),
            )
        )  # fmt: skip
    return [entry for _, entry in sorted(entries, key=lambda pair: pair[0])]


# --- starting orders -------------------------------------------------------------------------


@dataclass(frozen=True)
class Started:
    order_number: str
    tote: str
    batch: int
    """How many orders the picker now has started (this one included)."""


def start_order(
    db: Database,
    actor: Actor,
    order_id: int,
    tote_code: str,
    *,
    batch_size: int,
    scan: ScanOutcome | None = None,
    screen: str = "queue",
    clock: Clock = system_clock,
) -> Started:
    """Bind ``tote_code`` to one of the picker's assigned orders and start picking it.

    Refused (nothing changes) when the order is not the picker's or not waiting, the tote holds
    another order, or the picker already has ``batch_size`` orders started. Two terminals racing
    for one order or one tote: the database lets exactly one through.
    """
    allow(actor, "floor.picking.start_order")
    operator_id = _operator_id(actor)
    now = clock()

    def work(s: Session) -> Started:
        # The picker's row first: one picker starting orders on two terminals at once takes
        # turns, so the batch limit holds (the same order as assigning: operator, then order).
        s.execute(select(Operator.id).where(Operator.id == operator_id).with_for_update())
        # Then the order's row: a second terminal starting it waits, then finds it started
        # (PostgreSQL; SQLite's writers take turns anyway).
        order = s.execute(
            select(Order.id, Order.number, Order.status, Order.version, Order.assignee_id)
            .where(Order.id == order_id)
            .with_for_update()
        ).one_or_none()
        if order is None:
            raise NotFound(f"order {order_id} does not exist")
        if order.assignee_id != operator_id or order.status != OrderStatus.ASSIGNED.value:
            raise Conflict(f"{order.number} is not waiting for you (it is {order.status})")
        started = s.scalar(
            select(func.count())
            .select_from(Order)
            .where(Order.assignee_id == operator_id, Order.status == OrderStatus.PICKING.value)
        )
        if started and started >= batch_size:
            raise PickRefused(
                f"You already have {plural(started, 'order')} started (at most {batch_size} at "
                "once). "
                "Press Enter to pick them."
            )
        tote_id = _bind_tote(s, tote_code, order.id, order.number, now)
        move_order(
            s,
            order_id=order.id,
            number=order.number,
            from_=OrderStatus.ASSIGNED,
            version=order.version,
            to=OrderStatus.PICKING,
            actor=actor,
            reason=f"picking into tote {tote_code}",
            at=now,
            held_by_terminal=actor.terminal_id,
        )
        s.execute(
            update(PickTask)
            .where(PickTask.order_id == order.id, PickTask.retired_at.is_(None))
            .values(tote_id=tote_id, picker_id=operator_id, updated_at=now)
        )
        if scan is not None:
            scans.journal(s, actor, STATION, screen, scan.for_order(order.id), at=now)
        return Started(order.number, tote_code, (started or 0) + 1)

    return db.run(work)


def _bind_tote(s: Session, code: str, order_id: int, number: str, now: datetime) -> int:
    """The tote's id, now bound to the order; refused when it carries another order."""
    row = s.execute(
        select(Tote.id, Tote.order_id, Tote.active).where(Tote.code == code)
    ).one_or_none()
    if row is None:
        # A new tote is registered by its first use; a second terminal doing the same at the
        # same moment hits the unique code and is told to scan again.
        try:
            with s.begin_nested():
                tote_id = s.scalar(insert(Tote).values(code=code).returning(Tote.id))
        except IntegrityError:
            raise Conflict(
                f"tote {code} was just registered on another terminal; scan again"
            ) from None
        assert tote_id is not None
    else:
        tote_id = row.id
        if not row.active:
            raise PickRefused(f"Tote {code} is retired. Take another tote.")
        if row.order_id is not None:
            holder = s.scalar(select(Order.number).where(Order.id == row.order_id))
            raise PickRefused(f"Tote {code} is in use for {holder}. Take an empty tote.")
    bound = s.execute(
        update(Tote)
        .where(Tote.id == tote_id, Tote.order_id.is_(None))
        .values(order_id=order_id, bound_at=now, location=None)
    )
    if bound.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"tote {code} was just taken on another terminal. Take an empty tote.")
    return tote_id


# --- the pick list ---------------------------------------------------------------------------


def pick_list(db: Database, operator_id: int) -> list[PickLine]:
    """Every pick task of the orders the operator has started, with what the screen shows."""
    with db.read() as s:
        rows = s.execute(
            select(
                PickTask.id, PickTask.order_id, Order.number, Tote.code.label("tote"),
                Bin.code.label("bin"), Bin.pick_seq, PickTask.product_id, Product.sku,
                Product.name, PickTask.quantity, PickTask.picked, PickTask.short,
                Return.number.label("exchange"),
            )
            .join(Order, Order.id == PickTask.order_id)
            .join(Bin, Bin.id == PickTask.bin_id)
            .join(Product, Product.id == PickTask.product_id)
            .outerjoin(Tote, Tote.order_id == Order.id)
            .outerjoin(Return, Return.id == Order.exchange_for_return_id)
            .where(Order.assignee_id == operator_id, Order.status == OrderStatus.PICKING.value,
                   PickTask.retired_at.is_(None))
        ).all()  # fmt: skip
        codes: dict[int, set[str]] = defaultdict(set)
        for product_id, barcode in s.execute(
            select(ProductBarcode.product_id, ProductBarcode.barcode).where(
                ProductBarcode.product_id.in_({r.product_id for r in rows})
            )
        ):
            codes[product_id].add(barcode)
    return [
        PickLine(
            r.id, r.order_id, r.number, r.tote or "", r.bin, r.pick_seq, r.product_id, r.sku,
            r.name, frozenset(codes[r.product_id]), r.quantity, r.picked, r.short, r.exchange,
        )
        for r in rows
    ]  # fmt: skip


# --- picks -----------------------------------------------------------------------------------


def scan_bin(
    db: Database,
    actor: Actor,
    task_id: int,
    *,
    scan: ScanOutcome | None = None,
    screen: str = "pick",
    clock: Clock = system_clock,
) -> None:
    """The picker is at the line's bin: the scan journaled, unless the bin is being counted —
    then refused (:class:`BinCounted`): the picker goes on to the next line and this one comes
    back at the end of the walk. Costs one lookup in the index of active counts."""
    allow(actor, "floor.picking.scan_bin")
    now = clock()

    def work(s: Session) -> None:
        row = s.execute(
            select(PickTask.bin_id, PickTask.order_id, Bin.code)
            .join(Bin, Bin.id == PickTask.bin_id)
            .where(PickTask.id == task_id)
        ).one_or_none()
        if row is None:
            raise Conflict(_LINE_GONE)
        _refuse_if_counted(s, row.bin_id, row.code)
        if scan is not None:
            scans.journal(s, actor, STATION, screen, scan.for_order(row.order_id), at=now)

    db.run(work)


@dataclass(frozen=True)
class PickDone:
    order_number: str
    sku: str
    quantity: int
    left: int
    """Still to pick on this line."""
    order_picked: bool
    """That was the order's last unit: it is now ``picked``."""
    tote: str


def pick(
    db: Database,
    actor: Actor,
    task_id: int,
    quantity: int,
    *,
    scans_: Sequence[ScanOutcome] = (),
    screen: str = "pick",
    clock: Clock = system_clock,
) -> PickDone:
    """Take ``quantity`` units for a pick task, in one transaction: the task, the bin's stock
    (on hand and reserved), the ledger, the scan journal and — after the order's last unit —
    the order (``picked``) and its tote (to packing)."""
    allow(actor, "floor.picking.pick")
    operator_id = _operator_id(actor)
    now = clock()
    if quantity < 1:
        raise PickRefused("a pick is of 1 unit or more")

    def work(s: Session) -> PickDone:
        task = _my_task(s, task_id, operator_id)
        _refuse_if_counted(s, task.bin_id, task.bin)
        taken = s.execute(
            update(PickTask)
            .where(
                PickTask.id == task_id,
                PickTask.picked + PickTask.short + quantity <= PickTask.quantity,
            )
            .values(picked=PickTask.picked + quantity, updated_at=now)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            left = task.quantity - task.picked - task.short
            raise PickRefused(f"Only {left} of {task.sku} left to pick; {quantity} is too many.")
        moved = s.execute(
            update(Stock)
            .where(Stock.id == task.stock_id, Stock.reserved >= quantity)
            .values(on_hand=Stock.on_hand - quantity, reserved=Stock.reserved - quantity)
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(f"the stock of {task.sku} in {task.bin} changed; ask the shift lead")
        _ledger(s, actor, task, -quantity, "pick", now)
        for outcome in scans_:
            scans.journal(s, actor, STATION, screen, outcome.for_order(task.order_id), at=now)
        finished = _finish_if_done(s, actor, task.order_id, now)
        return PickDone(
            task.number,
            task.sku,
            quantity,
            task.quantity - task.picked - task.short - quantity,
            finished,
            task.tote or "",
        )

    return db.run(work)


@dataclass(frozen=True)
class Undone:
    order_number: str
    sku: str
    bin: str
    quantity: int


def undo_last_pick(
    db: Database,
    actor: Actor,
    *,
    scan: ScanOutcome | None = None,
    screen: str = "pick",
    clock: Clock = system_clock,
) -> Undone | None:
    """Put back the operator's last pick that is not undone yet; None when there is nothing to
    undo. If that pick finished its order (now picked, gone to packing) it is refused by name —
    never silently replaced by an earlier pick of another order."""
    allow(actor, "floor.picking.undo_last_pick")
    operator_id = _operator_id(actor)
    now = clock()

    def work(s: Session) -> Undone | None:
        moves = s.execute(
            select(StockMovement.pick_task_id, StockMovement.delta, StockMovement.reason)
            .join(PickTask, PickTask.id == StockMovement.pick_task_id)
            .join(Order, Order.id == PickTask.order_id)
            .where(
                Order.assignee_id == operator_id,
                StockMovement.operator_id == operator_id,
                StockMovement.reason.in_(("pick", "unpick")),
                PickTask.retired_at.is_(None),  # picks of a stopped attempt went back already
            )
            .order_by(StockMovement.id.desc())
            .limit(UNDO_DEPTH)
        ).all()
        undone_after = 0
        target = None
        for move in moves:  # newest first: each unpick cancels the pick before it
            if move.reason == "unpick":
                undone_after += 1
            elif undone_after:
                undone_after -= 1
            else:
                target = move
                break
        if target is None:
            return None
        owner = s.execute(
            select(Order.number, Order.status)
            .join(PickTask, PickTask.order_id == Order.id)
            .where(PickTask.id == target.pick_task_id)
        ).one()
        if owner.status != OrderStatus.PICKING.value:
            raise PickRefused(
                f"Your last pick finished {owner.number} (now {owner.status}): it cannot be "
                "undone here. Take the item out at packing or ask the shift lead."
            )
        task = _my_task(s, target.pick_task_id, operator_id)  # its stock row locked
        counting = lock_of(s, task.bin_id)
        if counting is not None:
            # The count compares with on hand when it finishes: a unit put back after the
            # counter passed would be written off as a shortage.
            raise BinCounted(
                task.bin, counting,
                "keep the unit in the tote; undo it once the count closes, or ask the shift lead",
            )  # fmt: skip
        quantity = -target.delta
        back = s.execute(
            update(PickTask)
            .where(PickTask.id == task.id, PickTask.picked >= quantity)
            .values(picked=PickTask.picked - quantity, updated_at=now)
        )
        if back.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict("that pick was changed on another terminal; nothing was undone")
        s.execute(
            update(Stock)
            .where(Stock.id == task.stock_id)
            .values(on_hand=Stock.on_hand + quantity, reserved=Stock.reserved + quantity)
        )
        _ledger(s, actor, task, quantity, "unpick", now)
        if scan is not None:
            scans.journal(s, actor, STATION, screen, scan.for_order(task.order_id), at=now)
        return Undone(task.number, task.sku, task.bin, quantity)

    return db.run(work)


# --- shortages -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Held:
    """An order a shortage put on hold: its tote (if it was being picked) goes to the problem
    shelf, and what was picked into it goes back to its bins."""

    number: str
    tote: str | None
    put_back: tuple[PutBack, ...]
    picker_id: int | None
    """Who was picking it (None when it was not started yet)."""


@dataclass(frozen=True)
class Shortage:
    order_number: str
    sku: str
    missing: int
    replacement_bins: tuple[str, ...]
    """Bins the missing units are now reserved from (new lines in the walk); empty when none."""
    on_hold: bool
    """No stock elsewhere: the order is on hold and its tote goes to the problem shelf."""
    tote: str
    put_back: tuple[PutBack, ...]
    """Units already picked into the tote of a held order, to go back to their bins."""
    others_held: tuple[Held, ...]
    """Other orders that had units reserved in this bin and could not be covered elsewhere."""

    def mine_held(self, operator_id: int) -> tuple[Held, ...]:
        """Other orders held that this picker was picking (the same batch): their totes too go
        to the problem shelf."""
        return tuple(h for h in self.others_held if h.picker_id == operator_id and h.tote)


def report_shortage(
    db: Database,
    actor: Actor,
    task_id: int,
    found: int,
    *,
    scan: ScanOutcome | None = None,
    screen: str = "pick",
    clock: Clock = system_clock,
) -> Shortage:
    """The picker found only ``found`` units in the bin for a line that needs more.

    The bin's stock becomes ``found`` (a counted correction in the ledger, with who). This line
    keeps what is there; the rest is reserved from other bins if any have it (new lines in the
    walk), otherwise the order goes on hold (``short: SKU``), its reservation is given back and
    its tote goes to the problem shelf with what was picked listed for put-back. Other orders
    that had units reserved in this bin are moved to other bins the same way, or held (their
    totes, if started, to the problem shelf too).
    """
    allow(actor, "floor.picking.report_shortage")
    operator_id = _operator_id(actor)
    now = clock()

    def work(s: Session) -> Shortage:
        task = _my_task(s, task_id, operator_id)  # the bin's stock row is locked first
        _refuse_if_counted(s, task.bin_id, task.bin)
        left = task.quantity - task.picked - task.short
        if not 0 <= found < left:
            raise PickRefused(
                f"{found} in the bin: that is no shortage for the {left} left to pick."
            )
        missing = left - found
        on_hand = s.scalar(select(Stock.on_hand).where(Stock.id == task.stock_id))
        # Everyone else's reservation in this bin is void: the bin holds only what this line
        # can still take.
        others = s.execute(
            select(PickTask.id, PickTask.order_id, PickTask.order_line_id, PickTask.quantity,
                   PickTask.picked, PickTask.short)
            .where(PickTask.product_id == task.product_id, PickTask.bin_id == task.bin_id,
                   PickTask.id != task.id,
                   PickTask.picked + PickTask.short < PickTask.quantity)
            .order_by(PickTask.id)
            .with_for_update()
        ).all()  # fmt: skip
        voided = [(task.id, missing)] + [(o.id, o.quantity - o.picked - o.short) for o in others]
        for voided_id, gone in voided:
            s.execute(
                update(PickTask)
                .where(PickTask.id == voided_id)
                .values(short=PickTask.short + gone, updated_at=now)
            )
        corrected = update(Stock).where(Stock.id == task.stock_id)
        s.execute(corrected.values(on_hand=found, reserved=found))
        if found != on_hand:
            _ledger(s, actor, task, found - (on_hand or 0), "count", now)
        if scan is not None:
            scans.journal(s, actor, STATION, screen, scan.for_order(task.order_id), at=now)
        # What each order lost in this bin, line by line: each order is covered (or held) once,
        # even when two of its lines (or other orders' lines) were reserved here.
        lost: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        lost[task.order_id][task.order_line_id] += missing
        for other in others:
            lost[other.order_id][other.order_line_id] += other.quantity - other.picked - other.short
        bins, held = cover_elsewhere(s, actor, task.order_id, lost.pop(task.order_id), now)
        put_back = held.put_back if held else ()
        others_held: list[Held] = []
        for other_order, lines in sorted(lost.items()):
            _, other_held = cover_elsewhere(s, actor, other_order, lines, now)
            if other_held is not None:
                others_held.append(other_held)
        return Shortage(
            task.number, task.sku, missing, bins, held is not None, task.tote or "", put_back,
            tuple(others_held),
        )  # fmt: skip

    return db.run(work)


def cover_elsewhere(
    s: Session, actor: Actor, order_id: int, missing: dict[int, int], now: datetime
) -> tuple[tuple[str, ...], Held | None]:
    """Reserve the ``missing`` units (line id → units) of one order from other bins, all or
    nothing (new pick tasks, bound to the order's tote and picker); else put the order on hold,
    its tote (if started) to the problem shelf. Returns (bins, the order held). An order no
    longer waiting or being picked is left."""
    order = s.execute(
        select(Order.number, Order.status, Order.version, Order.assignee_id, Order.hold_reasons)
        .where(Order.id == order_id)
    ).one()  # fmt: skip
    waiting = (OrderStatus.UNHANDLED, OrderStatus.ASSIGNED, OrderStatus.PICKING)
    if order.status not in {w.value for w in waiting}:
        return (), None
    lines = s.execute(
        select(OrderLine.id, OrderLine.product_id, OrderLine.sku).where(OrderLine.id.in_(missing))
    ).all()
    needs = [Need(ln.id, ln.product_id, ln.sku, missing[ln.id]) for ln in lines
             if ln.product_id is not None and missing[ln.id] > 0]  # fmt: skip
    if not needs:
        return (), None
    before = set(s.scalars(select(PickTask.id).where(PickTask.order_id == order_id)))
    plan = reserve_order(s.connection(), order_id, now, needs)
    if plan.complete:
        new = [t for t in s.scalars(select(PickTask.id).where(PickTask.order_id == order_id))
               if t not in before]  # fmt: skip
        tote_id = s.scalar(select(Tote.id).where(Tote.order_id == order_id))
        if new and order.status == OrderStatus.PICKING.value:
            s.execute(
                update(PickTask)
                .where(PickTask.id.in_(new))
                .values(tote_id=tote_id, picker_id=order.assignee_id)
            )
        bins = s.scalars(
            select(Bin.code).join(PickTask, PickTask.bin_id == Bin.id).where(PickTask.id.in_(new))
        ).all()
        return tuple(bins), None
    reason = "short: " + ", ".join(sorted({n.sku for n in needs}))
    picking = order.status == OrderStatus.PICKING.value
    tote = s.scalar(select(Tote.code).where(Tote.order_id == order_id)) if picking else None
    release_reservation(s, order_id, now)
    put_back: tuple[PutBack, ...] = ()
    if picking:  # the picker puts back what was picked, then takes the tote to the shelf
        put_back = put_back_picked(s, actor, order_id, now)
        s.execute(update(Tote).where(Tote.order_id == order_id).values(location=PROBLEM_SHELF))
    move_order(
        s,
        order_id=order_id,
        number=order.number,
        from_=order.status,
        version=order.version,
        to=OrderStatus.ON_HOLD,
        actor=actor,
        reason=reason,
        at=now,
        hold_reasons=[*(order.hold_reasons or []), reason],
        held_by_terminal=None,
    )
    return (), Held(order.number, tote, put_back, order.assignee_id if picking else None)


# --- shared ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Task:
    id: int
    order_id: int
    order_line_id: int
    number: str
    product_id: int
    sku: str
    bin_id: int
    bin: str
    stock_id: int
    tote: str | None
    quantity: int
    picked: int
    short: int


def _my_task(s: Session, task_id: int, operator_id: int) -> _Task:
    """The task, if it belongs to an order the operator is picking; else refused.

    Locks, in the order every picking transaction takes them (so two never wait on each other
    in a circle on PostgreSQL): the bin's stock row, then the task. The order's row comes
    later (its status moves)."""
    where = s.execute(
        select(Stock.id)
        .join(PickTask, (PickTask.product_id == Stock.product_id)
              & (PickTask.bin_id == Stock.bin_id))
        .where(PickTask.id == task_id)
        .with_for_update(of=Stock.__table__)
    ).one_or_none()  # fmt: skip
    if where is None:
        raise Conflict(_LINE_GONE)
    row = s.execute(
        select(
            PickTask.id, PickTask.order_id, PickTask.order_line_id, Order.number,
            PickTask.product_id, Product.sku, PickTask.bin_id, Bin.code.label("bin"),
            Tote.code.label("tote"), PickTask.quantity, PickTask.picked, PickTask.short,
            Order.status, Order.assignee_id, Order.hold_reasons,
        )
        .join(Order, Order.id == PickTask.order_id)
        .join(Product, Product.id == PickTask.product_id)
        .join(Bin, Bin.id == PickTask.bin_id)
        .outerjoin(Tote, Tote.order_id == Order.id)
        .where(PickTask.id == task_id)
        .with_for_update(of=PickTask.__table__)
    ).one_or_none()  # fmt: skip
    if row is None:  # given back by a shortage on another terminal while we waited for the bin
        raise Conflict(_LINE_GONE)
    if row.assignee_id != operator_id or row.status != OrderStatus.PICKING.value:
        if row.status == OrderStatus.ON_HOLD.value and row.tote:
            held = Gone(row.number, row.status, row.tote, tuple(row.hold_reasons or ()))
            raise Conflict(held.words)
        raise Conflict(f"{row.number} is no longer yours to pick (it is {row.status})")
    return _Task(
        row.id, row.order_id, row.order_line_id, row.number, row.product_id, row.sku,
        row.bin_id, row.bin, where.id, row.tote, row.quantity, row.picked, row.short,
    )  # fmt: skip


_LINE_GONE = "That line is no longer to be picked: it changed on another terminal. Look again."


@dataclass(frozen=True)
class Gone:
    """An order that left a picker's walk without the picker finishing it."""

    number: str
    status: str
    tote: str | None
    reasons: tuple[str, ...]
    put_back: tuple[PutBack, ...] = ()
    """What its tote held, booked back to these bins when it was held: to be put there."""

    @property
    def words(self) -> str:
        why = "; ".join(self.reasons) or "by the shift lead"
        if self.status == OrderStatus.ON_HOLD.value:
            back = "; ".join(f"{p.quantity} × {p.sku} → {p.bin}" for p in self.put_back)
            where = f" Put back {back}, then take" if back else " Take"
            where = f"{where} tote {self.tote} to the problem shelf." if self.tote else ""
            return f"{self.number} was put on hold ({why}).{where}"
        if self.status in (OrderStatus.PICKING.value, OrderStatus.ASSIGNED.value):
            hand = f" Hand tote {self.tote} to them." if self.tote else ""
            return f"{self.number} was given to another picker.{hand}"
        return f"{self.number} is no longer yours to pick (it is {self.status})."


def gone(db: Database, order_ids: Sequence[int]) -> list[Gone]:
    """What became of orders that left the walk (held by a shortage elsewhere, taken over,
    cancelled); orders that were finished (picked) are not listed."""
    if not order_ids:
        return []
    with db.read() as s:
        rows = s.execute(
            select(Order.id, Order.number, Order.status, Order.hold_reasons, Tote.code)
            .outerjoin(Tote, Tote.order_id == Order.id)
            .where(Order.id.in_(order_ids), Order.status != OrderStatus.PICKED.value)
            .order_by(Order.number)
        ).all()
        # The put-back a shortage elsewhere booked for them: the units of their retired tasks.
        back: dict[int, list[tuple[str, str, int]]] = defaultdict(list)
        for order_id, code, sku, n in s.execute(
            select(PickTask.order_id, Bin.code, Product.sku, StockMovement.delta)
            .join(PickTask, PickTask.id == StockMovement.pick_task_id)
            .join(Product, Product.id == StockMovement.product_id)
            .join(Bin, Bin.id == StockMovement.bin_id)
            .where(StockMovement.order_id.in_(order_ids), StockMovement.reason == "put_back",
                   PickTask.retired_at.is_not(None))
        ):  # fmt: skip
            back[order_id].append((code, sku, n))
    return [
        Gone(r.number, r.status, r.code, tuple(r.hold_reasons or ()), put_backs(back[r.id]))
        for r in rows
    ]


def _ledger(s: Session, actor: Actor, task: _Task, delta: int, reason: str, now: datetime) -> None:
    s.execute(
        insert(StockMovement).values(
            at=now, product_id=task.product_id, bin_id=task.bin_id, delta=delta, reason=reason,
            operator_id=actor.operator_id, terminal_id=actor.terminal_id, source=actor.source,
            order_id=task.order_id, pick_task_id=task.id,
        )
    )  # fmt: skip


def _finish_if_done(s: Session, actor: Actor, order_id: int, now: datetime) -> bool:
    open_left = exists().where(
        PickTask.order_id == order_id,
        PickTask.picked + PickTask.short < PickTask.quantity,
    )
    order = s.execute(
        select(Order.number, Order.version, open_left.label("open_left")).where(
            Order.id == order_id
        )
    ).one()
    if order.open_left:
        return False
    move_order(
        s,
        order_id=order_id,
        number=order.number,
        from_=OrderStatus.PICKING,
        version=order.version,
        to=OrderStatus.PICKED,
        actor=actor,
        reason="every line picked",
        at=now,
        held_by_terminal=None,
    )
    s.execute(update(Tote).where(Tote.order_id == order_id).values(location="packing"))
    return True


def _operator_id(actor: Actor) -> int:
    if actor.operator_id is None:
        raise PickRefused("log in to pick")
    return actor.operator_id
