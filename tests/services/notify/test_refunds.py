"""A return's refund asked of the shop, against a local HTTP server that behaves like Shopify's
Admin REST API (refunds: calculate, then create) or WooCommerce's REST API v3 (order refunds,
notes), and the customer's return_received mail (both databases). The orders come in through
the real readers from the shops' exports, are shipped through the floor's services, and the
return's close is stood in for by the outbox call it makes (helper `core` owns the close)."""

from __future__ import annotations

import copy
import email
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest
from babel.numbers import format_currency
from sqlalchemy import select, update

from picker.config import Settings
from picker.services.notify import compose
from picker.services.notify.dispatcher import dispatch_due
from picker.services.notify.outbox import enqueue
from picker.store.engine import Database
from picker.store.models import Order, OutboxMessage
from tests.services.floor.test_picking import clock
from tests.services.notify.test_outbox import rows
from tests.services.notify.test_shop import (
    API,
    FIXTURES,
    LOCATION,
    TOKEN,
    Seen,
    later,
    shipped,
    to_shop,
)

WOO = "/wp-json/wc/v3"
RMA = "RMA-000001"
#: The Shopify fixture order's payment, as its transactions list it.
PARENT = 389404469
#: SKU-00002's line in each shop (two units of it were ordered and shipped).
SHOPIFY_LINE_2, WOO_LINE_2 = 518995019, 316


@dataclass
class RefundShop:
    """A shop on a local port that keeps its orders, refunds and notes."""

    kind: str
    port: int = 0
    seen: list[Seen] = field(default_factory=list)
    #: Answers to give POST and PUT requests first to last instead of doing the work:
    #: (status, JSON body); ("pass", None): as the shop would; or ("lost", None): the work is
    #: done, the answer never sent.
    answers: list[tuple[Any, Any]] = field(default_factory=list)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)
    #: What the floor's shipment (``shipped``) writes of the shop; not served here.
    fulfillment_orders: dict[str, Any] = field(default_factory=dict)
    woo_orders: dict[str, Any] = field(default_factory=dict)

    def writes(self) -> list[Seen]:
        return [r for r in self.seen if r.method in ("POST", "PUT")]

    def seen_paths(self) -> list[tuple[str, str]]:
        return [(r.method, r.path.removeprefix(API).removeprefix(WOO)) for r in self.seen]


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PICKER_TEST_SHOP_TOKEN", TOKEN)
    return TOKEN


def _shopify(shop: RefundShop, method: str, path: str, body: Any) -> tuple[int, Any]:
    found = re.fullmatch(rf"{API}/orders/(\d+)(\.json|/refunds\.json|/refunds/calculate\.json)",
                         path)  # fmt: skip
    order = shop.orders.get(found.group(1)) if found else None
    if order is None or found is None:
        return 404, {"errors": "Not Found"}
    what = found.group(2)
    if method == "GET" and what == ".json":
        return 200, {"order": order}
    if method == "PUT" and what == ".json":
        order.update(body["order"])
        return 200, {"order": order}
    if method == "GET" and what == "/refunds.json":
        return 200, {"refunds": shop.refunds.get(str(order["id"]), [])}
    lines = {li["id"]: li for li in order["line_items"]}
    refund = body.get("refund") if isinstance(body, dict) else None
    if refund is None:
        return 400, {"errors": {"refund": "Required parameter missing or invalid"}}
    for rli in refund.get("refund_line_items", []):
        li = lines.get(rli["line_item_id"])
        if li is None or rli["quantity"] > li["quantity"]:
            return 422, {"errors": {"refund_line_items": ["is invalid"]}}
        if rli["restock_type"] not in ("return", "no_restock", "cancel"):
            return 422, {"errors": {"restock_type": ["is not included in the list"]}}
    if method == "POST" and what == "/refunds/calculate.json":
        items = [
            {**rli, "location_id": LOCATION if rli["restock_type"] == "return" else None,
             "price": lines[rli["line_item_id"]]["price"]}
            for rli in refund["refund_line_items"]
        ]  # fmt: skip
        amount = sum(float(lines[i["line_item_id"]]["price"]) * i["quantity"] for i in items)
        amount += float(refund.get("shipping", {}).get("amount", 0))
        return 200, {"refund": {
            "shipping": {"amount": refund.get("shipping", {}).get("amount", "0.00"),
                         "maximum_refundable": "14.99"},
            "refund_line_items": items,
            "transactions": [{"order_id": order["id"], "kind": "suggested_refund",
                              "gateway": "shopify_payments", "parent_id": PARENT,
                              "amount": f"{amount:.2f}", "currency": "PLN",
                              "maximum_refundable": "124.69"}],
        }}  # fmt: skip
    if method == "POST" and what == "/refunds.json":
        for t in refund.get("transactions", []):
            if t["kind"] != "refund" or t["parent_id"] != PARENT or float(t["amount"]) > 124.69:
                return 422, {"errors": {"transactions": ["is invalid"]}}
        made = {"id": 509562969 + len(shop.refunds.get(str(order["id"]), [])), **refund}
        shop.refunds.setdefault(str(order["id"]), []).append(made)
        return 201, {"refund": made}
    return 404, {"errors": "Not Found"}


