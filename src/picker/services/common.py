"""What every service shares: who is acting, from which terminal, and the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from picker.domain.roles import Role, Station, may_work

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class OperatorInfo:
    """A logged-in operator, as the terminal knows them."""

    id: int
    badge: str
    name: str
    roles: frozenset[Role]

    def may_work(self, station: Station) -> bool:
        return may_work(self.roles, station)


@dataclass(frozen=True)
class Actor:
    """Who does something and where: the terminal, and the operator (None for the command line)."""

    terminal_id: str
    operator: OperatorInfo | None = None

    @property
    def operator_id(self) -> int | None:
        return self.operator.id if self.operator else None


def require_lead(actor: Actor, action: str) -> None:
    """Lead-only actions: the command line on the server is trusted, an operator must be a lead
    (raises :class:`~picker.domain.roles.NotAllowed` naming the action)."""
    from picker.domain.roles import Role, require

    if actor.operator is not None:
        require(actor.operator.roles, Role.LEAD, action)


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
