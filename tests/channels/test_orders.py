"""Order import parsers: Shopify, WooCommerce and CSV exports read into orders or record errors.

Pure tests, no database. Fixtures in tests/fixtures/intake are written from the public Shopify Admin
REST "Order" and WooCommerce REST v3 "Orders" documentation.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from picker.channels.csv_orders import CSV_OPTIONAL, CSV_REQUIRED
from picker.channels.files import FileRefused
from picker.channels.orders import ParsedFile, detect_format, parse_orders
from picker.domain.intake import Address, IncomingLine, IncomingOrder, RecordError

FIXTURES = Path(__file__).parent.parent / "fixtures" / "intake"
CET = timezone(timedelta(hours=1))
CSV_HEADER = ",".join(CSV_REQUIRED + CSV_OPTIONAL)


def _fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _records(parsed: ParsedFile) -> list[tuple[int, IncomingOrder | RecordError]]:
    return list(parsed.records)


def _orders(data: bytes, file_name: str = "orders.json", **kw: Any) -> dict[str, IncomingOrder]:
    out: dict[str, IncomingOrder] = {}
    for _, record in parse_orders(data, file_name=file_name, **kw).records:
        assert isinstance(record, IncomingOrder), record
        out[record.shop_order_no] = record
    return out


def _shopify(**fields: Any) -> dict[str, Any]:
    """A minimal valid Shopify order; keyword arguments replace fields (None removes one)."""
    order: dict[str, Any] = {
        "id": 820982911946154508,
        "name": "#9001",
        "email": "jan@example.pl",
        "created_at": "2026-11-20T10:00:00+01:00",
        "currency": "PLN",
        "financial_status": "paid",
        "payment_gateway_names": ["shopify_payments"],
        "total_price": "10.00",
        "shipping_address": {"name": "Jan Kowalski", "address1": "Kwiatowa 1", "zip": "00-950",
                             "city": "Warszawa", "country_code": "PL"},
        "shipping_lines": [{"code": "post_standard", "title": "Standard"}],
        "line_items": [{"sku": "MUG-CER-350", "name": "Mug", "quantity": 1, "price": "10.00"}],
    }  # fmt: skip
    for key, value in fields.items():
        if value is None:
            order.pop(key, None)
        else:
            order[key] = value
    return order


def _shopify_file(*orders: dict[str, Any]) -> bytes:
    return json.dumps({"orders": list(orders)}, ensure_ascii=False).encode()


def _csv(*rows: str, header: str = CSV_HEADER) -> bytes:
    return ("\n".join((header, *rows)) + "\n").encode()


def _csv_row(number: str = "A-1", *, sku: str = "MUG-CER-350", quantity: str = "1",
             currency: str = "PLN", total: str = "", payment: str = "paid",
             unit_price: str = "10.00") -> str:  # fmt: skip
    values = {
        "order_number": number, "placed_at": "2026-11-20T10:00:00+01:00", "ship_name": "Jan",
        "ship_street": "Kwiatowa 1", "ship_postal_code": "00-950", "ship_city": "Warszawa",
        "ship_country": "PL", "shipping_method": "post_standard", "currency": currency,
        "payment": payment, "sku": sku, "quantity": quantity, "total": total,
        "unit_price": unit_price,
    }  # fmt: skip
    return ",".join(values.get(name, "") for name in CSV_REQUIRED + CSV_OPTIONAL)


# --- Shopify ------------------------------------------------------------------------------------


def test_shopify_orders_file_maps_every_field_of_a_multi_line_order() -> None:
    parsed = parse_orders(_fixture("shopify_orders.json"), file_name="shopify_orders.json")
    assert parsed.format == "shopify"
    assert parsed.total == 5
    orders = {o.shop_order_no: o for _, o in parsed.records if isinstance(o, IncomingOrder)}
    assert sorted(orders) == ["1001", "1002", "1003", "1004", "1005"]
    assert orders["1001"] == IncomingOrder(
        channel="shopify",
        shop_order_no="1001",
        customer_name="Łukasz Wiśniewski",
        customer_email="lukasz.wisniewski@example.pl",
        ship=Address(
            name="Łukasz Wiśniewski",
            street="ul. Świętokrzyska 12/4",
            street2="klatka B",
            postal_code="00-916",
            city="Warszawa",
            region="Mazowieckie",
            country="PL",
            phone="+48 601 234 567",
        ),
        shipping_code="swift_express",
        shipping_title="Express Shipping",
        currency="PLN",
        total=Decimal("148.29"),
        cod=False,
        paid=True,
        payment_state="paid",
        placed_at=datetime(2026, 11, 20, 14, 5, 12, tzinfo=CET),
        note="Proszę dzwonić przed dostawą — domofon nie działa.",
        lines=(
            IncomingLine("MUG-CER-350", "Kubek ceramiczny - 350 ml", 2, Decimal("39.90")),
            IncomingLine("TEA-EARL-100", "Herbata Earl Grey 100 g", 1, Decimal("24.50")),
            IncomingLine("SPOON-SS", "Łyżeczka stalowa", 4, Decimal("6.00")),
        ),
        customer_locale="en",  # kept: what the customer is told comes in their language
        shop_order_id="5301001001",  # Shopify's id: what fulfilment is sent back with
    )


def test_shopify_jpy_and_vnd_totals_are_whole_units_and_cod_gateway_is_cash_on_delivery() -> None:
    orders = _orders(_fixture("shopify_orders.json"))
    jpy, vnd = orders["1002"], orders["1003"]
    assert (jpy.currency, jpy.total, jpy.lines[0].unit_price) == ("JPY", Decimal(12800), 5400)
    assert jpy.total.as_tuple().exponent == 0
    assert jpy.ship.street2 == "グラントウキョウサウスタワー 12F"
    assert jpy.placed_at.utcoffset() == timedelta(hours=9)
    assert (vnd.currency, vnd.total) == ("VND", Decimal(1250000))
    assert vnd.total.as_tuple().exponent == 0
    assert (vnd.cod, vnd.paid, vnd.payment_state) == (True, False, "pending")
    assert vnd.ship.name == "Thị Hương Nguyễn"
    assert vnd.ship.street == "123 Đường Lê Lợi"


def test_shopify_refunded_order_is_neither_paid_nor_cod() -> None:
    refunded = _orders(_fixture("shopify_orders.json"))["1004"]
    assert (refunded.paid, refunded.cod, refunded.payment_state) == (False, False, "refunded")
    assert refunded.ship.name == "Zoë Müller"


def test_shopify_markup_and_escape_codes_in_names_and_notes_are_kept_verbatim() -> None:
    order = _orders(_fixture("shopify_orders.json"))["1005"]
    assert order.customer_name == "[bold]Jan[/bold] \x1b[31mNovák"
    assert order.ship.name == "[bold]Jan[/bold] \x1b[31mNovák"
    assert order.note == "<script>alert(1)</script> [link=https://evil.example]klikni[/link]"
    assert (order.currency, order.total) == ("CZK", Decimal("1299.00"))


def test_shopify_json_lines_read_one_order_per_line() -> None:
    parsed = parse_orders(_fixture("shopify_orders.jsonl"), file_name="export.jsonl")
    records = _records(parsed)
    assert (parsed.format, parsed.total) == ("shopify", 3)
    assert [n for n, _ in records] == [1, 2, 3]
    by_no = {o.shop_order_no: o for _, o in records if isinstance(o, IncomingOrder)}
    assert by_no["2001"].ship.city == "Kraków"
    assert (by_no["2002"].cod, by_no["2002"].paid, by_no["2002"].total) == (
        True, False, Decimal("529.00"),
    )  # fmt: skip
    assert (by_no["2003"].paid, by_no["2003"].cod, by_no["2003"].payment_state) == (
        False, False, "authorized",
    )  # fmt: skip


def test_shopify_single_order_object_and_order_wrapper_are_accepted() -> None:
    order = _shopify()
    for document in (order, {"order": order}, [order]):
        parsed = parse_orders(json.dumps(document).encode(), file_name="o.json")
        assert (parsed.format, parsed.total) == ("shopify", 1)
        [(number, record)] = _records(parsed)
        assert number == 1
        assert isinstance(record, IncomingOrder) and record.shop_order_no == "9001"


def test_an_order_keeps_the_number_its_customer_sees_and_the_id_the_shops_api_uses() -> None:
    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "notify"
    [shopify] = _orders((fixtures / "shopify_order.json").read_bytes()).values()
    assert (shopify.shop_order_no, shopify.shop_order_id) == ("1001", "450789469")
    [woo] = _orders((fixtures / "woocommerce_order.json").read_bytes()).values()
    assert (woo.shop_order_no, woo.shop_order_id) == ("WC-1001", "7342")
    csv = _orders(_fixture("orders.csv"), "orders.csv")
    assert {o.shop_order_id for o in csv.values()} == {""}  # a CSV names no shop id


def test_shopify_order_without_name_uses_its_id_and_names_fall_back_to_first_and_last() -> None:
    address = {"first_name": "Anna", "last_name": "Nowak", "address1": "Polna 2"}
    [order] = _orders(_shopify_file(_shopify(name=None, shipping_address=address))).values()
    assert order.shop_order_no == order.shop_order_id == "820982911946154508"
    assert order.ship.name == order.customer_name == "Anna Nowak"


def test_shopify_cancelled_order_is_neither_paid_nor_cod() -> None:
    data = _shopify_file(
        _shopify(cancelled_at="2026-11-20T12:00:00+01:00", financial_status="pending",
                 payment_gateway_names=["Cash on Delivery (COD)"])
    )  # fmt: skip
    [order] = _orders(data).values()
    assert (order.paid, order.cod, order.payment_state) == (False, False, "cancelled")


def test_shopify_paid_order_through_a_cod_gateway_is_not_collected_again() -> None:
    data = _shopify_file(_shopify(payment_gateway_names=["Cash on Delivery (COD)"]))
    [order] = _orders(data).values()
    assert (order.paid, order.cod) == (True, False)


def test_cod_gateways_are_configurable_and_case_insensitive() -> None:
    data = _shopify_file(
        _shopify(financial_status="pending", payment_gateway_names=["  Za Pobraniem "])
    )
    [plain] = _orders(data).values()
    [cod] = _orders(data, cod_gateways=["za pobraniem"]).values()
    assert (plain.cod, cod.cod) == (False, True)


# --- WooCommerce --------------------------------------------------------------------------------


def test_woocommerce_array_maps_every_field() -> None:
    parsed = parse_orders(_fixture("woocommerce_orders.json"), file_name="woo.json")
    assert (parsed.format, parsed.total) == ("woocommerce", 4)
    orders = {o.shop_order_no: o for _, o in parsed.records if isinstance(o, IncomingOrder)}
    assert orders["5120"] == IncomingOrder(
        channel="woocommerce",
        shop_order_no="5120",
        customer_name="Agnieszka Kowalczyk",
        customer_email="agnieszka.k@example.pl",
        ship=Address(
            name="Agnieszka Kowalczyk",
            street="ul. Piotrkowska 104",
            street2="m. 7",
            postal_code="90-926",
            city="Łódź",
            region="łódzkie",
            country="PL",
            phone="+48 600 700 800",
        ),
        shipping_code="flat_rate",
        shipping_title="Flat rate",
        currency="PLN",
        total=Decimal("187.40"),
        cod=False,
        paid=True,
        payment_state="processing",
        placed_at=datetime(2026, 11, 20, 14, 10, 3, tzinfo=UTC),
        note="Paczkomat nie, proszę kuriera.",
        lines=(
            IncomingLine("MUG-CER-350", "Kubek ceramiczny 350 ml", 2, Decimal("39.90")),
            IncomingLine("JUG-GLS-1000", "Dzbanek szklany 1 l", 1, Decimal("92.60")),
        ),
        shop_order_id="5120",
    )


def test_woocommerce_cod_refunded_and_local_date_fallback() -> None:
    orders = _orders(_fixture("woocommerce_orders.json"))
    cod, refunded, jpy = orders["5121"], orders["5122"], orders["5123"]
    assert (cod.cod, cod.paid, cod.payment_state, cod.total) == (
        True, False, "processing", Decimal("64.50"),
    )  # fmt: skip
    assert cod.ship.phone == "+48 501 502 503"  # no shipping phone: the billing one
    assert cod.shipping_code == "free_shipping"
    assert (refunded.paid, refunded.cod, refunded.payment_state) == (False, False, "refunded")
    assert refunded.customer_name == "Élodie Fontaine"
    assert jpy.placed_at == datetime(2026, 11, 22, 10, 15, tzinfo=UTC)  # date_created, as UTC
    assert (jpy.total, jpy.lines[0].unit_price) == (Decimal(8600), Decimal(4300))
    assert jpy.ship.street == "梅田3-1-1"
    assert jpy.note == "置き配希望"


def test_woocommerce_ship_name_falls_back_to_billing() -> None:
    [order] = json.loads(_fixture("woocommerce_orders.json"))[:1]
    order["shipping"].update(first_name="", last_name="")
    [parsed] = _orders(json.dumps(order).encode()).values()
    assert parsed.ship.name == "Agnieszka Kowalczyk"


def test_woocommerce_cancelled_cod_order_is_not_collected() -> None:
    [order] = json.loads(_fixture("woocommerce_orders.json"))[1:2]
    order["status"] = "cancelled"
    [parsed] = _orders(json.dumps([order]).encode()).values()
    assert (parsed.cod, parsed.paid) == (False, False)


# --- CSV ----------------------------------------------------------------------------------------


def test_csv_groups_consecutive_rows_into_orders_numbered_by_their_first_line() -> None:
    parsed = parse_orders(_fixture("orders.csv"), file_name="orders.csv")
    records = _records(parsed)
    assert (parsed.format, parsed.total) == ("csv", 4)
    assert [(n, o.shop_order_no) for n, o in records if isinstance(o, IncomingOrder)] == [
        (2, "PL-3001"), (5, "PL-3002"), (6, "PL-3003"), (8, "PL-3004"),
    ]  # fmt: skip
    first = records[0][1]
    assert first == IncomingOrder(
        channel="csv",
        shop_order_no="PL-3001",
        customer_name="Katarzyna Wójcik",
        customer_email="kasia.wojcik@example.pl",
        ship=Address(
            name="Katarzyna Wójcik",
            street="ul. Długa 5, lok. 3",
            street2="",
            postal_code="80-831",
            city="Gdańsk",
            region="pomorskie",
            country="PL",
            phone="+48 58 301 22 33",
        ),
        shipping_code="post_standard",
        shipping_title="post_standard",
        currency="PLN",
        total=Decimal("121.70"),
        cod=False,
        paid=True,
        payment_state="paid",
        placed_at=datetime(2026, 11, 20, 8, 0, tzinfo=CET),
        note="Proszę o fakturę.",
        lines=(
            IncomingLine("MUG-CER-350", "Kubek ceramiczny 350 ml", 2, Decimal("39.90")),
            IncomingLine("TEA-EARL-100", "Herbata Earl Grey 100 g", 1, Decimal("24.50")),
            IncomingLine("SPOON-SS", "Łyżeczka stalowa", 3, Decimal("5.80")),
        ),
    )


def test_csv_cod_pending_computed_total_and_customer_name_fallback() -> None:
    orders = _orders(_fixture("orders.csv"), file_name="orders.csv")
    cod, pending, jpy = orders["PL-3002"], orders["PL-3003"], orders["PL-3004"]
    assert (cod.cod, cod.paid, cod.total, cod.currency) == (True, False, Decimal("899.00"), "CZK")
    assert cod.customer_name == "Tomáš Procházka"  # empty customer_name: the ship name
    assert (pending.paid, pending.cod, pending.payment_state) == (False, False, "pending")
    assert pending.total == Decimal(1080000)  # no total column value: sum of the lines
    assert pending.ship.street2 == "Phường Hàng Buồm, Quận Hoàn Kiếm"
    assert [ln.sku for ln in jpy.lines] == ["TEA-MATCHA-40", "WHISK-BAMBOO"]
    assert jpy.note == "不在の場合は宅配ボックスへ"


def test_csv_without_optional_columns_semicolons_and_any_header_case() -> None:
    header = ";".join(name.upper() for name in CSV_REQUIRED)
    row = ";".join(
        {"order_number": "B-7", "placed_at": "2026-11-20T10:00:00", "currency": "eur",
         "payment": "COD", "sku": "SKU-1", "quantity": "3", "ship_country": "de"}.get(c, "x")
        for c in CSV_REQUIRED
    )  # fmt: skip
    [order] = _orders(_csv(row, header=header), file_name="x.txt").values()
    assert (order.currency, order.cod, order.total, order.ship.country) == (
        "EUR", True, Decimal("0.00"), "DE",
    )  # fmt: skip
    assert order.placed_at == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert order.lines == (IncomingLine("SKU-1", "", 3, Decimal("0.00")),)


def test_csv_error_in_a_later_row_is_reported_at_that_rows_line() -> None:
    data = _csv(_csv_row("A-1"), _csv_row("A-1", quantity="two"), _csv_row("A-2"))
    records = _records(parse_orders(data, file_name="o.csv"))
    (line, error), (next_line, order) = records
    assert isinstance(error, RecordError)
    assert (line, error.field) == (3, "quantity")
    assert "'two'" in error.reason
    assert next_line == 4 and isinstance(order, IncomingOrder)


def test_csv_line_numbers_count_newlines_inside_quoted_cells() -> None:
    note_row = _csv_row("A-1") + '"line one\nline two"'  # note is the last column
    data = _csv(note_row, _csv_row("A-2", quantity="2.5"))
    [(n1, first), (n2, error)] = _records(parse_orders(data, file_name="o.csv"))
    assert isinstance(first, IncomingOrder) and first.note == "line one\nline two"
    assert isinstance(error, RecordError)
    assert (n1, n2, error.field) == (2, 4, "quantity")


def test_csv_order_split_over_non_consecutive_rows_is_a_record_error() -> None:
    data = _csv(_csv_row("A-1"), _csv_row("A-2"), _csv_row("A-1"))
    records = _records(parse_orders(data, file_name="o.csv"))
    n, error = records[2]
    assert isinstance(error, RecordError)
    assert (n, error.field) == (4, "order_number")
    assert "line 2" in error.reason


def test_csv_unknown_payment_and_missing_order_number_are_record_errors() -> None:
    data = _csv(_csv_row("A-1", payment="payed"), _csv_row(""), _csv_row("A-3"))
    records = _records(parse_orders(data, file_name="o.csv"))
    errors = [(n, r.field) for n, r in records if isinstance(r, RecordError)]
    assert errors == [(2, "payment"), (3, "order_number")]
    assert isinstance(records[2][1], IncomingOrder)


# --- money --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "given", "expected"),
    [
        ("PLN", "199.999", "200.00"),
        ("PLN", "19.994", "19.99"),
        ("PLN", "0.005", "0.01"),
        ("EUR", 12.345, "12.35"),  # a JSON number, read as Decimal, not float
        ("JPY", "1999.5", "2000"),
        ("JPY", "1999.49", "1999"),
        ("VND", "1250000.5", "1250001"),
        ("CZK", 1299, "1299.00"),
        ("pln", "1e2", "100.00"),
    ],
)
def test_money_is_rounded_half_up_to_the_currencys_minor_units(
    currency: str, given: Any, expected: str
) -> None:
    data = _shopify_file(
        _shopify(currency=currency, total_price=given,
                 line_items=[{"sku": "S", "quantity": 1, "price": given}])
    )  # fmt: skip
    [order] = _orders(data).values()
    assert str(order.total) == expected
    assert str(order.lines[0].unit_price) == expected
    assert order.currency == currency.upper()


def test_json_numbers_never_pass_through_float() -> None:
    # 0.1 + 0.2 in float is 0.30000000000000004; three lines of 0.1 must total exactly 0.30.
    data = (
        b'[{"number": "1", "payment_method": "bacs", "status": "processing", "currency": "EUR",'
        b' "date_created_gmt": "2026-11-20T10:00:00", "total": 0.30,'
        b' "line_items": [{"sku": "S", "quantity": 3, "price": 0.1}]}]'
    )
    [order] = _orders(data).values()
    assert order.lines[0].unit_price * 3 == order.total == Decimal("0.30")


@pytest.mark.parametrize("currency", ["XYZ", "", "EURO", 978])
def test_unknown_currency_is_a_record_error_on_currency(currency: Any) -> None:
    [(_, error)] = _records(parse_orders(_shopify_file(_shopify(currency=currency)), file_name="f"))
    assert isinstance(error, RecordError) and error.field == "currency"


@pytest.mark.parametrize("total", ["12,50", "abc", "NaN", True, [], "1e999999"])
def test_bad_amount_is_a_record_error(total: Any) -> None:
    [(_, error)] = _records(parse_orders(_shopify_file(_shopify(total_price=total)), file_name="f"))
    assert isinstance(error, RecordError) and error.field == "total_price"


# --- record errors ------------------------------------------------------------------------------


def test_bad_records_are_reported_by_number_and_field_and_the_rest_still_parse() -> None:
    lines = [
        {"sku": "A", "quantity": 1, "price": "1.00"},
        {"sku": "B", "quantity": 1, "price": "1.00"},
        {"sku": "C", "quantity": "two", "price": "1.00"},
    ]
    data = _shopify_file(
        _shopify(name="#1"),
        _shopify(name=None, id=None),
        _shopify(name="#3", line_items=lines),
        _shopify(name="#4", line_items="MUG-CER-350 x 2"),
        _shopify(name="#5", line_items=[]),
        _shopify(name="#6", line_items=None),
        _shopify(name="#7", created_at="yesterday"),
        _shopify(name="#8", line_items=[{"sku": "A", "quantity": 1.5}]),
        _shopify(name="#9", shipping_address="Kwiatowa 1"),
        _shopify(name="#10", email={"x": 1}),
        "not an order",
        _shopify(name="#12"),
    )
    records = _records(parse_orders(data, file_name="f.json"))
    got = [(n, r.field) for n, r in records if isinstance(r, RecordError)]
    assert got == [
        (2, "name"),
        (3, "line_items[2].quantity"),
        (4, "line_items"),
        (5, "line_items"),
        (6, "line_items"),
        (7, "created_at"),
        (8, "line_items[0].quantity"),
        (9, "shipping_address"),
        (10, "email"),
        (11, ""),
    ]
    assert [r.shop_order_no for _, r in records if isinstance(r, IncomingOrder)] == ["1", "12"]
    errors = {n: r for n, r in records if isinstance(r, RecordError)}
    assert "'two'" in errors[3].reason and "whole number" in errors[3].reason
    assert "must be a list" in errors[4].reason


def test_woocommerce_missing_number_names_the_number_field() -> None:
    [order] = json.loads(_fixture("woocommerce_orders.json"))[:1]
    del order["number"], order["id"]
    parsed = parse_orders(json.dumps([order]).encode(), file_name="w.json", format="woocommerce")
    [(n, error)] = _records(parsed)
    assert isinstance(error, RecordError) and (n, error.field) == (1, "number")


@pytest.mark.parametrize("moment", ["0001-01-01T00:30:00+01:00", "9999-12-31T23:59:59-12:00"])
def test_a_date_with_no_time_in_utc_is_a_record_error_and_the_next_order_still_reads(
    moment: str,
) -> None:
    """Valid ISO 8601 at either end of the calendar, but not storable: UTC has no such moment."""
    shopify = _records(
        parse_orders(
            _shopify_file(_shopify(name="#1", created_at=moment), _shopify(name="#2")),
            file_name="s.json",
        )
    )
    csv_row = _csv_row("B-1").replace("2026-11-20T10:00:00+01:00", moment)
    csv = _records(parse_orders(_csv(csv_row, _csv_row("B-2")), file_name="o.csv"))
    for records, field in ((shopify, "created_at"), (csv, "placed_at")):
        error = records[0][1]
        assert isinstance(error, RecordError) and error.field == field
        assert "out of range" in error.reason and moment in error.reason
        assert isinstance(records[1][1], IncomingOrder)


def test_woocommerce_behind_the_jetpack_envelope_is_read_with_its_html_entities_decoded() -> None:
    """The WordPress.com / Jetpack proxy wraps the answer in {"data": …}; WooCommerce names are
    HTML-escaped (&ndash;, &times;, &#8211;, &quot;): decoded once, at intake."""
    parsed = parse_orders(_fixture("woocommerce_jetpack_envelope.json"), file_name="woo.json")
    assert parsed.format == "woocommerce" and parsed.total == 1
    [(_, order)] = _records(parsed)
    assert isinstance(order, IncomingOrder) and order.shop_order_no == "5127"
    assert [line.name for line in order.lines] == [
        "Ship Your Idea – Color: Black, Size: M",
        'Poster 30 × 40 cm – "Morskie Oko"',
    ]
    assert order.shipping_title == "Kurier – DPD"


def test_a_name_decoded_once_keeps_an_escaped_ampersand_as_written() -> None:
    """&amp;ndash; is the text "&ndash;" as the shop meant it: decoded once, not twice."""
    raw = json.loads(_fixture("woocommerce_jetpack_envelope.json"))["data"][0]
    raw["line_items"][0]["name"] = "R&amp;D mug &amp;ndash; blue"
    [(_, order)] = _records(parse_orders(json.dumps([raw]).encode(), file_name="w.json"))
    assert isinstance(order, IncomingOrder) and order.lines[0].name == "R&D mug &ndash; blue"


@pytest.mark.parametrize(
    ("data", "said"),
    [(b"", "is empty"), (b"\xef\xbb\xbf", "is empty"), (b" \n\t\n", "holds only white space")],
)
def test_an_empty_json_file_is_refused_as_empty_not_as_a_csv_without_header(
    data: bytes, said: str
) -> None:
    for name in ("orders.json", "orders.jsonl", "export"):
        with pytest.raises(FileRefused, match=re.escape(f"no orders: the file {said}")):
            parse_orders(data, file_name=name)
        with pytest.raises(FileRefused, match="no orders"):
            detect_format(data, name)
    with pytest.raises(FileRefused, match="a CSV file needs a header row"):
        parse_orders(data, file_name="orders.csv")  # meant as CSV: its own words


def test_shopify_ships_what_is_still_to_ship_and_records_the_rest() -> None:
    """Refunded and restocked units (current_quantity), older exports (fulfillable_quantity),
    gift cards and downloads (requires_shipping: false): the floor gets only what ships."""
    orders = _orders(_fixture("shopify_refunds_and_gift_cards.json"))
    one = orders["3001"]
    assert [(ln.sku, ln.quantity) for ln in one.lines] == [("SKU-00001", 1)]
    assert [(n.sku, n.quantity, n.reason) for n in one.not_shipped] == [
        ("SKU-00001", 1, "not to ship: refunded, removed or fulfilled in the shop"),
        ("GIFT-50", 1, "does not ship (requires_shipping: false)"),
    ]
    assert orders["3002"].lines == () and orders["3002"].not_shipped[0].quantity == 1
    assert orders["3003"].lines == () and orders["3003"].not_shipped[0].sku == "EBOOK-1"
    assert [(ln.sku, ln.quantity) for ln in orders["3004"].lines] == [("SKU-00001", 1)]
    assert orders["3004"].not_shipped[0].quantity == 2
    assert [(ln.sku, ln.quantity) for ln in orders["3005"].lines] == [("SKU-00002", 2)]
    assert orders["3005"].not_shipped == ()
    assert (one.customer_locale, orders["3005"].customer_locale) == ("pl", "en-GB")
    assert (one.customer_name, one.ship.name) == ("Anna Nowak", "Piotr Nowak")


def test_units_the_shop_fulfilled_itself_are_not_shipped_again() -> None:
    """current_quantity says 2 are still owed, fulfillable_quantity that the shop sent both:
    the smaller wins, so nothing ships twice."""
    line = {"sku": "A", "quantity": 2, "price": "1", "current_quantity": 2,
            "fulfillable_quantity": 0}  # fmt: skip
    [(_, order)] = _records(parse_orders(_shopify_file(_shopify(line_items=[line])), file_name="s"))
    assert isinstance(order, IncomingOrder) and order.lines == ()
    assert [(n.sku, n.quantity) for n in order.not_shipped] == [("A", 2)]


def test_a_refunded_order_owes_its_current_total_and_a_long_locale_is_cut_not_refused() -> None:
    orders = _orders(_fixture("shopify_refunds_and_gift_cards.json"))
    assert orders["3001"].total == Decimal("50.00")  # current_total_price, after the refund
    assert orders["3005"].total == Decimal("75.00")  # total_price when nothing changed
    raw = _shopify(customer_locale="zh-Hant-TW-x-private")
    [(_, order)] = _records(parse_orders(_shopify_file(raw), file_name="s.json"))
    assert isinstance(order, IncomingOrder) and order.customer_locale == "zh-Hant-TW"


def test_an_order_object_beside_a_data_key_is_still_the_order() -> None:
    wrapped = {"order": _shopify(name="#77"), "data": {"shop": "example"}}
    [(_, order)] = _records(parse_orders(json.dumps(wrapped).encode(), file_name="s.json"))
    assert isinstance(order, IncomingOrder) and order.shop_order_no == "77"


def test_a_current_quantity_that_is_not_a_number_is_a_record_error_naming_it() -> None:
    raw = _shopify(line_items=[{"sku": "A", "quantity": 2, "price": "1", "current_quantity": "x"}])
    [(_, error)] = _records(parse_orders(_shopify_file(raw), file_name="s.json"))
    assert isinstance(error, RecordError) and error.field == "line_items[0].current_quantity"


def test_woocommerce_completed_is_fulfilled_in_the_shop_and_processing_is_floor_work() -> None:
    orders = _orders(_fixture("woocommerce_orders.json"))
    assert orders["5123"].fulfilled_in_shop  # completed
    assert not any(orders[n].fulfilled_in_shop for n in ("5120", "5121", "5122"))


def test_nul_and_lone_surrogates_in_text_are_record_errors() -> None:
    # JSON may spell a lone surrogate as an escape; no database can store it.
    data = json.dumps({"orders": [_shopify(note="a\x00b"), _shopify(note="\ud800")]}).encode()
    records = _records(parse_orders(data, file_name="f.json"))
    assert [r.field for _, r in records if isinstance(r, RecordError)] == ["note", "note"]


# --- quantities and verbatim text ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "kept"),
    [(-3, -3), (0, 0), ("-2", -2), ("+4", 4), (10**18, 10**18), ("9" * 20, 10**20 - 1)],
)
def test_odd_quantities_pass_through_untouched_for_validation(given: Any, kept: int) -> None:
    line = {"sku": "MUG-CER-350", "quantity": given, "price": "1.00"}
    [order] = _orders(_shopify_file(_shopify(line_items=[line]))).values()
    assert order.lines[0].quantity == kept


