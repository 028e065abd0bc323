"""Replenishment: pick faces refilled from reserve by scan.

A lead gives pick faces their levels (:func:`set_bin`: ``picker bin set``) and plans the moves
(:func:`plan_replenishment`: ``picker replenish plan``): one move task (MOV-000045) per product
and face whose stock fell below its ``min_qty``, or whose free stock is short of today's demand,
from the nearest reserve bin that has the units free.

At the moves screen a picker (or a receiver) does a move by scans: the reserve bin (or the MOV
number) claims the task for the terminal (:func:`start_move`; a second terminal is told who has
it), the item is checked (:func:`check_item`), the count keyed, and the scan of the pick face
moves the stock in one transaction (:func:`do_move`): a ``move`` ledger row out of the reserve
bin, never below what is reserved there, and one into the face, both with the MOV number.

A bin being counted (a ``count_tasks`` row of it in ``COUNT_LOCKING``) is neither moved from nor
into; planning skips it and says so.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from picker.config import Settings
from picker.domain.ean import gtin_spellings
from picker.services import scans
from picker.services.actors import Actor, Clock, allow, system_clock
from picker.services.errors import NotFound, ServiceError
from picker.services.scans import ScanOutcome
from picker.store.engine import Database
from picker.store.models import (
    COUNT_LOCKING,
    MOVE_ACTIVE,
    MOVE_STATUSES,
    Bin,
    CountTask,
    MoveTask,
    Operator,
    Order,
    PickTask,
    Product,
    ProductBarcode,
    Stock,
    StockMovement,
)

__all__ = [
    "BinRefused",
    "BinView",
    "MoveBusy",
    "MoveDone",
    "MoveRefused",
    "MoveSummary",
    "MoveView",
    "Plan",
    "Skipped",
    "bin_view",
    "cancel_move",
    "check_item",
    "do_move",
    "held_here",
    "list_moves",
    "lock_of",
    "move_view",
    "park_move",
    "plan_replenishment",
    "set_bin",
    "start_move",
]

#: The station and screen the scan journal names for a move's scans.
STATION = "moves"
SCREEN = "moves"
#: The roles ``bin set`` may give (``pickface`` is said for ``pick``).
SETTABLE_ROLES = ("pick", "reserve")
ROLE_WORDS = {"pickface": "pick", "pick-face": "pick", "pick": "pick", "reserve": "reserve"}
#: Orders whose unpicked tasks are today's demand on a face.
DEMAND_STATUSES = ("unhandled", "assigned", "picking")
MOVE_REASON = "move"


class BinRefused(ServiceError):
    """``bin set`` refused: the message names the bin and what is wrong; nothing changed."""


class MoveRefused(ServiceError):
    """A move refused: the message names what is wrong and what to do; nothing changed."""


class MoveBusy(MoveRefused):
    """The move is being done at another terminal."""

    def __init__(self, number: str, terminal: str, operator: str | None) -> None:
        self.number, self.terminal, self.operator = number, terminal, operator
        by = f" by {operator}" if operator else ""
        super().__init__(f"{number} is being moved at {terminal}{by} — scan another move")


# --- shapes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BinView:
    code: str
    zone: str
    role: str
    active: bool
    min_qty: int | None
    max_qty: int | None
    counted_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            "bin": self.code,
            "zone": self.zone,
            "role": self.role,
            "active": self.active,
            "min_qty": self.min_qty,
            "max_qty": self.max_qty,
            "counted_at": None if self.counted_at is None else self.counted_at.isoformat(),
        }


@dataclass(frozen=True)
class MoveSummary:
    """One move task, as lists show it."""

    number: str
    sku: str
    name: str
    from_bin: str
    to_bin: str
    quantity: int
    moved: int
    status: str
    #: ``below_min`` or ``demand``.
    reason: str
    held_by_terminal: str | None
    created_at: datetime

    @property
    def remaining(self) -> int:
        return max(0, self.quantity - self.moved)

    def as_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "sku": self.sku,
            "name": self.name,
            "from_bin": self.from_bin,
            "to_bin": self.to_bin,
            "quantity": self.quantity,
            "moved": self.moved,
            "remaining": self.remaining,
            "status": self.status,
            "reason": self.reason,
            "held_by_terminal": self.held_by_terminal,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class Skipped:
    """A face that needed stock and got no move: why (in words)."""

    sku: str
    bin: str
    why: str

    def as_json(self) -> dict[str, Any]:
        return {"sku": self.sku, "bin": self.bin, "why": self.why}


@dataclass(frozen=True)
class Plan:
    """What :func:`plan_replenishment` did: the moves it made, the faces it left and why."""

    moves: tuple[MoveSummary, ...]
    skipped: tuple[Skipped, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "moves": [m.as_json() for m in self.moves],
            "skipped": [k.as_json() for k in self.skipped],
        }


@dataclass(frozen=True)
class MoveView:
    """The move a terminal works on."""

    summary: MoveSummary
    #: Other active moves from the same reserve bin (their numbers), after this one.
    also_from_bin: tuple[str, ...] = ()

    @property
    def number(self) -> str:
        return self.summary.number


@dataclass(frozen=True)
class MoveDone:
    """A move's stock moved: how many, where, and the task as it now stands."""

    number: str
    sku: str
    units: int
    from_bin: str
    to_bin: str
    #: The task is done (moved its quantity); else it waits, planned, with the remainder.
    done: bool
    remaining: int
    #: On hand in the face after the move.
    face_on_hand: int