def _woocommerce(shop: RefundShop, method: str, path: str, body: Any) -> tuple[int, Any]:
    found = re.fullmatch(rf"{WOO}/orders/(\d+)(/refunds|/notes)?", path)
    order = shop.orders.get(found.group(1)) if found else None
    if order is None or found is None:
        return 404, {"code": "woocommerce_rest_shop_order_invalid_id", "message": "Invalid ID.",
                     "data": {"status": 404}}  # fmt: skip
    key, what = found.group(1), found.group(2)
    if method == "GET" and what is None:
        return 200, order
    if method == "GET" and what == "/refunds":
        return 200, shop.refunds.get(key, [])
    if method == "POST" and what == "/refunds":
        lines = {li["id"]: li for li in order["line_items"]}
        for li in body.get("line_items", []):
            if li["id"] not in lines:
                return 400, {"code": "woocommerce_rest_invalid_line_item",
                             "message": f"Invalid line item ID {li['id']}."}  # fmt: skip
        made = {"id": 726 + len(shop.refunds.get(key, [])), **body}
        shop.refunds.setdefault(key, []).append(made)
        return 201, made
    if method == "GET" and what == "/notes":
        return 200, [{"id": i, "note": n} for i, n in enumerate(shop.notes.get(key, []))]
    if method == "POST" and what == "/notes":
        shop.notes.setdefault(key, []).append(body["note"])
        return 201, {"id": 281, "note": body["note"]}
    return 404, {"code": "rest_no_route", "message": "No route was found"}


@contextmanager
def refund_shop(kind: str) -> Iterator[RefundShop]:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    shop = RefundShop(kind)
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
                if scripted is None or scripted[0] in ("lost", "pass"):
                    status, answer = behave(shop, self.command, self.path, body)
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


def _sold(shop: RefundShop) -> None:
    """The shop's order as its export has it (what intake read), kept by the shop."""
    if shop.kind == "shopify":
        order = json.loads((FIXTURES / "shopify_order.json").read_bytes())["order"]
    else:
        order = json.loads((FIXTURES / "woocommerce_order.json").read_bytes())
    shop.orders[str(order["id"])] = copy.deepcopy(order)


