"""Fulfilment back to the shop, against a local HTTP server that behaves like Shopify's Admin
REST API (fulfilment orders, then one fulfilment of them) or WooCommerce's REST API v3 (both
databases). The orders come in through the real readers, from exports of the shops' shape, so
the shop's own order id is the one the shop gave."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from picker.config import ChannelSettings, CourierSettings, Settings
from picker.services.notify import compose
from picker.services.notify.dispatcher import dispatch_due
from picker.store.engine import Database
from picker.store.models import Order, OutboxMessage
from tests.services.floor.test_handoff import packed
from tests.services.floor.test_picking import clock
from tests.services.intake.test_order_import import import_export, stock
from tests.services.notify.test_outbox import rows, ship

TOKEN = "shpat_test_0123456789"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "notify"
API = "/admin/api/2025-01"
#: What the fixtures' orders ship: their lines the floor picks and packs.
LINES = (("SKU-00001", 1), ("SKU-00002", 2))
OPEN_FO, CLOSED_FO, LOCATION = 1046000001, 1046000002, 24826418


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Shop:
    """A shop on a local port: what it was asked, and its state."""

    kind: str
    port: int = 0
    seen: list[Seen] = field(default_factory=list)
    #: Answers to give POST and PUT requests first to last, instead of doing the work:
    #: (status, JSON body); or ("lost", None): the work is done, the answer never sent.
    answers: list[tuple[Any, Any]] = field(default_factory=list)
    #: Shopify: each order id's fulfilment orders, as GET …/fulfillment_orders.json lists them.
    fulfillment_orders: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: Shopify: the fulfilments made.
    fulfillments: list[dict[str, Any]] = field(default_factory=list)
    #: WooCommerce: the orders it knows, id → {status, notes}.
    woo_orders: dict[str, dict[str, Any]] = field(default_factory=dict)

    def posts(self) -> list[Seen]:
        return [r for r in self.seen if r.method == "POST"]


def shopify_fulfillment_orders(order: dict[str, Any]) -> list[dict[str, Any]]:
    """The fulfilment orders Shopify made of ``order``: one open, of the lines still to
    fulfil; one closed, of the line fulfilled in the shop before."""

    def fo(id_: int, status: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": id_, "shop_id": 548380009, "order_id": order["id"],
            "assigned_location_id": LOCATION, "request_status": "unsubmitted", "status": status,
            "supported_actions": ["create_fulfillment", "move"] if status == "open" else [],
            "destination": {"id": 1042416236, "city": "Warszawa", "country": "Poland"},
            "line_items": [
                {"id": 1058737000 + i, "shop_id": 548380009, "fulfillment_order_id": id_,
                 "quantity": li["quantity"], "line_item_id": li["id"],
                 "inventory_item_id": 49148385 + i,
                 "fulfillable_quantity": li["fulfillable_quantity"],
                 "variant_id": li["variant_id"]}
                for i, li in enumerate(lines)
            ],
            "fulfill_at": None, "fulfill_by": None, "international_duties": None,
            "fulfillment_holds": [], "delivery_method": {"method_type": "shipping"},
            "created_at": "2026-11-20T14:05:13+01:00", "updated_at": "2026-11-20T16:30:00+01:00",
            "merchant_requests": [],
        }  # fmt: skip

    lines = order["line_items"]
    return [
        fo(OPEN_FO, "open", [li for li in lines if li["fulfillable_quantity"] > 0]),
        fo(CLOSED_FO, "closed", [li for li in lines if li["fulfillable_quantity"] == 0]),
    ]


def _left(fo: dict[str, Any]) -> int:
    return sum(li["fulfillable_quantity"] for li in fo["line_items"])


def _shopify(shop: Shop, method: str, path: str, body: Any) -> tuple[int, Any, bool]:
    """(status, answer, work done) as Shopify would, for a request not scripted."""
    found = re.fullmatch(rf"{API}/orders/(\d+)/fulfillment_orders\.json", path)
    if method == "GET" and found:
        fos = shop.fulfillment_orders.get(found.group(1))
        if fos is None:
            return 404, {"errors": "Not Found"}, False
        return 200, {"fulfillment_orders": fos}, False
    if method == "POST" and path == f"{API}/fulfillments.json":
        f = body["fulfillment"] if isinstance(body, dict) and "fulfillment" in body else None
        if f is None:
            return 400, {"errors": {"fulfillment": "Required parameter missing or invalid"}}, False
        wanted = [x["fulfillment_order_id"] for x in f["line_items_by_fulfillment_order"]]
        served = {fo["id"]: fo for fos in shop.fulfillment_orders.values() for fo in fos}
        for id_ in wanted:
            status = served[id_]["status"] if id_ in served else "unknown"
            if status not in ("open", "in_progress"):
                why = f"Fulfillment order {id_} has an unfulfillable status= {status}."
                return 422, {"errors": [why]}, False
        made = {
            "id": 255858100 + len(shop.fulfillments),
            "order_id": served[wanted[0]]["order_id"], "status": "success",
            "tracking_company": f["tracking_info"].get("company"),
            "tracking_number": f["tracking_info"]["number"],
            "tracking_numbers": f.get("tracking_numbers", [f["tracking_info"]["number"]]),
            "fulfillment_orders": wanted,
        }  # fmt: skip
        for id_ in wanted:
            served[id_]["status"] = "closed"
            for li in served[id_]["line_items"]:
                li["fulfillable_quantity"] = 0
        shop.fulfillments.append(made)
        return 201, {"fulfillment": made}, True
    return 404, {"errors": "Not Found"}, False


def _woocommerce(shop: Shop, method: str, path: str, body: Any) -> tuple[int, Any, bool]:
    found = re.fullmatch(r"/wp-json/wc/v3/orders/(\d+)(/notes)?", path)
    order = shop.woo_orders.get(found.group(1)) if found else None
    if order is None:
        return 404, {"code": "woocommerce_rest_shop_order_invalid_id", "message": "Invalid ID.",
                     "data": {"status": 404}}, False  # fmt: skip
    if method == "POST" and found and found.group(2):
        order["notes"].append(body["note"])
        return 201, {"id": 281 + len(order["notes"]), "note": body["note"],
                     "customer_note": body.get("customer_note", False)}, True  # fmt: skip
    if method == "PUT" and found and not found.group(2):
        order.update(body)
        return 200, {"id": int(found.group(1)), "status": order["status"]}, True
    return 404, {"code": "rest_no_route", "message": "No route was found"}, False


@contextmanager
def shop_server(kind: str) -> Iterator[Shop]:
    shop = Shop(kind)
    lock = threading.Lock()
    behave = _shopify if kind == "shopify" else _woocommerce

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            body = json.loads(raw) if raw else None
            with lock:
                shop.seen.append(Seen(self.command, self.path, dict(self.headers), body))
                scripted = shop.answers.pop(0) if shop.answers and self.command != "GET" else None
                if scripted is None or scripted[0] == "lost":
                    status, answer, _ = behave(shop, self.command, self.path, body)
                else:
                    status, answer = scripted
            if scripted is not None and scripted[0] == "lost":
                self.close_connection = True  # the work is done; the answer never leaves
                return
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _answer

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


def to_shop(settings: Settings, shop: Shop, tmp_path: Path) -> Settings:
    """Shop messages of the shop's channel to the local shop; mail into a folder."""
    if shop.kind == "shopify":
        channel = ChannelSettings("shopify", "shopify", f"http://127.0.0.1:{shop.port}{API}",
                                  "X-Shopify-Access-Token", "PICKER_TEST_SHOP_TOKEN")  # fmt: skip
    else:
        channel = ChannelSettings("woocommerce", "woocommerce",
                                  f"http://127.0.0.1:{shop.port}/wp-json/wc/v3", "Authorization",
                                  "PICKER_TEST_SHOP_TOKEN")  # fmt: skip
    notify = replace(settings.notify, smtp_url=f"file://{tmp_path / 'mail'}", timeout_s=5.0)
    couriers = {"POST": CourierSettings("https://track.example/{tracking}")}
    return replace(settings, notify=notify, channels={shop.kind: channel}, couriers=couriers)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def shipped(db: Database, settings: Settings, shop: Shop, parcels: int) -> tuple[str, list[str]]:
    """The shop's order (from its export), picked, packed into ``parcels`` parcels and handed
    to its courier, the shop knowing it: (our order number, tracking numbers). The messages of
    before (accepted) out of the way."""
    stock(db, "SKU-00001", A_01_01_1=50)
    stock(db, "SKU-00002", A_01_02_1=50)
    if shop.kind == "shopify":
        data = fixture("shopify_order.json")
        order = json.loads(data)["order"]
        shop.fulfillment_orders[str(order["id"])] = shopify_fulfillment_orders(order)
        shop_no = order["name"].removeprefix("#")
    else:
        data = fixture("woocommerce_order.json")
        order = json.loads(data)
        shop.woo_orders[str(order["id"])] = {"status": order["status"], "notes": []}
        shop_no = order["number"]
    report = import_export(db, settings, data, file_name=f"{shop.kind}.json")
    assert report.counts["assigned"] == 1, report
    number, trackings = packed(db, settings, *LINES, tote="T-0901", parcels=parcels,
                               restock=False, shop_no=shop_no)  # fmt: skip
    with db.transaction() as s:
        s.execute(update(OutboxMessage).values(status="skipped"))
    ship(db, settings, *trackings)
    return number, trackings


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PICKER_TEST_SHOP_TOKEN", TOKEN)
    return TOKEN