# --- the count lock --------------------------------------------------------------------------


def lock_of(s: Session, bin_id: int) -> str | None:
    """The count (CNT-…) locking the bin, or None: one indexed look-up. Replaced by
    ``picker.services.counts.lock_of`` once branch count-core is merged."""
    return s.scalar(
        select(CountTask.number)
        .where(CountTask.bin_id == bin_id, CountTask.status.in_(COUNT_LOCKING))
        .limit(1)
    )


def _refuse_if_locked(s: Session, bin_id: int, code: str, then: str) -> None:
    # The bin's row shared first (a count starting takes it exclusively): the move either
    # commits before the count's round reads the stock or waits and finds the bin locked.
    s.execute(select(Bin.id).where(Bin.id == bin_id).with_for_update(read=True)).all()
    count = lock_of(s, bin_id)
    if count is not None:
        raise MoveRefused(f"{code} is being counted ({count}) — {then}")


# --- bins: role and levels -------------------------------------------------------------------


def set_bin(
    db: Database,
    actor: Actor,
    code: str,
    *,
    role: str | None = None,
    min_qty: int | None = None,
    max_qty: int | None = None,
    clear_levels: bool = False,
) -> BinView:
    """A bin's role (``pick`` — said ``pickface`` too — or ``reserve``) and a pick face's
    levels: ``min_qty`` and ``max_qty`` both or neither, min ≤ max, max ≥ 1; ``clear_levels``
    removes them. Quarantine and receiving bins are not changed here (the bin import and the
    returns desk own them), and a reserve bin has no levels. Lead only."""
    allow(actor, "replenish.set_bin")
    code = code.strip().upper()
    wanted: str | None = None
    if role is not None:
        wanted = ROLE_WORDS.get(role.strip().lower())
        if wanted is None:
            raise BinRefused(f"{role!r} is not a role bin set gives: pickface (pick) or reserve")
    if (min_qty is None) != (max_qty is None):
        raise BinRefused(f"{code}: give both --min and --max (or --no-levels to clear them)")
    if clear_levels and min_qty is not None:
        raise BinRefused(f"{code}: --no-levels clears the levels; do not give --min/--max too")
    if min_qty is not None and max_qty is not None:
        if min_qty < 0 or max_qty < 1:
            raise BinRefused(f"{code}: --min must be 0 or more and --max 1 or more")
        if min_qty > max_qty:
            raise BinRefused(
                f"{code}: --min {min_qty} is above --max {max_qty}; the face is refilled "
                "below min up to max"
            )
    if wanted is None and min_qty is None and not clear_levels:
        raise BinRefused(f"{code}: say what to set (--role, --min/--max or --no-levels)")

    def work(s: Session) -> BinView:
        b = s.scalars(select(Bin).where(Bin.code == code).with_for_update()).one_or_none()
        if b is None:
            raise BinRefused(f"there is no bin {code}; add it with picker bin import")
        if b.role not in SETTABLE_ROLES:
            raise BinRefused(
                f"{code} is the {b.role} bin: bin set changes pick faces and reserve bins only"
            )
        role_after = wanted or b.role
        if clear_levels:
            levels: tuple[int | None, int | None] = (None, None)
        elif min_qty is not None:
            levels = (min_qty, max_qty)
        else:
            levels = (b.min_qty, b.max_qty)
        if role_after == "reserve" and levels[0] is not None:
            raise BinRefused(
                f"{code}: a reserve bin has no levels (it refills pick faces); "
                + ("give --no-levels too" if b.min_qty is not None else "drop --min/--max")
            )
        b.role = role_after
        b.min_qty, b.max_qty = levels
        s.flush()
        return _bin_view(b)

    return db.run(work)


