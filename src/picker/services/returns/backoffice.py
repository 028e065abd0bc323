"""The returns desk without the station: an RMA authorized ahead of the parcel, and a return
received whole from the command line (all of it, or nothing)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from picker.config import Settings
from picker.domain.returns import QUARANTINE, Condition, UnknownCondition, parse_condition
from picker.services.actors import Actor, Clock, allow, system_clock
from picker.services.errors import Conflict
from picker.services.orders.lead_actions import retry_held_short
from picker.services.returns import _core as core
from picker.services.returns.shapes import Closed, ReceiveLine, ReturnRefused, ReturnSummary
from picker.services.returns.views import summary_of
from picker.store.engine import Database
from picker.store.models import Order, OrderLine, Return, ReturnLine

__all__ = ["Closed", "ReceiveLine", "ReturnRefused", "ReturnSummary", "authorize", "receive"]


def authorize(
    db: Database,
    actor: Actor,
    order_no: str,
    lines: Sequence[tuple[str, int]],
    reason: str,
    *,
    exchange: bool = False,
    settings: Settings,
    clock: Clock = system_clock,
) -> ReturnSummary:
    """Issue an RMA for the order ``order_no`` (ours or the shop's number): the lines expected
    back (SKU, quantity each; at most what was shipped and is not back yet) and the reason (a
    code of ``[returns] reasons``). Status ``authorized``."""
    allow(actor, "returns.backoffice.authorize")
    if reason not in settings.returns.reasons:
        raise ReturnRefused(
            f"{reason!r} is not a return reason ({', '.join(settings.returns.reasons)})"
        )
    if not lines:
        raise ReturnRefused("name the lines expected back (SKU and quantity)")
    now = clock()

    def work(s: Session) -> ReturnSummary:
        found = core.find(s, order_no)
        order = core.check_returnable(s, found.order_id)
        other = core.active_return(s, order.id)
        if other is not None:
            number, status = s.execute(
                select(Return.number, Return.status).where(Return.id == other)
            ).one()
            raise ReturnRefused(
                f"{order.number} has a return under way already: {number} ({status})."
            )
        shipped = core.shipped_by_line(s, order.id)
        wanted: dict[int, int] = defaultdict(int)
        for n, (sku, qty) in enumerate(lines, start=1):
            what = f"line {n} ({sku}:{qty}): "
            if qty < 1:
                raise ReturnRefused(f"{what}a quantity is 1 or more")
            product = core.find_product(s, sku)
            rows: Sequence[Any] = []
            if product is not None:
                rows = s.execute(
                    select(OrderLine.id, OrderLine.returned_qty)
                    .where(OrderLine.order_id == order.id, OrderLine.product_id == product[0])
                    .order_by(OrderLine.line_no)
                ).all()
            if not rows:
                raise ReturnRefused(f"{what}{sku} is not in order {order.number}")
            left = qty
            for row in rows:
                room = shipped.get(row.id, 0) - row.returned_qty - wanted[row.id]
                take = min(room, left)
                if take > 0:
                    wanted[row.id] += take
                    left -= take
            if left:
                n_shipped = sum(shipped.get(r.id, 0) for r in rows)
                n_back = sum(int(r.returned_qty) for r in rows)
                raise ReturnRefused(
                    f"{what}{n_shipped} of {sku} shipped, {n_back} back already: "
                    f"{qty} cannot be expected back"
                )
        return_id, new = core.create(s, actor, order, now, status="authorized", reason=reason,
                                     exchange=exchange)  # fmt: skip
        if not new:
            raise ReturnRefused(f"{order.number} got a return on another terminal meanwhile.")
        s.execute(
            insert(ReturnLine),
            [{"return_id": return_id, "order_line_id": line_id, "quantity": qty}
             for line_id, qty in wanted.items()],
        )  # fmt: skip
        return summary_of(s, return_id)

    return db.run(work)


def receive(
    db: Database,
    actor: Actor,
    ref: str,
    lines: Sequence[ReceiveLine],
    *,
    reason: str | None = None,
    note: str | None = None,
    exchange: Sequence[tuple[str, int]] | None = None,
    settings: Settings,
    clock: Clock = system_clock,
) -> Closed:
    """Receive a return whole (``ref``: an order, RMA or tracking number) and close it, in ONE
    transaction. Any line refused (not in the order, more than shipped, an unknown bin…) raises
    :class:`ReturnRefused` naming the line, and nothing is written."""
    allow(actor, "returns.backoffice.receive")
    if not lines:
        raise ReturnRefused("name the lines received (SKU, quantity, condition)")
    if reason is not None and reason not in settings.returns.reasons:
        raise ReturnRefused(
            f"{reason!r} is not a return reason ({', '.join(settings.returns.reasons)})"
        )
    words = core.clean_note(note)
    now = clock()

    def work(s: Session) -> tuple[Closed, list[str]]:
        found = core.find(s, ref)
        return_id = found.return_id
        if return_id is not None:
            number, status = s.execute(
                select(Return.number, Return.status).where(Return.id == return_id)
            ).one()
            if status not in core.ACTIVE:
                raise ReturnRefused(f"{number} is {status}: name the order to receive another.")
        else:
            return_id = core.active_return(s, found.order_id)
        if return_id is None:
            order = core.check_returnable(s, found.order_id)
            return_id, _ = core.create(s, actor, order, now, status="open")
        core.claim(s, actor, return_id, now)
        number = str(s.scalar(select(Return.number).where(Return.id == return_id)))
        ret = core.load_held(s, actor, number)
        if reason is not None:
            s.execute(update(Return).where(Return.id == ret.id).values(reason=reason))
        order_number = str(s.scalar(select(Order.number).where(Order.id == ret.order_id)))
        core.refuse_if_pending(s, ret.number, ret.id)
        for n, line in enumerate(lines, start=1):
            _receive_line(s, actor, settings, ret, order_number, n, line, words, now)
        closed = core.close(s, actor, ret, exchange=exchange, settings=settings, now=now)
        return closed, core.resell_skus(s, ret.id)

    closed, skus = db.run(work)
    for sku in skus:  # orders held short of what went back on a shelf
        try:
            retry_held_short(db, actor=actor, settings=settings, clock=clock, sku=sku)
        except Conflict:  # changed meanwhile on another terminal: the lead retries it
            continue
    return closed


def _receive_line(
    s: Session, actor: Actor, settings: Settings, ret: Return, order_number: str, n: int,
    line: ReceiveLine, note: str | None, now: datetime,
) -> None:  # fmt: skip
    """``line`` (the ``n``-th) received into ``ret``; refused naming the line."""
    shown = ":".join(str(x) for x in (line.sku, line.qty, line.condition, line.bin) if x)
    what = f"line {n} ({shown}): "
    try:
        condition = parse_condition(line.condition)
    except UnknownCondition as exc:
        raise ReturnRefused(f"{what}{exc}") from None
    if line.qty < 1:
        raise ReturnRefused(f"{what}a quantity is 1 or more")
    if condition in (Condition.SCRAP, Condition.FOREIGN) and note is None:
        raise ReturnRefused(f"{what}say why in a note (--note)")
    if line.bin and condition is not Condition.RESELL:
        raise ReturnRefused(f"{what}only a resellable unit is put in a bin of your choice")
    if condition is Condition.FOREIGN:
        for _ in range(line.qty):
            core.add_foreign(s, actor, ret.id, f"{line.sku}: {note}", now)
        return
    bin_id: int | None = None
    for _ in range(line.qty):
        unit_id, product_id, _sku = core.count_unit(
            s, actor, ret, order_number, line.sku, now, condition=condition.value,
            note=note if condition is Condition.SCRAP else None, what=what,
        )  # fmt: skip
        if bin_id is None:
            if condition in QUARANTINE:
                bin_id = core.quarantine_bin(s, settings)
            elif condition is Condition.RESELL:
                code = line.bin or core.suggested_bin(s, product_id)
                if code is None:
                    raise ReturnRefused(f"{what}{line.sku} has no bin of its own: name one")
                bin_id = core.resell_bin(s, code, what)[0]
        if bin_id is not None:
            core.stock_unit(s, actor, unit_id, product_id, bin_id, ret.order_id, now)
