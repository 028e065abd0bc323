"""Intake on both databases: validation, idempotency, reservation, assignment, release, cancel."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from picker.channels.orders import ParsedFile
from picker.domain.intake import Address, IncomingLine, IncomingOrder, RecordError
from picker.domain.roles import NotAllowed
from picker.services import auth
from picker.services.actors import Actor
from picker.services.intake import order_import
from picker.services.orders import lead_actions, views
from picker.store.engine import Database
from picker.store.models import Order, OrderEvent, PickTask, Product, Stock
from tests.conftest import NOW

REPO = Path(__file__).resolve().parents[3]
CLI = Actor("T01")


# settings and floor (the demo catalogue, bins, couriers and operators, no orders) are in
# tests/conftest.py.


def stock(db: Database, sku: str, **bins: int) -> None:
    """Set exactly where a product lies: stock(db, "SKU-00001", A_01_01_1=5)."""
    with db.transaction() as s:
        pid = s.scalar(select(Product.id).where(Product.sku == sku))
        s.execute(text("DELETE FROM stock WHERE product_id = :p"), {"p": pid})
        for code, qty in bins.items():
            s.execute(
                text(
                    "INSERT INTO stock (product_id, bin_id, on_hand, reserved) "
                    "SELECT :p, id, :q, 0 FROM bins WHERE code = :c"
                ),
                {"p": pid, "q": qty, "c": code.replace("_", "-")},
            )


def order(no: str = "1001", *lines: tuple[str, int], **over: object) -> IncomingOrder:
    base = IncomingOrder(
        channel="shopify",
        shop_order_no=no,
        customer_name="Nguyễn Thị Hương",
        customer_email="huong@example.vn",
        ship=Address("Nguyễn Thị Hương", "12 Hàng Bài", "", "100000", "Hà Nội", "", "VN", ""),
        shipping_code="post_standard",
        shipping_title="Standard",
        currency="VND",
        total=Decimal("450000"),
        cod=False,
        paid=True,
        payment_state="paid",
        placed_at=NOW - timedelta(hours=1),
        lines=tuple(
            IncomingLine(sku, "item", qty, Decimal("150000"))
            for sku, qty in lines or [("SKU-00001", 1)]
        ),
    )
    return replace(base, **over)  # type: ignore[arg-type]


def parsed(*items: IncomingOrder | RecordError) -> ParsedFile:
    def records() -> Iterator[tuple[int, IncomingOrder | RecordError]]:
        yield from enumerate(items, start=1)

    return ParsedFile(format="shopify", total=len(items), records=records())


def run(db, settings, *items, **kw):  # type: ignore[no-untyped-def]
    return order_import.import_orders(
        db, CLI, parsed(*items), settings=settings, file_name="orders.json",
        clock=lambda: NOW, **kw,
    )  # fmt: skip


def import_export(db, settings, data: bytes, file_name: str = "shop.json", **kw):  # type: ignore[no-untyped-def]
    """A shop's export imported as ``picker import`` does: read by its channel, then imported."""
    parsed = order_import.read_export(data, settings=settings, file_name=file_name, **kw)
    return order_import.import_orders(
        db, CLI, parsed, settings=settings, file_name=file_name, clock=lambda: NOW
    )


def shopify_order(n: int, **fields: Any) -> dict[str, Any]:
    """A paid Shopify order of one SKU-00001 to a Warsaw address; ``fields`` replace its own."""
    return {
        "id": n, "name": f"#{n}", "created_at": "2026-11-20T10:00:00+01:00",
        "currency": "PLN", "financial_status": "paid", "total_price": "19.90",
        "shipping_address": {"name": "Jan Kowalski", "address1": "Kwiatowa 1", "zip": "00-950",
                             "city": "Warszawa", "country_code": "PL"},
        "shipping_lines": [{"code": "standard", "title": "Standard"}],
        "line_items": [{"sku": "SKU-00001", "quantity": 1, "price": "19.90"}],
        **fields,
    }  # fmt: skip