def _bin_view(b: Bin) -> BinView:
    return BinView(b.code, b.zone, b.role, b.active, b.min_qty, b.max_qty, b.counted_at)


def bin_view(db: Database, code: str) -> BinView:
    with db.read() as s:
        b = s.scalars(select(Bin).where(Bin.code == code.strip().upper())).one_or_none()
        if b is None:
            raise NotFound(f"there is no bin {code.strip().upper()}")
        return _bin_view(b)


# --- planning --------------------------------------------------------------------------------


@dataclass
class _Face:
    product_id: int
    sku: str
    bin_id: int
    code: str
    seq: int
    on_hand: int
    reserved: int
    min_qty: int
    max_qty: int
    demand: int = 0


def plan_replenishment(
    db: Database, actor: Actor, *, settings: Settings, clock: Clock = system_clock
) -> Plan:
    """Move tasks for every pick face with levels whose on hand is below ``min_qty``, or whose
    free stock (on hand − reserved) is below today's demand on it (its product's unpicked pick
    tasks there, of orders placed within ``[replenish] demand_hours``): enough units to reach
    ``max_qty`` or to cover the demand, whichever is more, from free reserve stock (less what
    active moves already take from it). The reserve bin is the nearest in walking order that
    has all of it free, else the one with the most free (one move per face and product: the
    rest is planned when it is done). Skipped, and said so: a face that already has an active
    move, a face being counted, a face with no free reserve stock (locked reserve bins are not
    taken from). Lead only."""
    allow(actor, "replenish.plan_replenishment")
    now = clock()
    since = now - timedelta(hours=settings.replenish.demand_hours)

    def work(s: Session) -> Plan:
        faces = _faces(s, since)
        moves: list[int] = []
        skipped: list[Skipped] = []
        active = {
            (p, b): n
            for p, b, n in s.execute(
                select(MoveTask.product_id, MoveTask.to_bin_id, MoveTask.number).where(
                    MoveTask.status.in_(MOVE_ACTIVE)
                )
            )
        }
        for f in faces:
            free = f.on_hand - f.reserved
            below_min = f.on_hand < f.min_qty
            short = free < f.demand
            if not (below_min or short):
                continue
            if (f.product_id, f.bin_id) in active:
                skipped.append(Skipped(f.sku, f.code, f"{active[f.product_id, f.bin_id]} "
                                       "is already planned for it"))  # fmt: skip
                continue
            count = lock_of(s, f.bin_id)
            if count is not None:
                skipped.append(Skipped(f.sku, f.code, f"being counted ({count})"))
                continue
            need = max(f.max_qty - f.on_hand, f.demand - free, 1)
            source = _source(s, f, need)
            if source is None:
                skipped.append(Skipped(f.sku, f.code, "no free stock in a reserve bin"))
                continue
            from_id, units = source
            made = _insert_move(
                s, actor, f, from_id, units, "below_min" if below_min else "demand", now
            )
            if made is None:  # another lead planned it meanwhile
                skipped.append(Skipped(f.sku, f.code, "another move was planned for it meanwhile"))
                continue
            moves.append(made)
        return Plan(tuple(_summaries(s, MoveTask.id.in_(moves))) if moves else (), tuple(skipped))

    return db.run(work)


