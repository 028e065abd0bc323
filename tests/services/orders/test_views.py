"""Order views show money in the currency's own minor units (stored with four decimals)."""

from __future__ import annotations

from decimal import Decimal

from picker.domain.statuses import OrderStatus
from picker.services.orders import views
from picker.store.engine import Database
from picker.store.models import Order, OrderLine
from tests.conftest import NOW

#: (currency, total as the shop sent it, unit price, COD or None) → how each is shown.
MONEY = [
    ("PLN", "299.99", "149.995", None, "299.99", "150.00", None),
    ("VND", "15579000", "7789500", "15579000", "15579000", "7789500", "15579000"),
    ("JPY", "1500", "750", None, "1500", "750", None),
    ("KWD", "12.345", "6.1725", None, "12.345", "6.173", None),  # three decimals
    ("QQQ", "10.5000", "5.2500", None, "10.5", "5.25", None),  # unknown to Babel: as stored
]


def _add(db: Database, n: int, currency: str, total: str, price: str, cod: str | None) -> str:
    number = f"PO-{n:07d}"
    with db.transaction() as s:
        order = Order(
            number=number, channel="shop", shop_order_no=str(1000 + n), customer_name="Zoë",
            ship_name="Zoë", ship_street="Kwiatowa 1", ship_postal_code="00-950",
            ship_city="Warszawa", ship_country="PL", shipping_method="post_standard",
            currency=currency, total_amount=Decimal(total), paid=cod is None, placed_at=NOW,
            cod_amount=None if cod is None else Decimal(cod),
            status=OrderStatus.UNHANDLED, hold_reasons=[],
        )  # fmt: skip
        order.lines.append(
            OrderLine(line_no=1, sku="SKU-1", name="Mug", quantity=2, unit_price=Decimal(price))
        )
        s.add(order)
    return number


def test_amounts_are_shown_in_the_currencys_minor_units(db: Database) -> None:
    for n, (currency, total, price, cod, *_shown) in enumerate(MONEY, start=1):
        _add(db, n, currency, total, price, cod)
    listed = {o.currency: o.as_json() for o in views.list_orders(db)}
    for n, (currency, *_given, total, price, cod) in enumerate(MONEY, start=1):
        assert (listed[currency]["total"], listed[currency]["cod"]) == (total, cod), currency
        detail = views.order_detail(db, f"PO-{n:07d}").as_json()
        assert detail["total"] == total
        assert [ln["unit_price"] for ln in detail["order_lines"]] == [price], currency


def test_one_definition_of_a_currencys_minor_unit() -> None:
    assert views.amount(Decimal("299.9900"), "PLN") == "299.99"
    assert views.amount(Decimal("15579000.0000"), "VND") == "15579000"
    assert views.amount(Decimal("1500.0000"), "JPY") == "1500"
    assert views.amount(Decimal("1500.0000"), "NOPE") == "1500"  # unknown: no "1.5E+3"
