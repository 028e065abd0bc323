"""Who acts and when: the operator and terminal of every service call, and the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from picker.domain.roles import Role, Station, check_use_case, may_work

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


def allow(actor: Actor, use_case: str) -> None:
    """Refuse an operator whose roles may not run ``use_case`` (a key of
    :data:`~picker.domain.roles.USE_CASES`) with :class:`~picker.domain.roles.NotAllowed`
    naming it. The command line on the server (no operator) is trusted."""
    if actor.operator is not None:
        check_use_case(actor.operator.roles, use_case)
