"""Shared by the count tests: the floor's operators as actors, stock and orders by hand."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from picker.domain.roles import Role
from picker.services.actors import Actor, OperatorInfo
from picker.store.engine import Database
from picker.store.models import Bin, Operator, Order, Product, Stock, StockMovement
from tests.conftest import NOW


def clock():  # type: ignore[no-untyped-def]
    return NOW + timedelta(minutes=5)


def actor(db: Database, badge: str, terminal: str, *roles: Role) -> Actor:
    with db.read() as s:
        op = s.execute(select(Operator.id, Operator.name).where(Operator.badge == badge)).one()
    return Actor(terminal, OperatorInfo(op.id, badge, op.name, frozenset(roles)))


def counter(db: Database) -> Actor:
    """Wiktor Geisler (EMP-0002), a picker, at terminal T21."""
    return actor(db, "EMP-0002", "T21", Role.PICKER)


def second_counter(db: Database) -> Actor:
    """Ignacy Jędryczka (EMP-0003), a picker, at terminal T22."""
    return actor(db, "EMP-0003", "T22", Role.PICKER)


def lead(db: Database) -> Actor:
    return actor(db, "EMP-0001", "T01", Role.LEAD)


def bin_stock(db: Database, sku: str, code: str) -> tuple[int, int]:
    """(on hand, reserved) of ``sku`` in bin ``code``; (0, 0) when no row."""
    with db.read() as s:
        row = s.execute(
            select(Stock.on_hand, Stock.reserved)
            .join(Product, Product.id == Stock.product_id)
            .join(Bin, Bin.id == Stock.bin_id)
            .where(Product.sku == sku, Bin.code == code)
        ).one_or_none()
    return (row.on_hand, row.reserved) if row is not None else (0, 0)


def ledger(db: Database, sku: str, code: str) -> int:
    with db.read() as s:
        return int(
            s.scalar(
                select(func.coalesce(func.sum(StockMovement.delta), 0))
                .join(Product, Product.id == StockMovement.product_id)
                .join(Bin, Bin.id == StockMovement.bin_id)
                .where(Product.sku == sku, Bin.code == code)
            )
            or 0
        )


def status(db: Database, number: str) -> str:
    with db.read() as s:
        return str(s.scalar(select(Order.status).where(Order.number == number)))


def hold_reasons(db: Database, number: str) -> list[str]:
    with db.read() as s:
        return list(s.scalar(select(Order.hold_reasons).where(Order.number == number)) or [])


def put(db: Database, sku: str, **bins: int) -> None:
    """Set exactly where a product lies, every change booked in the ledger (as a stock import
    would): put(db, "SKU-00001", A_01_01_1=5)."""
    from sqlalchemy import delete, insert

    with db.transaction() as s:
        pid = s.scalar(select(Product.id).where(Product.sku == sku))
        want = {
            s.scalar(select(Bin.id).where(Bin.code == code.replace("_", "-"))): qty
            for code, qty in bins.items()
        }
        booked = dict(
            s.execute(
                select(StockMovement.bin_id, func.sum(StockMovement.delta))
                .where(StockMovement.product_id == pid)
                .group_by(StockMovement.bin_id)
            ).all()
        )
        for bin_id in set(want) | set(booked):
            delta = want.get(bin_id, 0) - int(booked.get(bin_id) or 0)
            if delta:
                s.execute(
                    insert(StockMovement).values(
                        at=NOW, product_id=pid, bin_id=bin_id, delta=delta, reason="correction"
                    )
                )
        s.execute(delete(Stock).where(Stock.product_id == pid))
        for bin_id, qty in want.items():
            s.execute(insert(Stock).values(product_id=pid, bin_id=bin_id, on_hand=qty, reserved=0))


#: The bins the count tests use: emptied of the demo's stock first (booked in the ledger).
TEST_BINS = ("A-01-01-1", "A-01-01-2", "A-01-01-3", "A-01-02-1", "B-01-01-1", "B-01-01-2",
             "C-01-01-1")  # fmt: skip


def clear(db: Database, *codes: str) -> None:
    from sqlalchemy import delete, insert

    with db.transaction() as s:
        rows = s.execute(
            select(Stock.id, Stock.product_id, Stock.bin_id, Stock.on_hand)
            .join(Bin, Bin.id == Stock.bin_id)
            .where(Bin.code.in_(codes))
        ).all()
        for r in rows:
            if r.on_hand:
                s.execute(
                    insert(StockMovement).values(
                        at=NOW,
                        product_id=r.product_id,
                        bin_id=r.bin_id,
                        delta=-r.on_hand,
                        reason="correction",
                    )
                )
        s.execute(delete(Stock).where(Stock.id.in_([r.id for r in rows])))
