"""Hot-path statements as plain SQL, executed through the driver (``exec_driver_sql``).

Intake writes a dozen statements per order and must keep up with a shop's whole export (the
target is 2,000 orders/s on SQLite): building SQLAlchemy Core statements costs ~260 µs each,
a prepared text ~23 µs (measured). The statements are written once with ``:name`` parameters and
adapted to the driver's style (psycopg: ``%(name)s``). Values go in already in storage form
(see :mod:`picker.store.bulk`): timestamps as UTC text, money as its stored integer, JSON as text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from picker.store.bulk import money, ts

_ORDER_COLUMNS = """
    channel, shop_order_no, customer_name, customer_email, ship_name, ship_street,
    ship_street2, ship_postal_code, ship_city, ship_region, ship_country, ship_phone,
    shipping_method, shipping_title, courier_id, service_id, currency, total_amount,
    cod_amount, paid, payment_state, placed_at, priority, status, hold_reasons,
    intake_problems, note, version, created_at, updated_at
"""
_ORDER_VALUES = """
    :channel, :shop_order_no, :customer_name, :customer_email, :ship_name,
    :ship_street, :ship_street2, :ship_postal_code, :ship_city, :ship_region, :ship_country,
    :ship_phone, :shipping_method, :shipping_title, :courier_id, :service_id, :currency,
    :total_amount, :cod_amount, :paid, :payment_state, :placed_at, :priority, :status,
    :hold_reasons, :intake_problems, :note, 1, :created_at, :updated_at
"""
# The order's number (PO- and its id) is written with the row: the id comes first from the
# sequence (PostgreSQL) or as the next id under the write lock every SQLite writer holds.
# (MAX(id) as a scalar subquery: SQLite reads it from the end of the rowid tree; written as an
# aggregate in the FROM subquery it scanned the whole table, measured 1.6 ms an order at 20k.)
_INSERT_ORDER = {
    "sqlite": f"""
INSERT INTO orders (id, number, {_ORDER_COLUMNS})
SELECT n.id, 'PO-' || printf('%07d', n.id), {_ORDER_VALUES}
FROM (SELECT COALESCE((SELECT MAX(id) FROM orders), 0) + 1 AS id) AS n WHERE true
ON CONFLICT (channel, shop_order_no) DO NOTHING
RETURNING id, number
""",
    "postgresql": f"""