def reserved(db: Database, sku: str) -> int:
    with db.read() as s:
        return s.scalar(
            select(func.coalesce(func.sum(Stock.reserved), 0))
            .join(Product, Product.id == Stock.product_id)
            .where(Product.sku == sku)
        )


def test_a_valid_order_is_reserved_and_assigned_with_its_events(floor, settings) -> None:
    stock(floor, "SKU-00001", A_01_01_1=10)
    report = run(floor, settings, order("1001", ("SKU-00001", 3)))
    assert (report.counts["imported"], report.counts["assigned"], report.failed) == (1, 1, 0)
    detail = views.order_detail(floor, "PO-0000001")
    assert detail.summary.status == "assigned" and detail.summary.assignee in (
        "EMP-0002",
        "EMP-0003",
    )
    assert [(e.from_status, e.to_status) for e in detail.events] == [
        (None, "unhandled"),
        ("unhandled", "assigned"),
    ]
    assert detail.lines[0].reserved == 3 and reserved(floor, "SKU-00001") == 3
    assert detail.summary.customer == "Nguyễn Thị Hương" and detail.summary.total == Decimal(
        "450000"
    )


def test_importing_the_same_order_again_changes_nothing(floor, settings) -> None:
    stock(floor, "SKU-00001", A_01_01_1=10)
    run(floor, settings, order("1001"))
    again = run(floor, settings, order("1001", ("SKU-00001", 5)))
    assert again.counts["already_imported"] == 1 and again.counts["imported"] == 0
    with floor.read() as s:
        assert s.scalar(select(func.count()).select_from(Order)) == 1
        assert s.scalar(select(func.count()).select_from(OrderEvent)) == 2
    assert reserved(floor, "SKU-00001") == 1


def test_every_reason_is_listed_when_an_order_goes_on_hold(floor, settings) -> None:
    bad = order(
        "1002",
        ("NO-SUCH-SKU", 1),
        ship=Address("Jan Kowalski", "", "", "", "Kraków", "", "PL", ""),
        shipping_code="pickup_point_42",
        shipping_title="Paczkomat",
        paid=False,
        payment_state="pending",
    )
    report = run(floor, settings, bad)
    assert report.counts["on_hold"] == 1
    held = views.list_orders(floor, status="on_hold")[0]
    assert list(held.hold_reasons) == [
        "unknown SKU: NO-SUCH-SKU",
        "address incomplete: no street, no postal code",
        "unknown shipping method: 'pickup_point_42'",
        "not paid (pending)",
    ]


def test_cash_on_delivery_is_accepted_unpaid_with_the_amount_to_collect(floor, settings) -> None:
    stock(floor, "SKU-00001", A_01_01_1=10)
    run(floor, settings, order("1003", paid=False, cod=True, payment_state="pending"))
    summary = views.list_orders(floor)[0]
    assert summary.status == "assigned" and summary.cod == Decimal("450000")


def test_impossible_quantities_hold_the_order_and_a_release_cannot_fix_them(
    floor, settings
) -> None:
    stock(floor, "SKU-00001", A_01_01_1=10)
    run(floor, settings, order("1004", ("SKU-00001", 1), ("SKU-00002", 0), ("SKU-00003", 10**12)))
    detail = views.order_detail(floor, "PO-0000001")
    assert detail.summary.status == "on_hold"
    assert detail.intake_problems == (
        "line 2 (SKU-00002): quantity 0 is not positive",
        f"line 3 (SKU-00003): quantity {10**12} is more than 10000",
    )
    assert [ln.sku for ln in detail.lines] == ["SKU-00001"]  # the bad lines are not stored
    result = lead_actions.release_order(
        floor, CLI, "PO-0000001", settings=settings, clock=lambda: NOW
    )
    assert not result.released and result.reasons == detail.intake_problems
    assert reserved(floor, "SKU-00001") == 0