def test_csv_negative_and_huge_quantities_pass_through() -> None:
    data = _csv(_csv_row("A-1", quantity="-5"), _csv_row("A-1", quantity="1000000000000"))
    [order] = _orders(data, file_name="o.csv").values()
    assert [ln.quantity for ln in order.lines] == [-5, 1_000_000_000_000]


@pytest.mark.parametrize(
    "sku",
    [
        "'; DROP TABLE products; --",
        "1' OR '1'='1",
        "[bold red]MUG[/]",
        "<b>MUG</b>",
        "\x1b[2J\x1b[HMUG",
        "MUG\u202eGUM",
    ],
)
def test_skus_with_sql_and_markup_are_kept_verbatim(sku: str) -> None:
    line = {"sku": sku, "quantity": 1, "price": "1.00"}
    [shopify] = _orders(_shopify_file(_shopify(line_items=[line]))).values()
    assert shopify.lines[0].sku == sku
    csv_sku = '"' + sku.replace('"', '""') + '"'
    [from_csv] = _orders(_csv(_csv_row(sku=csv_sku)), file_name="o.csv").values()
    assert from_csv.lines[0].sku == sku


def test_surrounding_whitespace_is_stripped_and_inner_text_kept() -> None:
    address = {"name": "  Nguyễn  Văn  A \t", "address1": " 1  Lê Lợi ", "country_code": " vn"}
    [order] = _orders(_shopify_file(_shopify(shipping_address=address))).values()
    assert (order.ship.name, order.ship.street, order.ship.country) == (
        "Nguyễn  Văn  A", "1  Lê Lợi", "VN",
    )  # fmt: skip


