"""What the inbound tests share: the dock's operators, a notice made by import, stock read."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from picker.domain.roles import Role
from picker.services import inbound
from picker.services.actors import Actor, OperatorInfo
from picker.store.engine import Database
from picker.store.models import Bin, Product, ProductBarcode, Stock, StockMovement
from tests.conftest import NOW

#: The demo floor's receiver (EMP-0006) at two docks, and its lead.
DOCK = Actor("T51", OperatorInfo(6, "EMP-0006", "Dock One", frozenset({Role.RECEIVER})))
DOCK2 = Actor("T52", OperatorInfo(2, "EMP-0002", "Dock Two", frozenset({Role.RECEIVER})))
LEAD = Actor("T53", OperatorInfo(1, "EMP-0001", "Lead One", frozenset({Role.LEAD})))


def clock():  # type: ignore[no-untyped-def]
    return NOW + timedelta(hours=1)


def notice(db: Database, reference: str, *lines: tuple[str, int] | tuple[str, int, str, str]) -> None:
    """A notice imported as ``picker inbound import`` does: (SKU, qty[, lot, expiry]) lines."""
    rows = ["reference,supplier,expected_at,sku,qty,lot,expiry"]
    for line in lines:
        sku, qty, *rest = line
        lot, expiry = rest if rest else ("", "")
        rows.append(f"{reference},Acme,2026-11-23,{sku},{qty},{lot},{expiry}")
    report = inbound.import_notices(db, LEAD, "\n".join(rows).encode(), "asn.csv")
    assert report.counts["receipts"] == 1, report.problems


def on_hand(db: Database, sku: str, code: str) -> int:
    with db.read() as s:
        found = s.scalar(
            select(Stock.on_hand)
            .join(Bin, Bin.id == Stock.bin_id)
            .join(Product, Product.id == Stock.product_id)
            .where(Product.sku == sku, Bin.code == code)
        )
    return int(found or 0)


def ledger(db: Database, sku: str, code: str, *reasons: str) -> int:
    """The sum of the ledger of ``sku`` in bin ``code`` (of these reasons, when given)."""
    with db.read() as s:
        query = (
            select(func.coalesce(func.sum(StockMovement.delta), 0))
            .join(Bin, Bin.id == StockMovement.bin_id)
            .join(Product, Product.id == StockMovement.product_id)
            .where(Product.sku == sku, Bin.code == code)
        )
        if reasons:
            query = query.where(StockMovement.reason.in_(reasons))
        return int(s.scalar(query) or 0)


def barcode(db: Database, sku: str) -> str:
    with db.read() as s:
        return str(
            s.scalar(
                select(ProductBarcode.barcode)
                .join(Product, Product.id == ProductBarcode.product_id)
                .where(Product.sku == sku)
                .order_by(ProductBarcode.id)
                .limit(1)
            )
        )