def _detail(
    rma: str = RMA,
    *,
    refund: str = "73.40",
    shipping: str = "0.00",
    exchange: str | None = None,
    units: list[tuple[str, str, str]] | None = None,
) -> dict[str, Any]:
    """What a return's close queues (returns-spec.md): by default one SKU-00001 resellable and
    two SKU-00002, one resellable and one damaged."""
    units = units or [("SKU-00001", "Kubek", "resell"), ("SKU-00002", "Talerz", "resell"),
                      ("SKU-00002", "Talerz", "damaged")]  # fmt: skip
    lines: dict[tuple[str, bool], int] = {}
    for sku, _, condition in units:
        if condition != "foreign":
            key = (sku, condition == "resell")
            lines[key] = lines.get(key, 0) + 1
    return {
        "return": rma,
        "units": [{"sku": s, "name": n, "quantity": 1, "condition": c} for s, n, c in units],
        "refund": refund, "currency": "PLN", "shipping_refunded": shipping,
        "exchange_order": exchange,
        "lines": [{"order_line_id": None, "sku": sku, "quantity": n, "restock": restock}
                  for (sku, restock), n in lines.items()],
    }  # fmt: skip


def returned(db: Database, settings: Settings, shop: RefundShop, *details: dict[str, Any]) -> str:
    """The shop's order shipped, then returned (each detail one return's close): its number.
    The messages of before (accepted, shipped) out of the way."""
    _sold(shop)
    number, _ = shipped(db, settings, shop, parcels=1)  # type: ignore[arg-type]
    with db.transaction() as s:
        s.execute(update(OutboxMessage).values(status="skipped"))
        order_id = s.scalar(select(Order.id).where(Order.number == number))
        for detail in details or (_detail(),):
            enqueue(
                s,
                order_id,
                "return_received",
                at=clock(),
                settings=settings,
                subject=detail["return"],
                detail=detail,
            )  # as the return's close does
    return number


def refund_message(db: Database) -> OutboxMessage:
    [m] = rows(db, event="return_received", kind="shop")
    return m


def parsed(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]


# --- Shopify ---------------------------------------------------------------------------------


def test_shopify_is_asked_to_refund_the_returned_lines_by_sku_with_the_calculated_transactions(
    floor, settings, tmp_path, token
) -> None:
    with refund_shop("shopify") as shop:
        s = to_shop(settings, shop, tmp_path)  # type: ignore[arg-type]
        returned(floor, s, shop, _detail(refund="88.39", shipping="14.99"))
        done = dispatch_due(floor, s, clock=clock)
        assert len(done.sent) == 2  # the customer's mail and the shop's refund
        order = "/orders/450789469"
        assert shop.seen_paths() == [
            ("GET", f"{order}/refunds.json"),  # made already? (none)
            ("GET", f"{order}.json"),  # the shop's lines, matched by SKU
            ("POST", f"{order}/refunds/calculate.json"),
            ("POST", f"{order}/refunds.json"),
        ]
        calculate, create = shop.writes()
        assert calculate.body == {"refund": {
            "currency": "PLN",
            "refund_line_items": [
                {"line_item_id": 466157049, "quantity": 1, "restock_type": "return"},
                {"line_item_id": SHOPIFY_LINE_2, "quantity": 1, "restock_type": "return"},
                {"line_item_id": SHOPIFY_LINE_2, "quantity": 1, "restock_type": "no_restock"},
            ],
            "shipping": {"amount": "14.99"},
        }}  # fmt: skip
        refund = create.body["refund"]
        assert refund["notify"] is False  # Picker mails the customer itself
        assert refund["note"].startswith(f"{RMA}: return received by the warehouse")
        assert "1 x SKU-00002 damaged" in refund["note"]
        assert refund["transactions"] == [
            {
                "parent_id": PARENT,
                "amount": "88.39",
                "kind": "refund",
                "gateway": "shopify_payments",
            }
        ]
        # The lines as the calculation completed them: where the resellable ones restock.
        assert [li.get("location_id") for li in refund["refund_line_items"]] == [
            LOCATION, LOCATION, None]  # fmt: skip
        assert refund["shipping"] == {"amount": "14.99"}
        assert create.headers["X-Shopify-Access-Token"] == TOKEN
        assert create.headers["Idempotency-Key"] != calculate.headers["Idempotency-Key"]
        assert len(shop.refunds["450789469"]) == 1
        assert refund_message(floor).status == "sent"