def test_channel_defaults_to_the_format_and_can_be_named() -> None:
    data = _shopify_file(_shopify())
    [default] = _orders(data).values()
    [named] = _orders(data, channel="shop-pl").values()
    assert (default.channel, named.channel) == ("shopify", "shop-pl")


# --- whole-file refusals ------------------------------------------------------------------------


def test_truncated_json_is_refused_with_line_and_column() -> None:
    data = _fixture("shopify_orders.json").decode()[:5000].encode()  # cut between characters
    with pytest.raises(FileRefused, match=r"not valid JSON: .* at line \d+, column \d+"):
        parse_orders(data, file_name="shopify_orders.json", format="shopify")
    with pytest.raises(FileRefused, match="not valid JSON"):
        parse_orders(data, file_name="shopify_orders.json")


def test_latin1_file_is_refused_naming_the_byte_offset() -> None:
    data = "order_number,ship_city\nA-1,Kraków\n".encode("latin-1")
    offset = data.index(b"\xf3")
    with pytest.raises(FileRefused, match=rf"not UTF-8: byte 0xF3 at offset {offset} \(line 2\)"):
        parse_orders(data, file_name="orders.csv")


def test_csv_missing_required_columns_is_refused_naming_them() -> None:
    header = ",".join(c for c in CSV_REQUIRED if c not in ("quantity", "currency"))
    with pytest.raises(FileRefused, match="missing required columns: currency, quantity"):
        parse_orders(_csv("x", header=header), file_name="o.csv")


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\n\n  \n"])
def test_empty_csv_is_refused(data: bytes) -> None:
    with pytest.raises(FileRefused, match="header"):
        parse_orders(data, file_name="o.csv")


