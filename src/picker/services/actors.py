"""Who acts and when: the operator and terminal of every service call, and the clock."""

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
