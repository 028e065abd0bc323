"""Dates, amounts and quantities at every extreme, through a whole import into the database: a
record is imported, held or reported as a record problem, and the import never stops on it.

Each format's own fields (Shopify ``created_at``, ``total_price``, ``price``; WooCommerce
``date_created``, ``total``, ``price``; CSV ``placed_at``, ``total``, ``unit_price``) carry the
values hypothesis draws; every example is a new order number in the same database.
"""

from __future__ import annotations

import itertools
import json
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from picker.channels.csv_orders import CSV_OPTIONAL, CSV_REQUIRED
from tests.services.intake.test_order_import import import_export

_numbers = itertools.count(1)

offsets = st.sampled_from(["", "Z", "+00:00", "+01:00", "-12:00", "+14:00", "-00:30"])
moments = st.one_of(
    st.builds(
        lambda moment, offset: moment.isoformat() + offset,
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
        offsets,
    ),
    st.sampled_from(["0001-01-01T00:30:00+01:00", "9999-12-31T23:59:59-12:00", "2026-02-30"]),
    st.text(max_size=30),
)
amounts = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.text(alphabet="0123456789.,-+eE ", max_size=40),
    st.floats(allow_nan=False, allow_infinity=False).map(str),
)
quantities = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.text(alphabet="0123456789.-+e ", max_size=40),
)


def _shopify(no: int, when: Any, total: Any, price: Any, quantity: Any) -> bytes:
    order = {
        "id": no, "name": f"#F{no}", "created_at": when, "currency": "PLN",
        "financial_status": "paid", "total_price": total,
        "shipping_address": {"name": "Jan", "address1": "Kwiatowa 1", "zip": "00-950",
                             "city": "Warszawa", "country_code": "PL"},
        "shipping_lines": [{"code": "standard", "title": "Standard"}],
        "line_items": [{"sku": "SKU-00001", "quantity": quantity, "price": price}],
    }  # fmt: skip
    return json.dumps({"orders": [order]}).encode()


def _woo(no: int, when: Any, total: Any, price: Any, quantity: Any) -> bytes:
    order = {
        "id": no, "number": f"F{no}", "status": "processing", "currency": "PLN",
        "date_created": when, "total": total, "payment_method": "bacs",
        "billing": {"first_name": "Jan", "last_name": "Kowalski"},
        "shipping": {"first_name": "Jan", "last_name": "Kowalski", "address_1": "Kwiatowa 1",
                     "postcode": "00-950", "city": "Warszawa", "country": "PL"},
        "shipping_lines": [{"method_id": "standard", "method_title": "Standard"}],
        "line_items": [{"sku": "SKU-00001", "name": "Mug", "quantity": quantity,
                        "price": price}],
    }  # fmt: skip
    return json.dumps([order]).encode()


def _csv(no: int, when: Any, total: Any, price: Any, quantity: Any) -> bytes:
    def cell(value: Any) -> str:
        text = str(value).replace('"', '""')
        return f'"{text}"'

    values = {
        "order_number": f"F{no}", "placed_at": when, "ship_name": "Jan",
        "ship_street": "Kwiatowa 1", "ship_postal_code": "00-950", "ship_city": "Warszawa",
        "ship_country": "PL", "shipping_method": "standard", "currency": "PLN",
        "payment": "paid", "sku": "SKU-00001", "quantity": quantity, "total": total,
        "unit_price": price,
    }  # fmt: skip
    columns = CSV_REQUIRED + CSV_OPTIONAL
    row = ",".join(cell(values.get(name, "")) for name in columns)
    return (",".join(columns) + "\n" + row + "\n").encode()


WRITERS = {"shopify": (_shopify, "f.json"), "woocommerce": (_woo, "f.json"), "csv": (_csv, "f.csv")}


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_extreme_dates_amounts_and_quantities_never_stop_an_import(
    floor, settings, fmt: str
) -> None:
    write, name = WRITERS[fmt]

    @hypothesis_settings(
        max_examples=40,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(when=moments, total=amounts, price=amounts, quantity=quantities)
    @example(when="0001-01-01T00:30:00+01:00", total="19.90", price="19.90", quantity=1)
    @example(when="9999-12-31T23:59:59-12:00", total="19.90", price="19.90", quantity=1)
    @example(when="2026-11-20T10:00:00Z", total="1e40", price="-1e40", quantity=10**40)
    @example(when="2026-11-20T10:00:00Z", total="19.90", price="19.90", quantity=1)
    def one_order(when: Any, total: Any, price: Any, quantity: Any) -> None:
        data = write(next(_numbers), when, total, price, quantity)
        report = import_export(floor, settings, data, name, format=fmt)
        outcomes = report.counts["imported"] + report.counts["on_hold"] + report.failed
        assert outcomes == 1, report
        seen.update(k for k in ("imported", "on_hold", "failed") if report.counts[k])

    seen: set[str] = set()
    one_order()
    # The examples reached every outcome: an order imported, one held, one refused.
    assert seen == {"imported", "on_hold", "failed"}