INSERT INTO orders (id, number, {_ORDER_COLUMNS})
SELECT n.id, 'PO-' || lpad(CAST(n.id AS text), 7, '0'), {_ORDER_VALUES}
FROM (SELECT nextval(pg_get_serial_sequence('orders', 'id')) AS id) AS n
ON CONFLICT (channel, shop_order_no) DO NOTHING
RETURNING id, number
""",
}
_INSERT_LINE = """
INSERT INTO order_lines (order_id, line_no, sku, product_id, name, quantity, unit_price)
VALUES (:order_id, :line_no, :sku, :product_id, :name, :quantity, :unit_price)
RETURNING id
"""
_INSERT_EVENT = """
INSERT INTO order_events (order_id, at, operator_id, terminal_id, from_status, to_status, reason)
VALUES (:order_id, :at, :operator_id, :terminal_id, :from_status, :to_status, :reason)
"""
_ORDER_LINES = """
SELECT id, product_id, sku, quantity FROM order_lines
WHERE order_id = :order_id AND product_id IS NOT NULL ORDER BY line_no
"""
_AVAILABLE = """
SELECT s.id, s.product_id, s.bin_id, b.pick_seq, s.on_hand - s.reserved
FROM stock s JOIN bins b ON b.id = s.bin_id
WHERE s.product_id IN (
    SELECT product_id FROM order_lines WHERE order_id = :order_id AND product_id IS NOT NULL
) AND s.on_hand > s.reserved AND b.active = :active
"""
_RESERVE = """
UPDATE stock SET reserved = reserved + :qty WHERE id = :id AND on_hand - reserved >= :qty
"""
_UNRESERVE = "UPDATE stock SET reserved = reserved - :qty WHERE id = :id"
_INSERT_TASK = """
INSERT INTO pick_tasks (
    order_id, order_line_id, product_id, bin_id, seq, quantity, picked, short, updated_at
) VALUES (
    :order_id, :order_line_id, :product_id, :bin_id, :seq, :quantity, 0, 0, :updated_at
)
"""


@cache
def _adapt(sql: str, dialect: str) -> str:
    if dialect == "postgresql":
        return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql)
    return sql


def _run(
    conn: Connection, sql: str, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]
) -> Any:
    """Execute on the driver's own cursor, inside the connection's transaction.

    (SQLAlchemy's ``exec_driver_sql`` still costs ~20 µs a statement in result set-up.)
    """
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    statement = _adapt(sql, conn.dialect.name)
    try:
        if isinstance(params, Mapping):
            cursor.execute(statement, params)
        else:
            cursor.executemany(statement, params)
    except conn.dialect.loaded_dbapi.Error as exc:
        # The same exception SQLAlchemy would raise, so callers handle one family of errors.
        raise DBAPIError.instance(statement, params, exc, conn.dialect.loaded_dbapi.Error) from exc
    return cursor


def insert_order(conn: Connection, values: Mapping[str, Any]) -> tuple[int, str] | None:
    """Insert a new order: its (id, number), or None when the channel + shop order number
    exists already."""
    row = _run(
        conn,
        _INSERT_ORDER[conn.dialect.name],
        {
            **values,
            "total_amount": money(values["total_amount"]),
            "cod_amount": None if values["cod_amount"] is None else money(values["cod_amount"]),
            "placed_at": ts(values["placed_at"]),
            "created_at": ts(values["created_at"]),
            "updated_at": ts(values["updated_at"]),
            "hold_reasons": json.dumps(values["hold_reasons"], ensure_ascii=False),
            "intake_problems": json.dumps(values["intake_problems"], ensure_ascii=False),
        },
    ).fetchone()
    return None if row is None else (int(row[0]), str(row[1]))


def insert_line(
    conn: Connection,
    *,
    order_id: int,
    line_no: int,
    sku: str,
    product_id: int | None,
    name: str,
    quantity: int,
    unit_price: Decimal,
) -> int:
    row = _run(
        conn,
        _INSERT_LINE,
        {
            "order_id": order_id,
            "line_no": line_no,
            "sku": sku,
            "product_id": product_id,
            "name": name,
            "quantity": quantity,
            "unit_price": money(unit_price),
        },
    ).fetchone()
    return int(row[0])


def insert_event(
    conn: Connection,
    *,
    order_id: int,
    at: datetime,
    operator_id: int | None,
    terminal_id: str,
    from_status: str | None,
    to_status: str,
    reason: str,
) -> None:
    _run(
        conn,
        _INSERT_EVENT,
        {
            "order_id": order_id,
            "at": ts(at),
            "operator_id": operator_id,
            "terminal_id": terminal_id,
            "from_status": from_status,
            "to_status": to_status,
            "reason": reason,
        },
    )


def order_lines(conn: Connection, order_id: int) -> list[tuple[int, int, str, int]]:
    """(line id, product id, SKU, quantity) of the order's lines with a known product."""
    return [tuple(r) for r in _run(conn, _ORDER_LINES, {"order_id": order_id}).fetchall()]


def available_stock(conn: Connection, order_id: int) -> list[tuple[int, int, int, int, int]]:
    """(stock id, product id, bin id, pick seq, available) for the products of an order."""
    rows = _run(conn, _AVAILABLE, {"order_id": order_id, "active": True}).fetchall()
    return [tuple(r) for r in rows]


def reserve(conn: Connection, stock_id: int, quantity: int) -> bool:
    """Reserve ``quantity`` in one stock row if it is still available there."""
    return bool(_run(conn, _RESERVE, {"id": stock_id, "qty": quantity}).rowcount == 1)


def unreserve(conn: Connection, stock_id: int, quantity: int) -> None:
    _run(conn, _UNRESERVE, {"id": stock_id, "qty": quantity})


def insert_tasks(conn: Connection, tasks: Sequence[Mapping[str, Any]], at: datetime) -> None:
    stamp = ts(at)
    _run(conn, _INSERT_TASK, [{**t, "updated_at": stamp} for t in tasks])