def test_short_stock_holds_the_order_naming_the_skus_and_reserves_nothing(floor, settings) -> None:
    stock(floor, "SKU-00001", A_01_01_1=10)
    stock(floor, "SKU-00002", A_01_01_2=1)
    run(floor, settings, order("1005", ("SKU-00001", 2), ("SKU-00002", 2)))
    summary = views.list_orders(floor)[0]
    assert summary.status == "on_hold" and summary.hold_reasons == ("short: SKU-00002",)
    assert reserved(floor, "SKU-00001") == 0 and reserved(floor, "SKU-00002") == 0
    with floor.read() as s:
        assert s.scalar(select(func.count()).select_from(PickTask)) == 0


def test_a_line_comes_from_one_bin_when_one_has_enough_else_from_the_fewest(
    floor, settings
) -> None:
    stock(floor, "SKU-00001", A_01_01_1=2, A_02_01_1=5, B_01_01_1=4)
    stock(floor, "SKU-00002", A_01_01_1=2, A_02_01_1=3, B_01_01_1=6)
    run(floor, settings, order("1006", ("SKU-00001", 4), ("SKU-00002", 8)))
    with floor.read() as s:
        tasks = s.execute(
            text(
                "SELECT p.sku, b.code, t.quantity FROM pick_tasks t JOIN bins b ON b.id = t.bin_id "
                "JOIN products p ON p.id = t.product_id ORDER BY t.seq"
            )
        ).all()
    # SKU-00001: the first bin in walking order that holds 4; SKU-00002: 6 + 2 (two bins, not 3).
    assert sorted(map(tuple, tasks)) == sorted(
        [
            ("SKU-00001", "A-02-01-1", 4),
            ("SKU-00002", "B-01-01-1", 6),
            ("SKU-00002", "A-02-01-1", 2),
        ]
    )


def test_express_first_then_the_next_cutoff_then_age_within_the_pickers_limits(
    floor, settings
) -> None:
    stock(floor, "SKU-00001", A_01_01_1=100)
    limited = replace(settings, intake=replace(settings.intake, max_orders_per_picker=1))
    old = order("2001", placed_at=NOW - timedelta(days=1))  # POST standard, oldest
    express = order("2002", shipping_code="swift_express")  # SWIFT express
    city = order("2003", shipping_code="city_nextday", placed_at=NOW - timedelta(hours=2))
    report = run(floor, limited, old, express, city)
    assert report.counts["assigned"] == 2  # two pickers, one order each
    assigned = {o.shop_order_no for o in views.list_orders(floor, status="assigned")}
    # 09:30 UTC is 10:30 in Warsaw: POST (15:00) is before CITY (18:00) today; express beats both.
    assert assigned == {"2002", "2001"}
    assert {o.assignee for o in views.list_orders(floor, status="assigned")} == {
        "EMP-0002",
        "EMP-0003",
    }


def test_a_dry_run_reports_and_writes_nothing(floor, settings) -> None:
    stock(floor, "SKU-00001", A_01_01_1=10)
    report = run(floor, settings, order("4001"), order("4002", ("NOPE", 1)), dry_run=True)
    assert (report.counts["imported"], report.counts["on_hold"]) == (1, 1)
    assert views.list_orders(floor) == [] and reserved(floor, "SKU-00001") == 0


def test_a_bad_record_is_reported_and_the_rest_import(floor, settings) -> None:
    stock(floor, "SKU-00001", A_01_01_1=10)
    long_name = "x" * 201
    report = run(
        floor,
        settings,
        order("5001"),
        RecordError("line_items[0].quantity", "'two' is not a number"),
        order("5003", ship=Address(long_name, "s", "", "1", "c", "", "PL", "")),
    )
    assert report.counts["imported"] == 1 and report.failed == 2
    assert [str(p) for p in report.problems] == [
        "orders.json:2: line_items[0].quantity: 'two' is not a number",
        "orders.json:3: ship name: longer than 200 characters (201)",
    ]


