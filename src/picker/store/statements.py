"""Hot-path statements as plain SQL, executed through the driver (``exec_driver_sql``).

Intake writes a dozen statements per order and must keep up with a shop's whole export (the
target is 2,000 orders/s on SQLite): building SQLAlchemy Core statements costs ~260 µs each,
a prepared text ~23 µs (measured). The statements are written once with ``?`` parameters (by
position: binding 30 values by name costs SQLite ~10 µs more) and adapted to the driver's style
(psycopg: ``%s``). Values go in already in storage form (see :mod:`picker.store.bulk`):
timestamps as UTC text, money as its stored integer, JSON as text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from picker.store.bulk import money, ts
from picker.store.models import COUNT_ACTIVE, COUNT_LOCKING

#: The columns :func:`order_row` fills, in the order of its tuple; then version and timestamps.
ORDER_COLUMNS = (
    "channel", "shop_order_no", "customer_name", "customer_email", "ship_name", "ship_street",
    "ship_street2", "ship_postal_code", "ship_city", "ship_region", "ship_country", "ship_phone",
    "shipping_method", "shipping_title", "courier_id", "service_id", "currency", "total_amount",
    "cod_amount", "paid", "payment_state", "placed_at", "priority", "status", "hold_reasons",
    "intake_problems", "note", "lines_not_shipped", "customer_locale", "shop_order_id",
)  # fmt: skip
_COLUMNS = ", ".join((*ORDER_COLUMNS, "version", "created_at", "updated_at"))
_VALUES = ", ".join(["?"] * len(ORDER_COLUMNS) + ["1", "?", "?"])
# The order's number (PO- and its id) is written with the row: the id comes first from the
# sequence (PostgreSQL) or as the next id under the write lock every SQLite writer holds.
# (SQLite: MAX(id) as a scalar subquery reads the end of the rowid tree; as an aggregate in a
# FROM subquery it scanned the whole table, 1.6 ms an order at 20k; INSERT … SELECT from a
# subquery costs ~10 µs more than VALUES, measured.)
_INSERT_ORDER = {
    "sqlite": f"""
INSERT INTO orders (id, number, {_COLUMNS})
VALUES (
    (SELECT COALESCE(MAX(id), 0) + 1 FROM orders),
    'PO-' || printf('%07d', (SELECT COALESCE(MAX(id), 0) + 1 FROM orders)),
    {_VALUES}
)
ON CONFLICT (channel, shop_order_no) DO NOTHING
RETURNING id, number
""",
    "postgresql": f"""
INSERT INTO orders (id, number, {_COLUMNS})
SELECT n.id, 'PO-' || lpad(CAST(n.id AS text), 7, '0'), {_VALUES}
FROM (SELECT nextval(pg_get_serial_sequence('orders', 'id')) AS id) AS n
ON CONFLICT (channel, shop_order_no) DO NOTHING
RETURNING id, number
""",
}
_INSERT_LINES = """
INSERT INTO order_lines (order_id, line_no, sku, product_id, name, quantity, unit_price)
VALUES {rows} RETURNING line_no, id
"""
_INSERT_EVENT = """
INSERT INTO order_events (
    order_id, at, operator_id, terminal_id, source, from_status, to_status, reason
) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
"""
_ORDER_LINES = """
SELECT id, product_id, sku, quantity FROM order_lines
WHERE order_id = ? AND product_id IS NOT NULL ORDER BY line_no
"""
# A bin locked by a count (count_tasks status counting, recount or approval) is not reserved
# from: the picker would be refused there. The active-count condition is spelled as literal
# text exactly as the partial unique index ``uq_count_tasks_one_active_per_bin`` is, so SQLite
# answers the NOT EXISTS from that index (it uses a partial index only when the query names
# the index's condition); the locking statuses are the active ones but ``planned``.
_ACTIVE_COUNT = " OR ".join(f"c.status = '{x}'" for x in COUNT_ACTIVE)
_NOT_LOCKING = ", ".join(f"'{x}'" for x in COUNT_ACTIVE if x not in COUNT_LOCKING)
_AVAILABLE = f"""
SELECT s.id, s.product_id, s.bin_id, b.pick_seq, s.on_hand - s.reserved
FROM stock s JOIN bins b ON b.id = s.bin_id
WHERE s.product_id IN ({{products}}) AND s.on_hand > s.reserved AND b.active = ?
  AND b.role NOT IN ('quarantine', 'receiving')
  AND NOT EXISTS (
    SELECT 1 FROM count_tasks c
    WHERE c.bin_id = s.bin_id AND ({_ACTIVE_COUNT}) AND c.status NOT IN ({_NOT_LOCKING})
  )
