"""A return's refund as the shop's API wants it: the request bodies, no I/O.

The warehouse asks the shop to refund; the shop (its staff, its payment gateway) pays. What a
return closed asks for is a :class:`RefundRequest` (read from the outbox message's detail by
:func:`picker.services.notify.shop.refund_request`); the functions here turn it and the
shop's own answers into the bodies the shop takes.

**Which shop line is which.** Picker does not keep the shop's line item ids
(``order_lines`` has no such column; intake reads ``sku``, ``name``, ``quantity`` and
``price`` of each line). A line is matched to the shop's order by its SKU, read from the
shop's order as it is now (``GET …/orders/{id}``): intake made Picker's line from that very
line's ``sku``, so the match is exact; an order edited in the shop since (lines replaced,
new ids) still matches, where an id kept at import would point at a line that is gone. A
line that names ``shop_line_id`` (a later intake that keeps it) is taken by that id. When
the same SKU is on several shop lines, the units go to them in the shop's order, each up to
its quantity. A SKU the shop's order does not have is refused (:class:`NotInShopOrder`):
that refund is for a person to make in the shop.

Field references (public documentation, read 2026-12):

- Shopify Admin REST 2025-01, Refund (shopify.dev/api/admin-rest/2025-01/resources/refund):
  ``POST /orders/{id}/refunds/calculate.json`` with ``refund`` {``currency``, ``shipping``
  {``amount``} , ``refund_line_items`` [{``line_item_id``, ``quantity``, ``restock_type``}]}
  answers a ``refund`` whose ``refund_line_items`` carry the ``location_id`` to restock at
  and whose ``transactions`` are ``suggested_refund`` ones ({``parent_id``, ``amount``,
  ``maximum_refundable``, ``gateway``}); ``POST /orders/{id}/refunds.json`` takes them back
  with ``kind: "refund"``, plus ``notify`` and ``note``. "You can refund less than the
  calculated amount … by setting a custom value for the amount property." ``restock_type``:
  ``return`` (a fulfilled line that came back to stock), ``no_restock``.
- WooCommerce REST API v3, Order refunds (developer.woocommerce.com/docs/apis/rest-api/v3/
  order-refunds): ``POST /orders/{id}/refunds`` with ``amount`` (takes precedence over the
  lines' totals), ``reason``, ``line_items`` [{``id``, ``quantity``, ``refund_total``}],
  ``api_refund`` (true: the payment gateway pays back now; default true) and ``api_restock``
  (default true, for every line given). Order notes: ``POST /orders/{id}/notes`` with
  ``note`` and ``customer_note``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from picker.channels.reading import minor_unit

#: Shopify's restock types for a refunded line that was fulfilled.
RESTOCK, NO_RESTOCK = "return", "no_restock"


@dataclass(frozen=True)
class RefundLine:
    """Units of one order line that came back, all resellable (``restock``) or all not."""

    sku: str
    quantity: int
    restock: bool
    #: The shop's own id of the line, when Picker knows it; else matched by SKU.
    shop_line_id: str | None = None


@dataclass(frozen=True)
class RefundRequest:
    """What a return asks the shop to refund."""

    rma: str
    #: The whole refund, shipping included; 0 for an exchange that costs no difference.
    amount: Decimal
    #: The part of ``amount`` that is shipping.
    shipping: Decimal
    currency: str
    lines: tuple[RefundLine, ...]
    exchange_order: str | None = None
    #: The units that arrived, as a person reads them ("2 x SKU-1 resell, 1 x SKU-2 damaged").
    arrived: str = ""


class NotInShopOrder(ValueError):
    """A returned line the shop's order has no line for (by id or SKU)."""


class MoreThanRefundable(ValueError):
    """The refund is more than the shop says it can refund of the order."""


@dataclass(frozen=True)
class Matched:
    """Units of a returned line set against one line of the shop's order."""

    shop_line: Mapping[str, Any]
    line: RefundLine
    quantity: int

    @property
    def shop_line_id(self) -> Any:
        return self.shop_line.get("id")