def shop_message(db: Database) -> OutboxMessage:
    [m] = rows(db, event="shipped", kind="shop")
    return m


def later(minutes: float) -> Any:
    return lambda: clock() + timedelta(minutes=minutes)


# --- Shopify ---------------------------------------------------------------------------------


@pytest.mark.parametrize("parcels", [1, 2])
def test_shopify_gets_one_fulfilment_of_the_open_fulfilment_orders_with_every_tracking_number(
    floor, settings, tmp_path, token, parcels
) -> None:
    with shop_server("shopify") as shop:
        s = to_shop(settings, shop, tmp_path)
        _, trackings = shipped(floor, s, shop, parcels=parcels)
        done = dispatch_due(floor, s, clock=clock)
        assert len(done.sent) == 2  # the mail and the shop message
        assert [(r.method, r.path) for r in shop.seen] == [
            ("GET", f"{API}/orders/450789469/fulfillment_orders.json"),  # Shopify's id, not #1001
            ("POST", f"{API}/fulfillments.json"),
        ]
        get, post = shop.seen
        assert get.headers["X-Shopify-Access-Token"] == TOKEN
        assert post.headers["X-Shopify-Access-Token"] == TOKEN
        assert post.headers["Content-Type"] == "application/json"
        assert post.headers["Idempotency-Key"]
        f = post.body["fulfillment"]
        # Only the open fulfilment order: the closed one's line was fulfilled in the shop.
        assert f["line_items_by_fulfillment_order"] == [{"fulfillment_order_id": OPEN_FO}]
        assert f["notify_customer"] is False  # Picker mails the customer itself
        assert f["tracking_info"] == {"number": trackings[0], "company": "National Post",
                                      "url": f"https://track.example/{trackings[0]}"}  # fmt: skip
        if parcels == 1:
            assert "tracking_numbers" not in f and "tracking_urls" not in f
        else:
            assert f["tracking_numbers"] == trackings
            assert f["tracking_urls"] == [f"https://track.example/{t}" for t in trackings]
        assert "line_items" not in f  # the old order-based fulfilment is gone from the API
        assert [x["tracking_numbers"] for x in shop.fulfillments] == [trackings]
        m = shop_message(floor)
        assert (m.status, m.attempts, m.error) == ("sent", 1, None)