def test_markup_and_sql_in_customer_text_are_stored_as_given(floor, settings) -> None:
    name = "[bold red]Robert'); DROP TABLE orders;--\x1b[31m"
    run(floor, settings, order("6001", ("SKU-00001'; --", 1), customer_name=name))
    held = views.order_detail(floor, "PO-0000001")
    assert held.summary.customer == name
    assert held.lines[0].sku == "SKU-00001'; --"
    assert held.summary.hold_reasons == ("unknown SKU: SKU-00001'; --",)


def test_only_a_lead_imports_or_cancels(floor, settings) -> None:
    picker = auth.add_operator(floor, CLI, "EMP-0101", "Pat", "picker", "1234")
    with pytest.raises(NotAllowed):
        order_import.import_orders(
            floor, Actor("T02", picker), parsed(order()), settings=settings, file_name="x"
        )
    with pytest.raises(NotAllowed):
        lead_actions.cancel_order(floor, Actor("T02", picker), "PO-0000001", "no")


def test_amounts_no_shop_could_charge_are_a_record_problem(floor, settings) -> None:
    report = run(floor, settings, order("7004", total=Decimal("100000000000000000")))
    assert report.failed == 1 and report.problems[0].field == "total"
    assert views.list_orders(floor) == []


@pytest.mark.parametrize("moment", ["0001-01-01T00:30:00+01:00", "9999-12-31T23:59:59-12:00"])
def test_one_date_out_of_range_fails_its_order_and_the_rest_of_the_file_imports(
    floor, settings, moment
) -> None:
    """A 200-order Shopify file with an impossible date at position 101: that order is a record
    problem, the 199 others are imported, and importing the file again changes nothing."""
    stock(floor, "SKU-00001", A_01_01_1=1000)
    orders = [
        shopify_order(7_000 + n, **({"created_at": moment} if n == 101 else {}))
        for n in range(1, 201)
    ]
    data = json.dumps({"orders": orders}).encode()
    first = import_export(floor, settings, data)
    assert first.failed == 1 and first.counts["imported"] + first.counts["on_hold"] == 199
    [problem] = first.problems
    assert (problem.record, problem.field) == (101, "created_at")
    assert "out of range" in problem.reason
    again = import_export(floor, settings, data)
    assert again.failed == 1 and again.counts["already_imported"] == 199
    with floor.read() as s:
        assert s.scalar(select(func.count()).select_from(Order)) == 199


def test_refunded_units_gift_cards_and_downloads_are_recorded_never_put_on_the_floor(
    floor, settings
) -> None:
    """Shopify's own shapes (current_quantity, fulfillable_quantity, requires_shipping): the
    floor reserves and picks only what is still to ship; an order with nothing left to ship is
    no floor work at all; importing again changes nothing."""
    stock(floor, "SKU-00001", A_01_01_1=10)
    stock(floor, "SKU-00002", A_01_01_2=10)
    data = (REPO / "tests/fixtures/intake/shopify_refunds_and_gift_cards.json").read_bytes()
    report = import_export(floor, settings, data, "refunds.json")
    assert (report.counts["imported"], report.counts["nothing_to_ship"], report.failed) == (3, 2, 0)
    assert reserved(floor, "SKU-00001") == 2 and reserved(floor, "SKU-00002") == 2
    with floor.read() as s:
        stored = {o.shop_order_no: o for o in s.scalars(select(Order))}
    assert sorted(stored) == ["3001", "3004", "3005"]
    one = views.order_detail(floor, stored["3001"].number)
    assert [(ln.sku, ln.quantity) for ln in one.lines] == [("SKU-00001", 1)]
    assert [(n["sku"], n["quantity"]) for n in one.lines_not_shipped] == [
        ("SKU-00001", 1),
        ("GIFT-50", 1),
    ]
    assert one.summary.status == "assigned" and one.customer_locale == "pl"
    assert one.as_json()["lines_not_shipped"][1]["reason"].startswith("does not ship")
    again = import_export(floor, settings, data, "refunds.json")
    assert (again.counts["already_imported"], again.counts["nothing_to_ship"]) == (3, 2)
    assert reserved(floor, "SKU-00001") == 2