def test_a_refund_whose_answer_was_lost_is_not_made_again(floor, settings, tmp_path, token) -> None:
    with refund_shop("shopify") as shop:
        s = to_shop(settings, shop, tmp_path)  # type: ignore[arg-type]
        returned(floor, s, shop)
        # The calculation answered; the refund made, its answer never arrives.
        shop.answers = [("pass", None), ("lost", None)]
        dispatch_due(floor, s, clock=clock)
        m = refund_message(floor)
        assert m.status == "queued" and "the shop cannot be reached" in (m.error or "")
        assert len(shop.refunds["450789469"]) == 1  # Shopify made it
        dispatch_due(floor, s, clock=later(1))
        assert refund_message(floor).status == "sent"
        assert len(shop.refunds["450789469"]) == 1  # not twice
        assert shop.seen_paths()[-1] == ("GET", "/orders/450789469/refunds.json")


def test_a_returned_sku_the_shops_order_does_not_have_fails_saying_so(
    floor, settings, tmp_path, token
) -> None:
    with refund_shop("shopify") as shop:
        s = to_shop(settings, shop, tmp_path)  # type: ignore[arg-type]
        returned(floor, s, shop)
        for line in shop.orders["450789469"]["line_items"]:  # edited in the shop meanwhile
            if line["sku"] == "SKU-00002":
                line["sku"] = "SKU-00002-B"
        dispatch_due(floor, s, clock=clock)
        m = refund_message(floor)
        assert (m.status, m.error) == (
            "failed",
            f"{RMA}: the shop's order has no line with SKU SKU-00002 (shop order 1001); refund "
            "it in the shop by hand",
        )
        assert shop.writes() == []


def test_an_exchange_with_nothing_to_refund_adds_a_note_to_the_shops_order_once(
    floor, settings, tmp_path, token
) -> None:
    with refund_shop("shopify") as shop:
        s = to_shop(settings, shop, tmp_path)  # type: ignore[arg-type]
        shop_order = {"note": "Leave at the door"}
        returned(floor, s, shop, _detail(refund="0.00", exchange="PO-0000042"))
        shop.orders["450789469"].update(shop_order)
        shop.answers = [("lost", None)]  # the note written, its answer lost
        dispatch_due(floor, s, clock=clock)
        dispatch_due(floor, s, clock=later(1))
        assert refund_message(floor).status == "sent"
        assert [(r.method, r.path.removeprefix(API)) for r in shop.writes()] == [
            ("PUT", "/orders/450789469.json")]  # once; no refund  # fmt: skip
        note = shop.orders["450789469"]["note"]
        assert note.startswith("Leave at the door\n" + RMA)  # the order's own note kept
        assert "exchange order PO-0000042 sent instead of a refund; nothing to refund" in note
        assert shop.refunds == {}


def test_each_return_of_an_order_asks_for_its_own_refund(floor, settings, tmp_path, token) -> None:
    with refund_shop("shopify") as shop:
        s = to_shop(settings, shop, tmp_path)  # type: ignore[arg-type]
        first = _detail(refund="39.90", units=[("SKU-00001", "Kubek", "resell")])
        second = _detail("RMA-000002", refund="24.50", units=[("SKU-00002", "Talerz", "scrap")])
        returned(floor, s, shop, first, second, first)  # the first close told twice: once
        assert len(rows(floor, event="return_received", kind="shop")) == 2
        assert len(rows(floor, event="return_received", kind="email")) == 2
        dispatch_due(floor, s, clock=clock)
        made = shop.refunds["450789469"]
        assert [r["note"].split(":")[0] for r in made] == [RMA, "RMA-000002"]
        assert [li["restock_type"] for r in made for li in r["refund_line_items"]] == [
            "return", "no_restock"]  # fmt: skip