def test_shopify_refusing_fails_the_message_with_its_own_words(
    floor, settings, tmp_path, token
) -> None:
    with shop_server("shopify") as shop:
        s = to_shop(settings, shop, tmp_path)
        shop.answers = [(422, {"errors": {"base": ["Line items are already fulfilled"]}})]
        shipped(floor, s, shop, parcels=1)
        done = dispatch_due(floor, s, clock=clock)
        m = shop_message(floor)
        assert (m.status, m.error) == (
            "failed",
            "the shop refused it (422): base: Line items are already fulfilled",
        )
        assert (m.id, m.error) in done.failed
        again = dispatch_due(floor, s, clock=later(120))
        assert again.handled == 0 and len(shop.posts()) == 1  # never tried again by itself
        assert shop.fulfillments == []


def test_shopify_down_is_retried_and_the_fulfilment_is_made_once(
    floor, settings, tmp_path, token
) -> None:
    with shop_server("shopify") as shop:
        s = to_shop(settings, shop, tmp_path)
        shop.answers = [(503, {"errors": "Service Unavailable"})]
        shipped(floor, s, shop, parcels=2)
        first = dispatch_due(floor, s, clock=clock)
        m = shop_message(floor)
        assert m.status == "queued" and m.error == "the shop answered 503: Service Unavailable"
        assert (m.id, m.error) in first.retrying
        assert m.next_attempt_at == clock() + timedelta(seconds=30)
        again = dispatch_due(floor, s, clock=later(0.5))
        assert again.sent == [m.id]
        assert [r.method for r in shop.seen] == ["GET", "POST", "GET", "POST"]
        assert len(shop.fulfillments) == 1
        assert shop_message(floor).status == "sent"


