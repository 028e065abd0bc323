"""Databases for tests: every storage and service test runs on SQLite and on PostgreSQL.

Each test gets a fresh database cloned from a template the migrations built once per session: a
file copy for SQLite, CREATE DATABASE … TEMPLATE for PostgreSQL. With CI=true an unreachable
PostgreSQL fails the run; elsewhere its tests are skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from picker.config import Settings, load_settings
from picker.store import migrate
from picker.store.engine import Database
from tests.pgserver import PrivateServer

PG_ADMIN_URL = os.environ.get(
    "PICKER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
#: The repository, for its config.toml and labels/.
REPO = Path(__file__).resolve().parents[1]
#: A fixed moment for tests that need a clock.
NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_picker_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's PICKER_* settings must not steer the tests (they set their own)."""
    for name in (
        "PICKER_CONFIG", "PICKER_DATABASE_URL", "PICKER_AS", "PICKER_PIN",
        "PICKER_STATION", "PICKER_TERMINAL", "PICKER_PRINTER",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _pg_admin():  # type: ignore[no-untyped-def]
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


def _pg_url(name: str) -> str:
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    try:
        with _pg_admin().connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception as exc:
        message = f"PostgreSQL at {PG_ADMIN_URL} is unreachable: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI requires it)", pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db.engine)
    db.dispose()  # the last connection closing checkpoints the WAL into the file
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_available: bool) -> Iterator[str]:
    name = f"picker_tpl_{_worker()}_{uuid.uuid4().hex[:8]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(_pg_url(name))
    migrate.upgrade(db.engine)
    db.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def fresh_postgres_url(postgres_template: str) -> Iterator[str]:
    """A new PostgreSQL database cloned from the migrated template, dropped afterwards."""
    yield from _clone_postgres(postgres_template)


@pytest.fixture(scope="session")
def sqlite_floor_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The migrated template with the demo floor of :func:`floor` built once."""
    path = tmp_path_factory.mktemp("floor-template") / "floor.db"
    shutil.copyfile(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    _build_floor(db)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_floor_template(postgres_template: str) -> Iterator[str]:
    """The migrated template with the demo floor of :func:`floor` built once."""
    name = f"picker_ftpl_{_worker()}_{uuid.uuid4().hex[:8]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"'))
    db = Database(_pg_url(name))
    _build_floor(db)
    db.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _clone_postgres(template: str) -> Iterator[str]:
    name = f"picker_t_{_worker()}_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        # A test's database need not survive a crash of the server itself (it is dropped at
        # the end): its commits skip the WAL flush, ~1.5 ms each here. A killed client, a cut
        # connection and a server stopped and started still behave as in production.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    yield _pg_url(name)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, migrated database of each back-end.

    A test that asks for :func:`floor` (directly or through another fixture) gets a copy of a
    template that already holds the demo floor: built once per run, not once per test."""
    with_floor = "floor_from_template" in request.fixturenames
    if request.param == "sqlite":
        path = tmp_path / "picker.db"
        template = "sqlite_floor_template" if with_floor else "sqlite_template"
        shutil.copyfile(request.getfixturevalue(template), path)
        yield f"sqlite:///{path}"
        return
    if not with_floor:
        yield request.getfixturevalue("fresh_postgres_url")
        return
    yield from _clone_postgres(request.getfixturevalue("postgres_floor_template"))


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def second_db(request: pytest.FixtureRequest, db_url: str, tmp_path: Path) -> Iterator[Database]:
    """Another fresh, migrated database of the same back-end as ``db`` (a floor built twice)."""
    if db_url.startswith("sqlite"):
        path = tmp_path / "second.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        database = Database(f"sqlite:///{path}")
        yield database
        database.dispose()
        return
    name = f"picker_s_{_worker()}_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        template = request.getfixturevalue("postgres_template")
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    database = Database(_pg_url(name))
    yield database
    database.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database with no schema at all (for migration tests), of each back-end."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'blank.db'}")
        yield database
        database.dispose()
        return
    request.getfixturevalue("postgres_available")
    name = f"picker_b_{_worker()}_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    database = Database(_pg_url(name))
    yield database
    database.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A configuration file for command-line tests: terminal T05, every other key default."""
    path = tmp_path / "config.toml"
    path.write_text('[terminal]\nid = "T05"\n', encoding="utf-8")
    return path


@pytest.fixture
def restartable_postgres() -> Iterator[PrivateServer]:
    """A migrated PostgreSQL server of the test's own, to stop and start mid-test (in a folder
    of /tmp: the server's user cannot enter pytest's own, which is root's alone)."""
    server = PrivateServer(Path(tempfile.mkdtemp(prefix="picker-pg-")))
    try:
        server.create()
        db = Database(server.url)
        migrate.upgrade(db.engine)
        db.dispose()
    except Exception as exc:  # the machine cannot make one: a failure, never a skip
        server.destroy()
        pytest.fail(f"a PostgreSQL server of the test's own could not be made: {exc}")
    yield server
    server.destroy()


@pytest.fixture
def settings() -> Settings:
    """The repository's config.toml (the TUI tests have their own, pointing at their floor)."""
    return load_settings(REPO / "config.toml", environ={})


def _build_floor(db: Database) -> None:
    from picker.demo.builder import build_demo

    build_demo(db, orders=0, seed=1, now=NOW)


@pytest.fixture
def floor_from_template() -> None:
    """Asked for by :func:`floor` only: tells :func:`db_url` to clone the floor's template (a
    test module's own ``floor`` fixture, which builds its floor itself, does not ask for it)."""


@pytest.fixture
def floor(db: Database, floor_from_template: None) -> Database:
    """The demo catalogue, bins, couriers and operators, with no orders (``db`` itself: its
    database was cloned from a template holding them, see :func:`db_url`)."""
    return db


# --- label scripts a run could not check (tests/printing/scripts.py) ---------------------------

_UNCHECKED_SCRIPTS: set[str] = set()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for key, value in report.user_properties:
        if key == "label_script_not_checked":
            _UNCHECKED_SCRIPTS.add(str(value))


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    """Say which label scripts were not checked (their font is not installed here)."""
    if _UNCHECKED_SCRIPTS:
        terminalreporter.write_sep("-", "label scripts not checked")
        for line in sorted(_UNCHECKED_SCRIPTS):
            terminalreporter.write_line(line)
