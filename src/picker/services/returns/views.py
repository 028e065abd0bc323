"""Returns as people read them: the list (``picker return list``) and one in full."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from picker.domain.returns import is_rma_number
from picker.services.errors import NotFound
from picker.services.returns import _core as core
from picker.services.returns.shapes import ReturnDetail, ReturnSummary
from picker.store.engine import Database
from picker.store.models import Operator, Order, OrderLine, Return, ReturnLine, ReturnUnit

__all__ = ["ReturnDetail", "ReturnSummary", "list_returns", "show", "summary_of"]

STATUSES = ("authorized", "open", "closed", "cancelled")


def _summaries(s: Session, where: list[object]) -> list[ReturnSummary]:
    exchange_order = aliased(Order)
    rows = s.execute(
        select(Return, Order.number, exchange_order.number)
        .join(Order, Order.id == Return.order_id)
        .outerjoin(exchange_order, exchange_order.id == Return.exchange_order_id)
        .where(*where)  # type: ignore[arg-type]
        .order_by(Return.id.desc())
    ).all()
    ids = [r.id for r, _, _ in rows]
    ours: Counter[int] = Counter()
    foreign: Counter[int] = Counter()
    for return_id, line_id in s.execute(
        select(ReturnUnit.return_id, ReturnUnit.order_line_id).where(ReturnUnit.return_id.in_(ids))
    ):
        (ours if line_id is not None else foreign)[return_id] += 1
    expected: dict[int, list[tuple[str, int]]] = {}
    for return_id, sku, qty in s.execute(
        select(ReturnLine.return_id, OrderLine.sku, ReturnLine.quantity)
        .join(OrderLine, OrderLine.id == ReturnLine.order_line_id)
        .where(ReturnLine.return_id.in_(ids))
        .order_by(ReturnLine.return_id, OrderLine.line_no)
    ):
        expected.setdefault(return_id, []).append((sku, qty))
    return [
        ReturnSummary(
            number=r.number,
            order_number=order_number,
            status=r.status,
            reason=r.reason,
            exchange=r.exchange,
            tracking_no=r.tracking_no,
            created_at=r.created_at,
            closed_at=r.closed_at,
            units=ours[r.id],
            foreign_units=foreign[r.id],
            refund_amount=r.refund_amount,
            currency=r.currency,
            held_by_terminal=r.held_by_terminal,
            exchange_order=exchange_number,
            expected=tuple(expected.get(r.id, ())),
        )
        for r, order_number, exchange_number in rows
    ]


def summary_of(s: Session, return_id: int) -> ReturnSummary:
    """One return as the list shows it (inside the caller's transaction)."""
    return _summaries(s, [Return.id == return_id])[0]


def list_returns(db: Database, *, status: str | None = None) -> list[ReturnSummary]:
    """Every return (of ``status``), newest first."""
    if status is not None and status not in STATUSES:
        raise NotFound(f"{status!r} is not a return status ({', '.join(STATUSES)})")
    with db.read() as s:
        return _summaries(s, [] if status is None else [Return.status == status])


def show(db: Database, ref: str) -> ReturnDetail:
    """One return: ``ref`` is its RMA number, or an order's number (its latest return)."""
    text = ref.strip().upper()
    with db.read() as s:
        if is_rma_number(text):
            return_id = s.scalar(select(Return.id).where(Return.number == text))
        else:
            return_id = s.scalar(
                select(Return.id)
                .join(Order, Order.id == Return.order_id)
                .where(Order.number == text)
                .order_by(Return.id.desc())
                .limit(1)
            )
        if return_id is None:
            raise NotFound(f"no return {ref.strip()}")
        ret = s.execute(select(Return).where(Return.id == return_id)).scalar_one()
        order = s.execute(
            select(Order.customer_name, Order.status).where(Order.id == ret.order_id)
        ).one()
        names = dict(
            s.execute(
                select(Operator.id, Operator.name).where(
                    Operator.id.in_({ret.created_by, ret.closed_by} - {None})
                )
            ).all()
        )
        return ReturnDetail(
            summary=summary_of(s, return_id),
            customer_name=order.customer_name,
            order_status=order.status.value,
            lines=core.line_views(s, ret),
            units=core.unit_views(s, ret.id),
            refund_shipping=ret.refund_shipping,
            note=ret.note,
            created_by=names.get(ret.created_by) if ret.created_by else None,
            closed_by=names.get(ret.closed_by) if ret.closed_by else None,
        )
