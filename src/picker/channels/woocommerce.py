"""WooCommerce orders read into order records.

The REST API v3 ``orders`` resource becomes an :class:`~picker.domain.intake.IncomingOrder`
record.

Paid and cash on delivery (``payment_state`` keeps the shop's own word): ``status``
``processing`` / ``completed`` is paid; ``pending`` / ``on-hold`` unpaid; ``refunded``,
``cancelled``, ``failed``, ``trash`` dead. COD: ``payment_method`` (or its title) is a COD gateway
and the order is not dead; a COD order is never paid (Woo moves COD orders to ``processing``
before any money is collected), so the courier collects ``total``. A ``completed`` order was
fulfilled in the shop already: it is reported as such and nothing goes to the floor.

Two names of an order: ``number`` (what the customer sees; a sequential-numbers plugin may make
it differ from the id) is its shop order number, else ``id``; ``id`` is what the REST API is
called with to send the fulfilment back (``/orders/{id}``).

Names come HTML-escaped (WordPress texturizes product names: ``Ship Your Idea &ndash; Color:
Black``, ``2 &times; 3``): a line's name and the shipping method's title are decoded once, here.
"""

from __future__ import annotations

import html
from dataclasses import replace
from decimal import Decimal
from typing import Any

from picker.channels.reading import (
    Context,
    JsonObject,
    first_item,
    joined,
    read_currency,
    read_lines,
    read_timestamp,
)
from picker.domain.intake import Address, IncomingLine, IncomingOrder, RecordError

WOO_PAID = frozenset({"processing", "completed"})
WOO_DEAD = frozenset({"refunded", "cancelled", "failed", "trash"})
#: The shop marked it done (shipped from the shop, or nothing to ship): no work for the floor.
WOO_FULFILLED = frozenset({"completed"})


def read_order(raw: Any, ctx: Context) -> IncomingOrder:
    o = JsonObject.record(raw)
    number = o.text("number") or o.text("id")
    if not number:
        raise RecordError("number", "missing: the order has neither a number nor an id")
    currency, quantum = read_currency(o.get("currency"), "currency")
    date_key = "date_created_gmt" if o.text("date_created_gmt") else "date_created"
    placed_at = read_timestamp(o.get(date_key), date_key)
    total = o.money("total", quantum, required=True)
    lines = read_lines(o, quantum, _woo_line)

    billing = o.obj("billing")
    shipping_to = o.obj("shipping")
    billing_name = joined(billing.text("first_name"), billing.text("last_name")) if billing else ""
    ship = _woo_address(shipping_to)
    ship = replace(
        ship,
        name=ship.name or billing_name,
        phone=ship.phone or (billing.text("phone") if billing else ""),
    )
    shipping = first_item(o, "shipping_lines")

    state = o.text("status")
    methods = (o.text("payment_method").lower(), o.text("payment_method_title").lower())
    dead = state.lower() in WOO_DEAD
    cod = not dead and any(m and m in ctx.cod_gateways for m in methods)
    paid = not cod and state.lower() in WOO_PAID
    return IncomingOrder(
        channel=ctx.channel,
        shop_order_no=number,
        customer_name=billing_name or ship.name,
        customer_email=billing.text("email") if billing else "",
        ship=ship,
        shipping_code=shipping.text("method_id") if shipping else "",
        shipping_title=html.unescape(shipping.text("method_title")) if shipping else "",
        currency=currency,
        total=total,
        cod=cod,
        paid=paid,
        payment_state=state,
        placed_at=placed_at,
        note=o.text("customer_note"),
        lines=lines,
        fulfilled_in_shop=state.lower() in WOO_FULFILLED,
        shop_order_id=o.text("id"),
    )


def _woo_address(a: JsonObject | None) -> Address:
    if a is None:
        return Address()
    return Address(
        name=joined(a.text("first_name"), a.text("last_name")),
        street=a.text("address_1"),
        street2=a.text("address_2"),
        postal_code=a.text("postcode"),
        city=a.text("city"),
        region=a.text("state"),
        country=a.text("country").upper(),
        phone=a.text("phone"),
    )


def _woo_line(item: JsonObject, quantum: Decimal) -> IncomingLine:
    return IncomingLine(
        sku=item.text("sku"),
        name=html.unescape(item.text("name")),
        quantity=item.quantity("quantity"),
        unit_price=item.money("price", quantum),
    )