def test_csv_header_naming_a_column_twice_is_refused() -> None:
    with pytest.raises(FileRefused, match="'sku' twice"):
        parse_orders(_csv(header=CSV_HEADER + ",SKU"), file_name="o.csv")


def test_json_lines_with_a_bad_line_is_refused_naming_the_line() -> None:
    lines = _fixture("shopify_orders.jsonl").decode().splitlines()
    lines.insert(1, '{"id": 1, "name": "#1",')
    with pytest.raises(FileRefused, match="line 2 is not valid JSON"):
        parse_orders("\n".join(lines).encode(), file_name="o.jsonl", format="shopify")


@pytest.mark.parametrize(
    "document", ['"orders"', "42", "null", '{"foo": 1}', '{"orders": "none"}', "[" * 100_000]
)
def test_json_that_is_not_orders_is_refused(document: str) -> None:
    with pytest.raises(FileRefused):
        parse_orders(document.encode(), file_name="o.json", format="shopify")


def test_refusal_comes_before_any_record_is_read() -> None:
    # The bad line is the last one: nothing may have been handed out before the refusal.
    data = _fixture("shopify_orders.jsonl") + b"{oops\n"
    with pytest.raises(FileRefused, match="line 4"):
        parse_orders(data, file_name="o.jsonl")


