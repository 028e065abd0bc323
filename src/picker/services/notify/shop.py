"""Fulfilment back to the shop: the tracking numbers go where the order came from.

``[channels.NAME]`` (NAME as the orders' channel) names the shop's ``kind``, the base URL of
its API (``fulfilment_url``; Picker adds each request's path) and an auth header whose value is
read from the environment (``auth_env``), never from a file. A request names the order by the
shop's own id (``orders.shop_order_id``: Shopify's and WooCommerce's ``id``, not the number the
customer sees); an order imported before Picker kept that id fails its message, saying so.

- **Shopify** (Admin REST API 2025-01 or later, where a fulfilment is made of the order's
  fulfilment orders). ``GET BASE/orders/{id}/fulfillment_orders.json`` lists them; those
  ``open`` or ``in_progress`` with something left to fulfil are fulfilled whole, one fulfilment
  for the shipment (one per location when they are at several: Shopify makes a fulfilment of
  one location's): ``POST BASE/fulfillments.json`` with ``{"fulfillment":
  {"line_items_by_fulfillment_order": [{"fulfillment_order_id": N}, …], "tracking_info":
  {"number", "company", "url"}, "notify_customer": false}}``. With several parcels,
  ``tracking_info`` names the first (the field the create call documents) and
  ``tracking_numbers`` / ``tracking_urls`` list every one. ``notify_customer`` is false because
  Picker mails the customer itself. The GET comes first on every attempt, and that is what keeps
  a retry from fulfilling twice: when it shows nothing left to fulfil (an attempt whose answer
  was lost made the fulfilment, or someone did in the shop), the message is sent without a
  second POST. Fulfilment orders the shop holds (``on_hold``, ``scheduled``) fail the message,
  saying so.
- **WooCommerce** (REST API v3): an order note listing the tracking numbers (``POST
  BASE/orders/{id}/notes`` with ``note`` and ``customer_note`` false: Picker mails the customer
  itself), then the order update ``PUT BASE/orders/{id}`` with ``{"status": "completed"}``. Each
  is a step; a step done is recorded on the message (``detail["done"]``) before the next is
  made, so a message sent again after a failure half-way does not repeat what the shop has.

A return (``return_received``) asks the shop to refund it (:mod:`picker.channels.refunds` has
the bodies and the fields' sources); the shop's staff or payment gateway pays, never Picker.
Whatever the shop, the refunds (or, with nothing to refund, the notes) it already has are read
first, and one whose note names the RMA number means the refund was made: a retry after a lost
answer never refunds twice.

- **Shopify**: ``GET BASE/orders/{id}/refunds.json`` (made already?), ``GET
  BASE/orders/{id}.json`` (its lines, matched by SKU), ``POST …/refunds/calculate.json``, then
  ``POST …/refunds.json`` with the calculated lines and transactions, ``notify`` false and
  ``note`` "RMA-…". Nothing to refund (an exchange of the same value): the order's note gains
  a line (``PUT BASE/orders/{id}.json``).
- **WooCommerce**: ``GET BASE/orders/{id}/refunds``, ``GET BASE/orders/{id}``, then ``POST
  BASE/orders/{id}/refunds`` with ``amount``, ``reason``, ``line_items`` and ``api_refund``
  false. Nothing to refund: an order note (``POST BASE/orders/{id}/notes``).

Every POST and PUT carries an ``Idempotency-Key`` derived from the outbox key and the step. A
4xx answer fails the message with the shop's own message (429 and 408 are passing); 5xx
answers, timeouts and a shop that cannot be reached are retried like mail.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

import httpx

from picker.channels.refunds import (
    Matched,
    MoreThanRefundable,
    NotInShopOrder,
    RefundLine,
    RefundRequest,
    match_lines,
    mentions,
    shopify_calculate_body,
    shopify_order_note,
    shopify_refund_body,
    woocommerce_refund_body,
)
from picker.channels.refunds import woocommerce_note as woocommerce_refund_note
from picker.config import ChannelSettings, Settings
from picker.domain.notify import idempotency_key
from picker.services.notify.compose import Letter
from picker.services.notify.mail import Permanent, Temporary

USER_AGENT = "picker-fulfilment/1"

#: Fulfilment orders that can be fulfilled now; and those the shop holds back.
OPEN = ("open", "in_progress")
HELD = ("on_hold", "scheduled")


@dataclass(frozen=True)
class Request:
    step: str
    method: str
    url: str
    body: dict[str, Any] | None = None


def _order_path(base: str, shop_order_id: str) -> str:
    return f"{base}/orders/{quote(shop_order_id, safe='')}"


def _no_shop_id(letter: Letter) -> str:
    return (
        f"order {letter.order_number} (shop order {letter.shop_order_no}) has no shop order id: "
        "it was imported before Picker kept the shop's id, so the shop cannot be told; mark it "
        "fulfilled in the shop by hand"
    )


# --- Shopify ---------------------------------------------------------------------------------


def shopify_body(letter: Letter, fulfillment_order_ids: list[Any]) -> dict[str, Any]:
    """The Admin REST fulfilment of the whole shipment, of these fulfilment orders."""
    parcels = letter.parcels
    company = letter.courier_name or letter.courier_code or ""
    tracking: dict[str, Any] = {"number": parcels[0].tracking_no if parcels else "",
                                "company": company}  # fmt: skip
    if parcels and parcels[0].url:
        tracking["url"] = parcels[0].url
    fulfillment: dict[str, Any] = {
        "line_items_by_fulfillment_order": [
            {"fulfillment_order_id": i} for i in fulfillment_order_ids
        ],
        "tracking_info": tracking,
        "notify_customer": False,
    }
    if len(parcels) > 1:
        fulfillment["tracking_numbers"] = [p.tracking_no for p in parcels]
        if all(p.url for p in parcels):
            fulfillment["tracking_urls"] = [p.url for p in parcels]
    return {"fulfillment": fulfillment}


def _left(fulfillment_order: Mapping[str, Any]) -> int:
    """Units a fulfilment order has left to fulfil."""
    total = 0
    for line in fulfillment_order.get("line_items") or ():
        if isinstance(line, Mapping):
            value = line.get("fulfillable_quantity", line.get("quantity", 0))
            total += value if isinstance(value, int) and value > 0 else 0
    return total


def open_fulfilment_orders(letter: Letter, answer: Any) -> list[list[Any]]:
    """The ids of the fulfilment orders to fulfil, grouped by location (one fulfilment each),
    from the answer to ``GET …/fulfillment_orders.json``; empty when nothing is left to fulfil.
    Raises :class:`Permanent` for an answer that is not Shopify's, or when what is left is
    held in the shop."""
    found = answer.get("fulfillment_orders") if isinstance(answer, Mapping) else None
    if not isinstance(found, list):
        raise Permanent(
            "the shop's answer lists no fulfillment_orders: is fulfilment_url the shop's Admin "
            "API (https://SHOP.myshopify.com/admin/api/VERSION)?"
        )
    groups: dict[Any, list[Any]] = {}
    held = set()
    for fo in found:
        if not isinstance(fo, Mapping) or _left(fo) == 0:
            continue
        status = fo.get("status")
        if status in OPEN:
            groups.setdefault(fo.get("assigned_location_id"), []).append(fo.get("id"))
        elif status in HELD:
            held.add(str(status))
    if not groups and held:
        raise Permanent(
            f"the shop holds the fulfilment of shop order {letter.shop_order_no} "
            f"({', '.join(sorted(held))}): release it in the shop, then send this message "
            "again (picker notify retry)"
        )
    return list(groups.values())


# --- WooCommerce -----------------------------------------------------------------------------


def woocommerce_note(letter: Letter) -> dict[str, Any]:
    courier = letter.courier_name or letter.courier_code or "the courier"
    lines = [f"Shipped with {courier} ({letter.order_number}):"]
    lines += [f"{p.tracking_no}" + (f" {p.url}" if p.url else "") for p in letter.parcels]
    return {"note": "\n".join(lines), "customer_note": False}


def woocommerce_requests(letter: Letter, base: str, shop_order_id: str) -> list[Request]:
    """The note, then the order completed."""
    order = _order_path(base, shop_order_id)
    return [
        Request("note", "POST", f"{order}/notes", woocommerce_note(letter)),
        Request("status", "PUT", order, {"status": "completed"}),
    ]


# --- refunds (return_received) ----------------------------------------------------------------

#: The event whose shop message is a refund request.
REFUND_EVENT = "return_received"


def _amount(detail: Mapping[str, Any], key: str, rma: str) -> Decimal:
    value = detail.get(key)
    try:
        amount = Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except (InvalidOperation, ValueError):
        raise Permanent(f"{rma}: the refund's {key} {value!r} is not an amount") from None
    if not amount.is_finite() or amount < 0:
        raise Permanent(f"{rma}: the refund's {key} {value!r} is not an amount")
    return amount


def refund_request(letter: Letter) -> RefundRequest:
    """What the return of ``letter`` (a ``return_received`` message) asks the shop to refund,
    from its detail: the RMA number, the amount and its shipping part, the currency (the
    order's when the detail names none), the lines (the same order line and restock summed)
    and the units that arrived in short. :class:`Permanent` for a detail that says none of it
    (a message written by hand)."""
    d = letter.detail
    rma = str(d.get("return") or "").strip()
    if not rma:
        raise Permanent("the message names no return (detail 'return'): nothing to refund")
    summed: dict[tuple[Any, str, bool, Any], int] = {}
    for line in d.get("lines") or ():
        if not isinstance(line, Mapping):
            continue
        quantity = line.get("quantity")
        sku = str(line.get("sku") or "").strip()
        if not isinstance(quantity, int) or quantity <= 0 or not sku:
            raise Permanent(f"{rma}: a returned line has no SKU or quantity ({dict(line)})")
        shop_id = line.get("shop_line_id")
        key = (line.get("order_line_id"), sku, bool(line.get("restock")),
               str(shop_id) if shop_id not in (None, "") else None)  # fmt: skip
        summed[key] = summed.get(key, 0) + quantity
    lines = tuple(
        RefundLine(sku, n, restock, shop_id) for (_, sku, restock, shop_id), n in summed.items()
    )
    arrived: dict[tuple[str, str], int] = {}
    for unit in d.get("units") or ():
        if isinstance(unit, Mapping):
            key2 = (str(unit.get("sku") or "not ours"), str(unit.get("condition") or "?"))
            n = unit.get("quantity", 1)
            arrived[key2] = arrived.get(key2, 0) + (n if isinstance(n, int) else 1)
    return RefundRequest(
        rma=rma,
        amount=_amount(d, "refund", rma),
        shipping=_amount(d, "shipping_refunded", rma),
        currency=str(d.get("currency") or letter.currency),
        lines=lines,
        exchange_order=str(d["exchange_order"]) if d.get("exchange_order") else None,
        arrived=", ".join(
            f"{n} x {sku}" + ("" if sku == "not ours" else f" {c}")
            for (sku, c), n in arrived.items()
        ),
    )


def _matched(request: RefundRequest, shop_order: Any, letter: Letter) -> list[Matched]:
    lines = shop_order.get("line_items") if isinstance(shop_order, Mapping) else None
    if not isinstance(lines, list):
        raise Permanent(
            f"the shop's answer for shop order {letter.shop_order_no} lists no line_items: is "
            "fulfilment_url the shop's API?"
        )
    if not request.lines:
        raise Permanent(f"{request.rma}: the return names no lines to refund")
    try:
        return match_lines(request.lines, lines)
    except NotInShopOrder as exc:
        raise Permanent(
            f"{request.rma}: {exc} (shop order {letter.shop_order_no}); refund it in the shop "
            "by hand"
        ) from None


def _placeholders(request: RefundRequest) -> list[Matched]:
    """Lines as ``picker notify show`` names them before the shop's order is read."""
    return [
        Matched({"id": f"(the shop's line of {line.sku})", "quantity": line.quantity,
                 "total": "0"}, line, line.quantity)
        for line in request.lines
    ]  # fmt: skip


def refund_requests(letter: Letter, kind: str, base: str, shop_order_id: str) -> list[Request]:
    """The requests a refund makes, as ``picker notify show`` prints them: the reads first,
    then what they decide (lines by SKU, the calculated transactions) in words."""
    request = refund_request(letter)
    order = _order_path(base, shop_order_id)
    if kind == "shopify":
        if request.amount <= 0:
            return [
                Request("read", "GET", f"{order}.json"),
                Request("note", "PUT", f"{order}.json",
                        shopify_order_note(request, shop_order_id, "(the order's note)")),
            ]  # fmt: skip
        calculate = shopify_calculate_body(request, _placeholders(request))
        suggested = {"parent_id": "(the calculated transaction's)", "gateway": "(its gateway)",
                     "maximum_refundable": str(request.amount)}  # fmt: skip
        refund = shopify_refund_body(request, {"transactions": [suggested]}, calculate)
        return [
            Request("read", "GET", f"{order}/refunds.json"),
            Request("read", "GET", f"{order}.json"),
            Request("calculate", "POST", f"{order}/refunds/calculate.json", calculate),
            Request("refund", "POST", f"{order}/refunds.json", refund),
        ]
    if request.amount <= 0:
        return [
            Request("read", "GET", f"{order}/notes"),
            Request("note", "POST", f"{order}/notes", woocommerce_refund_note(request)),
        ]
    body = woocommerce_refund_body(request, _placeholders(request))
    for item in body["line_items"]:
        item["refund_total"] = "(the line's price after discounts x quantity)"
    return [
        Request("read", "GET", f"{order}/refunds"),
        Request("read", "GET", order),
        Request("refund", "POST", f"{order}/refunds", body),
    ]


# --- what `picker notify show` prints ----------------------------------------------------------


def describe_requests(letter: Letter, settings: Settings) -> str:
    """The requests as text (``picker notify show`` of a shop message)."""
    channel = settings.channels.get(letter.channel)
    if channel is None or not channel.fulfilment_url:
        return f"(the shop channel {letter.channel} has no fulfilment_url configured)\n"
    if not letter.shop_order_id:
        return f"({_no_shop_id(letter)})\n"
    base = channel.fulfilment_url
    if letter.event == REFUND_EVENT:
        try:
            requests = refund_requests(letter, channel.kind, base, letter.shop_order_id)
        except Permanent as exc:
            return f"({exc.words})\n"
    elif channel.kind == "shopify":
        requests = [
            Request("read", "GET", f"{_order_path(base, letter.shop_order_id)}"
                    "/fulfillment_orders.json"),
            Request("fulfil", "POST", f"{base}/fulfillments.json",
                    shopify_body(letter, ["(each open one the GET lists)"])),
        ]  # fmt: skip
    else:
        requests = woocommerce_requests(letter, base, letter.shop_order_id)
    out = []
    for r in requests:
        body = "" if r.body is None else json.dumps(r.body, indent=2, ensure_ascii=False) + "\n"
        out.append(f"{r.method} {r.url}\n{body}")
    return "\n".join(out)


# --- sending ---------------------------------------------------------------------------------


def _shop_words(response: httpx.Response) -> str:
    """The shop's own message from an error answer (Shopify ``errors``, WooCommerce
    ``message``), else the start of the body."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("message", "errors", "error"):
            value = data.get(key)
            if value:
                if isinstance(value, dict):
                    value = "; ".join(
                        f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
                        for k, v in value.items()
                    )
                elif isinstance(value, list):
                    value = "; ".join(map(str, value))
                return " ".join(str(value).split())[:500]
    return " ".join(response.text.split())[:300] or response.reason_phrase


class ShopClient:
    """One HTTP client for a batch of shop messages."""

    def __init__(self, settings: Settings, *, transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        self._client = httpx.Client(
            timeout=settings.notify.timeout_s, follow_redirects=False, transport=transport,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )  # fmt: skip

    def send(
        self,
        letter: Letter,
        done: frozenset[str] = frozenset(),
        mark_done: Callable[[str], object] | None = None,
    ) -> None:
        """Tell the shop of the shipment; WooCommerce steps already ``done`` are not made
        again, each one made is recorded with ``mark_done``. Raises :class:`Temporary` or
        :class:`Permanent`."""
        channel = self.settings.channels.get(letter.channel)
        if channel is None or not channel.fulfilment_url:
            raise Permanent(f"the shop channel {letter.channel} has no fulfilment_url")
        if not letter.shop_order_id:
            raise Permanent(_no_shop_id(letter))
        headers = self._auth(channel)
        if letter.event == REFUND_EVENT:
            self._refund(letter, channel, letter.shop_order_id, headers, done, mark_done)
            return
        if channel.kind == "shopify":
            self._shopify(letter, channel.fulfilment_url, letter.shop_order_id, headers)
            return
        for request in woocommerce_requests(letter, channel.fulfilment_url,
                                            letter.shop_order_id):  # fmt: skip
            if request.step in done:
                continue
            self._call(letter, request, headers)
            if mark_done is not None:
                mark_done(request.step)

    def _shopify(self, letter: Letter, base: str, order_id: str, headers: dict[str, str]) -> None:
        read = Request("read", "GET", f"{_order_path(base, order_id)}/fulfillment_orders.json")
        answer = self._call(letter, read, headers)
        try:
            listed = answer.json()
        except ValueError:
            listed = None
        for ids in open_fulfilment_orders(letter, listed):
            step = f"fulfil-{'-'.join(map(str, ids))}"
            self._call(letter, Request(step, "POST", f"{base}/fulfillments.json",
                                       shopify_body(letter, ids)), headers)  # fmt: skip

    def _json(self, letter: Letter, request: Request, headers: dict[str, str]) -> Any:
        answer = self._call(letter, request, headers)
        try:
            return answer.json()
        except ValueError:
            raise Permanent(
                f"the shop's answer to {request.method} {request.url} is not JSON: is "
                "fulfilment_url the shop's API?"
            ) from None

    def _refund(
        self,
        letter: Letter,
        channel: ChannelSettings,
        order_id: str,
        headers: dict[str, str],
        done: frozenset[str],
        mark_done: Callable[[str], object] | None,
    ) -> None:
        """Ask the shop to refund the return (see the module's docstring)."""
        request = refund_request(letter)
        order = _order_path(channel.fulfilment_url, order_id)
        if channel.kind == "shopify":
            self._shopify_refund(letter, request, order, order_id, headers)
            return
        if request.amount <= 0:
            if "note" in done:
                return
            notes = self._json(letter, Request("read", "GET", f"{order}/notes"), headers)
            if not any(isinstance(n, Mapping) and mentions(n.get("note"), request.rma)
                       for n in (notes if isinstance(notes, list) else ())):  # fmt: skip
                self._call(letter, Request("note", "POST", f"{order}/notes",
                                           woocommerce_refund_note(request)), headers)  # fmt: skip
            if mark_done is not None:
                mark_done("note")
            return
        made = self._json(letter, Request("read", "GET", f"{order}/refunds"), headers)
        if any(isinstance(r, Mapping) and mentions(r.get("reason"), request.rma)
               for r in (made if isinstance(made, list) else ())):  # fmt: skip
            return  # an attempt whose answer was lost made it
        shop_order = self._json(letter, Request("read", "GET", order), headers)
        matched = _matched(request, shop_order, letter)
        self._call(letter, Request("refund", "POST", f"{order}/refunds",
                                   woocommerce_refund_body(request, matched)), headers)  # fmt: skip

    def _shopify_refund(
        self,
        letter: Letter,
        request: RefundRequest,
        order: str,
        order_id: str,
        headers: dict[str, str],
    ) -> None:
        if request.amount <= 0:
            got = self._json(letter, Request("read", "GET", f"{order}.json"), headers)
            shop_order = got.get("order") if isinstance(got, Mapping) else None
            if not isinstance(shop_order, Mapping):
                raise Permanent(
                    f"the shop's answer for shop order {letter.shop_order_no} is not an order: "
                    "is fulfilment_url the shop's Admin API?"
                )
            if mentions(shop_order.get("note"), request.rma):
                return
            body = shopify_order_note(request, shop_order.get("id", order_id),
                                      shop_order.get("note"))  # fmt: skip
            self._call(letter, Request("note", "PUT", f"{order}.json", body), headers)
            return
        made = self._json(letter, Request("read", "GET", f"{order}/refunds.json"), headers)
        refunds = made.get("refunds") if isinstance(made, Mapping) else None
        if any(isinstance(r, Mapping) and mentions(r.get("note"), request.rma)
               for r in (refunds if isinstance(refunds, list) else ())):  # fmt: skip
            return  # an attempt whose answer was lost made it
        got = self._json(letter, Request("read", "GET", f"{order}.json"), headers)
        matched = _matched(request, got.get("order") if isinstance(got, Mapping) else None,
                           letter)  # fmt: skip
        sent = shopify_calculate_body(request, matched)
        calculate = Request("calculate", "POST", f"{order}/refunds/calculate.json", sent)
        answer = self._json(letter, calculate, headers)
        calculated = answer.get("refund") if isinstance(answer, Mapping) else None
        if not isinstance(calculated, Mapping):
            raise Permanent("the shop's refund calculation has no refund: is fulfilment_url "
                            "the shop's Admin API?")  # fmt: skip
        try:
            body = shopify_refund_body(request, calculated, sent)
        except MoreThanRefundable as exc:
            raise Permanent(f"{request.rma}: {exc}; refund it in the shop by hand") from None
        self._call(letter, Request("refund", "POST", f"{order}/refunds.json", body), headers)

    @staticmethod
    def _auth(channel: ChannelSettings) -> dict[str, str]:
        if not channel.auth_header:
            return {}
        value = os.environ.get(channel.auth_env)
        if not value:
            raise Temporary(
                f"the shop's credential is not set: ${channel.auth_env} is empty",
                broken_connection=True,
            )
        return {channel.auth_header: value}

    def _call(self, letter: Letter, request: Request, headers: dict[str, str]) -> httpx.Response:
        """Make one request; its answer when the shop took it."""
        if request.method != "GET":
            key = idempotency_key(f"{letter.key}/{request.step}")
            headers = {**headers, "Idempotency-Key": key}
        try:
            response = self._client.request(
                request.method, request.url, json=request.body, headers=headers
            )
        except httpx.TimeoutException:
            raise Temporary("the shop did not answer in time", broken_connection=True) from None
        except httpx.HTTPError as exc:
            raise Temporary(f"the shop cannot be reached ({exc})",
                            broken_connection=True) from None  # fmt: skip
        status = response.status_code
        if status >= 500:
            raise Temporary(f"the shop answered {status}: {_shop_words(response)}",
                            broken_connection=status in (502, 503, 504))  # fmt: skip
        if status in (408, 429):
            raise Temporary(f"the shop answered {status}: {_shop_words(response)}",
                            broken_connection=True)  # fmt: skip
        if status == 404:
            raise Permanent(
                f"the shop has no order with id {letter.shop_order_id} (shop order "
                f"{letter.shop_order_no}), or fulfilment_url is not its API (404: "
                f"{_shop_words(response)})"
            )
        if status >= 300:
            raise Permanent(f"the shop refused it ({status}): {_shop_words(response)}")
        return response

    def close(self) -> None:
        self._client.close()
