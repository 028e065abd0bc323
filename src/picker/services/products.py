"""Read-only views of the catalogue (``picker product list`` / ``show``): a product's barcodes,
the bins it lies in with their stock, and how many open orders want it; and one product's stock
bin by bin, quarantine apart (``picker stock show``).

The dictionaries of :meth:`ProductSummary.as_json`, :meth:`ProductDetail.as_json` and
:meth:`StockView.as_json` are stable JSON output: keys are only ever added, never renamed or
removed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from picker.domain.ean import gtin_spellings
from picker.domain.statuses import ORDER_FINISHED_VALUES
from picker.services.errors import NotFound, ServiceError
from picker.store.engine import Database
from picker.store.models import Bin, Order, OrderLine, Product, ProductBarcode, Stock

#: An order in one of these is done with the floor; any other status is an open order.
_DONE = ORDER_FINISHED_VALUES


@dataclass(frozen=True)
class ProductSummary:
    sku: str
    name: str
    barcodes: tuple[str, ...]
    weight_g: int
    fragile: bool
    ships: bool
    active: bool
    on_hand: int
    reserved: int
    bins: int
    """Bins holding a stock row of it (a pick face emptied to 0 still counts)."""
    open_orders: int
    """Orders not yet handed to the courier (nor cancelled) with a line of it."""

    def as_json(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "name": self.name,
            "barcodes": list(self.barcodes),
            "weight_g": self.weight_g,
            "fragile": self.fragile,
            "ships": self.ships,
            "active": self.active,
            "on_hand": self.on_hand,
            "reserved": self.reserved,
            "bins": self.bins,
            "open_orders": self.open_orders,
        }


@dataclass(frozen=True)
class BinStock:
    bin: str
    zone: str
    role: str
    """``pick`` (a pick face), ``reserve`` or ``quarantine``."""
    active: bool
    on_hand: int
    reserved: int

    def as_json(self) -> dict[str, Any]:
        return {
            "bin": self.bin,
            "zone": self.zone,
            "role": self.role,
            "active": self.active,
            "on_hand": self.on_hand,
            "reserved": self.reserved,
        }


@dataclass(frozen=True)
class ProductDetail:
    summary: ProductSummary
    stock: tuple[BinStock, ...]
    """Pick faces first, then the other bins, each in walking order."""
    open_order_numbers: tuple[str, ...]
    """The oldest open orders that want it (at most :data:`SHOWN_ORDERS`)."""

    @property
    def pick_faces(self) -> tuple[BinStock, ...]:
        return tuple(b for b in self.stock if b.role == "pick")

    @property
    def other_bins(self) -> tuple[BinStock, ...]:
        return tuple(b for b in self.stock if b.role != "pick")

    def as_json(self) -> dict[str, Any]:
        data = self.summary.as_json()
        data["stock"] = [b.as_json() for b in self.stock]
        data["open_order_numbers"] = list(self.open_order_numbers)
        return data


#: How many open order numbers ``product show`` names.
SHOWN_ORDERS = 10


def _summaries(s: Session, where: list[Any], limit: int | None) -> list[ProductSummary]:
    stock = (
        select(
            Stock.product_id,
            func.sum(Stock.on_hand).label("on_hand"),
            func.sum(Stock.reserved).label("reserved"),
            func.count().label("bins"),
        )
        .group_by(Stock.product_id)
        .subquery()
    )
    wanted = (
        select(OrderLine.product_id, func.count(func.distinct(OrderLine.order_id)).label("n"))
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.status.not_in(_DONE), OrderLine.product_id.is_not(None))
        .group_by(OrderLine.product_id)
        .subquery()
    )
    query = (
        select(
            Product,
            func.coalesce(stock.c.on_hand, 0),
            func.coalesce(stock.c.reserved, 0),
            func.coalesce(stock.c.bins, 0),
            func.coalesce(wanted.c.n, 0),
        )
        .outerjoin(stock, stock.c.product_id == Product.id)
        .outerjoin(wanted, wanted.c.product_id == Product.id)
        .where(*where)
        .order_by(Product.sku)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = s.execute(query).all()
    codes: dict[int, list[str]] = defaultdict(list)
    ids = [p.id for p, *_ in rows]
    for start in range(0, len(ids), 5000):  # bounded IN lists on a large catalogue
        for product_id, barcode in s.execute(
            select(ProductBarcode.product_id, ProductBarcode.barcode)
            .where(ProductBarcode.product_id.in_(ids[start : start + 5000]))
            .order_by(ProductBarcode.id)
        ):
            codes[product_id].append(barcode)
    return [
        ProductSummary(
            sku=p.sku, name=p.name, barcodes=tuple(codes[p.id]), weight_g=p.weight_g,
            fragile=p.fragile, ships=p.ships, active=p.active, on_hand=int(on_hand),
            reserved=int(reserved), bins=int(bins), open_orders=int(open_orders),
        )
        for p, on_hand, reserved, bins, open_orders in rows
    ]  # fmt: skip


def list_products(
    db: Database, *, search: str | None = None, limit: int | None = None
) -> list[ProductSummary]:
    """Products by SKU; with ``search``, those whose SKU or name contains it (any case) or
    one of whose barcodes is it (a GTIN matches however many leading zeros it is written with)."""
    where: list[Any] = []
    if search is not None:
        text = search.strip()
        if not text:
            raise ServiceError("the search text is empty")
        by_barcode = select(ProductBarcode.product_id).where(
            ProductBarcode.barcode.in_(_barcode_forms(text))
        )
        where.append(
            or_(
                func.lower(Product.sku).contains(text.lower(), autoescape=True),
                func.lower(Product.name).contains(text.lower(), autoescape=True),
                Product.id.in_(by_barcode),
            )
        )
    with db.read() as s:
        return _summaries(s, where, limit)


def product_detail(db: Database, code: str) -> ProductDetail:
    """One product by its SKU or one of its barcodes: its stock bin by bin (pick faces first)
    and the open orders that want it."""
    with db.read() as s:
        product_id = _product_id(s, code)
        bins = tuple(
            BinStock(b.code, b.zone, b.role, b.active, on_hand, reserved)
            for b, on_hand, reserved in s.execute(
                select(Bin, Stock.on_hand, Stock.reserved)
                .join(Stock, Stock.bin_id == Bin.id)
                .where(Stock.product_id == product_id)
                .order_by(Bin.role != "pick", Bin.pick_seq, Bin.code)
            )
        )
        numbers = tuple(
            s.scalars(
                select(Order.number)
                .where(
                    Order.status.not_in(_DONE),
                    Order.id.in_(
                        select(OrderLine.order_id).where(OrderLine.product_id == product_id)
                    ),
                )
                .order_by(Order.placed_at, Order.id)
                .limit(SHOWN_ORDERS)
            )
        )
        summary = _summaries(s, [Product.id == product_id], 1)[0]  # in the same read as the bins
    return ProductDetail(summary, bins, numbers)


def _product_id(s: Session, code: str) -> int:
    """The product of a SKU or one of its barcodes (a SKU typed in another case, when only
    one product has it); NotFound naming the code."""
    code = code.strip()
    product_id = s.scalar(select(Product.id).where(Product.sku == code))
    if product_id is None:
        product_id = s.scalar(
            select(ProductBarcode.product_id)
            .where(ProductBarcode.barcode.in_(_barcode_forms(code)))
            .limit(1)
        )
    if product_id is None:  # a SKU typed in another case, if only one product has it
        found = s.scalars(
            select(Product.id).where(func.lower(Product.sku) == code.lower()).limit(2)
        ).all()
        product_id = found[0] if len(found) == 1 else None
    if product_id is None:
        raise NotFound(f"no product with the SKU or barcode {code!r}")
    return int(product_id)


#: The role of a bin that keeps returned goods apart (damaged, defective, incomplete): its
#: stock is never reserved nor picked.
QUARANTINE = "quarantine"
#: The role of the receiving dock: goods waiting for put-away, never reserved nor picked.
RECEIVING = "receiving"
#: Bins whose stock is on hand but never reserved nor picked.
NOT_FOR_SALE = (QUARANTINE, RECEIVING)


@dataclass(frozen=True)
class StockView:
    """Where one product's stock lies (``picker stock show``): every bin with a stock row of
    it, pick faces first, then reserve bins, then quarantine, each in walking order."""

    sku: str
    name: str
    bins: tuple[BinStock, ...]

    @property
    def on_hand(self) -> int:
        """Every unit in the warehouse, quarantined ones too."""
        return sum(b.on_hand for b in self.bins)

    @property
    def reserved(self) -> int:
        return sum(b.reserved for b in self.bins)

    @property
    def quarantined(self) -> int:
        """Units in quarantine bins: on hand, never to be reserved or picked."""
        return sum(b.on_hand for b in self.bins if b.role == QUARANTINE)

    @property
    def available(self) -> int:
        """Units an order could still reserve: free stock in active bins out of quarantine and
        the receiving dock."""
        return sum(
            b.on_hand - b.reserved for b in self.bins if b.active and b.role not in NOT_FOR_SALE
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "name": self.name,
            "bins": [b.as_json() for b in self.bins],
            "on_hand": self.on_hand,
            "reserved": self.reserved,
            "available": self.available,
            "quarantined": self.quarantined,
        }


def stock_of(db: Database, code: str) -> StockView:
    """One product's stock bin by bin, by its SKU or one of its barcodes."""
    with db.read() as s:
        product = s.get_one(Product, _product_id(s, code))
        rank = case((Bin.role == "pick", 0), (Bin.role.in_(NOT_FOR_SALE), 2), else_=1)
        bins = tuple(
            BinStock(b.code, b.zone, b.role, b.active, on_hand, reserved)
            for b, on_hand, reserved in s.execute(
                select(Bin, Stock.on_hand, Stock.reserved)
                .join(Stock, Stock.bin_id == Bin.id)
                .where(Stock.product_id == product.id)
                .order_by(rank, Bin.pick_seq, Bin.code)
            )
        )
        return StockView(product.sku, product.name, bins)


def _barcode_forms(code: str) -> list[str]:
    return sorted(gtin_spellings(code))