def test_the_shop_refusing_more_than_it_can_refund_fails_saying_so(
    floor, settings, tmp_path, token
) -> None:
    with refund_shop("shopify") as shop:
        s = to_shop(settings, shop, tmp_path)  # type: ignore[arg-type]
        returned(floor, s, shop, _detail(refund="500.00"))
        dispatch_due(floor, s, clock=clock)
        m = refund_message(floor)
        assert (m.status, m.error) == (
            "failed",
            f"{RMA}: the shop can refund at most 124.69 PLN of this order, the return asks "
            "500.00; refund it in the shop by hand",
        )
        assert [r.path.removeprefix(API) for r in shop.writes()] == [
            "/orders/450789469/refunds/calculate.json"]  # fmt: skip


def test_notify_show_of_a_refund_names_the_requests_it_makes(floor, settings, tmp_path) -> None:
    with refund_shop("shopify") as shop:
        s = to_shop(settings, shop, tmp_path)  # type: ignore[arg-type]
        returned(floor, s, shop)
        shown = compose.show(floor, s, refund_message(floor).id)
    base = f"http://127.0.0.1:{shop.port}{API}/orders/450789469"
    heads = [part.split("\n", 1)[0] for part in shown.body.strip().split("\n\n")]
    assert heads == [
        f"GET {base}/refunds.json",
        f"GET {base}.json",
        f"POST {base}/refunds/calculate.json",
        f"POST {base}/refunds.json",
    ]
    assert "(the shop's line of SKU-00002)" in shown.body
    assert shop.seen == []  # shown, not sent


# --- WooCommerce -----------------------------------------------------------------------------


def test_woocommerce_is_asked_for_a_manual_refund_of_the_lines_at_their_price(
    floor, settings, tmp_path, token
) -> None:
    with refund_shop("woocommerce") as shop:
        s = to_shop(settings, shop, tmp_path)  # type: ignore[arg-type]
        returned(floor, s, shop)
        dispatch_due(floor, s, clock=clock)
        assert shop.seen_paths() == [
            ("GET", "/orders/7342/refunds"), ("GET", "/orders/7342"),
            ("POST", "/orders/7342/refunds")]  # fmt: skip
        [post] = shop.writes()
        body = post.body
        assert body["amount"] == "73.40"
        assert body["api_refund"] is False  # the shop's staff or gateway pays, not this call
        assert body["api_restock"] is False  # one unit is damaged: not all go back on sale
        assert body["reason"].startswith(f"{RMA}: return received by the warehouse")
        # One entry a line (WooCommerce keys them by id): the resellable and the damaged unit.
        assert body["line_items"] == [
            {"id": 315, "quantity": 1, "refund_total": 39.9},
            {"id": WOO_LINE_2, "quantity": 2, "refund_total": 49.0},
        ]
        assert post.headers["Authorization"] == TOKEN
        assert refund_message(floor).status == "sent"
        dispatch_due(floor, s, clock=later(1))
        assert len(shop.refunds["7342"]) == 1


def test_woocommerce_down_is_retried_and_refunds_once(floor, settings, tmp_path, token) -> None:
    with refund_shop("woocommerce") as shop:
        s = to_shop(settings, shop, tmp_path)  # type: ignore[arg-type]
        returned(floor, s, shop, _detail(units=[("SKU-00002", "Talerz", "resell")] * 2,
                                         refund="49.00"))  # fmt: skip
        shop.answers = [(503, {"message": "Service Unavailable"})]
        dispatch_due(floor, s, clock=clock)
        m = refund_message(floor)
        assert m.status == "queued" and m.error == "the shop answered 503: Service Unavailable"
        dispatch_due(floor, s, clock=later(0.5))
        assert refund_message(floor).status == "sent"
        [made] = shop.refunds["7342"]
        assert made["api_restock"] is True  # every unit back on sale
        assert made["line_items"] == [{"id": WOO_LINE_2, "quantity": 2, "refund_total": 49.0}]


