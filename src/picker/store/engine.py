"""Engines and transactions for SQLite (WAL, foreign keys, busy timeout) and PostgreSQL."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, Engine, RootTransaction, create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")

#: PostgreSQL's "try again" errors: deadlock detected, serialization failure.
RETRY_SQLSTATES = ("40P01", "40001")


def must_retry(exc: BaseException) -> bool:
    """The database undid the transaction to break a deadlock (or a serialization failure):
    running it again, whole, is the cure."""
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in RETRY_SQLSTATES


def describe_url(url: str) -> str:
    """The URL without a password, fit to show a user."""
    return make_url(url).render_as_string(hide_password=True)


class MissingDatabase(Exception):
    """The SQLite file a database URL names is not there, and this use must not create it
    (SQLite would make an empty file, and its folders were made too)."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"no database file {path}")
        self.path = path


def make_engine(
    url: str, *, busy_timeout_s: float = 5.0, must_exist: bool = False, **kwargs: Any
) -> Engine:
    """An engine with Picker's settings for the URL's back-end. A SQLite file's folder is made
    unless ``must_exist``, which refuses a file that is not there (:class:`MissingDatabase`)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            if must_exist and not Path(database).is_file():
                raise MissingDatabase(Path(database))
            if not must_exist:
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


#: SQLite settings of the import writer (see Database.writer); the connection's own come back
#: after (temp_store 2 is MEMORY).
_WRITER_PRAGMAS = {"wal_autocheckpoint": 10_000, "temp_store": 2}


class Database:
    """One database: an engine plus read and write transactions. With ``must_exist`` a SQLite
    file that is not there is refused (:class:`MissingDatabase`) instead of created empty."""

    def __init__(
        self,
        url: str,
        *,
        busy_timeout_s: float = 5.0,
        must_exist: bool = False,
        **engine_kwargs: Any,
    ) -> None:
        self.url = url
        self.engine = make_engine(
            url, busy_timeout_s=busy_timeout_s, must_exist=must_exist, **engine_kwargs
        )
        self._write = sessionmaker(self.engine, expire_on_commit=False)
        self._read = sessionmaker(
            self.engine.execution_options(picker_readonly=True), expire_on_commit=False
        )

    def ping(self) -> None:
        """Raises unless the database answers (a fresh connection if the pooled one died)."""
        with self.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction: committed when the block ends, rolled back on any error."""
        with self._write() as session, session.begin():
            yield session

    def run(self, work: Callable[[Session], T], *, attempts: int = 3) -> T:
        """``work(session)`` in a write transaction; run again from the start, up to
        ``attempts`` times, when PostgreSQL undid it to break a deadlock. ``work`` must only
        touch the database (it may run more than once)."""
        for attempt in range(1, attempts + 1):
            try:
                with self.transaction() as session:
                    return work(session)
            except DBAPIError as exc:
                if attempt == attempts or not must_retry(exc):
                    raise
        raise AssertionError("unreachable")

    @contextmanager
    def writer(self) -> Iterator[Connection]:
        """One connection for a long run of small write transactions (an import), each begun
        with ``conn.begin()`` or run by a :meth:`group_commit`.

        SQLite: the commit that crosses the WAL's checkpoint threshold copies the WAL into the
        database and fsyncs it; this connection does that every ~40 MB of WAL instead of every
        ~4 MB (hot index pages copied once instead of ten times, a tenth of the fsyncs), and the
        WAL stays bounded. Its temporary files are kept in memory: a savepoint keeps there a
        copy of each page it changes until it is released, which as a file cost ~40 writes an
        order (measured with strace).
        PostgreSQL: commits do not wait for their WAL flush one by one (``synchronous_commit =
        off``: a server crash could lose the last few, never corrupt); one synchronous commit at
        the end flushes everything before it, so when the import reports, all of it is durable.
        """
        with self.engine.connect() as conn:
            sqlite = self.dialect == "sqlite"
            saved: dict[str, Any] = {}
            if sqlite:
                # Straight to the driver: through SQLAlchemy a PRAGMA would first wait for the
                # write lock (BEGIN IMMEDIATE) just to change a setting.
                driver = cast(sqlite3.Connection, conn.connection.dbapi_connection)
                for name, value in _WRITER_PRAGMAS.items():
                    saved[name] = driver.execute(f"PRAGMA {name}").fetchone()[0]
                    driver.execute(f"PRAGMA {name} = {value}")
            else:
                conn.exec_driver_sql("SET synchronous_commit = off")
                conn.commit()
            try:
                yield conn
            finally:
                if conn.in_transaction():
                    conn.rollback()
                if sqlite:
                    for name, value in saved.items():
                        driver.execute(f"PRAGMA {name} = {int(value)}")
                else:
                    conn.exec_driver_sql("SET synchronous_commit = on")
                    conn.exec_driver_sql("SELECT txid_current()")  # a commit record to flush
                    conn.commit()

    def group_commit(self, conn: Connection, *, max_units: int, max_seconds: float) -> GroupCommit:
        """Units of work on ``conn`` (a :meth:`writer`) that commit in groups on SQLite and one
        by one on PostgreSQL; see :class:`GroupCommit`."""
        if self.dialect != "sqlite":
            max_units = 1
        return GroupCommit(conn, max_units=max_units, max_seconds=max_seconds)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only transaction (on SQLite it takes no write lock)."""
        with self._read() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


class GroupCommit:
    """Consecutive units of work (one imported order each), every unit all or nothing, that share
    a COMMIT on SQLite.

    SQLite: a COMMIT writes every page the transaction changed to the WAL; one order changes ~18
    pages, mostly the same index pages as the next order (measured: ~18 WAL frames an order
    committed alone, under 3 an order in groups of ~60). So a group of units runs in one
    transaction (BEGIN IMMEDIATE … COMMIT), each unit under its own SAVEPOINT: a unit that fails
    is rolled back to its savepoint, alone. A group is :attr:`due` for its commit after
    ``max_units`` units or ``max_seconds`` after it took the write lock: no group holds the lock
    longer than that, and the caller leaves it free between groups. A crash loses the
    uncommitted group: whole units, never part of one.

    PostgreSQL (``max_units`` 1): each unit is its own transaction, because a group would hold
    the row locks it took (stock) across units, and a deadlock would undo a whole group.
    """

    _SAVEPOINT = "SAVEPOINT picker_unit"
    _RELEASE = "RELEASE picker_unit"
    _ROLLBACK_TO = "ROLLBACK TO picker_unit"

    def __init__(self, conn: Connection, *, max_units: int, max_seconds: float) -> None:
        self.conn = conn
        self.max_units = max(1, max_units)
        self.max_seconds = max_seconds
        self.shared = max_units > 1  # else: a transaction per unit
        self.units = 0  # units run in the open group
        self._trans: RootTransaction | None = None
        self._started = 0.0
        self._cursor: sqlite3.Cursor | None = None

    @property
    def due(self) -> bool:
        """The open group has had its share of units or of time: commit it now."""
        if self.units >= self.max_units:
            return True
        return self._trans is not None and time.monotonic() - self._started >= self.max_seconds

    @property
    def lost(self) -> bool:
        """SQLite rolled the whole group back by itself (it does so on a full disk, an I/O
        error, out of memory): what its units wrote is gone."""
        return self._trans is not None and not self._driver().in_transaction

    @contextmanager
    def unit(self) -> Iterator[None]:
        """One unit: written whole when the block ends, undone (and the error raised) if not."""
        self.units += 1
        if not self.shared:
            with self.conn.begin():
                yield
            return
        if self._trans is None:
            self._trans = self.conn.begin()  # BEGIN IMMEDIATE (see _configure_sqlite)
            self._started = time.monotonic()
        driver = self._driver()
        self._execute(self._SAVEPOINT)
        try:
            yield
        except BaseException:
            if driver.in_transaction:  # else SQLite gave up the whole transaction: see lost
                self._execute(self._ROLLBACK_TO)
                self._execute(self._RELEASE)
            raise
        self._execute(self._RELEASE)

    def commit(self) -> None:
        """Commit the open group (if any); on failure it is rolled back and the error raised."""
        trans, self._trans, self.units = self._trans, None, 0
        if trans is None:
            return
        try:
            trans.commit()
        except BaseException:
            if trans.is_active:
                trans.rollback()
            self._rollback_driver()
            raise

    def rollback(self) -> None:
        """Undo the open group (if any)."""
        trans, self._trans, self.units = self._trans, None, 0
        if trans is not None:
            trans.rollback()
            self._rollback_driver()

    def _driver(self) -> sqlite3.Connection:
        return self.conn.connection.dbapi_connection  # type: ignore[return-value]

    def _rollback_driver(self) -> None:
        driver = self._driver()
        if driver.in_transaction:  # a COMMIT that failed can leave SQLite's transaction open
            driver.execute("ROLLBACK")

    def _execute(self, statement: str) -> None:
        if self._cursor is None:
            self._cursor = self._driver().cursor()
        try:
            self._cursor.execute(statement)
        except sqlite3.Error as exc:
            raise OperationalError(statement, None, exc) from exc


# --- changes other terminals made ------------------------------------------------------------

#: The channel a change to the handoff lanes is announced on (a parcel closed, handed over,
#: voided; a pickup closed).
LANES = "picker_lanes"


def announce(s: Session, channel: str) -> None:
    """Tell listening terminals, when this transaction commits, that ``channel``'s data changed
    (PostgreSQL NOTIFY, delivered at commit and dropped on rollback). Nothing on SQLite, whose
    terminals poll."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_notify(:channel, '')"), {"channel": channel})


