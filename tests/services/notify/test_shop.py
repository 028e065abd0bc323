"""Fulfilment back to the shop, against a local HTTP server standing in for Shopify and
WooCommerce (both databases): the bodies have the shops' shapes; a 4xx answer fails with the
shop's message; a 5xx answer is retried and the work is done once."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from picker.config import ChannelSettings, CourierSettings, Settings
from picker.services.notify.dispatcher import dispatch_due
from picker.store.engine import Database
from picker.store.models import Order, OutboxMessage
from tests.services.floor.test_handoff import packed
from tests.services.floor.test_picking import clock
from tests.services.notify.test_outbox import rows, ship

TOKEN = "shpat_test_0123456789"


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Shop:
    port: int
    seen: list[Seen] = field(default_factory=list)
    #: Answers to give, first to last: (status, JSON body); then 201 {"ok": true}.
    answers: list[tuple[int, Any]] = field(default_factory=list)


@contextmanager
def shop_server() -> Iterator[Shop]:
    shop = Shop(0)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            with lock:
                shop.seen.append(Seen(self.command, self.path, dict(self.headers),
                                      json.loads(raw) if raw else None))  # fmt: skip
                status, body = shop.answers.pop(0) if shop.answers else (201, {"ok": True})
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_POST = do_PUT = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    shop.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield shop
    finally:
        server.shutdown()
        server.server_close()


def to_shop(settings: Settings, shop: Shop, kind: str, tmp_path: Path) -> Settings:
    """Shop messages of the order's channel to the local shop; mail into a folder."""
    if kind == "shopify":
        url = f"http://127.0.0.1:{shop.port}/admin/api/2025-01/orders/{{shop_order_no}}/fulfillments.json"
        channel = ChannelSettings("shopify", "shopify", url, "X-Shopify-Access-Token",
                                  "PICKER_TEST_SHOP_TOKEN")  # fmt: skip
    else:
        url = f"http://127.0.0.1:{shop.port}/wp-json/wc/v3/orders/{{shop_order_no}}"
        channel = ChannelSettings("shopify", "woocommerce", url, "Authorization",
                                  "PICKER_TEST_SHOP_TOKEN")  # fmt: skip
    notify = replace(settings.notify, smtp_url=f"file://{tmp_path / 'mail'}", timeout_s=5.0)
    couriers = {"POST": CourierSettings("https://track.example/{tracking}")}
    return replace(settings, notify=notify, channels={"shopify": channel}, couriers=couriers)


def shipped(db: Database, settings: Settings, parcels: int) -> tuple[str, str, list[str]]:
    """An order handed to its courier: (number, shop order number, tracking numbers); the
    messages of before it (accepted) out of the way."""
    lines = [("SKU-00001", 1), ("SKU-00002", 2)][:parcels]
    number, trackings = packed(db, settings, *lines, tote="T-0901", parcels=parcels)
    with db.transaction() as s:
        s.execute(update(OutboxMessage).values(status="skipped"))
    ship(db, settings, *trackings)
    return number, "0901", trackings


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PICKER_TEST_SHOP_TOKEN", TOKEN)
    return TOKEN


def shop_message(db: Database) -> OutboxMessage:
    [m] = rows(db, event="shipped", kind="shop")
    return m


def test_shopify_gets_one_fulfilment_per_parcel_with_tracking_and_the_lines_shipped(
    floor, settings, tmp_path, token
) -> None:
    with shop_server() as shop:
        s = to_shop(settings, shop, "shopify", tmp_path)
        number, shop_no, trackings = shipped(floor, s, parcels=2)
        done = dispatch_due(floor, s, clock=clock)
        assert len(done.sent) == 2  # the mail and the shop message
        assert [(r.method, r.path) for r in shop.seen] == [
            ("POST", f"/admin/api/2025-01/orders/{shop_no}/fulfillments.json")
        ] * 2
        keys = set()
        for r, tracking, (sku, quantity) in zip(shop.seen, trackings,
                                                [("SKU-00001", 1), ("SKU-00002", 2)],
                                                strict=True):  # fmt: skip
            assert r.headers["X-Shopify-Access-Token"] == TOKEN
            assert r.headers["Content-Type"] == "application/json"
            keys.add(r.headers["Idempotency-Key"])
            f = r.body["fulfillment"]
            assert f["notify_customer"] is False
            assert f["tracking_info"] == {
                "number": tracking, "company": f["tracking_info"]["company"],
                "url": f"https://track.example/{tracking}"}  # fmt: skip
            assert f["tracking_info"]["company"]  # the courier by name
            assert [(i["sku"], i["quantity"]) for i in f["line_items"]] == [(sku, quantity)]
            assert number in f["message"]
        assert len(keys) == 2
        m = shop_message(floor)
        assert (m.status, m.attempts, m.error) == ("sent", 1, None)


