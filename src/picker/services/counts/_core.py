"""What the count services share: the task held by a terminal, products found by a scanned
code, the views, and the ledger row of an adjustment."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from picker.domain.ean import gtin_spellings
from picker.domain.roles import NotAllowed, Station, may_work
from picker.services.actors import Actor
from picker.services.counts.shapes import (
    CountBusy,
    CountLineView,
    CountRefused,
    CountSummary,
    CountView,
)
from picker.store.models import (
    Bin,
    CountLine,
    CountTask,
    Operator,
    Product,
    ProductBarcode,
    ProductPack,
)


def may_count(actor: Actor) -> None:
    """Counting is floor work of a picker, a receiver or a lead."""
    if actor.operator is not None and not may_work(actor.operator.roles, Station.COUNTING):
        raise NotAllowed("counting needs the picker or receiver role")


def normal_number(number: str) -> str:
    """``cnt-12`` / ``12`` / ``CNT-000012`` → ``CNT-000012``."""
    text = number.strip().upper()
    digits = text.removeprefix("CNT-")
    if digits.isdigit():
        return f"CNT-{int(digits):06d}"
    return text


def number_of(task_id: int) -> str:
    return f"CNT-{task_id:06d}"


def load(s: Session, number: str, *, lock: bool = True) -> CountTask:
    """The task ``number`` (locked); refused in words when there is none."""
    number = normal_number(number)
    query = select(CountTask).where(CountTask.number == number)
    task = s.scalars(query.with_for_update() if lock else query).one_or_none()
    if task is None:
        raise CountRefused(f"There is no count {number}.")
    return task


def name_of(s: Session, operator_id: int | None) -> str | None:
    if operator_id is None:
        return None
    return s.scalar(select(Operator.name).where(Operator.id == operator_id))


def bin_code(s: Session, bin_id: int) -> str:
    return s.scalar(select(Bin.code).where(Bin.id == bin_id)) or "?"


def load_held(s: Session, actor: Actor, number: str) -> CountTask:
    """The task ``number``, being counted at this terminal (locked); refused otherwise."""
    task = load(s, number)
    code = bin_code(s, task.bin_id)
    if task.status != "counting":
        if task.status == "recount":
            raise CountRefused(f"{task.number} waits for a recount: scan bin {code} to count it.")
        if task.status == "planned":
            raise CountRefused(f"{task.number} is not started: scan bin {code} to count it.")
        raise CountRefused(f"{task.number} is {task.status}: it can no longer be counted.")
    if task.held_by_terminal != actor.terminal_id:
        raise CountBusy(task.number, code, task.held_by_terminal or "?", name_of(s, task.held_by))
    return task


@dataclass(frozen=True)
class Found:
    product_id: int
    sku: str
    name: str
    #: Units one scan of the code stands for (a case's pack size, else 1).
    units: int


def find_product(s: Session, code: str, *, exact: bool = False) -> Found | None:
    """The product a scanned code names: a unit barcode, a SKU, or a case's barcode (GTIN-14,
    standing for its pack's units); None when none does. ``exact``: never a SKU spelled in
    other letter case (that look-up reads the whole catalogue)."""
    code = code.strip()
    if not code:
        return None
    columns = select(Product.id, Product.sku, Product.name)
    row = s.execute(columns.where(Product.sku == code)).first()
    units = 1
    spellings = sorted(gtin_spellings(code) | {code})
    if row is None:
        product_id = s.scalar(
            select(ProductBarcode.product_id).where(ProductBarcode.barcode.in_(spellings)).limit(1)
        )
        if product_id is None:
            pack = s.execute(
                select(ProductPack.product_id, ProductPack.units)
                .where(ProductPack.barcode.in_(spellings))
                .limit(1)
            ).first()
            if pack is not None:
                product_id, units = pack.product_id, pack.units
        if product_id is not None:
            row = s.execute(columns.where(Product.id == product_id)).first()
    if row is None and not exact:
        found = s.execute(columns.where(func.lower(Product.sku) == code.lower()).limit(2)).all()
        row = found[0] if len(found) == 1 else None
    return None if row is None else Found(row.id, row.sku, row.name, units)


def stamp(s: Session, task_id: int, now: datetime) -> datetime:
    """``now``, or just after the round's latest line when the clock did not move (a fixed
    clock, two scans in one tick): the last line scanned is always the latest."""
    latest = s.scalar(select(func.max(CountLine.at)).where(CountLine.task_id == task_id))
    if latest is not None and latest >= now:
        return latest + timedelta(microseconds=1)
    return now


def view(s: Session, task: CountTask, *, blind: bool) -> CountView:
    """The count as the station (``blind``: this round's counted products only, no expected
    quantity) or a lead (every round, expected included) sees it."""
    counter = aliased(Operator)
    query = (
        select(CountLine.round, Product.sku, Product.name, CountLine.counted, CountLine.expected,
               counter.name.label("counter"), CountLine.at, CountLine.counted_by)
        .join(Product, Product.id == CountLine.product_id)
        .outerjoin(counter, counter.id == CountLine.counted_by)
        .where(CountLine.task_id == task.id)
    )  # fmt: skip
    if blind:
        query = query.where(CountLine.round == task.round, CountLine.counted_by.is_not(None))
    rows = s.execute(query.order_by(CountLine.round, Product.sku)).all()
    scanned = [r for r in rows if r.round == task.round and r.counted_by is not None]
    last = max(scanned, key=lambda r: r.at).sku if scanned else None
    lines = tuple(
        CountLineView(r.round, r.sku, r.name, r.counted, None if blind else r.expected,
                      r.counter)
        for r in rows
    )  # fmt: skip
    return CountView(
        number=task.number,
        bin=bin_code(s, task.bin_id),
        status=task.status,
        round=task.round,
        blind=blind,
        lines=lines,
        last_sku=last,
        held_by_terminal=task.held_by_terminal,
        held_by=name_of(s, task.held_by),
        plan_reason=task.plan_reason,
        first_counter=name_of(s, task.first_counter),
        decided_by=name_of(s, task.decided_by),
        decision_reason=task.decision_reason,
        planned_at=task.planned_at,
        closed_at=task.closed_at,
    )


def summaries(s: Session, where: Sequence[Any], *, limit: int | None = None) -> list[CountSummary]:
    holder = aliased(Operator)
    query = (
        select(CountTask.number, Bin.code, Bin.zone, Bin.pick_seq, CountTask.status,
               CountTask.round, CountTask.plan_reason, CountTask.planned_at, Bin.counted_at,
               CountTask.held_by_terminal, holder.name.label("holder"), CountTask.closed_at)
        .join(Bin, Bin.id == CountTask.bin_id)
        .outerjoin(holder, holder.id == CountTask.held_by)
        .where(*where)
        .order_by(Bin.pick_seq, Bin.code, CountTask.id)
    )  # fmt: skip
    if limit is not None:
        query = query.limit(limit)
    return [
        CountSummary(r.number, r.code, r.zone, r.pick_seq, r.status, r.round, r.plan_reason,
                     r.planned_at, r.counted_at, r.held_by_terminal, r.holder, r.closed_at)
        for r in s.execute(query)
    ]  # fmt: skip