def test_a_fulfilment_whose_answer_was_lost_is_not_made_again(
    floor, settings, tmp_path, token
) -> None:
    with shop_server("shopify") as shop:
        s = to_shop(settings, shop, tmp_path)
        shop.answers = [("lost", None)]  # Shopify fulfils it; its answer never arrives
        shipped(floor, s, shop, parcels=1)
        dispatch_due(floor, s, clock=clock)
        m = shop_message(floor)
        assert m.status == "queued" and "the shop cannot be reached" in (m.error or "")
        assert len(shop.fulfillments) == 1
        dispatch_due(floor, s, clock=later(1))
        assert [r.method for r in shop.seen] == ["GET", "POST", "GET"]  # nothing open: no POST
        assert len(shop.fulfillments) == 1
        assert shop_message(floor).status == "sent"


def test_a_fulfilment_made_before_the_dispatcher_died_is_not_made_again(
    floor, settings, tmp_path, token
) -> None:
    with shop_server("shopify") as shop:
        s = to_shop(settings, shop, tmp_path)
        shipped(floor, s, shop, parcels=2)
        dispatch_due(floor, s, clock=clock)
        assert len(shop.fulfillments) == 1
        # Killed after Shopify made the fulfilment, before the message was settled: it is
        # left "sending" under a lease that runs out.
        with floor.transaction() as session:
            session.execute(update(OutboxMessage).where(OutboxMessage.kind == "shop").values(
                status="sending", sent_at=None, claimed_by="dead:1",
                lease_until=clock() - timedelta(seconds=1)))  # fmt: skip
        done = dispatch_due(floor, s, clock=clock)
        m = shop_message(floor)
        assert done.sent == [m.id] and m.status == "sent" and m.attempts == 2
        assert [r.method for r in shop.seen] == ["GET", "POST", "GET"]
        assert len(shop.fulfillments) == 1


def test_an_order_imported_before_picker_kept_the_shop_id_fails_saying_so(
    floor, settings, tmp_path, token
) -> None:
    with shop_server("shopify") as shop:
        s = to_shop(settings, shop, tmp_path)
        shipped(floor, s, shop, parcels=1)
        with floor.transaction() as session:  # as the migration leaves an older order
            session.execute(update(Order).values(shop_order_id=None))
            session.execute(update(OutboxMessage).where(OutboxMessage.kind == "email")
                            .values(status="skipped"))  # fmt: skip
        done = dispatch_due(floor, s, clock=clock)
        m = shop_message(floor)
        assert m.status == "failed" and (m.id, m.error) in done.failed
        why = "(shop order 1001) has no shop order id: it was imported before Picker kept "
        assert m.error.startswith("order PO-") and why + "the shop's id" in m.error
        assert "mark it fulfilled in the shop by hand" in m.error
        assert shop.seen == []


def test_an_order_the_shop_does_not_know_fails_with_its_words(
    floor, settings, tmp_path, token
) -> None:
    with shop_server("shopify") as shop:
        s = to_shop(settings, shop, tmp_path)
        shipped(floor, s, shop, parcels=1)
        shop.fulfillment_orders.clear()  # deleted in the shop meanwhile
        dispatch_due(floor, s, clock=clock)
        m = shop_message(floor)
        assert (m.status, m.error) == (
            "failed",
            "the shop has no order with id 450789469 (shop order 1001), or fulfilment_url is "
            "not its API (404: Not Found)",
        )
        assert shop.posts() == []


def test_fulfilment_orders_the_shop_holds_fail_the_message_saying_so(
    floor, settings, tmp_path, token
) -> None:
    with shop_server("shopify") as shop:
        s = to_shop(settings, shop, tmp_path)
        shipped(floor, s, shop, parcels=1)
        shop.fulfillment_orders["450789469"][0]["status"] = "on_hold"
        dispatch_due(floor, s, clock=clock)
        m = shop_message(floor)
        assert m.status == "failed" and m.error == (
            "the shop holds the fulfilment of shop order 1001 (on_hold): release it in the "
            "shop, then send this message again (picker notify retry)"
        )
        assert shop.posts() == []