# --- format detection ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "name", "expected"),
    [
        ("shopify_orders.json", "export.json", "shopify"),
        ("shopify_orders.json", "export.txt", "shopify"),
        ("shopify_orders.jsonl", "export.jsonl", "shopify"),
        ("woocommerce_orders.json", "export.json", "woocommerce"),
        ("woocommerce_orders.json", "download", "woocommerce"),
        ("orders.csv", "orders.csv", "csv"),
        ("orders.csv", "orders.json", "csv"),
    ],
)
def test_format_is_detected_from_the_content(fixture: str, name: str, expected: str) -> None:
    data = _fixture(fixture)
    assert detect_format(data, name) == expected
    assert parse_orders(data, file_name=name).format == expected


def test_csv_name_is_csv_whatever_the_content() -> None:
    assert detect_format(b'{"line_items": []}', "ORDERS.CSV") == "csv"


@pytest.mark.parametrize("document", ["[]", '[{"id": 1, "line_items": []}]', '{"id": 1}'])
def test_undetectable_json_is_refused(document: str) -> None:
    with pytest.raises(FileRefused, match="cannot tell the format"):
        detect_format(document.encode(), "o.json")
    with pytest.raises(FileRefused, match="cannot tell the format"):
        parse_orders(document.encode(), file_name="o.json")