def _faces(s: Session, since: datetime) -> list[_Face]:
    rows = s.execute(
        select(
            Stock.product_id, Product.sku, Bin.id, Bin.code, Bin.pick_seq, Stock.on_hand,
            Stock.reserved, Bin.min_qty, Bin.max_qty,
        )
        .join(Bin, Bin.id == Stock.bin_id)
        .join(Product, Product.id == Stock.product_id)
        .where(
            Bin.role == "pick", Bin.active.is_(True), Bin.min_qty.is_not(None),
            Bin.max_qty.is_not(None), Product.active.is_(True),
        )
        .order_by(Bin.pick_seq, Bin.code, Product.sku)
    ).all()  # fmt: skip
    faces = {
        (r[0], r[2]): _Face(
            r[0], r[1], r[2], r[3], r[4], r[5], r[6], int(r[7] or 0), int(r[8] or 0)
        )
        for r in rows
    }
    if not faces:
        return []
    demand = s.execute(
        select(
            PickTask.product_id,
            PickTask.bin_id,
            func.sum(PickTask.quantity - PickTask.picked - PickTask.short),
        )
        .join(Order, Order.id == PickTask.order_id)
        .join(Bin, Bin.id == PickTask.bin_id)
        .where(
            PickTask.retired_at.is_(None),
            Order.status.in_(DEMAND_STATUSES),
            Order.placed_at >= since,
            Bin.role == "pick",
            Bin.min_qty.is_not(None),
        )
        .group_by(PickTask.product_id, PickTask.bin_id)
    )
    for product_id, bin_id, units in demand:
        face = faces.get((product_id, bin_id))
        if face is not None:
            face.demand = int(units or 0)
    return list(faces.values())


def _source(s: Session, f: _Face, need: int) -> tuple[int, int] | None:
    """(reserve bin id, units) to take for ``f``: free stock less what active moves take."""
    taken = (
        select(MoveTask.from_bin_id, func.sum(MoveTask.quantity - MoveTask.moved).label("n"))
        .where(MoveTask.product_id == f.product_id, MoveTask.status.in_(MOVE_ACTIVE))
        .group_by(MoveTask.from_bin_id)
        .subquery()
    )
    locked = select(CountTask.bin_id).where(CountTask.status.in_(COUNT_LOCKING))
    rows = s.execute(
        select(Bin.id, Bin.pick_seq, Stock.on_hand - Stock.reserved - func.coalesce(taken.c.n, 0))
        .join(Stock, Stock.bin_id == Bin.id)
        .outerjoin(taken, taken.c.from_bin_id == Bin.id)
        .where(
            Stock.product_id == f.product_id,
            Bin.role == "reserve",
            Bin.active.is_(True),
            Bin.id.not_in(locked),
        )
    ).all()
    free = [(int(r[0]), abs(int(r[1]) - f.seq), int(r[1]), int(r[2])) for r in rows if r[2] > 0]
    if not free:
        return None
    covering = sorted((d, seq, bid, n) for bid, d, seq, n in free if n >= need)
    if covering:
        return covering[0][2], need
    bid, _, _, n = min(free, key=lambda x: (-x[3], x[1], x[2]))
    return bid, n


def _insert_move(
    s: Session, actor: Actor, f: _Face, from_id: int, units: int, reason: str, now: datetime
) -> int | None:
    savepoint = s.begin_nested()
    try:
        move_id = s.execute(
            insert(MoveTask)
            .values(
                number=f"new-{uuid.uuid4().hex[:16]}", product_id=f.product_id,
                from_bin_id=from_id, to_bin_id=f.bin_id, quantity=units, moved=0,
                status="planned", reason=reason, created_by=actor.operator_id,
                created_at=now, version=1,
            )
            .returning(MoveTask.id)
        ).scalar_one()  # fmt: skip
        s.execute(
            update(MoveTask).where(MoveTask.id == move_id).values(number=move_number(move_id))
        )
        savepoint.commit()
    except IntegrityError:
        savepoint.rollback()
        return None
    return int(move_id)


def move_number(move_id: int) -> str:
    return f"MOV-{move_id:06d}"


# --- lists and views -------------------------------------------------------------------------


_FROM = aliased(Bin)
_TO = aliased(Bin)


def _summaries(s: Session, *where: Any) -> list[MoveSummary]:
    rows = s.execute(
        select(
            MoveTask.number, Product.sku, Product.name, _FROM.code, _TO.code, MoveTask.quantity,
            MoveTask.moved, MoveTask.status, MoveTask.reason, MoveTask.held_by_terminal,
            MoveTask.created_at,
        )
        .join(Product, Product.id == MoveTask.product_id)
        .join(_FROM, _FROM.id == MoveTask.from_bin_id)
        .join(_TO, _TO.id == MoveTask.to_bin_id)
        .where(*where)
        .order_by(_FROM.pick_seq, _FROM.code, _TO.pick_seq, MoveTask.id)
    ).all()  # fmt: skip
    return [MoveSummary(*r) for r in rows]