def test_woocommerce_gets_a_note_when_nothing_is_refunded(floor, settings, tmp_path, token) -> None:
    with refund_shop("woocommerce") as shop:
        s = to_shop(settings, shop, tmp_path)  # type: ignore[arg-type]
        returned(floor, s, shop, _detail(refund="0", exchange="PO-0000042"))
        dispatch_due(floor, s, clock=clock)
        assert shop.seen_paths() == [("GET", "/orders/7342/notes"),
                                     ("POST", "/orders/7342/notes")]  # fmt: skip
        assert shop.writes()[0].body["customer_note"] is False
        [note] = shop.notes["7342"]
        assert note.startswith(RMA) and "exchange order PO-0000042" in note
        assert "7342" not in shop.refunds


# --- the customer's mail ---------------------------------------------------------------------


def _mail(db: Database, settings: Settings) -> tuple[str, str, str]:
    [m] = rows(db, event="return_received", kind="email")
    with db.read() as s:
        _, raw = compose.preview(s, m.id, settings)
    msg = parsed(raw)
    text, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert text is not None and html is not None
    return str(msg["Subject"]), text.get_content(), html.get_content()


def test_the_mail_says_what_arrived_in_what_condition_and_the_refund_in_the_customers_money(
    floor, settings, tmp_path
) -> None:
    with refund_shop("shopify") as shop:
        s = to_shop(settings, shop, tmp_path)  # type: ignore[arg-type]
        units = [
            ("SKU-00001", "Kubek", "resell"),
            ("SKU-00002", "Talerz", "resell"),
            ("SKU-00002", "Talerz", "damaged"),
            ("", "a sock, customer's?", "foreign"),
        ]
        returned(floor, s, shop, _detail(refund="1234.50", shipping="14.99", units=units))
    subject, text, html = _mail(floor, s)  # the Shopify customer writes Polish
    assert "  1 x przedmiot spoza tego zamówienia" in text.splitlines()
    assert "sock" not in text + html  # the desk's note is for the floor
    assert subject.startswith(f"Otrzymaliśmy Twój zwrot {RMA} do zamówienia 1001 [PO-")
    assert "  1 x Kubek: w dobrym stanie" in text.splitlines()
    assert "  1 x Talerz: w dobrym stanie" in text.splitlines()
    assert "  1 x Talerz: z uszkodzeniem" in text.splitlines()
    pln = format_currency(Decimal("1234.50"), "PLN", locale="pl")
    assert pln == "1\xa0234,50\xa0zł"  # Babel's, in the customer's language
    assert f"Kwota zwrotu: {pln}, w tym koszt wysyłki 14,99\xa0zł." in text
    assert f"<strong>{pln}</strong>" in html
    with floor.transaction() as session:  # an English customer, a name that is not markup
        session.execute(update(OutboxMessage).values(locale="en-GB"))
        session.execute(update(Order).values(customer_name="<b>Bob</b> & Co"))
    subject, text, html = _mail(floor, s)
    assert subject.startswith(f"We received your return {RMA} of order 1001")
    assert "Hello <b>Bob</b> & Co," in text
    assert "&lt;b&gt;Bob&lt;/b&gt; &amp; Co" in html and "<b>Bob</b>" not in html
    refund, shipping = (format_currency(Decimal(v), "PLN", locale="en_GB")
                        for v in ("1234.50", "14.99"))  # fmt: skip
    assert "1,234.50" in refund
    assert f"Your refund: {refund}, shipping of {shipping} included." in text
    assert "  1 x Talerz: damaged" in text.splitlines()


