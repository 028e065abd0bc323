"""The schema: SQLAlchemy 2 typed models for everything on the floor.

Every rule that can be a database constraint is one (unique keys, foreign keys, CHECKs), so two
terminals racing each other are settled by the database, not by Python. Timestamps are stored as
UTC and always come back timezone-aware.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql import text
from sqlalchemy.types import TypeDecorator

from picker.domain.cod import CodProblem
from picker.domain.courier_events import CourierStatus
from picker.domain.label_text import LabelText
from picker.domain.notify import MessageKind, MessageStatus
from picker.domain.order_search import KEY_WIDTH, STORED_KINDS
from picker.domain.roles import Role
from picker.domain.statuses import OrderStatus, ParcelStatus

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC, returned as an aware UTC datetime on every database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # raw SQLite text from a bulk insert
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _enum(enum: type[Any], name: str) -> Enum:
    """A status column: VARCHAR holding the value's text (checked by :func:`_one_of`)."""
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=False,
        length=16,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


def _one_of(column: str, values: Any, name: str, *, nullable: bool = False) -> CheckConstraint:
    """CHECK that ``column`` holds one of ``values``.

    Written as ``a = 'x' OR a = 'y' …`` rather than ``IN (…)``: SQLite evaluates a constant IN
    list about twice as slowly per row (measured on 750,000 event rows: 5.5 s against 2.4 s).
    """
    texts = [getattr(v, "value", v) for v in values]
    condition = " OR ".join(f"{column} = '{t}'" for t in texts)
    if nullable:
        condition = f"{column} IS NULL OR {condition}"
    return CheckConstraint(condition, name=name)


class Money(TypeDecorator[Decimal]):
    """An exact amount, stored as an integer count of 1/10,000 units on every database.

    Exact on SQLite too (which has no decimal type), and SUM() in SQL stays exact. Four places
    cover every currency's minor units; an amount finer than that is refused, not rounded.
    """

    impl = BigInteger
    cache_ok = True
    SCALE = 4

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        scaled = Decimal(value).scaleb(self.SCALE)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"amount {value} has more than {self.SCALE} decimal places")
        return int(scaled)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(int(value)).scaleb(-self.SCALE)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# --- catalogue and locations -----------------------------------------------------------------


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("weight_g >= 0", name="weight_not_negative"),
        CheckConstraint("length(sku) > 0", name="sku_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    weight_g: Mapped[int] = mapped_column(Integer)
    fragile: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Goods that travel in a parcel; False for a gift card, a download, a service: an order's
    #: line of it is recorded (``orders.lines_not_shipped``), never picked or weighed.
    ships: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))

    barcodes: Mapped[list[ProductBarcode]] = relationship(back_populates="product")