def _quantity(line: Mapping[str, Any]) -> int:
    value = line.get("quantity")
    return value if isinstance(value, int) and value > 0 else 0


def match_lines(
    lines: Sequence[RefundLine], shop_lines: Sequence[Mapping[str, Any]]
) -> list[Matched]:
    """Each returned line's units set against the shop's order lines (see the module's
    docstring): by ``shop_line_id`` when given, else by SKU, filling the shop's lines of that
    SKU in their order. Raises :class:`NotInShopOrder` naming the SKU."""
    by_id = {str(s.get("id")): s for s in shop_lines if isinstance(s, Mapping)}
    used: dict[str, int] = {}
    out: list[Matched] = []
    for line in lines:
        if line.shop_line_id is not None:
            found = by_id.get(str(line.shop_line_id))
            if found is None:
                raise NotInShopOrder(
                    f"the shop's order has no line {line.shop_line_id} (SKU {line.sku})"
                )
            out.append(Matched(found, line, line.quantity))
            continue
        left = line.quantity
        candidates = [
            s for s in by_id.values() if str(s.get("sku") or "").strip() == line.sku.strip()
        ]
        if not candidates:
            raise NotInShopOrder(f"the shop's order has no line with SKU {line.sku}")
        for shop_line in candidates:
            key = str(shop_line.get("id"))
            room = _quantity(shop_line) - used.get(key, 0)
            take = min(left, room)
            if take <= 0:
                continue
            used[key] = used.get(key, 0) + take
            out.append(Matched(shop_line, line, take))
            left -= take
            if left == 0:
                break
        if left:
            # More came back than the shop's lines hold (the order edited in the shop): the
            # rest goes on the last line, and the shop says whether it takes it.
            out.append(Matched(candidates[-1], line, left))
    return out


def _text(amount: Decimal, currency: str) -> str:
    """An amount in its currency's minor units, rounded as intake rounds (12.345 KWD, 1500 JPY)."""
    quantum = minor_unit(currency) or Decimal("0.01")
    return format(amount.quantize(quantum, rounding=ROUND_HALF_UP), "f")


def note_text(request: RefundRequest) -> str:
    """The words the shop keeps with the refund (Shopify ``note``, WooCommerce ``reason``) or,
    with nothing to refund, as the order's note. Starts with the RMA number: what tells a
    refund Picker asked for, so it is never asked for twice."""
    words = [f"{request.rma}: return received by the warehouse"]
    if request.arrived:
        words.append(f"({request.arrived})")
    text = " ".join(words)
    if request.exchange_order:
        text += f"; exchange order {request.exchange_order} sent instead of a refund"
        if request.amount > 0:
            difference = _text(request.amount, request.currency)
            text += f", the difference {difference} {request.currency} refunded"
    if request.amount <= 0:
        text += "; nothing to refund"
    return text


def mentions(text: Any, rma: str) -> bool:
    """Whether a refund's note (or an order note) is of the return ``rma``."""
    return isinstance(text, str) and rma in text


# --- Shopify ---------------------------------------------------------------------------------


def shopify_calculate_body(request: RefundRequest, matched: Sequence[Matched]) -> dict[str, Any]:
    """``POST …/refunds/calculate.json``: the lines (restocked as returned when resellable)
    and the shipping to refund."""
    refund: dict[str, Any] = {
        "currency": request.currency,
        "refund_line_items": [
            {"line_item_id": m.shop_line_id, "quantity": m.quantity,
             "restock_type": RESTOCK if m.line.restock else NO_RESTOCK}
            for m in matched
        ],
    }  # fmt: skip
    if request.shipping > 0:
        refund["shipping"] = {"amount": _text(request.shipping, request.currency)}
    return {"refund": refund}


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)


