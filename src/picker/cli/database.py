"""Opening the configured database, and refusing one that is not at the newest schema."""

from __future__ import annotations

from typing import Any

from picker.cli.errors import EXIT_USAGE, CliError
from picker.config import Settings


def open_database(settings: Settings, url: str | None = None, *, create: bool = False) -> Any:
    """The configured database (or the one at ``url``), not yet checked for its schema.

    A database that is not there is refused in words naming what was looked for and how to
    make one, and nothing is created: a mistyped path, or a config outside the repository whose
    ``var/`` is read next to it, must not become a new empty floor. Only the commands that make a
    database (``db upgrade``, ``demo``, benchmarks) pass ``create``, which makes a SQLite file
    (and its folder); a PostgreSQL database is made by its server's administrator."""
    from sqlalchemy.exc import OperationalError

    from picker.store.engine import Database, MissingDatabase

    try:
        db = Database(
            url or settings.database.url,
            busy_timeout_s=settings.database.busy_timeout_s,
            must_exist=not create,
        )
    except MissingDatabase as exc:
        raise CliError(_missing_file(exc.path, settings, url)) from None
    if db.dialect == "postgresql":
        try:
            db.ping()
        except OperationalError as exc:
            message = _missing_postgres(db.engine.url, exc)
            db.dispose()
            if message is None:
                raise
            raise CliError(message) from None
    return db


def _missing_file(path: Any, settings: Settings, url: str | None) -> str:
    told = f" (from {settings.database.origin})" if settings.database.origin and not url else ""
    return (
        f"no database at {path}{told}: the file does not exist, and nothing was created. "
        "Make one with: picker demo (the demo floor) or picker db upgrade (an empty floor, "
        "then picker setup apply FILE); or set PICKER_DATABASE_URL or [database] url to the "
        "floor's database"
    )


def _missing_postgres(url: Any, exc: Exception) -> str | None:
    """Words for a PostgreSQL database the server does not have; None for other troubles."""
    import re

    found = re.search(r'database "([^"]*)" does not exist', str(exc))
    if found is None:
        return None
    name = found.group(1)
    server = f"{url.host or 'localhost'}:{url.port or 5432}"
    user = f" -U {url.username}" if url.username else ""
    return (
        f"the PostgreSQL server at {server} has no database {name!r}. Its administrator "
        f"makes it with: createdb -h {url.host or 'localhost'}{user} {name}; then run: "
        "picker db upgrade (or picker demo)"
    )


def require_head(db: Any) -> None:
    """Refuse, in one line naming the way out, a database not at the newest schema."""
    from picker.store import migrate
    from picker.store.engine import describe_url

    current, head = migrate.current_revision(db.engine), migrate.head_revision()
    if current != head:
        where = describe_url(db.url)
        if current is not None and not migrate.known_revision(current):
            raise CliError(
                f"the database {where} has schema revision {current}, made by a newer Picker "
                f"than this one (which knows up to {head}). Update Picker on this terminal.",
                EXIT_USAGE,
            )
        if current is None:
            state = "has no Picker schema yet"
        else:
            state = f"is at schema revision {current}, Picker needs {head}"
        raise CliError(f"the database {where} {state}. Run: picker db upgrade", EXIT_USAGE)