def test_an_exchanges_mail_names_the_replacement_order_and_the_difference_if_any(
    floor, settings, tmp_path
) -> None:
    with refund_shop("shopify") as shop:
        s = to_shop(settings, shop, tmp_path)  # type: ignore[arg-type]
        returned(floor, s, shop, _detail(refund="0.00", exchange="PO-0000042"),
                 _detail("RMA-000002", refund="5.00", exchange="PO-0000043",
                         units=[("SKU-00001", "Kubek", "defect")]))  # fmt: skip
        with floor.transaction() as session:
            session.execute(update(OutboxMessage).values(locale="en"))
        texts = []
        for m in rows(floor, event="return_received", kind="email"):
            with floor.read() as session:
                _, raw = compose.preview(session, m.id, s)
            body = parsed(raw).get_body(("plain",))
            assert body is not None
            texts.append(body.get_content())
    first, second = texts
    assert "we are sending you replacement goods, order PO-0000042." in first
    assert "difference" not in first and "Your refund" not in first
    assert "order PO-0000043" in second and "  1 x Kubek: defective" in second.splitlines()
    five = format_currency(Decimal(5), "PLN", locale="en")
    assert f"The difference, {five}, is refunded by the shop you bought from." in second


# --- through the return's close (helper core's back office) -----------------------------------


def test_a_return_received_in_the_back_office_is_refunded_by_the_shop_and_mailed(
    floor, settings, tmp_path, token
) -> None:
    from picker.services.returns import backoffice
    from picker.services.returns.shapes import ReceiveLine
    from tests.services.floor.test_packing import LEAD

    with refund_shop("shopify") as shop:
        s = to_shop(settings, shop, tmp_path)  # type: ignore[arg-type]
        _sold(shop)
        number, _ = shipped(floor, s, shop, parcels=1)  # type: ignore[arg-type]
        with floor.transaction() as session:
            session.execute(update(OutboxMessage).values(status="skipped"))
        closed = backoffice.receive(
            floor, LEAD, number,
            [ReceiveLine("SKU-00002", 1, "resell"), ReceiveLine("SKU-00002", 1, "damaged")],
            settings=s, clock=later(60),
        )  # fmt: skip
        done = dispatch_due(floor, s, clock=later(61))
        assert len(done.sent) == 2
        refund = shop.refunds["450789469"][0]
        assert refund["note"].startswith(f"{closed.number}: return received by the warehouse")
        assert sorted(
            (li["line_item_id"], li["quantity"], li["restock_type"])
            for li in refund["refund_line_items"]
        ) == [(SHOPIFY_LINE_2, 1, "no_restock"), (SHOPIFY_LINE_2, 1, "return")]
        assert refund["transactions"][0]["amount"] == f"{closed.refund:.2f}"
        with floor.transaction() as session:
            session.execute(update(OutboxMessage).values(locale="en"))
        _, text, _ = _mail(floor, s)
    assert f"we received your return {closed.number} of order 1001" in text
    lines = text.splitlines()
    assert "  1 x T-shirt Navy Large: in good order" in lines
    assert "  1 x T-shirt Navy Large: damaged" in lines


def test_notify_preview_of_an_orders_return_mail_is_its_latest_returns(
    floor, settings, tmp_path
) -> None:
    from picker.services.errors import NotFound

    with refund_shop("shopify") as shop:
        s = to_shop(settings, shop, tmp_path)  # type: ignore[arg-type]
        _sold(shop)
        number, _ = shipped(floor, s, shop, parcels=1)  # type: ignore[arg-type]
        with pytest.raises(NotFound, match=f"no return of order {number} was received"):
            compose.preview_event(floor, s, number, "return_received", at=clock())
        with floor.transaction() as session:
            order_id = session.scalar(select(Order.id).where(Order.number == number))
            for detail in (_detail(), _detail("RMA-000002", refund="5.00")):
                enqueue(session, order_id, "return_received", at=clock(), settings=s,
                        subject=detail["return"], detail=detail)  # fmt: skip
        raw = compose.preview_event(floor, s, number, "return_received", at=clock())
    msg = parsed(raw)
    assert "RMA-000002" in str(msg["Subject"]) and RMA not in str(msg["Subject"])
    [m] = [m for m in rows(floor, event="return_received", kind="email")
           if m.detail["return"] == "RMA-000002"]  # fmt: skip
    with floor.read() as session:
        _, sent = compose.preview(session, m.id, s)
    assert sent == raw  # the very mail the dispatcher sends, Message-ID included
