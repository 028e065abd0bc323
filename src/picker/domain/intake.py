"""Orders as they arrive from a shop, before validation: the shape every import format yields.

A parser turns one exported record (Shopify, WooCommerce, a CSV group of rows) into an
:class:`IncomingOrder`, or raises :class:`RecordError` naming the field and the reason. Values are
kept as the shop sent them (strings stripped, nothing else); judging them is validation's job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


class RecordError(ValueError):
    """One record cannot be read: ``field`` names where, the message says why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Address:
    name: str = ""
    street: str = ""
    street2: str = ""
    postal_code: str = ""
    city: str = ""
    region: str = ""
    country: str = ""  # ISO 3166 alpha-2, upper case, as sent
    phone: str = ""


@dataclass(frozen=True)
class IncomingLine:
    sku: str
    name: str
    quantity: int  # as sent: validation refuses <= 0 and implausibly large
    unit_price: Decimal


@dataclass(frozen=True)
class LineNotShipped:
    """A line the shop sent that is not the floor's to ship: recorded on the order, never picked."""

    sku: str
    name: str
    quantity: int
    reason: str  # e.g. "refunded or removed in the shop", "does not ship (requires_shipping)"

    def as_json(self) -> dict[str, object]:
        return {"sku": self.sku, "name": self.name, "quantity": self.quantity,
                "reason": self.reason}  # fmt: skip


@dataclass(frozen=True)
class IncomingOrder:
    channel: str  # e.g. "shopify", or --channel NAME
    shop_order_no: str  # the shop's order number (idempotency key with the channel)
    customer_name: str
    customer_email: str
    ship: Address
    shipping_code: str  # shipping_lines[0].code / method_id
    shipping_title: str  # shipping_lines[0].title / method_title
    currency: str  # ISO 4217, upper case
    total: Decimal  # rounded to the currency's minor units
    cod: bool  # cash on delivery: accepted unpaid, ``total`` is collected
    paid: bool
    payment_state: str  # the shop's word for it (paid, pending, refunded, processing…)
    placed_at: datetime  # timezone-aware
    note: str = ""
    lines: tuple[IncomingLine, ...] = field(default_factory=tuple)
    #: What the shop sent but the floor must not ship (refunded, removed, not shippable).
    not_shipped: tuple[LineNotShipped, ...] = ()
    #: The shop fulfilled the order itself (WooCommerce ``completed``): nothing for the floor.
    fulfilled_in_shop: bool = False
    customer_locale: str = ""  # the customer's language as the shop sent it ("pl", "en-GB")
    #: The shop's own id of the order (Shopify / WooCommerce ``id``), which its API is called
    #: with to send the fulfilment back; "" when the file has none (CSV).
    shop_order_id: str = ""