def shopify_refund_body(
    request: RefundRequest, calculated: Mapping[str, Any], sent: Mapping[str, Any]
) -> dict[str, Any]:
    """``POST …/refunds.json`` from the calculate answer (``calculated``: its ``refund``) and
    the calculate body ``sent``: its lines as Shopify completed them (``location_id``), its
    transactions as ``refund`` ones paying exactly the return's amount — Shopify's
    suggestion is the lines' price after discounts and taxes, the warehouse's is what its
    refund policy computed; each transaction pays at most its ``maximum_refundable``.
    Raises :class:`MoreThanRefundable` when the transactions cannot hold the amount."""
    lines = calculated.get("refund_line_items")
    if not isinstance(lines, list) or not lines:
        lines = sent["refund"]["refund_line_items"]
    kept = ("line_item_id", "quantity", "restock_type", "location_id")
    refund_lines = [{k: li[k] for k in kept if k in li} for li in lines if isinstance(li, Mapping)]
    left = request.amount
    transactions = []
    for t in calculated.get("transactions") or ():
        if not isinstance(t, Mapping) or left <= 0:
            continue
        room = _decimal(t.get("maximum_refundable", t.get("amount")))
        take = min(left, room)
        if take <= 0:
            continue
        transactions.append({"parent_id": t.get("parent_id"),
                             "amount": _text(take, request.currency),
                             "kind": "refund", "gateway": t.get("gateway")})  # fmt: skip
        left -= take
    if left > 0:
        refundable = request.amount - left
        raise MoreThanRefundable(
            f"the shop can refund at most {_text(refundable, request.currency)} "
            f"{request.currency} of this order, the return asks "
            f"{_text(request.amount, request.currency)}"
        )
    refund: dict[str, Any] = {
        "currency": request.currency,
        "notify": False,  # Picker mails the customer itself
        "note": note_text(request),
        "refund_line_items": refund_lines,
        "transactions": transactions,
    }
    if request.shipping > 0:
        refund["shipping"] = {"amount": _text(request.shipping, request.currency)}
    return {"refund": refund}


def shopify_order_note(request: RefundRequest, order_id: Any, existing: Any) -> dict[str, Any]:
    """``PUT …/orders/{id}.json`` adding the return's note under the order's own (a Shopify
    order has one note field; what is in it is kept)."""
    before = existing.strip() if isinstance(existing, str) else ""
    note = f"{before}\n{note_text(request)}" if before else note_text(request)
    return {"order": {"id": order_id, "note": note}}


# --- WooCommerce -----------------------------------------------------------------------------


def woocommerce_refund_body(request: RefundRequest, matched: Sequence[Matched]) -> dict[str, Any]:
    """``POST …/orders/{id}/refunds``: the amount (what is paid back), the reason, each line's
    share of it at the line's own price after discounts (its ``total`` over its
    ``quantity``), ``api_refund`` false (the warehouse asks; the shop's staff or gateway
    pays) and ``api_restock`` only when every unit is resellable (WooCommerce restocks all
    lines given or none)."""
    # One entry per shop line: WooCommerce keys the refund's lines by id, so a second entry of
    # the same line (a resellable and a damaged unit of it) would replace the first.
    merged: dict[str, tuple[Any, int, Decimal]] = {}
    for m in matched:
        count = _quantity(m.shop_line) or m.quantity
        share = _decimal(m.shop_line.get("total")) / count * m.quantity
        key = str(m.shop_line_id)
        _, quantity, total = merged.get(key, (m.shop_line_id, 0, Decimal(0)))
        merged[key] = (m.shop_line_id, quantity + m.quantity, total + share)
    items = [
        {"id": line_id, "quantity": quantity,
         "refund_total": float(_text(total, request.currency))}
        for line_id, quantity, total in merged.values()
    ]  # fmt: skip
    return {
        "amount": _text(request.amount, request.currency),
        "reason": note_text(request),
        "api_refund": False,
        "api_restock": bool(matched) and all(m.line.restock for m in matched),
        "line_items": items,
    }


def woocommerce_note(request: RefundRequest) -> dict[str, Any]:
    """``POST …/orders/{id}/notes``: the return told, nothing refunded; for the shop's staff."""
    return {"note": note_text(request), "customer_note": False}