def test_a_product_the_catalogue_says_does_not_ship_is_recorded_not_picked(floor, settings) -> None:
    from picker.services.intake.catalogue import import_products

    csv = b"sku,name,barcodes,weight_g,fragile,ships\nGIFT-CARD,Gift card,,0,false,false\n"
    assert import_products(floor, CLI, csv, file_name="p.csv").counts["created"] == 1
    stock(floor, "SKU-00001", A_01_01_1=5)
    report = run(floor, settings, order("8001", ("SKU-00001", 1), ("GIFT-CARD", 1)),
                 order("8002", ("GIFT-CARD", 2)))  # fmt: skip
    assert (report.counts["imported"], report.counts["nothing_to_ship"]) == (1, 1)
    with floor.read() as s:
        number = s.scalar(select(Order.number).where(Order.shop_order_no == "8001"))
    detail = views.order_detail(floor, number)
    assert [ln.sku for ln in detail.lines] == ["SKU-00001"] and detail.summary.status == "assigned"
    assert detail.lines_not_shipped == (
        {"sku": "GIFT-CARD", "name": "item", "quantity": 1,
         "reason": "does not ship (catalogue)"},
    )  # fmt: skip


def test_an_order_on_the_floor_that_the_shop_takes_back_is_named_for_the_lead_not_hidden(
    floor, settings
) -> None:
    """Imported and assigned, then exported again fully refunded (or, for WooCommerce,
    completed): counted as already imported, and a problem names the order still on the floor;
    nothing on the floor changes by itself. A new order in that state is simply no work."""
    stock(floor, "SKU-00001", A_01_01_1=5)
    line = {"sku": "SKU-00001", "quantity": 2, "price": "19.90"}
    shop = shopify_order(9005, total_price="39.80", line_items=[line])

    def import_(*orders: dict) -> Any:
        return import_export(floor, settings, json.dumps({"orders": list(orders)}).encode())

    assert import_(shop).counts["imported"] == 1
    refunded = {**shop, "financial_status": "refunded",
                "line_items": [{**line, "current_quantity": 0}]}  # fmt: skip
    fresh = {**refunded, "id": 9006, "name": "#9006"}
    report = import_(refunded, fresh)
    assert report.counts["already_imported"] == 1 and report.counts["changed_in_shop"] == 1
    assert report.counts["nothing_to_ship"] == 1 and report.failed == 0
    [problem] = report.problems
    assert (
        problem.record == 1 and "is assigned on the floor but the shop now says" in problem.reason
    )
    with floor.read() as s:
        assert s.scalar(select(Order.status).where(Order.shop_order_no == "9005")) == "assigned"
        assert s.scalar(select(func.count()).select_from(Order)) == 1  # 9006 written nowhere
    assert reserved(floor, "SKU-00001") == 2  # untouched: the lead holds or cancels it


def test_a_product_file_without_the_ships_column_keeps_what_the_catalogue_says(floor) -> None:
    from picker.services.intake.catalogue import import_products

    with_ships = b"sku,name,barcodes,weight_g,fragile,ships\nGIFT-X,Gift card,,0,false,false\n"
    assert import_products(floor, CLI, with_ships, file_name="a.csv").counts["created"] == 1
    without = b"sku,name,barcodes,weight_g,fragile\nGIFT-X,Gift card,,0,false\n"
    assert import_products(floor, CLI, without, file_name="b.csv").counts["unchanged"] == 1
    blank = b"sku,name,barcodes,weight_g,fragile,ships\nGIFT-X,Gift card,,0,false,\n"
    assert import_products(floor, CLI, blank, file_name="c.csv").counts["unchanged"] == 1
    with floor.read() as s:
        assert s.scalar(select(Product.ships).where(Product.sku == "GIFT-X")) is False
    new = b"sku,name,barcodes,weight_g,fragile\nMUG-NEW,Mug,,300,false\n"
    import_products(floor, CLI, new, file_name="d.csv")
    with floor.read() as s:
        assert s.scalar(select(Product.ships).where(Product.sku == "MUG-NEW")) is True
