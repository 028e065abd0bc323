"""Refusals a user reads (ServiceError and kin), and failures put in words, never tracebacks."""

from __future__ import annotations


class ServiceError(Exception):
    """A refusal the user should read: the message says what is wrong and changes nothing."""


def describe_failure(exc: BaseException) -> str | None:
    """Words for a failure a user may meet (refusal, database trouble); None for a bug."""
    from alembic.util.exc import CommandError
    from sqlalchemy.exc import DBAPIError, OperationalError

    from picker.domain.pins import BadPin
    from picker.domain.roles import NotAllowed
    from picker.domain.statuses import IllegalTransition

    if isinstance(exc, ServiceError | NotAllowed | BadPin | IllegalTransition):
        return str(exc)
    if isinstance(exc, CommandError):
        return f"the database schema cannot be changed: {exc}"
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or exc}"
    if isinstance(exc, DBAPIError):
        orig = exc.orig
        first = str(orig).strip().splitlines()[0] if orig is not None and str(orig).strip() else ""
        if "database or disk is full" in first:  # SQLite's SQLITE_FULL: rolled back whole
            return "the database's disk is full: nothing was saved; free some space, then try again"
        if isinstance(exc, OperationalError):
            return f"the database cannot be used: {first or 'unreachable'}"
        return f"the database refused the change: {first or type(exc).__name__}"
    return None


def database_unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database could not be reached (the server is down, the
    connection was cut): nothing of the call was saved here, or its answer was lost. A busy
    SQLite file and a full disk are other troubles."""
    described = describe_failure(exc)
    return (
        described is not None
        and described.startswith("the database cannot be used")
        and "locked" not in described
    )


class NotFound(ServiceError):
    pass


class Conflict(ServiceError):
    """Someone else changed the thing first (another terminal); nothing was changed here."""
