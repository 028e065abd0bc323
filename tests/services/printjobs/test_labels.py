"""A parcel's label as the service fills it, on both databases."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, insert, select, update

from picker.demo.builder import build_demo
from picker.services.printjobs.labels import parcel_label, parcel_label_data
from picker.store.engine import Database
from picker.store.models import Order, Parcel
from tests.conftest import NOW
from tests.printing.test_labels import decoded, pdf_pages


@pytest.fixture
def shipped(db: Database) -> Database:
    """A demo floor with history: orders packed and shipped in parcels."""
    build_demo(db, orders=40, seed=1, now=NOW)
    return db


def one_parcel_cod_order(shipped) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(order id, parcel id) of a closed single-parcel order, made cash on delivery."""
    with shipped.transaction() as s:
        counts = (
            select(Parcel.order_id).group_by(Parcel.order_id).having(func.count() == 1).subquery()
        )
        parcel_id, order_id = s.execute(
            select(Parcel.id, Parcel.order_id)
            .where(Parcel.order_id.in_(select(counts.c.order_id)), Parcel.status == "closed")
            .order_by(Parcel.id)
            .limit(1)
        ).one()  # fmt: skip
        s.execute(update(Order).where(Order.id == order_id).values(cod_amount=Decimal("99.50")))
    return order_id, parcel_id


def another_parcel(s, order_id: int, first: int, tracking: str) -> int:  # type: ignore[no-untyped-def]
    """A second closed parcel of the order, by the first one's courier."""
    courier = s.scalar(select(Parcel.courier_id).where(Parcel.id == first))
    values = {"order_id": order_id, "seq": 2, "courier_id": courier, "status": "closed",
              "tracking_no": tracking, "weight_g": 900}  # fmt: skip
    return int(s.scalar(insert(Parcel).values(**values).returning(Parcel.id)))


def test_a_replacement_for_a_voided_parcel_is_1_of_1_and_collects_the_cash(shipped, settings):
    order_id, first = one_parcel_cod_order(shipped)
    with shipped.transaction() as s:
        s.execute(update(Parcel).where(Parcel.id == first).values(status="voided"))
        second = another_parcel(s, order_id, first, "CR777777")
    with shipped.read() as s:
        data, _ = parcel_label_data(s, settings, second)
        label = parcel_label(s, settings, second)
    assert (data.parcel_no, data.parcel_count) == (1, 1)
    assert data.cod_amount == Decimal("99.50")
    [(page, text)] = pdf_pages(label.content)
    assert decoded(page) == ["CR777777"] and "COD" in text and "1 / 1" in text


def test_the_second_of_two_parcels_says_2_of_2_and_collects_nothing(shipped, settings):
    order_id, first = one_parcel_cod_order(shipped)
    with shipped.transaction() as s:
        second = another_parcel(s, order_id, first, "CR777778")
    with shipped.read() as s:
        one, _ = parcel_label_data(s, settings, first)
        two, _ = parcel_label_data(s, settings, second)
    assert (one.parcel_no, one.parcel_count, one.cod_amount) == (1, 2, Decimal("99.50"))
    assert (two.parcel_no, two.parcel_count, two.cod_amount) == (2, 2, None)
