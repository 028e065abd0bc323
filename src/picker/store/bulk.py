"""Bulk loading straight through the driver: executemany on SQLite, COPY on PostgreSQL.

For building large floors (the demo, benchmarks): one ORM object per row would take hours for a
million orders. Rows are plain tuples already in storage form (naive UTC timestamp text, Money
as its stored integer, statuses as text); ids are given by the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine

from picker.store.models import Money


@lru_cache(maxsize=256)  # one order's timestamps are mostly the same moment
def ts(value: datetime) -> str:
    """A timestamp in the text form SQLAlchemy stores on SQLite (and PostgreSQL accepts)."""
    if value.tzinfo is not None:  # naive values are taken as UTC already
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(" ", "microseconds")


@lru_cache(maxsize=4096)  # a shop's prices and totals repeat
def money(value: Any) -> int:
    """An amount in the stored form of :class:`~picker.store.models.Money`."""
    return _MONEY.process_bind_param(value, None)  # type: ignore[arg-type,return-value]


_MONEY = Money()


class BulkWriter:
    """Insert many rows into several tables in one transaction; ``commit()`` at the end."""

    def __init__(self, engine: Engine) -> None:
        self.dialect = engine.dialect.name
        self._raw = engine.raw_connection()
        self._cursor = self._raw.cursor()
        self._tables: set[str] = set()
        if self.dialect == "sqlite":
            # A big page cache keeps the indexes in memory while millions of rows go in.
            self._cursor.execute("PRAGMA cache_size = -262144")
            self._cursor.execute("BEGIN IMMEDIATE")

    def insert(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        if "id" in columns:
            self._tables.add(table)
        cols = ", ".join(columns)
        if self.dialect == "postgresql":
            with self._cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            # sqlite3 takes any iterable of rows (the DB-API stub says a sequence): no list made.
            sql = f"INSERT INTO {table} ({cols}) VALUES ({marks})"
            self._cursor.executemany(sql, rows)  # type: ignore[arg-type]

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        if self.dialect == "postgresql":
            sql = sql.replace("?", "%s")
        self._cursor.execute(sql, params)

    def commit(self) -> None:
        if self.dialect == "postgresql":
            # Explicit ids were written: move each table's id sequence past them.
            for table in sorted(self._tables):
                self._cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                )
            self._raw.commit()
        else:
            self._cursor.execute("COMMIT")
        self.close()

    def rollback(self) -> None:
        try:
            if self.dialect == "postgresql":
                self._raw.rollback()
            else:
                self._cursor.execute("ROLLBACK")
        finally:
            self.close()

    def close(self) -> None:
        self._cursor.close()
        self._raw.close()
