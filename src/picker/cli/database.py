"""Opening the configured database, and refusing one that is not at the newest schema."""

from __future__ import annotations

from typing import Any

from picker.cli.errors import EXIT_USAGE, CliError
from picker.config import Settings


def open_database(settings: Settings, url: str | None = None) -> Any:
    """The configured database (or the one at ``url``), not yet checked."""
    from picker.store.engine import Database

    return Database(url or settings.database.url, busy_timeout_s=settings.database.busy_timeout_s)


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
