"""Engines and transactions for SQLite (WAL, foreign keys, busy timeout) and PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker


def describe_url(url: str) -> str:
    """The URL without a password, fit to show a user."""
    return make_url(url).render_as_string(hide_password=True)


def make_engine(url: str, *, busy_timeout_s: float = 5.0, **kwargs: Any) -> Engine:
    """An engine with Picker's settings for the URL's back-end."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine, busy_timeout_s)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("connect_args", {"connect_timeout": 5})
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine, busy_timeout_s: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # Transactions are begun by us (below), not by the driver's implicit BEGIN.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A writer takes the write lock up front: a deferred transaction that reads and then
        # writes can fail at once with "database is locked" instead of waiting its turn.
        readonly = conn.get_execution_options().get("picker_readonly")
        begin = "BEGIN" if readonly else "BEGIN IMMEDIATE"
        # Straight on the driver: SQLAlchemy's execution path costs ~100 µs a transaction.
        try:
            conn.connection.dbapi_connection.execute(begin)
        except sqlite3.OperationalError as exc:  # "database is locked" after the busy timeout
            raise OperationalError(begin, None, exc) from exc


_AUTOCHECKPOINT = 1000  # SQLite's default, in pages
_WRITER_CHECKPOINT = 10_000


class Database:
    """One database: an engine plus read and write transactions."""

    def __init__(self, url: str, *, busy_timeout_s: float = 5.0, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, busy_timeout_s=busy_timeout_s, **engine_kwargs)
        self._write = sessionmaker(self.engine, expire_on_commit=False)
        self._read = sessionmaker(
            self.engine.execution_options(picker_readonly=True), expire_on_commit=False
        )

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction: committed when the block ends, rolled back on any error."""
        with self._write() as session, session.begin():
            yield session

    @contextmanager
    def writer(self) -> Iterator[Connection]:
        """One connection for a long run of small write transactions (an import), each begun
        with ``conn.begin()``.

        SQLite: the commit that crosses the WAL's checkpoint threshold copies the WAL into the
        database and fsyncs it; this connection does that every ~40 MB of WAL instead of every
        ~4 MB (hot index pages copied once instead of ten times, a tenth of the fsyncs), and the
        WAL stays bounded. PostgreSQL: commits do not wait for their WAL flush one by one
        (``synchronous_commit = off``: a server crash could lose the last few, never corrupt);
        one synchronous commit at the end flushes everything before it, so when the import
        reports, all of it is durable.
        """
        with self.engine.connect() as conn:
            sqlite = self.dialect == "sqlite"
            # SQLite's PRAGMA goes straight to the driver: through SQLAlchemy it would first
            # wait for the write lock (BEGIN IMMEDIATE) just to change a setting.
            if sqlite:
                conn.connection.dbapi_connection.execute(  # type: ignore[union-attr]
                    f"PRAGMA wal_autocheckpoint={_WRITER_CHECKPOINT}"
                )
            else:
                conn.exec_driver_sql("SET synchronous_commit = off")
                conn.commit()
            try:
                yield conn
            finally:
                if conn.in_transaction():
                    conn.rollback()
                if sqlite:
                    conn.connection.dbapi_connection.execute(  # type: ignore[union-attr]
                        f"PRAGMA wal_autocheckpoint={_AUTOCHECKPOINT}"
                    )
                else:
                    conn.exec_driver_sql("SET synchronous_commit = on")
                    conn.exec_driver_sql("SELECT txid_current()")  # a commit record to flush
                    conn.commit()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only transaction (on SQLite it takes no write lock)."""
        with self._read() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