def test_woocommerce_gets_a_note_with_every_tracking_number_then_completed(
    floor, settings, tmp_path, token
) -> None:
    with shop_server() as shop:
        s = to_shop(settings, shop, "woocommerce", tmp_path)
        _, shop_no, trackings = shipped(floor, s, parcels=2)
        dispatch_due(floor, s, clock=clock)
        note, status = shop.seen
        assert (note.method, note.path) == ("POST", f"/wp-json/wc/v3/orders/{shop_no}/notes")
        assert note.body["customer_note"] is False
        assert all(t in note.body["note"] for t in trackings)
        assert (status.method, status.path, status.body) == (
            "PUT", f"/wp-json/wc/v3/orders/{shop_no}", {"status": "completed"})  # fmt: skip
        assert status.headers["Authorization"] == TOKEN
        assert shop_message(floor).status == "sent"


def test_a_shop_refusing_fails_the_message_with_its_own_words(
    floor, settings, tmp_path, token
) -> None:
    with shop_server() as shop:
        s = to_shop(settings, shop, "shopify", tmp_path)
        shop.answers = [(422, {"errors": {"base": ["Line items are already fulfilled"]}})]
        shipped(floor, s, parcels=1)
        done = dispatch_due(floor, s, clock=clock)
        m = shop_message(floor)
        assert (m.status, m.error) == (
            "failed",
            "the shop refused it (422): base: Line items are already fulfilled",
        )
        assert (m.id, m.error) in done.failed
        later = dispatch_due(floor, s, clock=lambda: clock() + timedelta(hours=2))
        assert later.handled == 0 and len(shop.seen) == 1  # never tried again by itself


def test_a_shop_that_is_down_is_retried_and_the_fulfilment_is_made_once(
    floor, settings, tmp_path, token
) -> None:
    with shop_server() as shop:
        s = to_shop(settings, shop, "woocommerce", tmp_path)
        # The note goes through, then the shop falls over at the order update.
        shop.answers = [(201, {"id": 7}), (503, {"message": "Service Unavailable"})]
        shipped(floor, s, parcels=1)
        first = dispatch_due(floor, s, clock=clock)
        m = shop_message(floor)
        assert m.status == "queued" and m.error == "the shop answered 503: Service Unavailable"
        assert (m.id, m.error) in first.retrying and m.detail.get("done") == ["note"]
        assert m.next_attempt_at == clock() + timedelta(seconds=30)
        again = dispatch_due(floor, s, clock=lambda: clock() + timedelta(seconds=30))
        assert again.sent == [m.id]
        assert [r.method for r in shop.seen] == ["POST", "PUT", "PUT"]  # the note once
        assert shop_message(floor).status == "sent"


def test_a_missing_credential_waits_and_no_url_is_skipped(
    floor, settings, tmp_path, monkeypatch
) -> None:
    monkeypatch.delenv("PICKER_TEST_SHOP_TOKEN", raising=False)
    with shop_server() as shop:
        s = to_shop(settings, shop, "shopify", tmp_path)
        shipped(floor, s, parcels=1)
        dispatch_due(floor, s, clock=clock)
        m = shop_message(floor)
        assert m.status == "queued" and "$PICKER_TEST_SHOP_TOKEN is empty" in (m.error or "")
        assert shop.seen == []
        with floor.transaction() as session:  # the channel's URL taken away meanwhile
            session.execute(update(Order).values(channel="elsewhere"))
        later = dispatch_due(floor, s, clock=lambda: clock() + timedelta(minutes=1))
        assert (m.id, "the shop channel elsewhere has no fulfilment_url "
                "([channels.elsewhere])") in later.skipped  # fmt: skip