def test_explicit_format_overrides_detection() -> None:
    parsed = parse_orders(b"[]", file_name="o.json", format="woocommerce")
    assert (parsed.format, parsed.total, _records(parsed)) == ("woocommerce", 0, [])


# --- nothing but orders, record errors or a refusal ---------------------------------------------


def _consume(data: bytes, **kw: Any) -> None:
    try:
        parsed = parse_orders(data, file_name="upload", **kw)
    except FileRefused as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    records = list(parsed.records)
    assert len(records) == parsed.total
    for number, record in records:
        assert isinstance(number, int)
        assert isinstance(record, IncomingOrder | RecordError)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=400), fmt=st.sampled_from([None, "shopify", "woocommerce", "csv"]))
def test_arbitrary_bytes_give_records_or_a_refusal(data: bytes, fmt: Any) -> None:
    _consume(data, format=fmt)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
#: Real orders to mutate: each example replaces a few fields, nested ones too, with any JSON.
_BASES: list[tuple[str, dict[str, Any]]] = [
    ("shopify", order) for order in json.loads(_fixture("shopify_orders.json"))["orders"]
] + [("woocommerce", order) for order in json.loads(_fixture("woocommerce_orders.json"))]
_PATHS: list[tuple[str | int, ...]] = [
    (key,) for key in sorted({k for _, order in _BASES for k in order})
] + [
    (outer, inner)
    for outer in ("shipping_address", "customer", "shipping", "billing")
    for inner in ("name", "first_name", "last_name", "address1", "address_1", "zip", "postcode",
                  "country_code", "country", "phone", "email")
] + [
    (lines, i, key)
    for lines in ("line_items", "shipping_lines")
    for i in (0, 1)
    for key in ("sku", "quantity", "price", "name", "title", "code", "method_id")
]  # fmt: skip


