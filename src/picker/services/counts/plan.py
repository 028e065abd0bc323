"""Planning cycle counts (a lead's work), and the counts listed and shown."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import exists, insert, select, update
from sqlalchemy.orm import Session

from picker.services.actors import Actor, Clock, allow, system_clock
from picker.services.counts import _core as core
from picker.services.counts.lock import ACTIVE
from picker.services.counts.shapes import (
    CountRefused,
    CountSummary,
    CountView,
    PlannedCounts,
)
from picker.store.engine import Database
from picker.store.models import COUNT_STATUSES, Bin, CountTask, Product, Stock

#: Bins that are counted: those stock is reserved and picked from, or kept in reserve.
COUNTED_ROLES = ("pick", "reserve")
#: Count tasks written per INSERT.
_CHUNK = 500


def plan_counts(
    db: Database,
    actor: Actor,
    *,
    zone: str | None = None,
    bins: int | None = None,
    sku: str | None = None,
    since_days: int | None = None,
    clock: Clock = system_clock,
) -> PlannedCounts:
    """Count tasks for the active pick and reserve bins the filters select (together: every
    one given must hold): those of ``zone``; every bin holding ``sku``; bins not counted for
    ``since_days`` days (or never); and of those, the ``bins`` least recently counted. Least
    recently counted first: never counted, then by ``counted_at``, then walking order. A bin
    with an active count is skipped (named in the result's ``skipped``)."""
    allow(actor, "counts.plan.plan_counts")
    if zone is None and bins is None and sku is None and since_days is None:
        raise CountRefused("say which bins to count: a zone, a number of bins, a SKU or days")
    if bins is not None and bins < 1:
        raise CountRefused("the number of bins to count must be 1 or more")
    if since_days is not None and since_days < 0:
        raise CountRefused("the days since the last count must be 0 or more")
    now = clock()
    reasons = []
    query = select(Bin.id, Bin.code).where(Bin.active.is_(True), Bin.role.in_(COUNTED_ROLES))
    if zone is not None:
        zone = zone.strip().upper()
        query = query.where(Bin.zone == zone)
        reasons.append(f"zone {zone}")
    if sku is not None:
        sku = sku.strip()
        reasons.append(f"sku {sku}")
    if since_days is not None:
        since = now - timedelta(days=since_days)
        query = query.where((Bin.counted_at.is_(None)) | (Bin.counted_at < since))
        reasons.append(f"not counted for {since_days} days")
    if bins is not None:
        reasons.append(f"{bins} least recently counted")
    query = query.order_by(Bin.counted_at.is_not(None), Bin.counted_at, Bin.pick_seq, Bin.code)
    reason = "; ".join(reasons)[:64]

    def work(s: Session) -> PlannedCounts:
        q = query
        if sku is not None:
            product_id = s.scalar(select(Product.id).where(Product.sku == sku))
            if product_id is None:
                raise CountRefused(f"There is no product {sku}.")
            holds = exists().where(
                Stock.bin_id == Bin.id, Stock.product_id == product_id, Stock.on_hand > 0
            )
            q = q.where(holds)
        candidates = s.execute(q).all()
        active = {
            r.bin_id: (r.number, r.status)
            for r in s.execute(select(CountTask.bin_id, CountTask.number, CountTask.status)
                               .where(ACTIVE))
        }  # fmt: skip
        chosen: list[int] = []
        skipped: list[str] = []
        for c in candidates:
            if bins is not None and len(chosen) >= bins:
                break
            if c.id in active:
                number, status = active[c.id]
                skipped.append(f"{c.code} ({number}, {status})")
            else:
                chosen.append(c.id)
        for start in range(0, len(chosen), _CHUNK):
            part = chosen[start : start + _CHUNK]
            ids = s.scalars(
                insert(CountTask).returning(CountTask.id, sort_by_parameter_order=True),
                [{"number": f"~{b}", "bin_id": b, "status": "planned", "round": 1,
                  "plan_reason": reason, "planned_by": actor.operator_id, "planned_at": now}
                 for b in part],
            ).all()  # fmt: skip
            s.execute(update(CountTask), [{"id": i, "number": core.number_of(i)} for i in ids])
        planned = core.summaries(s, [CountTask.bin_id.in_(chosen), CountTask.status == "planned"])
        order = {b: n for n, b in enumerate(chosen)}
        codes = {c.code: c.id for c in candidates}
        planned.sort(key=lambda p: order[codes[p.bin]])
        return PlannedCounts(planned, tuple(skipped))

    return db.run(work)


def list_counts(db: Database, *, status: str | None = None, limit: int = 500) -> list[CountSummary]:
    """Counts in walking order of their bins; by default the active ones (planned, counting,
    recount, approval); ``status`` one of :data:`~picker.store.models.COUNT_STATUSES`."""
    if status is not None and status not in COUNT_STATUSES:
        raise CountRefused(f"{status!r} is not a count status ({', '.join(COUNT_STATUSES)})")
    with db.read() as s:
        where = [CountTask.status == status] if status is not None else [ACTIVE]
        return core.summaries(s, where, limit=limit)


def count_view(db: Database, number: str, *, blind: bool) -> CountView:
    """One count: ``blind`` (the station's view) carries only what this round counted, never
    an expected quantity; not blind (a lead's), every round with the stock it was compared
    with."""
    with db.read() as s:
        task = core.load(s, number, lock=False)
        return core.view(s, task, blind=blind)