class Listener:
    """A connection of its own that LISTENs on a channel (PostgreSQL): :meth:`wait` returns as
    soon as another terminal announced a change, or after a timeout."""

    def __init__(self, db: Database, channel: str) -> None:
        import psycopg

        url = db.engine.url.set(drivername="postgresql")
        self.channel = channel
        # TCP keepalives: a server gone (restarted, network cut) is noticed within ~30 s and
        # wait() raises, instead of waiting quietly on a dead connection for ever.
        self._conn = psycopg.connect(
            url.render_as_string(hide_password=False), autocommit=True, connect_timeout=5,
            keepalives=1, keepalives_idle=10, keepalives_interval=5, keepalives_count=3,
        )  # fmt: skip
        self._conn.execute(f'LISTEN "{channel}"')

    def wait(self, timeout: float) -> bool:
        """True when a change was announced within ``timeout`` seconds (and any other announced
        meanwhile: one wake-up stands for them all)."""
        woke = False
        for _ in self._conn.notifies(timeout=timeout, stop_after=1):
            woke = True
        if woke:  # the rest that piled up, without waiting
            for _ in self._conn.notifies(timeout=0):
                pass
        return woke

    def close(self) -> None:
        self._conn.close()


def listener(db: Database, channel: str) -> Listener | None:
    """A :class:`Listener` on PostgreSQL; None on SQLite (the caller polls)."""
    return Listener(db, channel) if db.dialect == "postgresql" else None