"""
_RESERVE = "UPDATE stock SET reserved = reserved + ? WHERE id = ? AND on_hand - reserved >= ?"
_UNRESERVE = "UPDATE stock SET reserved = reserved - ? WHERE id = ?"
_INSERT_TASKS = """
INSERT INTO pick_tasks (
    order_id, order_line_id, product_id, bin_id, seq, quantity, picked, short, updated_at
) VALUES {rows}
"""
_TASK_ROW = "(?, ?, ?, ?, ?, ?, 0, 0, ?)"
_INSERT_SEARCH_KEYS = "INSERT INTO order_search_keys (kind, key, order_id) VALUES {rows}"
#: Rows per multi-row INSERT (SQLite allows 32,766 parameters in one statement).
_ROWS_PER_INSERT = 500


@cache
def _adapt(sql: str, dialect: str) -> str:
    """A statement written with ``?`` marks, in the driver's style (psycopg: ``%s``)."""
    return sql.replace("?", "%s") if dialect == "postgresql" else sql


@cache
def _rows(sql: str, row: str, n: int, dialect: str) -> str:
    """``sql`` with its ``{rows}`` (or ``{products}``) as ``n`` copies of ``row``."""
    copies = ", ".join([row] * n)
    return _adapt(sql.format(rows=copies, products=copies), dialect)


def _run(conn: Connection, sql: str, params: Sequence[Any], *, adapted: bool = False) -> Any:
    """Execute ``sql`` (``?`` marks, or already in the driver's style when ``adapted``) on the
    driver's own cursor, inside the connection's transaction.

    (SQLAlchemy's ``exec_driver_sql`` still costs ~20 µs a statement in result set-up.)
    """
    dialect = conn.dialect
    statement = sql if adapted else _adapt(sql, dialect.name)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(statement, params)
    except dialect.loaded_dbapi.Error as exc:
        # The same exception SQLAlchemy would raise, so callers handle one family of errors.
        raise DBAPIError.instance(statement, params, exc, dialect.loaded_dbapi.Error) from exc
    return cursor


def order_row(**values: Any) -> tuple[Any, ...]:
    """An order's :data:`ORDER_COLUMNS` (amounts as Decimal, ``placed_at`` aware, reasons as
    lists) in storage form, for :func:`insert_order`. Pure: no database."""
    total, cod = values["total_amount"], values["cod_amount"]
    values["total_amount"] = money(total)
    values["cod_amount"] = None if cod is None else money(cod)
    values["placed_at"] = ts(values["placed_at"])
    values["hold_reasons"] = _json_list(values["hold_reasons"])
    values["intake_problems"] = _json_list(values["intake_problems"])
    values["lines_not_shipped"] = _json_list(values["lines_not_shipped"])
    return tuple([values[column] for column in ORDER_COLUMNS])


def _json_list(items: Sequence[object]) -> str:
    return json.dumps(items, ensure_ascii=False) if items else "[]"


def insert_order(conn: Connection, row: Sequence[Any], at: datetime) -> tuple[int, str] | None:
    """Insert a new order (``row`` from :func:`order_row`, created and updated ``at``): its
    (id, number), or None when the channel + shop order number exists already."""
    stamp = ts(at)
    found = _run(conn, _INSERT_ORDER[conn.dialect.name], (*row, stamp, stamp)).fetchone()
    return None if found is None else (int(found[0]), str(found[1]))