def _mutated(base: dict[str, Any], edits: list[tuple[tuple[str | int, ...], Any]]) -> Any:
    order = json.loads(json.dumps(base))
    for path, value in edits:
        node = order
        for step in path[:-1]:  # through existing containers only; the last step may add a key
            if isinstance(node, dict):
                node = node.get(step) if isinstance(step, str) else None
            else:
                node = node[step] if isinstance(node, list) and _has(node, step) else None
        if isinstance(node, dict | list) and _has(node, path[-1]):
            node[path[-1]] = value
    return order


def _has(node: dict[str, Any] | list[Any], step: str | int) -> bool:
    if isinstance(node, dict):
        return isinstance(step, str)
    return isinstance(step, int) and step < len(node)


@settings(max_examples=200, deadline=None)
@given(
    base=st.sampled_from(_BASES),
    edits=st.lists(st.tuples(st.sampled_from(_PATHS), _json_values), min_size=1, max_size=3),
)
def test_mutated_real_orders_give_records_or_a_refusal(
    base: tuple[str, dict[str, Any]], edits: list[tuple[tuple[str | int, ...], Any]]
) -> None:
    fmt, order = base
    mutated = _mutated(order, edits)
    _consume(json.dumps([mutated]).encode(), format=fmt)
    _consume(json.dumps(mutated).encode())  # detected, as a single object
