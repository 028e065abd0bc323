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
    """Who does something and where: the terminal, and the operator.

    With no operator the actor is the machine itself: the terminal's own housekeeping, or a
    data feed (an import run by a script or a person at a shell), which then names itself in
    ``source`` (``"OSUSER@HOST"``, at most 64 characters), written into every order event and
    stock movement it makes. The command line names an operator (``picker --as BADGE``) for
    everything done with a floor role's authority; see :func:`allow`."""

    terminal_id: str
    operator: OperatorInfo | None = None
    source: str | None = None

    @property
    def operator_id(self) -> int | None:
        return self.operator.id if self.operator else None


def allow(actor: Actor, use_case: str) -> None:
    """Refuse an operator whose roles may not run ``use_case`` (a key of
    :data:`~picker.domain.roles.USE_CASES`) with :class:`~picker.domain.roles.NotAllowed`
    naming it.

    An actor with no operator is trusted: the terminal's own housekeeping and the data feeds
    (imports) run so, as the machine's integration. Deciding who may act without an operator
    is the caller's job: the ``picker`` command refuses every command that acts with a floor
    role's authority unless an operator is named with ``--as`` (see ``picker.cli.acting``),
    and the terminal acts only for the operator logged in on it."""
    if actor.operator is not None:
        check_use_case(actor.operator.roles, use_case)
