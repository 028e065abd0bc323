"""The counting station: a bin scanned starts (or resumes) its count, every item scanned or
keyed, the round finished. One transaction per scan, the scan journaled in it (a refused scan
changes nothing and is journaled by the screen, as at picking).

A count is held by the terminal counting it (``count_tasks.held_by_terminal``): a second
terminal scanning the bin is told who counts it, and the same terminal after a crash finds the
same counts (every scan is committed as it is made). While a count runs, waits for its recount
or for a lead, the bin is locked (:func:`~picker.services.counts.lock.lock_of`): nothing is
picked from it, put away into it or moved, so finishing compares the count with the stock as
it stands.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from picker.config import Settings
from picker.services import scans
from picker.services.actors import Actor, Clock, allow, system_clock
from picker.services.counts import _core as core
from picker.services.counts.decide import release_found, settle
from picker.services.counts.lock import ACTIVE
from picker.services.counts.shapes import (
    STATION,
    CountBusy,
    CountRefused,
    CountResult,
    CountView,
    RecountBySameOperator,
)
from picker.services.scans import ScanOutcome
from picker.store.engine import Database
from picker.store.models import Bin, CountLine, CountTask, Stock

#: Bins that are counted: those stock is reserved and picked from, or kept in reserve.
COUNTED_ROLES = ("pick", "reserve")


def _operator(actor: Actor) -> int:
    if actor.operator_id is None:
        raise CountRefused("log in to count")
    return actor.operator_id


def _journal(s: Session, actor: Actor, scan: ScanOutcome | None, now: datetime) -> None:
    if scan is not None:
        scans.journal(s, actor, STATION, "counting", scan, at=now)


def _begin_round(s: Session, task: CountTask, now: datetime) -> None:
    """The round's lines: one per product the bin holds, its on hand now as expected (never
    shown to the counter), nothing counted yet."""
    s.execute(delete(CountLine).where(CountLine.task_id == task.id, CountLine.round == task.round))
    rows = s.execute(
        select(Stock.product_id, Stock.on_hand)
        .where(Stock.bin_id == task.bin_id, Stock.on_hand > 0)
        .order_by(Stock.product_id)
    ).all()
    if rows:
        s.execute(
            insert(CountLine),
            [{"task_id": task.id, "round": task.round, "product_id": r.product_id,
              "expected": r.on_hand, "counted": 0, "counted_by": None, "at": now}
             for r in rows],
        )  # fmt: skip


def start_count(
    db: Database,
    actor: Actor,
    bin_code: str,
    *,
    settings: Settings,
    clock: Clock = system_clock,
    scan: ScanOutcome | None = None,
) -> CountView:
    """Count the bin ``bin_code``: its planned task (or the recount it waits for) is taken for
    this terminal, a count this terminal was making is resumed, and a bin with no active count
    gets one ("at the bin": any counter may count any bin). The view is blind.

    Refused: a bin that is not counted (unknown, inactive, quarantine or dock), a bin counted at
    another terminal (:class:`CountBusy`), a recount by whoever made the first count
    (:class:`RecountBySameOperator`), a count waiting for a lead, or a second count while this
    terminal still holds one."""
    allow(actor, "counts.counting.start_count")
    core.may_count(actor)
    operator_id = _operator(actor)
    now = clock()
    code = bin_code.strip().upper()

    def work(s: Session) -> CountView:
        # The bin's row taken exclusively: a put-away or a move into it (which share it first)
        # either commits before the round reads the stock or waits and finds the bin locked.
        b = s.execute(
            select(Bin.id, Bin.code, Bin.active, Bin.role).where(Bin.code == code).with_for_update()
        ).one_or_none()
        if b is None:
            raise CountRefused(f"There is no bin {code}: scan a bin's label.")
        if not b.active:
            raise CountRefused(f"{b.code} is not in use: count another bin.")
        if b.role not in COUNTED_ROLES:
            raise CountRefused(f"{b.code} is a {b.role} bin: it is not counted here.")
        other = s.execute(
            select(CountTask.number, Bin.code)
            .join(Bin, Bin.id == CountTask.bin_id)
            .where(CountTask.held_by_terminal == actor.terminal_id,
                   CountTask.status == "counting", CountTask.bin_id != b.id)
        ).first()  # fmt: skip
        if other is not None:
            raise CountRefused(
                f"This terminal is counting {other.code} ({other.number}): finish that count "
                "first (CMD-EMPTY when every item is scanned)."
            )
        # The bin's stock rows first, in the order picks and reservations lock them: a pick on
        # another terminal either commits before the count starts or finds the bin locked.
        s.execute(
            select(Stock.id).where(Stock.bin_id == b.id).order_by(Stock.id).with_for_update()
        ).all()
        task = s.scalars(
            select(CountTask).where(CountTask.bin_id == b.id, ACTIVE).with_for_update()
        ).one_or_none()
        if task is None:
            task = _create(s, actor, b.id, b.code, now)
            _begin_round(s, task, now)
        elif task.status == "counting":
            if task.held_by_terminal != actor.terminal_id:
                raise CountBusy(
                    task.number, b.code, task.held_by_terminal or "?", core.name_of(s, task.held_by)
                )
            task.held_by = operator_id  # resumed (after a crash, or by the next login)
        elif task.status in ("planned", "recount"):
            recount = task.status == "recount"
            if recount and task.first_counter == operator_id:
                raise RecountBySameOperator(task.number, core.name_of(s, task.first_counter))
            task.status = "counting"
            task.round = 2 if recount else 1
            task.held_by_terminal = actor.terminal_id
            task.held_by = operator_id
            task.started_at = task.started_at or now
            task.version += 1
            s.flush()
            _begin_round(s, task, now)
        else:  # approval
            raise CountRefused(
                f"{b.code} was counted ({task.number}): the difference waits for a lead's "
                "approval. Count another bin."
            )
        s.flush()
        _journal(s, actor, scan, now)
        return core.view(s, task, blind=True)

    return db.run(work)


def _create(s: Session, actor: Actor, bin_id: int, code: str, now: datetime) -> CountTask:
    task = CountTask(
        number=f"~{bin_id}", bin_id=bin_id, status="counting", round=1, plan_reason="at the bin",
        planned_by=actor.operator_id, planned_at=now, held_by_terminal=actor.terminal_id,
        held_by=actor.operator_id, started_at=now,
    )  # fmt: skip
    try:
        with s.begin_nested():
            s.add(task)
            s.flush()
    except IntegrityError:  # another terminal started a count of this bin at the same moment
        raise CountRefused(
            f"{code} was just taken for a count on another terminal: scan it again to see who "
            "counts it."
        ) from None
    task.number = core.number_of(task.id)
    s.flush()
    return task


def count_item(
    db: Database,
    actor: Actor,
    number: str,
    code: str,
    *,
    units: int = 1,
    settings: Settings,
    clock: Clock = system_clock,
    scan: ScanOutcome | None = None,
) -> CountView:
    """``units`` scans of a product (a unit barcode, a SKU, or a case's barcode counting its
    pack size) added to this round. A product never in the bin is fine: it is found stock.
    Refused: a code that names no product (set the item aside for the lead)."""
    allow(actor, "counts.counting.count_item")
    core.may_count(actor)
    operator_id = _operator(actor)
    if units < 1:
        raise CountRefused("Scan an item (or key a count after a scan).")
    now = clock()

    def work(s: Session) -> CountView:
        task = core.load_held(s, actor, number)
        found = core.find_product(s, code)
        if found is None:
            raise CountRefused(
                f"{code.strip()} is not in the catalogue: set it aside and tell the shift lead."
            )
        added = units * found.units
        at = core.stamp(s, task.id, now)
        line_id = s.scalar(
            select(CountLine.id).where(
                CountLine.task_id == task.id, CountLine.round == task.round,
                CountLine.product_id == found.product_id,
            ).with_for_update()
        )  # fmt: skip
        if line_id is None:
            s.execute(
                insert(CountLine).values(
                    task_id=task.id, round=task.round, product_id=found.product_id, expected=0,
                    counted=added, counted_by=operator_id, at=at,
                )
            )  # fmt: skip
        else:
            s.execute(
                update(CountLine)
                .where(CountLine.id == line_id)
                .values(counted=CountLine.counted + added, counted_by=operator_id, at=at)
            )
        _journal(s, actor, scan, now)
        return core.view(s, task, blind=True)

    return db.run(work)


def key_count(
    db: Database,
    actor: Actor,
    number: str,
    units: int,
    *,
    settings: Settings,
    clock: Clock = system_clock,
    scan: ScanOutcome | None = None,
) -> CountView:
    """The last product scanned this round has ``units`` units in the bin (keyed after a scan:
    the total, not more of them; 0 takes the scan back)."""
    allow(actor, "counts.counting.key_count")
    core.may_count(actor)
    operator_id = _operator(actor)
    if units < 0:
        raise CountRefused("Key how many there are: 0 or more.")
    now = clock()

    def work(s: Session) -> CountView:
        task = core.load_held(s, actor, number)
        last = s.execute(
            select(CountLine.id)
            .where(CountLine.task_id == task.id, CountLine.round == task.round,
                   CountLine.counted_by.is_not(None))
            .order_by(CountLine.at.desc(), CountLine.id.desc())
            .limit(1)
            .with_for_update()
        ).first()  # fmt: skip
        if last is None:
            raise CountRefused("Scan an item first, then key how many of it are in the bin.")
        s.execute(
            update(CountLine)
            .where(CountLine.id == last.id)
            .values(counted=units, counted_by=operator_id, at=core.stamp(s, task.id, now))
        )
        _journal(s, actor, scan, now)
        return core.view(s, task, blind=True)

    return db.run(work)


def finish_count(
    db: Database,
    actor: Actor,
    number: str,
    *,
    settings: Settings,
    clock: Clock = system_clock,
    scan: ScanOutcome | None = None,
) -> CountResult:
    """The round is over: each product's count is compared with the bin's stock now (the bin
    is locked, so nothing moved). No difference: done. A difference above
    ``[counting] recount_over`` in the first round: another operator must recount. A
    confirmed difference (the recount, or a first count within that threshold): above
    ``approve_over`` it waits for a lead (stock unchanged), else the stock is adjusted at once
    — a count below what is reserved moves the orders' reservations to other bins or holds them
    (``short: SKU``); a count that found more releases orders held short of it."""
    allow(actor, "counts.counting.finish_count")
    core.may_count(actor)
    operator_id = _operator(actor)
    now = clock()

    def work(s: Session) -> tuple[CountResult, tuple[str, ...]]:
        task = core.load_held(s, actor, number)
        result, grown = settle(s, actor, task, settings=settings, now=now, counter=operator_id)
        _journal(s, actor, scan, now)
        return result, grown

    result, grown = db.run(work)
    return release_found(db, result, grown, actor=actor, settings=settings, clock=clock)


def confirm_empty(
    db: Database,
    actor: Actor,
    number: str,
    *,
    settings: Settings,
    clock: Clock = system_clock,
    scan: ScanOutcome | None = None,
) -> CountResult:
    """CMD-EMPTY: every item is scanned — the round is finished with what was scanned (for an
    empty bin, nothing): :func:`finish_count`."""
    allow(actor, "counts.counting.confirm_empty")
    return finish_count(db, actor, number, settings=settings, clock=clock, scan=scan)


def held_count(db: Database, terminal_id: str) -> CountView | None:
    """The count the terminal ``terminal_id`` is making (to resume after a crash or a new
    login), blind; None when it holds none."""
    with db.read() as s:
        task = s.scalars(
            select(CountTask)
            .where(CountTask.held_by_terminal == terminal_id,
                   CountTask.status == "counting")
            .order_by(CountTask.id)
            .limit(1)
        ).first()  # fmt: skip
        return None if task is None else core.view(s, task, blind=True)
