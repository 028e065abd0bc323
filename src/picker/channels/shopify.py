"""Shopify orders read into order records.

The Admin REST ``Order`` resource, as exported or sent by webhook, becomes an
:class:`~picker.domain.intake.IncomingOrder` record.

Paid and cash on delivery (``payment_state`` keeps the shop's own word): ``financial_status``
``paid`` or ``partially_refunded`` (goods still owed) is paid; ``pending``, ``authorized``,
``partially_paid`` are unpaid; ``refunded``, ``voided``, ``expired`` or a set ``cancelled_at``
(state ``cancelled``) are dead: neither paid nor COD. COD: any of ``payment_gateway_names`` (or
``gateway``), lower-cased, is a COD gateway and the order is neither paid nor dead.

Lines: the floor ships what is still to ship (``current_quantity`` and no more than
``fulfillable_quantity``; else ``quantity``) of lines that need shipping; the rest — refunded,
removed, fulfilled by the shop, gift cards and downloads (``requires_shipping: false``) — is
recorded on the order, never picked. ``customer_locale`` is kept for what the customer is told.

Two names of an order: ``name`` (``#1001``, what the customer sees) is its shop order number;
``id`` (``450789469``) is what the Admin API is called with to send the fulfilment back.
"""

from __future__ import annotations

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
    read_text,
    read_timestamp,
)
from picker.domain.intake import (
    Address,
    IncomingLine,
    IncomingOrder,
    LineNotShipped,
    RecordError,
)

SHOPIFY_PAID = frozenset({"paid", "partially_refunded"})
SHOPIFY_DEAD = frozenset({"refunded", "voided", "expired", "cancelled"})


def read_order(raw: Any, ctx: Context) -> IncomingOrder:
    o = JsonObject.record(raw)
    number = o.text("name").removeprefix("#").strip() or o.text("id")
    if not number:
        raise RecordError("name", "missing: the order has neither a name nor an id")
    currency, quantum = read_currency(o.get("currency"), "currency")
    placed_at = read_timestamp(o.get("created_at"), "created_at")
    # After refunds and edits the shop sends what is owed now (what a courier collects on COD).
    if o.get("current_total_price") is not None:
        total = o.money("current_total_price", quantum, required=True)
    else:
        total = o.money("total_price", quantum, required=True)
    lines, not_shipped = _to_ship(o, read_lines(o, quantum, _shopify_line))

    ship = _shopify_address(o.obj("shipping_address"), fallback_phone=o.text("phone"))
    customer = o.obj("customer")
    billing = o.obj("billing_address")
    customer_name = (
        (joined(customer.text("first_name"), customer.text("last_name")) if customer else "")
        or (_shopify_address(billing, fallback_phone="").name if billing else "")
        or ship.name
    )
    email = (
        o.text("email") or o.text("contact_email") or (customer.text("email") if customer else "")
    )
    shipping = first_item(o, "shipping_lines")

    state = o.text("financial_status")
    if o.get("cancelled_at"):
        state = "cancelled"
    gateways = _gateways(o)
    paid = state.lower() in SHOPIFY_PAID
    dead = state.lower() in SHOPIFY_DEAD
    cod = not paid and not dead and any(g.lower() in ctx.cod_gateways for g in gateways)
    return IncomingOrder(
        channel=ctx.channel,
        shop_order_no=number,
        customer_name=customer_name,
        customer_email=email,
        ship=ship,
        shipping_code=shipping.text("code") if shipping else "",
        shipping_title=shipping.text("title") if shipping else "",
        currency=currency,
        total=total,
        cod=cod,
        paid=paid,
        payment_state=state,
        placed_at=placed_at,
        note=o.text("note"),
        lines=lines,
        not_shipped=not_shipped,
        customer_locale=_locale(o.text("customer_locale")),
        shop_order_id=o.text("id"),
    )


def _to_ship(
    o: JsonObject, sent: tuple[IncomingLine, ...]
) -> tuple[tuple[IncomingLine, ...], tuple[LineNotShipped, ...]]:
    """What the floor ships of each line, and what it records but does not ship.

    A line that does not need shipping (``requires_shipping: false``: a gift card, a download)
    ships nothing. Otherwise it ships what is still to ship: ``current_quantity`` (the quantity
    less what was refunded or removed in the shop), and no more than ``fulfillable_quantity``
    (less what the shop fulfilled itself), else ``quantity``. A quantity that is not positive
    as sent is left for validation to judge.
    """
    ship: list[IncomingLine] = []
    aside: list[LineNotShipped] = []
    for i, (line, raw) in enumerate(zip(sent, o.items("line_items"), strict=True)):
        item = JsonObject(raw, f"line_items[{i}]")
        if item.get("requires_shipping") is False:
            aside.append(LineNotShipped(line.sku, line.name, line.quantity, _NO_SHIPPING))
            continue
        left = line.quantity
        for key in ("current_quantity", "fulfillable_quantity"):  # each can only take away
            if item.get(key) is not None:
                left = min(max(item.quantity(key), 0), left)
        if line.quantity > 0 and left < line.quantity:
            gone = line.quantity - left
            aside.append(LineNotShipped(line.sku, line.name, gone, _REFUNDED))
            if left == 0:
                continue
            line = replace(line, quantity=left)
        ship.append(line)
    return tuple(ship), tuple(aside)


def _locale(tag: str, width: int = 16) -> str:
    """A BCP 47 tag as long as the order keeps (16): longer ones lose whole subtags from the end
    (``zh-Hant-TW-x-private`` → ``zh-Hant-TW``), never the order."""
    cut = len(tag) > width
    while len(tag) > width and "-" in tag:
        tag = tag.rsplit("-", 1)[0]
    while cut and "-" in tag and len(tag.rsplit("-", 1)[1]) == 1:  # a bare singleton ("-x")
        tag = tag.rsplit("-", 1)[0]
    return tag[:width]


_NO_SHIPPING = "does not ship (requires_shipping: false)"
_REFUNDED = "not to ship: refunded, removed or fulfilled in the shop"


def _gateways(o: JsonObject) -> list[str]:
    """payment_gateway_names (a single text accepted), else the older single ``gateway``."""
    names = o.get("payment_gateway_names")
    if names is None:
        return [o.text("gateway")]
    if isinstance(names, str):
        return [o.text("payment_gateway_names")]
    return [
        read_text(name, f"payment_gateway_names[{i}]")
        for i, name in enumerate(o.items("payment_gateway_names"))
    ]


def _shopify_address(a: JsonObject | None, *, fallback_phone: str) -> Address:
    if a is None:
        return Address(phone=fallback_phone)
    return Address(
        name=a.text("name") or joined(a.text("first_name"), a.text("last_name")),
        street=a.text("address1"),
        street2=a.text("address2"),
        postal_code=a.text("zip"),
        city=a.text("city"),
        region=a.text("province") or a.text("province_code"),
        country=a.text("country_code").upper(),
        phone=a.text("phone") or fallback_phone,
    )


def _shopify_line(item: JsonObject, quantum: Decimal) -> IncomingLine:
    return IncomingLine(
        sku=item.text("sku"),
        name=item.text("name") or item.text("title"),
        quantity=item.quantity("quantity"),
        unit_price=item.money("price", quantum),
    )