def list_moves(db: Database, *, status: str | None = None, limit: int = 200) -> list[MoveSummary]:
    """Moves in walking order of their reserve bin; by default the active ones (planned or
    being moved), with ``status`` those of that status."""
    if status is not None and status not in MOVE_STATUSES:
        raise ServiceError(f"{status!r} is not a move status ({', '.join(MOVE_STATUSES)})")
    wanted = (status,) if status else MOVE_ACTIVE
    with db.read() as s:
        return _summaries(s, MoveTask.status.in_(wanted))[:limit]


def move_view(db: Database, number: str) -> MoveView:
    with db.read() as s:
        return _view(s, _task(s, number, lock=False))


def held_here(db: Database, terminal_id: str) -> MoveView | None:
    """The move this terminal holds (it died mid-move, or its operator left): taken up again."""
    with db.read() as s:
        task = s.scalars(
            select(MoveTask).where(
                MoveTask.held_by_terminal == terminal_id, MoveTask.status == "moving"
            )
        ).first()
        return None if task is None else _view(s, task)


def _view(s: Session, task: MoveTask) -> MoveView:
    [summary] = _summaries(s, MoveTask.id == task.id)
    others = tuple(
        s.scalars(
            select(MoveTask.number)
            .where(
                MoveTask.from_bin_id == task.from_bin_id,
                MoveTask.status == "planned",
                MoveTask.id != task.id,
            )
            .order_by(MoveTask.id)
        )
    )
    return MoveView(summary, others)


def _task(s: Session, number: str, *, lock: bool) -> MoveTask:
    number = number.strip().upper()
    query = select(MoveTask).where(MoveTask.number == number)
    task = s.scalars(query.with_for_update() if lock else query).one_or_none()
    if task is None:
        raise MoveRefused(f"there is no move {number}")
    return task


# --- a move by scans -------------------------------------------------------------------------


