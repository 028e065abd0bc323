"""Fulfilment back to the shop: the tracking numbers go where the order came from.

``[channels.NAME]`` (NAME as the orders' channel) names the shop's ``kind``, its
``fulfilment_url`` (``{shop_order_no}`` and ``{order}`` are filled in) and an auth header whose
value is read from the environment (``auth_env``), never from a file.

- **Shopify**: one POST per parcel (a Shopify fulfilment carries one tracking number), of the
  Admin REST fulfilment's shape: ``{"fulfillment": {"notify_customer": false, "tracking_info":
  {"number", "company", "url"}, "line_items": [...]}}`` — ``notify_customer`` false because
  Picker mails the customer itself. Picker does not keep Shopify's fulfilment-order or line
  ids, so the line items are named by SKU and quantity.
- **WooCommerce**: an order note listing the tracking numbers (POST ``URL/notes``), then the
  order update ``{"status": "completed"}`` (PUT ``URL``).

Each request is a step; a step done is recorded on the message (``detail["done"]``) before the
next is made, so a message sent again after a failure half-way does not repeat what the shop
already has. Every request carries an ``Idempotency-Key`` derived from the outbox key and the
step. A 4xx answer fails the message with the shop's own message (429 and 408 are passing); 5xx
answers, timeouts and a shop that cannot be reached are retried like mail.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from picker.config import ChannelSettings, Settings
from picker.domain.notify import idempotency_key
from picker.services.notify.compose import Letter
from picker.services.notify.mail import Permanent, Temporary

USER_AGENT = "picker-fulfilment/1"


@dataclass(frozen=True)
class Request:
    step: str
    method: str
    url: str
    body: dict[str, Any]


def _url(channel: ChannelSettings, letter: Letter) -> str:
    from urllib.parse import quote

    return channel.fulfilment_url.replace(
        "{shop_order_no}", quote(letter.shop_order_no, safe="")
    ).replace("{order}", quote(letter.order_number, safe=""))


def shopify_body(letter: Letter, parcel_index: int) -> dict[str, Any]:
    """The Admin REST fulfilment of one parcel."""
    p = letter.parcels[parcel_index]
    return {
        "fulfillment": {
            "notify_customer": False,
            "tracking_info": {
                "number": p.tracking_no,
                "company": letter.courier_name or letter.courier_code or "",
                "url": p.url,
            },
            "line_items": [{"sku": i.sku, "name": i.name, "quantity": i.quantity}
                           for i in p.items],
            "message": f"{letter.order_number}: parcel {p.seq} of {len(letter.parcels)}",
        }
    }  # fmt: skip


def woocommerce_note(letter: Letter) -> dict[str, Any]:
    courier = letter.courier_name or letter.courier_code or "the courier"
    lines = [f"Shipped with {courier} ({letter.order_number}):"]
    lines += [f"{p.tracking_no}" + (f" {p.url}" if p.url else "") for p in letter.parcels]
    return {"note": "\n".join(lines), "customer_note": False}


def requests_for(letter: Letter, channel: ChannelSettings) -> list[Request]:
    """Every request the message makes, in order."""
    url = _url(channel, letter)
    if channel.kind == "shopify":
        return [
            Request(f"parcel-{p.id}", "POST", url, shopify_body(letter, i))
            for i, p in enumerate(letter.parcels)
        ]
    return [
        Request("note", "POST", url.rstrip("/") + "/notes", woocommerce_note(letter)),
        Request("status", "PUT", url, {"status": "completed"}),
    ]


def describe_requests(letter: Letter, settings: Settings) -> str:
    """The requests as text (``picker notify show`` of a shop message)."""
    channel = settings.channels.get(letter.channel)
    if channel is None or not channel.fulfilment_url:
        return f"(the shop channel {letter.channel} has no fulfilment_url configured)\n"
    out = []
    for r in requests_for(letter, channel):
        out.append(f"{r.method} {r.url}\n{json.dumps(r.body, indent=2, ensure_ascii=False)}\n")
    return "\n".join(out)


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
        """Make the message's requests not ``done`` yet, recording each with ``mark_done``.
        Raises :class:`Temporary` or :class:`Permanent`."""
        channel = self.settings.channels.get(letter.channel)
        if channel is None or not channel.fulfilment_url:
            raise Permanent(f"the shop channel {letter.channel} has no fulfilment_url")
        headers = {}
        if channel.auth_header:
            value = os.environ.get(channel.auth_env)
            if not value:
                raise Temporary(
                    f"the shop's credential is not set: ${channel.auth_env} is empty",
                    broken_connection=True,
                )
            headers[channel.auth_header] = value
        for request in self._pending(letter, channel, done):
            headers["Idempotency-Key"] = idempotency_key(f"{letter.key}/{request.step}")
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
            if status >= 300:
                raise Permanent(f"the shop refused it ({status}): {_shop_words(response)}")
            if mark_done is not None:
                mark_done(request.step)

    @staticmethod
    def _pending(
        letter: Letter, channel: ChannelSettings, done: frozenset[str]
    ) -> Iterator[Request]:
        for request in requests_for(letter, channel):
            if request.step not in done:
                yield request

    def close(self) -> None:
        self._client.close()