def test_notify_show_of_a_shop_message_names_the_requests_it_makes(
    floor, settings, tmp_path
) -> None:
    with shop_server("shopify") as shop:
        s = to_shop(settings, shop, tmp_path)
        shipped(floor, s, shop, parcels=2)
        shown = compose.show(floor, s, shop_message(floor).id)
    base = f"http://127.0.0.1:{shop.port}{API}"
    get, post = shown.body.split("\n\n", 1)
    assert get == f"GET {base}/orders/450789469/fulfillment_orders.json"
    assert post.startswith(f"POST {base}/fulfillments.json\n")
    body = json.loads(post.split("\n", 1)[1])
    assert body["fulfillment"]["notify_customer"] is False
    assert body["fulfillment"]["line_items_by_fulfillment_order"] == [
        {"fulfillment_order_id": "(each open one the GET lists)"}]  # fmt: skip
    assert shop.seen == []  # shown, not sent


# --- WooCommerce -----------------------------------------------------------------------------


def test_woocommerce_gets_a_note_with_every_tracking_number_then_completed_by_its_id(
    floor, settings, tmp_path, token
) -> None:
    with shop_server("woocommerce") as shop:
        s = to_shop(settings, shop, tmp_path)
        _, trackings = shipped(floor, s, shop, parcels=2)
        with floor.read() as session:  # the number the customer sees, and the shop's id
            assert session.execute(select(Order.shop_order_no, Order.shop_order_id)).one() == (
                "WC-1001", "7342")  # fmt: skip
        dispatch_due(floor, s, clock=clock)
        note, status = shop.seen
        assert (note.method, note.path) == ("POST", "/wp-json/wc/v3/orders/7342/notes")
        assert note.body["customer_note"] is False
        assert all(t in note.body["note"] for t in trackings)
        assert (status.method, status.path, status.body) == (
            "PUT", "/wp-json/wc/v3/orders/7342", {"status": "completed"})  # fmt: skip
        assert status.headers["Authorization"] == TOKEN
        assert shop.woo_orders["7342"]["status"] == "completed"
        assert shop_message(floor).status == "sent"


def test_woocommerce_down_is_retried_and_the_note_is_written_once(
    floor, settings, tmp_path, token
) -> None:
    with shop_server("woocommerce") as shop:
        s = to_shop(settings, shop, tmp_path)
        # The note goes through, then the shop falls over at the order update.
        shop.answers = [(201, {"id": 7}), (503, {"message": "Service Unavailable"})]
        shipped(floor, s, shop, parcels=1)
        first = dispatch_due(floor, s, clock=clock)
        m = shop_message(floor)
        assert m.status == "queued" and m.error == "the shop answered 503: Service Unavailable"
        assert (m.id, m.error) in first.retrying and m.detail.get("done") == ["note"]
        assert m.next_attempt_at == clock() + timedelta(seconds=30)
        again = dispatch_due(floor, s, clock=later(0.5))
        assert again.sent == [m.id]
        assert [r.method for r in shop.seen] == ["POST", "PUT", "PUT"]  # the note once
        assert shop_message(floor).status == "sent"


def test_a_missing_credential_waits_and_no_url_is_skipped(
    floor, settings, tmp_path, monkeypatch
) -> None:
    monkeypatch.delenv("PICKER_TEST_SHOP_TOKEN", raising=False)
    with shop_server("shopify") as shop:
        s = to_shop(settings, shop, tmp_path)
        shipped(floor, s, shop, parcels=1)
        dispatch_due(floor, s, clock=clock)
        m = shop_message(floor)
        assert m.status == "queued" and "$PICKER_TEST_SHOP_TOKEN is empty" in (m.error or "")
        assert shop.seen == []
        with floor.transaction() as session:  # the channel's URL taken away meanwhile
            session.execute(update(Order).values(channel="elsewhere"))
        again = dispatch_due(floor, s, clock=later(1))
        assert (m.id, "the shop channel elsewhere has no fulfilment_url "
                "([channels.elsewhere])") in again.skipped  # fmt: skip