def insert_lines(
    conn: Connection,
    order_id: int,
    lines: Sequence[tuple[int, str, int | None, str, int, Decimal]],
) -> list[int]:
    """Insert an order's lines, (line number, SKU, product id, name, quantity, unit price)
    each, in one statement; their ids, in the order given."""
    ids: dict[int, int] = {}
    for start in range(0, len(lines), _ROWS_PER_INSERT):
        chunk = lines[start : start + _ROWS_PER_INSERT]
        params: list[Any] = []
        for line_no, sku, product_id, name, quantity, unit_price in chunk:
            params += (order_id, line_no, sku, product_id, name, quantity, money(unit_price))
        statement = _rows(_INSERT_LINES, "(?, ?, ?, ?, ?, ?, ?)", len(chunk), conn.dialect.name)
        ids.update(_run(conn, statement, params, adapted=True).fetchall())
    return [ids[line[0]] for line in lines]


def insert_search_keys(conn: Connection, order_id: int, keys: Sequence[tuple[str, str]]) -> None:
    """An order's search keys, (kind, key) each (see :mod:`picker.domain.order_search`)."""
    for start in range(0, len(keys), _ROWS_PER_INSERT):
        chunk = keys[start : start + _ROWS_PER_INSERT]
        params: list[Any] = []
        for kind, key in chunk:
            params += (kind, key, order_id)
        statement = _rows(_INSERT_SEARCH_KEYS, "(?, ?, ?)", len(chunk), conn.dialect.name)
        _run(conn, statement, params, adapted=True)


def insert_event(
    conn: Connection,
    *,
    order_id: int,
    at: datetime,
    operator_id: int | None,
    terminal_id: str,
    source: str | None,
    from_status: str | None,
    to_status: str,
    reason: str,
) -> None:
    """An order's event; ``source`` names a data feed that acted with no operator."""
    params = (order_id, ts(at), operator_id, terminal_id, source, from_status, to_status, reason)
    _run(conn, _INSERT_EVENT, params)


def order_lines(conn: Connection, order_id: int) -> list[tuple[int, int, str, int]]:
    """(line id, product id, SKU, quantity) of the order's lines with a known product."""
    return [tuple(r) for r in _run(conn, _ORDER_LINES, (order_id,)).fetchall()]


def available_stock(
    conn: Connection, product_ids: Sequence[int]
) -> list[tuple[int, int, int, int, int]]:
    """(stock id, product id, bin id, pick seq, available) of the products, in active bins
    (never a quarantine bin, returned goods that may not be sold, nor the receiving dock, nor
    a bin locked by a count)."""
    if not product_ids:
        return []
    statement = _rows(_AVAILABLE, "?", len(product_ids), conn.dialect.name)
    return _run(conn, statement, (*product_ids, True), adapted=True).fetchall()


def reserve(conn: Connection, stock_id: int, quantity: int) -> bool:
    """Reserve ``quantity`` in one stock row if it is still available there."""
    return bool(_run(conn, _RESERVE, (quantity, stock_id, quantity)).rowcount == 1)


def unreserve(conn: Connection, stock_id: int, quantity: int) -> None:
    _run(conn, _UNRESERVE, (quantity, stock_id))


def insert_tasks(
    conn: Connection, tasks: Sequence[tuple[int, int, int, int, int, int]], at: datetime
) -> None:
    """Insert pick tasks: (order id, order line id, product id, bin id, seq, quantity) each."""
    stamp = ts(at)
    for start in range(0, len(tasks), _ROWS_PER_INSERT):
        chunk = tasks[start : start + _ROWS_PER_INSERT]
        params: list[Any] = []
        for task in chunk:
            params += (*task, stamp)
        statement = _rows(_INSERT_TASKS, _TASK_ROW, len(chunk), conn.dialect.name)
        _run(conn, statement, params, adapted=True)