def start_move(
    db: Database,
    actor: Actor,
    text: str,
    *,
    settings: Settings,
    clock: Clock = system_clock,
    scan: ScanOutcome | None = None,
) -> MoveView:
    """Claim a move for this terminal: ``text`` is a MOV number, or the reserve bin a move is
    planned from (its first move free in walking order of the faces). Refused while another
    terminal holds it (:class:`MoveBusy`), when the move is done or cancelled, when nothing is
    planned from the bin, or while either bin is being counted. A move this terminal held
    before is released (one at a time)."""
    allow(actor, "replenish.start_move")
    text = text.strip().upper()
    now = clock()

    def work(s: Session) -> MoveView:
        if text.startswith("MOV-"):
            task = _task(s, text, lock=True)
            if task.status not in MOVE_ACTIVE:
                raise MoveRefused(f"{task.number} is {task.status}: scan another move")
        else:
            bin_id = s.scalar(select(Bin.id).where(Bin.code == text))
            if bin_id is None:
                raise MoveRefused(f"{text} is neither a move nor a bin — scan a reserve bin")
            mine_or_free = or_(
                MoveTask.held_by_terminal.is_(None), MoveTask.held_by_terminal == actor.terminal_id
            )
            found = s.scalars(
                select(MoveTask)
                .join(_TO, _TO.id == MoveTask.to_bin_id)
                .where(MoveTask.from_bin_id == bin_id, MoveTask.status.in_(MOVE_ACTIVE))
                .order_by(mine_or_free.desc(), _TO.pick_seq, MoveTask.id)
                .limit(1)
            ).first()
            if found is None:
                raise MoveRefused(
                    f"no move is planned from {text} — scan the reserve bin of a move listed"
                )
            task = found
        bins = _codes(s, task)
        _refuse_if_locked(
            s, task.from_bin_id, bins[task.from_bin_id], "take this move when the count closes"
        )
        _refuse_if_locked(
            s, task.to_bin_id, bins[task.to_bin_id], "take this move when the count closes"
        )
        s.execute(
            update(MoveTask)
            .where(
                MoveTask.held_by_terminal == actor.terminal_id,
                MoveTask.id != task.id,
                MoveTask.status == "moving",
            )
            .values(
                status="planned", held_by_terminal=None, held_by=None, version=MoveTask.version + 1
            )
        )
        taken = s.execute(
            update(MoveTask)
            .where(
                MoveTask.id == task.id,
                MoveTask.status.in_(MOVE_ACTIVE),
                or_(
                    MoveTask.held_by_terminal.is_(None),
                    MoveTask.held_by_terminal == actor.terminal_id,
                ),
            )
            .values(
                status="moving",
                held_by_terminal=actor.terminal_id,
                held_by=actor.operator_id,
                version=MoveTask.version + 1,
            )
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            s.refresh(task)
            if task.status not in MOVE_ACTIVE:
                raise MoveRefused(f"{task.number} is {task.status}: scan another move")
            name = s.scalar(select(Operator.name).where(Operator.id == task.held_by))
            raise MoveBusy(task.number, task.held_by_terminal or "another terminal", name)
        _journal(s, actor, scan, now)
        s.refresh(task)
        return _view(s, task)

    return db.run(work)


def check_item(
    db: Database,
    actor: Actor,
    number: str,
    code: str,
    *,
    settings: Settings,
    clock: Clock = system_clock,
    scan: ScanOutcome | None = None,
) -> MoveView:
    """The item scanned for the move this terminal holds: refused unless it is the move's
    product (a unit barcode or the SKU). Changes nothing but the scan journal."""
    allow(actor, "replenish.check_item")
    now = clock()

    def work(s: Session) -> MoveView:
        task = _held(s, actor, number)
        code_ = code.strip()
        product_id = s.scalar(select(Product.id).where(Product.sku == code_))
        if product_id is None:
            product_id = s.scalar(
                select(ProductBarcode.product_id)
                .where(ProductBarcode.barcode.in_(sorted(gtin_spellings(code_))))
                .limit(1)
            )
        if product_id != task.product_id:
            sku = s.scalar(select(Product.sku).where(Product.id == task.product_id))
            what = "is not in the catalogue" if product_id is None else "is another product"
            raise MoveRefused(f"{code_} {what}: {task.number} moves {sku} — scan {sku}")
        _journal(s, actor, scan, now)
        return _view(s, task)

    return db.run(work)


def do_move(
    db: Database,
    actor: Actor,
    number: str,
    units: int,
    to_bin_code: str,
    *,
    settings: Settings,
    clock: Clock = system_clock,
    scan: ScanOutcome | None = None,
) -> MoveDone:
    """Move ``units`` of the move's product from its reserve bin into ``to_bin_code`` (which
    must be the move's pick face) in one transaction: the reserve bin's on hand down by the
    conditional UPDATE that never takes it below what is reserved there, the face's up, a
    ``move`` ledger row for each (document: the MOV number). The move is done when it moved
    its quantity; else it waits, planned and free for any terminal, with the remainder."""
    allow(actor, "replenish.do_move")
    if units < 1:
        raise MoveRefused("key how many units you moved: 1 or more")
    now = clock()
    to_code = to_bin_code.strip().upper()

    def work(s: Session) -> MoveDone:
        task = _held(s, actor, number)
        codes = _codes(s, task)
        face, reserve = codes[task.to_bin_id], codes[task.from_bin_id]
        if to_code != face:
            raise MoveRefused(f"{to_code} is not this move's pick face: put them in {face}")
        sku = str(s.scalar(select(Product.sku).where(Product.id == task.product_id)))
        _refuse_if_locked(s, task.to_bin_id, face, "keep the units and try again after the count")
        _refuse_if_locked(s, task.from_bin_id, reserve, "put the units back in the reserve bin")
        taken = s.execute(
            update(Stock)
            .where(
                Stock.product_id == task.product_id,
                Stock.bin_id == task.from_bin_id,
                Stock.on_hand - Stock.reserved >= units,
            )
            .values(on_hand=Stock.on_hand - units)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            free = s.scalar(
                select(Stock.on_hand - Stock.reserved).where(
                    Stock.product_id == task.product_id, Stock.bin_id == task.from_bin_id
                )
            )
            raise MoveRefused(
                f"{reserve} has only {max(0, free or 0)} of {sku} free to move — key "
                f"{max(0, free or 0)} or fewer"
            )
        s.execute(
            _insert(s)(Stock)
            .values(product_id=task.product_id, bin_id=task.to_bin_id, on_hand=units, reserved=0)
            .on_conflict_do_update(
                index_elements=["product_id", "bin_id"], set_={"on_hand": Stock.on_hand + units}
            )
        )
        for bin_id, delta in ((task.from_bin_id, -units), (task.to_bin_id, units)):
            s.execute(
                insert(StockMovement).values(
                    at=now, product_id=task.product_id, bin_id=bin_id, delta=delta,
                    reason=MOVE_REASON, operator_id=actor.operator_id,
                    terminal_id=actor.terminal_id, source=actor.source, document=task.number,
                )
            )  # fmt: skip
        moved = task.moved + units
        done = moved >= task.quantity
        changed = s.execute(
            update(MoveTask)
            .where(MoveTask.id == task.id, MoveTask.version == task.version)
            .values(
                moved=moved,
                status="done" if done else "planned",
                held_by_terminal=None,
                held_by=None,
                done_by=actor.operator_id if done else None,
                done_at=now if done else None,
                version=MoveTask.version + 1,
            )
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            raise MoveRefused(f"{task.number} was changed at another terminal — scan it again")
        _journal(s, actor, scan, now)
        on_hand = int(
            s.scalar(
                select(Stock.on_hand).where(
                    Stock.product_id == task.product_id, Stock.bin_id == task.to_bin_id
                )
            )
            or 0
        )
        return MoveDone(
            task.number, sku, units, reserve, face, done, max(0, task.quantity - moved), on_hand
        )

    return db.run(work)


def park_move(
    db: Database,
    actor: Actor,
    number: str,
    *,
    clock: Clock = system_clock,
    scan: ScanOutcome | None = None,
) -> MoveView:
    """Leave the move planned and unclaimed: any terminal may take it up."""
    allow(actor, "replenish.park_move")
    now = clock()

    def work(s: Session) -> MoveView:
        task = _held(s, actor, number)
        s.execute(
            update(MoveTask)
            .where(MoveTask.id == task.id, MoveTask.held_by_terminal == actor.terminal_id)
            .values(
                status="planned", held_by_terminal=None, held_by=None, version=MoveTask.version + 1
            )
        )
        _journal(s, actor, scan, now)
        s.refresh(task)
        return _view(s, task)

    return db.run(work)


def cancel_move(db: Database, actor: Actor, number: str, *, clock: Clock = system_clock) -> None:
    """A lead cancels a move not yet done (planned, or held by a terminal)."""
    allow(actor, "replenish.cancel_move")

    def work(s: Session) -> None:
        task = _task(s, number, lock=True)
        if task.status not in MOVE_ACTIVE:
            raise MoveRefused(f"{task.number} is {task.status}: only an active move is cancelled")
        s.execute(
            update(MoveTask)
            .where(MoveTask.id == task.id)
            .values(
                status="cancelled",
                held_by_terminal=None,
                held_by=None,
                version=MoveTask.version + 1,
            )
        )

    db.run(work)


def _held(s: Session, actor: Actor, number: str) -> MoveTask:
    """The move ``number``, being moved by this terminal (locked); refused otherwise."""
    task = _task(s, number, lock=True)
    if task.status != "moving" or task.held_by_terminal != actor.terminal_id:
        if task.status not in MOVE_ACTIVE:
            raise MoveRefused(f"{task.number} is {task.status}: scan another move")
        if task.held_by_terminal is None:
            raise MoveRefused(f"{task.number} is not taken here: scan its reserve bin first")
        name = s.scalar(select(Operator.name).where(Operator.id == task.held_by))
        raise MoveBusy(task.number, task.held_by_terminal, name)
    return task


def _codes(s: Session, task: MoveTask) -> dict[int, str]:
    """The codes of a move's two bins, by id."""
    rows = s.execute(
        select(Bin.id, Bin.code).where(Bin.id.in_((task.from_bin_id, task.to_bin_id)))
    ).all()
    return {int(r[0]): str(r[1]) for r in rows}


def _journal(s: Session, actor: Actor, scan: ScanOutcome | None, now: datetime) -> None:
    if scan is not None:
        scans.journal(s, actor, STATION, SCREEN, scan, at=now)


def _insert(s: Session) -> Any:
    return pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