class ProductPack(Base):
    """A case or inner pack of a product: its own GTIN-14 (or other code) that stands for
    ``units`` units when received. Never a unit barcode: a pick or pack scan of it is not one
    unit, so it lives apart from :class:`ProductBarcode`."""

    __tablename__ = "product_packs"
    __table_args__ = (
        CheckConstraint("units > 1", name="units_more_than_one"),
        CheckConstraint("length(barcode) > 0", name="barcode_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    barcode: Mapped[str] = mapped_column(String(64), unique=True)
    units: Mapped[int] = mapped_column(Integer)


class ProductBarcode(Base):
    """One of a product's barcodes (EAN-13, a second supplier's EAN, an internal code…)."""

    __tablename__ = "product_barcodes"
    __table_args__ = (CheckConstraint("length(barcode) > 0", name="barcode_not_empty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    barcode: Mapped[str] = mapped_column(String(64), unique=True)

    product: Mapped[Product] = relationship(back_populates="barcodes")


#: What a bin is for (``bins.role``): ``quarantine`` holds returned goods that may not be sold
#: (damaged, defective, incomplete): never reserved, never picked; ``receiving`` is the dock
#: where received goods wait for put-away: never reserved, never picked, drained only by
#: put-away.
BIN_ROLES = ("pick", "reserve", "quarantine", "receiving")


class Bin(Base):
    """A bin location: zone-aisle-bay-level, with its place in the walking order."""

    __tablename__ = "bins"
    __table_args__ = (
        UniqueConstraint("zone", "aisle", "bay", "level"),
        CheckConstraint("aisle >= 0 AND bay >= 0 AND level >= 0", name="coordinates_not_negative"),
        _one_of("role", BIN_ROLES, "role_known"),
        CheckConstraint("min_qty >= 0 AND max_qty > 0", name="min_max_positive"),
        CheckConstraint("min_qty <= max_qty", name="min_within_max"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    zone: Mapped[str] = mapped_column(String(8))
    aisle: Mapped[int] = mapped_column(Integer)
    bay: Mapped[int] = mapped_column(Integer)
    level: Mapped[int] = mapped_column(Integer)
    pick_seq: Mapped[int] = mapped_column(Integer, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: "pick" (a pick face, picked from), "reserve" (stock kept back to refill pick faces),
    #: "quarantine" (returned goods that may not be sold: never reserved or picked) or
    #: "receiving" (the dock: received goods waiting for put-away, never reserved or picked).
    role: Mapped[str] = mapped_column(String(16), default="pick", server_default="pick")
    #: A pick face's replenishment levels: below ``min_qty`` on hand it is refilled from reserve
    #: up to ``max_qty`` (both NULL: not replenished; also the room put-away may fill).
    min_qty: Mapped[int | None] = mapped_column(Integer)
    max_qty: Mapped[int | None] = mapped_column(Integer)
    #: When a cycle count of this bin last closed (NULL: never counted).
    counted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Zone(Base):
    """A zone of the floor (bins' first code part): named, retired rather than deleted."""

    __tablename__ = "zones"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))


class Stock(Base):
    """How many of a product lie in a bin, and how many of those are promised to orders."""

    __tablename__ = "stock"
    __table_args__ = (
        UniqueConstraint("product_id", "bin_id"),
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    bin_id: Mapped[int] = mapped_column(ForeignKey("bins.id"), index=True)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)


class StockMovement(Base):
    """Append-only ledger of every change to on_hand: receipt, pick, correction, put-back."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        CheckConstraint("delta <> 0", name="delta_not_zero"),
        Index(None, "product_id", "bin_id"),
        # A receipt's rows (its last scan, what it left in the dock): migration 0021.
        Index(None, "document", "product_id", "bin_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    bin_id: Mapped[int] = mapped_column(ForeignKey("bins.id"))
    delta: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32))
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    terminal_id: Mapped[str | None] = mapped_column(String(16))
    #: A change no operator made (a data feed): the OS user and host that ran it.
    source: Mapped[str | None] = mapped_column(String(64))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    #: The pick task a pick, an undo or a shortage belongs to (such a task is never deleted).
    pick_task_id: Mapped[int | None] = mapped_column(ForeignKey("pick_tasks.id"), index=True)
    #: The paper behind a receipt, put-away, count or move: the receipt's reference, CNT-…,
    #: MOV-… (NULL for the others).
    document: Mapped[str | None] = mapped_column(String(48))


# --- couriers and packaging ------------------------------------------------------------------


class Courier(Base):
    __tablename__ = "couriers"
    __table_args__ = (
        _one_of("tracking_scheme", ("s10", "mod10", "range"), "tracking_scheme_known"),
        CheckConstraint(
            "range_start IS NULL OR range_end IS NULL OR range_start <= range_end",
            name="range_ordered",
        ),
        CheckConstraint("next_number >= 0", name="next_number_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    tracking_scheme: Mapped[str] = mapped_column(String(8))
    #: S10: the two service letters; mod10: a fixed leading part; range: a text prefix.
    tracking_prefix: Mapped[str] = mapped_column(String(16), default="")
    #: S10: the country code that ends the number (e.g. PL).
    tracking_country: Mapped[str | None] = mapped_column(String(2))
    range_start: Mapped[int | None] = mapped_column(BigInteger)
    range_end: Mapped[int | None] = mapped_column(BigInteger)
    #: Counter row for allocation: the next serial to hand out (UPDATE … RETURNING).
    next_number: Mapped[int] = mapped_column(BigInteger, default=0)
    label_layout: Mapped[str] = mapped_column(String(64))
    lane: Mapped[str] = mapped_column(String(16), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Where a customer follows a parcel: a URL with ``{tracking}`` in it.
    tracking_url: Mapped[str | None] = mapped_column(String(300))
    #: mod10: the number's whole length (prefix, serial, check digit); None = serial of 11.
    tracking_length: Mapped[int | None] = mapped_column(Integer)

    services: Mapped[list[CourierService]] = relationship(back_populates="courier")


class CourierService(Base):
    __tablename__ = "courier_services"
    __table_args__ = (UniqueConstraint("courier_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    courier_id: Mapped[int] = mapped_column(ForeignKey("couriers.id"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    express: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Local pickup times ("HH:MM", [warehouse] timezone), earliest first.
    cutoffs: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    promised_days: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))

    courier: Mapped[Courier] = relationship(back_populates="services")


class PackagingType(Base):
    __tablename__ = "packaging_types"
    __table_args__ = (
        CheckConstraint("tare_g >= 0", name="tare_not_negative"),
        CheckConstraint(
            "length_mm > 0 AND width_mm > 0 AND height_mm > 0", name="dimensions_positive"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    barcode: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    tare_g: Mapped[int] = mapped_column(Integer)
    length_mm: Mapped[int] = mapped_column(Integer)
    width_mm: Mapped[int] = mapped_column(Integer)
    height_mm: Mapped[int] = mapped_column(Integer)
    max_weight_g: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))


# --- people ----------------------------------------------------------------------------------


class Operator(Base):
    __tablename__ = "operators"
    __table_args__ = (CheckConstraint("failed_pins >= 0", name="failed_pins_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    badge: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    pin_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_pins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_terminal: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    roles: Mapped[list[OperatorRole]] = relationship(
        back_populates="operator", cascade="all, delete-orphan", lazy="selectin"
    )


class OperatorRole(Base):
    __tablename__ = "operator_roles"
    __table_args__ = (_one_of("role", Role, "role_known"),)

    operator_id: Mapped[int] = mapped_column(
        ForeignKey("operators.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(_enum(Role, "role"), primary_key=True)

    operator: Mapped[Operator] = relationship(back_populates="roles")


# --- orders ----------------------------------------------------------------------------------


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("channel", "shop_order_no"),
        CheckConstraint("cod_amount IS NULL OR cod_amount > 0", name="cod_amount_positive"),
        CheckConstraint("total_amount >= 0", name="total_not_negative"),
        CheckConstraint("length(currency) = 3", name="currency_code"),
        CheckConstraint("version >= 1", name="version_positive"),
        _one_of("status", OrderStatus, "status_known"),
        _one_of("label_text", LabelText, "label_text_known", nullable=True),
        # The picker queue: an operator's assigned orders; the lead's views: by status.
        Index(None, "assignee_id", "status"),
        # The packing table: the order a packer has open.
        Index(None, "packer_id", "status"),
        Index(None, "status", "courier_id"),
        Index(None, "placed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Our number, printed as a barcode on the packing slip (PO-…).
    number: Mapped[str] = mapped_column(String(20), unique=True)
    channel: Mapped[str] = mapped_column(String(32))
    #: The order's number in the shop, as its customers see it (Shopify ``name`` without "#").
    shop_order_no: Mapped[str] = mapped_column(String(64))
    #: The shop's own id of the order (Shopify / WooCommerce ``id``), which its API is called
    #: with; NULL for CSV imports and orders imported before Picker kept it.
    shop_order_id: Mapped[str | None] = mapped_column(String(64))
    customer_name: Mapped[str] = mapped_column(String(200))
    customer_email: Mapped[str | None] = mapped_column(String(254))
    ship_name: Mapped[str] = mapped_column(String(200))
    ship_street: Mapped[str] = mapped_column(String(200))
    ship_street2: Mapped[str | None] = mapped_column(String(200))
    ship_postal_code: Mapped[str] = mapped_column(String(20))
    ship_city: Mapped[str] = mapped_column(String(100))
    ship_region: Mapped[str | None] = mapped_column(String(100))
    ship_country: Mapped[str] = mapped_column(String(2))
    ship_phone: Mapped[str | None] = mapped_column(String(40))
    #: The shop's shipping method as exported; courier and service are what it maps to.
    shipping_method: Mapped[str] = mapped_column(String(64))
    #: The shipping line's title, tried when the method code is not in the shipping table.
    shipping_title: Mapped[str] = mapped_column(String(100), default="", server_default="")
    courier_id: Mapped[int | None] = mapped_column(ForeignKey("couriers.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("courier_services.id"))
    currency: Mapped[str] = mapped_column(String(3))
    total_amount: Mapped[Decimal] = mapped_column(Money())
    #: Cash to collect on delivery; NULL when prepaid.
    cod_amount: Mapped[Decimal | None] = mapped_column(Money())
    paid: Mapped[bool] = mapped_column(Boolean)
    #: The shop's own word for the payment (paid, pending, refunded, authorized…).
    payment_state: Mapped[str] = mapped_column(String(32), default="", server_default="")
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Higher is more urgent (express services are raised at intake).
    priority: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[OrderStatus] = mapped_column(_enum(OrderStatus, "order_status"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    #: The terminal that holds the order right now (picking or packing), claimed atomically.
    held_by_terminal: Mapped[str | None] = mapped_column(String(16))
    #: Who packs it: set when a packer opens it (``packing``); another packer is refused. NULL
    #: on a ``packing`` order means any packer may take it (a lead voided a parcel of it).
    packer_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    #: The packer read the ship address on screen and confirmed it (once per order).
    address_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    address_confirmed_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    hold_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: What was wrong with the record as the shop sent it (a line with quantity 0, a field too
    #: long…): releasing the hold cannot fix these, only a corrected order from the shop can.
    intake_problems: Mapped[list[str]] = mapped_column(
        JSON, default=list, server_default=text("'[]'")
    )
    #: Lines the shop sent that are not the floor's to ship — refunded or removed, already
    #: fulfilled, or goods that do not ship — each {sku, name, quantity, reason}: recorded, not
    #: picked.
    lines_not_shipped: Mapped[list[dict[str, object]]] = mapped_column(
        JSON, default=list, server_default=text("'[]'")
    )
    #: The customer's language as the shop sent it (Shopify ``customer_locale``: "pl", "en-GB"),
    #: for what Picker tells the customer.
    customer_locale: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    gift_message: Mapped[str | None] = mapped_column(Text)
    #: A lead's choice for a recipient the label fonts cannot draw as written (transliterate,
    #: or blanks to write in by hand); NULL: print as written, refused when it cannot be.
    label_text: Mapped[str | None] = mapped_column(String(16))
    #: Bumped by every status change; a conditional UPDATE on it settles races.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: A replacement order (an exchange) points at the return it replaces goods for.
    exchange_for_return_id: Mapped[int | None] = mapped_column(
        ForeignKey("returns.id", use_alter=True)
    )

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.line_no"
    )


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (
        UniqueConstraint("order_id", "line_no"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("line_no > 0", name="line_no_positive"),
        CheckConstraint("returned_qty >= 0", name="returned_qty_not_negative"),
        Index(None, "product_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    line_no: Mapped[int] = mapped_column(Integer)
    #: As the shop sent it; product_id is NULL when the SKU is unknown (the order is on hold).
    sku: Mapped[str] = mapped_column(String(64))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Money())
    #: Units of this line received back (returns); never more than shipped (handed over).
    returned_qty: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))

    order: Mapped[Order] = relationship(back_populates="lines")


class OrderEvent(Base):
    """Append-only history of an order: every status change with who, where, when and why."""

    __tablename__ = "order_events"
    __table_args__ = (
        _one_of("from_status", OrderStatus, "from_status_known", nullable=True),
        _one_of("to_status", OrderStatus, "to_status_known"),
        Index(None, "order_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    terminal_id: Mapped[str] = mapped_column(String(16))
    #: A change no operator made (a data feed): the OS user and host that ran it.
    source: Mapped[str | None] = mapped_column(String(64))
    from_status: Mapped[OrderStatus | None] = mapped_column(_enum(OrderStatus, "from_status"))
    to_status: Mapped[OrderStatus] = mapped_column(_enum(OrderStatus, "to_status"))
    reason: Mapped[str] = mapped_column(Text, default="")


# --- picking ---------------------------------------------------------------------------------


class Tote(Base):
    __tablename__ = "totes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    #: The order the tote carries; unique, so one tote never holds two orders.
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), unique=True)
    bound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Where it stands when not on a trolley: None, "packing", "problem_shelf".
    location: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))


class PickTask(Base):
    """One line of a pick list: take ``quantity`` of a product from a bin."""

    __tablename__ = "pick_tasks"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("picked >= 0 AND picked <= quantity", name="picked_within_quantity"),
        CheckConstraint("short >= 0 AND picked + short <= quantity", name="short_within_quantity"),
        Index(None, "order_id", "seq"),
        Index(None, "bin_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    bin_id: Mapped[int] = mapped_column(ForeignKey("bins.id"))
    seq: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    picked: Mapped[int] = mapped_column(Integer, default=0)
    short: Mapped[int] = mapped_column(Integer, default=0)
    tote_id: Mapped[int | None] = mapped_column(ForeignKey("totes.id"))
    picker_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set when the order stopped being picked (held or cancelled): the task is closed, kept
    #: only because the ledger names it, and left out of pick lists; whatever it had picked was
    #: put back in its bin (a ``put_back`` movement). A release reserves the order afresh.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# --- packing and handoff ---------------------------------------------------------------------


class CourierPickup(Base):
    """A courier's collection: parcels scanned into the courier's hands, then a manifest."""

    __tablename__ = "courier_pickups"
    __table_args__ = (
        _one_of("status", ("open", "closed"), "status_known"),
        Index(None, "courier_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    courier_id: Mapped[int] = mapped_column(ForeignKey("couriers.id"))
    status: Mapped[str] = mapped_column(String(8), default="open")
    opened_by: Mapped[int] = mapped_column(ForeignKey("operators.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Parcel(Base):
    __tablename__ = "parcels"
    __table_args__ = (
        UniqueConstraint("order_id", "seq"),
        CheckConstraint("seq > 0", name="seq_positive"),
        _one_of("status", ParcelStatus, "status_known"),
        CheckConstraint("weight_g IS NULL OR weight_g > 0", name="weight_positive"),
        CheckConstraint("status = 'open' OR tracking_no IS NOT NULL", name="closed_has_tracking"),
        CheckConstraint(
            "(status = 'handed_over') = (pickup_id IS NOT NULL)", name="handed_over_on_pickup"
        ),
        _one_of("courier_status", CourierStatus, "courier_status_known", nullable=True),
        # The handoff lanes: closed parcels per courier.
        Index(None, "courier_id", "status"),
        # Verified units go into the order's one open parcel.
        Index(
            "uq_parcels_one_open_per_order",
            "order_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    seq: Mapped[int] = mapped_column(Integer)
    courier_id: Mapped[int] = mapped_column(ForeignKey("couriers.id"))
    status: Mapped[ParcelStatus] = mapped_column(_enum(ParcelStatus, "parcel_status"))
    tracking_no: Mapped[str | None] = mapped_column(String(40), unique=True)
    packaging_type_id: Mapped[int | None] = mapped_column(ForeignKey("packaging_types.id"))
    weight_g: Mapped[int | None] = mapped_column(Integer)
    opened_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pickup_id: Mapped[int | None] = mapped_column(ForeignKey("courier_pickups.id"), index=True)
    handed_over_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: "Parcel n" on its label, given at close: the lowest number no other live parcel of the
    #: order carries, so a replacement for a voided parcel takes its number (and, for number
    #: 1, the cash on delivery). NULL for a parcel not closed by this release.
    label_no: Mapped[int | None] = mapped_column(Integer)
    #: What the courier last said of it (the latest event by the courier's time), and when;
    #: NULL before any event arrived (``picker tracking import``).
    courier_status: Mapped[str | None] = mapped_column(String(20))
    courier_status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The courier reported it coming back to us (the returns desk expects it).
    returned_to_sender: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )


class ParcelItem(Base):
    __tablename__ = "parcel_items"
    __table_args__ = (
        UniqueConstraint("parcel_id", "order_line_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id", ondelete="CASCADE"))
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)


class TrackingEvent(Base):
    """What a courier reported of one of our parcels (``picker tracking import``): stored once
    per parcel, status and courier's time, however often its file is imported."""

    __tablename__ = "tracking_events"
    __table_args__ = (
        UniqueConstraint("parcel_id", "status", "at"),
        _one_of("status", CourierStatus, "status_known"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id"))
    courier_id: Mapped[int] = mapped_column(ForeignKey("couriers.id"))
    status: Mapped[str] = mapped_column(String(20))
    #: The courier's time of the event (UTC).
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    location: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[str | None] = mapped_column(Text)
    #: The courier's own word for the status, as the file had it.
    raw_status: Mapped[str] = mapped_column(String(100))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Who imported it: the data feed (OSUSER@HOST) or the operator's badge.
    source: Mapped[str | None] = mapped_column(String(64))


# --- journals and the print queue ------------------------------------------------------------


class ScanJournal(Base):
    """Append-only: every scan a terminal received, with what it meant and what came of it."""

    __tablename__ = "scan_journal"
    __table_args__ = (
        _one_of("result", ("accepted", "refused", "misread"), "result_known"),
        Index(None, "terminal_id", "id"),
        Index(None, "order_id"),
        # A scan sent again after the database came back is looked up by its key, and the
        # database itself refuses a key twice.
        Index(
            "ix_scan_journal_scan_key",
            "scan_key",
            unique=True,
            sqlite_where=text("scan_key IS NOT NULL"),
            postgresql_where=text("scan_key IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    terminal_id: Mapped[str] = mapped_column(String(16))
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    station: Mapped[str] = mapped_column(String(16))
    screen: Mapped[str] = mapped_column(String(24), server_default="", default="")
    raw: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    #: What the scan was read as: GTIN, lot, expiry, count… (name → value as shown).
    fields: Mapped[dict[str, str]] = mapped_column(JSON, server_default=text("'{}'"), default=dict)
    result: Mapped[str] = mapped_column(String(8))
    message: Mapped[str] = mapped_column(Text, default="")
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    #: The terminal's key for this scan (None before keys were kept): a scan sent again after a
    #: lost connection is recognised by it.
    scan_key: Mapped[str | None] = mapped_column(String(32))


class SetupLog(Base):
    """One ``picker setup apply`` that changed something: who ran it and what it changed."""

    __tablename__ = "setup_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    source: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text)


class PrintJob(Base):
    """A document to print; a printer that is down leaves it queued, never lost.

    ``queued`` → ``printing`` (claimed by one terminal with a conditional UPDATE, sent outside
    any transaction) → ``done``; a failed send goes back to ``queued`` with ``attempts`` + 1,
    ``last_error`` and a later ``next_attempt_at``. ``failed`` is a job that cannot be sent as
    it is (its file is gone) until someone retries it; ``cancelled`` is never printed.
    """

    __tablename__ = "print_jobs"
    __table_args__ = (
        _one_of("status", ("queued", "printing", "done", "failed", "cancelled"), "status_known"),
        _one_of(
            "kind", ("label", "manifest", "pick_list", "packing_slip", "floor_sheet"), "kind_known"
        ),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint("content IS NOT NULL OR path IS NOT NULL", name="has_content"),
        # The due jobs of one printer, soonest first (the print queue's claim).
        Index(None, "status", "printer", "next_attempt_at"),
        Index(None, "parcel_id"),
        # An order's timeline: its jobs, and the manifests of its pickups.
        Index(None, "order_id"),
        Index(None, "pickup_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))
    printer: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(32), default="application/pdf")
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    path: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(12), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    printed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    parcel_id: Mapped[int | None] = mapped_column(ForeignKey("parcels.id"))
    pickup_id: Mapped[int | None] = mapped_column(ForeignKey("courier_pickups.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    terminal_id: Mapped[str] = mapped_column(String(16))
    #: Readable name of the document (a tracking number, an order number): the spool file's
    #: name and the printer queue's job title.
    title: Mapped[str | None] = mapped_column(String(100))
    #: A queued job is not sent before this moment (the back-off after a failed send).
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    #: When the last send began, and who sent it (terminal or worker): a job left ``printing``
    #: long after ``claimed_at`` belongs to a sender that died, and is queued again.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    #: Why it was printed again, and who asked (a reprint); NULL for a first print.
    reason: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))


# --- the outbox -------------------------------------------------------------------------------


class OutboxMessage(Base):
    """Something to tell the outside world (the customer by mail, the shop its fulfilment),
    written in the same transaction as the change that causes it and sent later by a
    dispatcher (:mod:`picker.services.notify`).

    ``queued`` → ``sending`` (claimed by one dispatcher with a conditional UPDATE, until
    ``lease_until``) → ``sent``; or ``failed`` (the reason in ``error``), ``cancelled`` (by a
    lead, the reason in ``error``), ``skipped`` (nothing to send: no address, event switched
    off; the reason in ``error``). ``key`` is the cause (order/event/kind/parcels): the same
    cause is never queued twice, and the Message-ID is derived from it (with the sender's
    domain), the same on every send.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        _one_of("status", MessageStatus, "status_known"),
        _one_of("kind", MessageKind, "kind_known"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        # The dispatcher's look for due messages and for leases run out.
        Index(None, "status", "next_attempt_at"),
        Index(None, "order_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    event: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(8))
    #: The parcels the message is about (a shipment's), by id; empty for other events.
    parcels: Mapped[list[int]] = mapped_column(JSON, default=list)
    #: What the cause adds for the message (a cancellation's reason code, a hold's parts).
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Who is told: the e-mail address, or the shop channel's name.
    recipient: Mapped[str | None] = mapped_column(String(254))
    locale: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: A ``sending`` message belongs to ``claimed_by`` until then; after it, to anyone.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When it was queued last (enqueued, or retried by a lead): a message that could not be
    #: sent for a passing reason is failed ``[notify] give_up_after_h`` after this.
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# --- finding orders --------------------------------------------------------------------------


class OrderSearchKey(Base):
    """A key an order is found by (``picker order find``): its shop number, e-mail, phone and
    each word of its names, normalised by :mod:`picker.domain.order_search`; written with the
    order. The primary key (kind, key, order_id) is the lookup: equality on (kind, key), the
    orders newest first, and whether one order has a second word."""

    __tablename__ = "order_search_keys"
    __table_args__ = (
        _one_of("kind", STORED_KINDS, "kind_known"),
        CheckConstraint("length(key) > 0", name="key_not_empty"),
        Index(None, "order_id"),
    )

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY_WIDTH), primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    )


# --- cash on delivery settled -----------------------------------------------------------------


class CodRemittance(Base):
    """One line of a courier's cash-on-delivery remittance file (``picker cod import``), kept
    as it came: the line that settled its order's cash (``problem`` NULL), or one kept for the
    lead with its problem (short-paid, unknown tracking number, duplicate…; see
    :class:`~picker.domain.cod.CodProblem`).

    A line is imported once: its key is the courier, the courier's reference, the tracking
    number and ``occurrence`` (the n-th line of its file with that reference and tracking
    number), so the same file imported again changes nothing. An order's cash is settled once:
    at most one line per order without a problem. Amounts are integer minor units of
    ``currency`` (cents, yen, dong).
    """

    __tablename__ = "cod_remittances"
    __table_args__ = (
        UniqueConstraint("courier_id", "reference", "tracking_no", "occurrence"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("occurrence > 0", name="occurrence_positive"),
        CheckConstraint("length(currency) = 3", name="currency_code"),
        _one_of("problem", CodProblem, "problem_known", nullable=True),
        CheckConstraint("problem IS NOT NULL OR order_id IS NOT NULL", name="settled_has_order"),
        Index(
            "uq_cod_remittances_one_settlement_per_order",
            "order_id",
            unique=True,
            sqlite_where=text("problem IS NULL"),
            postgresql_where=text("problem IS NULL"),
        ),
        # An order's settlement rows (its timeline); the lead's list of kept problems.
        Index(None, "order_id", "id"),  # in the order they came: one index read
        Index(None, "problem"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    courier_id: Mapped[int] = mapped_column(ForeignKey("couriers.id"))
    reference: Mapped[str] = mapped_column(String(64))
    #: As the file gives it (upper case): it may name no parcel of ours.
    tracking_no: Mapped[str] = mapped_column(String(40))
    occurrence: Mapped[int] = mapped_column(Integer, default=1)
    file_name: Mapped[str] = mapped_column(String(200))
    line_no: Mapped[int] = mapped_column(Integer)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    remitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The order and parcel the tracking number names (NULL when it names none of ours).
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    parcel_id: Mapped[int | None] = mapped_column(ForeignKey("parcels.id"))
    #: The order's cash in minor units when the line was judged (NULL: no COD order found).
    expected_minor: Mapped[int | None] = mapped_column(BigInteger)
    problem: Mapped[str | None] = mapped_column(String(16))
    #: The problem in words, as the import reported it.
    detail: Mapped[str] = mapped_column(Text, default="")
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    terminal_id: Mapped[str] = mapped_column(String(16))
    #: A feed's OS user and host (no operator named).
    source: Mapped[str | None] = mapped_column(String(64))


# --- returns ---------------------------------------------------------------------------------

#: A return's life: ``authorized`` (an RMA issued, nothing arrived yet), ``open`` (being
#: received), ``closed`` (its outcome written), ``cancelled``.
RETURN_STATUSES = ("authorized", "open", "closed", "cancelled")
#: What a returned unit was judged to be (:class:`picker.domain.returns.Condition`).
RETURN_CONDITIONS = ("resell", "damaged", "defect", "incomplete", "scrap", "foreign")


class Return(Base):
    """A return of an order's goods (an RMA): authorized ahead, or opened when a parcel comes
    back; received unit by unit at the returns desk, then closed with its refund.

    One active return (authorized or open) per order. ``held_by_terminal`` is the terminal
    receiving it now, claimed with a conditional UPDATE so two desks never receive one parcel.
    """

    __tablename__ = "returns"
    __table_args__ = (
        _one_of("status", RETURN_STATUSES, "status_known"),
        CheckConstraint("length(currency) = 3", name="currency_code"),
        CheckConstraint("version >= 1", name="version_positive"),
        Index(None, "order_id"),
        Index(None, "status"),
        Index(
            "uq_returns_one_active_per_order",
            "order_id",
            unique=True,
            sqlite_where=text("status = 'authorized' OR status = 'open'"),
            postgresql_where=text("status = 'authorized' OR status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``RMA-`` and the id, zero-padded to 6 digits (set right after the insert).
    number: Mapped[str] = mapped_column(String(20), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    status: Mapped[str] = mapped_column(String(12))
    #: A code of ``[returns] reasons``.
    reason: Mapped[str | None] = mapped_column(String(32))
    #: The customer asks for replacement goods rather than money.
    exchange: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    #: The return label's own tracking number.
    tracking_no: Mapped[str | None] = mapped_column(String(40), unique=True)
    courier_id: Mapped[int | None] = mapped_column(ForeignKey("couriers.id"))
    held_by_terminal: Mapped[str | None] = mapped_column(String(16))
    held_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refund_amount: Mapped[Decimal | None] = mapped_column(Money())
    refund_shipping: Mapped[Decimal | None] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3))
    exchange_order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    note: Mapped[str | None] = mapped_column(Text)
    #: Where it was created.
    terminal_id: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=1)


class ReturnLine(Base):
    """A line an RMA expects back: so many units of an order line."""

    __tablename__ = "return_lines"
    __table_args__ = (
        UniqueConstraint("return_id", "order_line_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"))
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"))
    quantity: Mapped[int] = mapped_column(Integer)


class ReturnUnit(Base):
    """One unit that came back in a return, and what became of it.

    ``order_line_id`` NULL: not ours (a foreign item, an empty box). ``condition`` NULL: scanned,
    not judged yet. ``stocked``: its stock was moved (into ``bin_id``), set by a conditional
    UPDATE so a unit is never restocked twice."""

    __tablename__ = "return_units"
    __table_args__ = (
        _one_of("condition", RETURN_CONDITIONS, "condition_known", nullable=True),
        Index(None, "return_id"),
        Index(None, "order_line_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"))
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_lines.id"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    condition: Mapped[str | None] = mapped_column(String(12))
    bin_id: Mapped[int | None] = mapped_column(ForeignKey("bins.id"))
    stocked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    terminal_id: Mapped[str] = mapped_column(String(16))


# --- receiving, counting, replenishment ------------------------------------------------------

#: A receipt's life: ``expected`` (an inbound notice, nothing scanned yet), ``open`` (being
#: received at a dock), ``closed`` (its discrepancies written), ``cancelled``.
RECEIPT_STATUSES = ("expected", "open", "closed", "cancelled")


class Receipt(Base):
    """Goods a supplier sends: an inbound notice (ASN) imported ahead, or a delivery received
    without one. ``held_by_terminal`` is the dock receiving it now (a conditional UPDATE)."""

    __tablename__ = "receipts"
    __table_args__ = (
        _one_of("status", RECEIPT_STATUSES, "status_known"),
        CheckConstraint("length(reference) > 0", name="reference_not_empty"),
        CheckConstraint("version >= 1", name="version_positive"),
        Index(None, "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The supplier's or purchase order's reference, as printed on the delivery note.
    reference: Mapped[str] = mapped_column(String(48), unique=True)
    supplier: Mapped[str | None] = mapped_column(String(100))
    expected_at: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="expected")
    held_by_terminal: Mapped[str | None] = mapped_column(String(16))
    held_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The file it was imported from (or "cli", "dock").
    source: Mapped[str | None] = mapped_column(String(200))
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)


class ReceiptLine(Base):
    """A line of a receipt: so many units expected, so many received.

    ``expected_qty`` 0: not on the notice (received anyway, accepted by a lead).
    ``product_id`` NULL: a product the catalogue does not know, accepted by a lead with a
    reason; it is counted for the discrepancy list, never stocked."""

    __tablename__ = "receipt_lines"
    __table_args__ = (
        UniqueConstraint("receipt_id", "line_no"),
        CheckConstraint("expected_qty >= 0", name="expected_not_negative"),
        CheckConstraint("received_qty >= 0", name="received_not_negative"),
        CheckConstraint("length(sku) > 0", name="sku_not_empty"),
        Index(None, "product_id"),
        #: A put-away reads a product's receipt lines newest first.
        Index(None, "product_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("receipts.id", ondelete="CASCADE"))
    line_no: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    #: The SKU the notice names (or the barcode scanned, for an unknown product).
    sku: Mapped[str] = mapped_column(String(64))
    expected_qty: Mapped[int] = mapped_column(Integer, default=0)
    received_qty: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    lot: Mapped[str | None] = mapped_column(String(40))
    expiry: Mapped[date | None] = mapped_column(Date)
    #: A lead's acceptance of an over-receipt or an unknown product, and why.
    accepted_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    accepted_reason: Mapped[str | None] = mapped_column(Text)


#: A count's life: ``planned``, ``counting`` (a counter scanned the bin), ``recount`` (the
#: first count differed: another operator counts again), ``approval`` (a confirmed difference
#: above ``[counting] approve_over`` waits for a lead), ``done`` (stock adjusted or confirmed),
#: ``rejected`` (a lead refused the difference), ``cancelled``.
COUNT_STATUSES = ("planned", "counting", "recount", "approval", "done", "rejected", "cancelled")
#: While a count is in one of these its bin is not picked from or put away into.
COUNT_ACTIVE = ("planned", "counting", "recount", "approval")
COUNT_LOCKING = ("counting", "recount", "approval")


class CountTask(Base):
    """A cycle count of one bin (CNT-000001…): blind, by scan; one active count per bin."""

    __tablename__ = "count_tasks"
    __table_args__ = (
        _one_of("status", COUNT_STATUSES, "status_known"),
        CheckConstraint("round >= 1 AND round <= 2", name="round_one_or_two"),
        CheckConstraint("version >= 1", name="version_positive"),
        Index(None, "status"),
        Index(
            "uq_count_tasks_one_active_per_bin",
            "bin_id",
            unique=True,
            sqlite_where=text(" OR ".join(f"status = '{x}'" for x in COUNT_ACTIVE)),
            postgresql_where=text(" OR ".join(f"status = '{x}'" for x in COUNT_ACTIVE)),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``CNT-`` and the id, zero-padded to 6 digits (set right after the insert).
    number: Mapped[str] = mapped_column(String(20), unique=True)
    bin_id: Mapped[int] = mapped_column(ForeignKey("bins.id"))
    status: Mapped[str] = mapped_column(String(12), default="planned")
    #: 1 while the first count runs, 2 for the recount.
    round: Mapped[int] = mapped_column(Integer, default=1)
    #: Why it was planned (zone, bins, sku, since, a picker's shortage…).
    plan_reason: Mapped[str | None] = mapped_column(String(64))
    planned_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    planned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    held_by_terminal: Mapped[str | None] = mapped_column(String(16))
    held_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Who made the first count (the recount must be someone else).
    first_counter: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)


class CountLine(Base):
    """What one round of a count found of one product in the bin. ``expected`` is the bin's
    on hand when the round began: recorded for the decision, never shown to the counter."""

    __tablename__ = "count_lines"
    __table_args__ = (
        UniqueConstraint("task_id", "round", "product_id"),
        CheckConstraint("counted >= 0", name="counted_not_negative"),
        CheckConstraint("expected >= 0", name="expected_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("count_tasks.id", ondelete="CASCADE"))
    round: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    expected: Mapped[int] = mapped_column(Integer, default=0)
    counted: Mapped[int] = mapped_column(Integer, default=0)
    counted_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


#: A replenishment move's life: ``planned``, ``moving`` (taken from its reserve bin by a
#: terminal), ``done``, ``cancelled``.
MOVE_STATUSES = ("planned", "moving", "done", "cancelled")
MOVE_ACTIVE = ("planned", "moving")


class MoveTask(Base):
    """A replenishment move (MOV-000001…): so many units of a product from a reserve bin to a
    pick face; done by scan, its stock moved in one transaction. One active move per product
    and pick face."""

    __tablename__ = "move_tasks"
    __table_args__ = (
        _one_of("status", MOVE_STATUSES, "status_known"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("moved >= 0", name="moved_not_negative"),
        CheckConstraint("from_bin_id <> to_bin_id", name="bins_differ"),
        CheckConstraint("version >= 1", name="version_positive"),
        Index(None, "status"),
        Index(
            "uq_move_tasks_one_active_per_face",
            "product_id",
            "to_bin_id",
            unique=True,
            sqlite_where=text(" OR ".join(f"status = '{x}'" for x in MOVE_ACTIVE)),
            postgresql_where=text(" OR ".join(f"status = '{x}'" for x in MOVE_ACTIVE)),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``MOV-`` and the id, zero-padded to 6 digits (set right after the insert).
    number: Mapped[str] = mapped_column(String(20), unique=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    from_bin_id: Mapped[int] = mapped_column(ForeignKey("bins.id"))
    to_bin_id: Mapped[int] = mapped_column(ForeignKey("bins.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    moved: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    status: Mapped[str] = mapped_column(String(12), default="planned")
    #: ``below_min`` or ``demand`` (today's orders need more than the face holds).
    reason: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    held_by_terminal: Mapped[str | None] = mapped_column(String(16))
    held_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    done_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
