"""Badge + PIN login with a lockout that holds on every terminal, and operator administration."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from picker.domain.pins import LockoutPolicy, hash_pin, validate_pin, verify_pin
from picker.domain.roles import NotAllowed, Role, Station, parse_roles
from picker.services.actors import Actor, Clock, OperatorInfo, allow, system_clock
from picker.services.errors import Conflict, NotFound, ServiceError
from picker.store.engine import Database
from picker.store.models import Operator, OperatorRole

#: The default badge form; a site may set another in config ([scanner.patterns] badge).
BADGE_RE = re.compile(r"^EMP-\d{4,8}$")


class LoginRefused(ServiceError):
    """Login failed; ``reason`` is one of unknown, disabled, locked, wrong_pin."""

    def __init__(self, reason: str, message: str, *, locked_until: datetime | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.locked_until = locked_until


@dataclass(frozen=True)
class BadgeInfo:
    """What the login screen may show after a badge scan, before the PIN."""

    badge: str
    name: str


@dataclass(frozen=True)
class OperatorRow:
    badge: str
    name: str
    roles: frozenset[Role]
    active: bool
    locked_until: datetime | None
    last_login_at: datetime | None


def _info(op: Operator) -> OperatorInfo:
    return OperatorInfo(
        id=op.id, badge=op.badge, name=op.name, roles=frozenset(r.role for r in op.roles)
    )


def _minutes_left(until: datetime, now: datetime) -> int:
    return max(1, -(-int((until - now).total_seconds()) // 60))


def _check_usable(op: Operator | None, badge: str, now: datetime) -> Operator:
    if op is None:
        raise LoginRefused("unknown", f"Badge {badge} is not known. Ask your shift lead.")
    if not op.active:
        raise LoginRefused("disabled", f"Badge {badge} is disabled. Ask your shift lead.")
    if LockoutPolicy.is_locked(op.locked_until, now):
        assert op.locked_until is not None
        minutes = _minutes_left(op.locked_until, now)
        raise LoginRefused(
            "locked",
            f"Badge {badge} is locked after too many wrong PINs. Try again in {minutes} min.",
            locked_until=op.locked_until,
        )
    return op


def identify_badge(db: Database, badge: str, *, clock: Clock = system_clock) -> BadgeInfo:
    """Look up a scanned badge: who it is, or a :class:`LoginRefused` saying why not."""
    badge = badge.strip()
    with db.read() as s:
        op = s.scalars(select(Operator).where(Operator.badge == badge)).one_or_none()
        op = _check_usable(op, badge, clock())
        return BadgeInfo(badge=op.badge, name=op.name)


def login(
    db: Database,
    terminal_id: str,
    badge: str,
    pin: str,
    *,
    policy: LockoutPolicy | None = None,
    clock: Clock = system_clock,
) -> OperatorInfo:
    """Check badge and PIN. A wrong PIN counts towards the lockout, on every terminal."""
    policy = policy or LockoutPolicy()
    badge = badge.strip()
    with db.read() as s:
        op = s.scalars(select(Operator).where(Operator.badge == badge)).one_or_none()
        op = _check_usable(op, badge, clock())
        pin_hash = op.pin_hash
    # The slow hash runs outside any transaction; the outcome is then written under a row lock.
    good = verify_pin(pin, pin_hash)
    with db.transaction() as s:
        op = s.scalars(
            select(Operator).where(Operator.badge == badge).with_for_update()
        ).one_or_none()
        now = clock()
        op = _check_usable(op, badge, now)  # locked meanwhile from another terminal?
        if good and op.pin_hash == pin_hash:
            op.failed_pins = 0
            op.locked_until = None
            op.last_login_at = now
            op.last_terminal = terminal_id
            return _info(op)
        op.failed_pins, op.locked_until = policy.after_failure(op.failed_pins, now)
        if op.locked_until is not None:
            message = (
                f"Wrong PIN. Badge {badge} is now locked for "
                f"{_minutes_left(op.locked_until, now)} min."
            )
            locked_until = op.locked_until
        else:
            left = policy.max_failed - op.failed_pins
            message = f"Wrong PIN. {left} {'try' if left == 1 else 'tries'} left before the lock."
            locked_until = None
    # Committed above: the failure counts even though we refuse.
    raise LoginRefused(
        "locked" if locked_until else "wrong_pin", message, locked_until=locked_until
    )


def enter_station(operator: OperatorInfo, station: Station | str) -> Station:
    """Check that the operator may work at ``station``; raises :class:`NotAllowed`."""
    station = Station(station)
    if not operator.may_work(station):
        raise NotAllowed(f"{operator.name} may not work at the {station.value} station")
    return station


# --- administration (the `picker operator` command; a lead on the floor later) ---------------


class FloorHasALead(NotAllowed):
    """A first lead was to be added without a lead's authority, but the floor has one."""


def _active_leads(s: Session) -> int:
    return (
        s.scalar(
            select(func.count())
            .select_from(Operator)
            .join(OperatorRole, OperatorRole.operator_id == Operator.id)
            .where(Operator.active.is_(True), OperatorRole.role == Role.LEAD)
        )
        or 0
    )


def has_active_lead(db: Database) -> bool:
    """Whether an active operator holds the lead role (a floor past its first day)."""
    with db.read() as s:
        return _active_leads(s) > 0


def _refuse_unless_first_lead(s: Session, roles: frozenset[Role]) -> None:
    """Inside the adding transaction: refuse unless ``roles`` include lead and no active
    operator holds it yet. Two first leads added at once must not both pass: PostgreSQL locks
    the operators table against other writers (SHARE ROW EXCLUSIVE conflicts with itself and
    with every INSERT/UPDATE) until commit, and the count is read after the lock, so the second
    waits and then counts the first; SQLite's writers are serialised already by the
    transaction's BEGIN IMMEDIATE."""
    if Role.LEAD not in roles:
        raise FloorHasALead("only a lead may be added without a lead's authority (the first)")
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("LOCK TABLE operators IN SHARE ROW EXCLUSIVE MODE"))
    if _active_leads(s):
        raise FloorHasALead("the floor has a lead already: adding an operator needs a lead")


def add_operator(
    db: Database,
    actor: Actor,
    badge: str,
    name: str,
    roles: str,
    pin: str,
    *,
    badge_pattern: re.Pattern[str] = BADGE_RE,
    pin_length: int = 4,
    first_lead: bool = False,
) -> OperatorInfo:
    """Add an operator; ``badge_pattern`` is the one the login screen accepts scans by,
    ``pin_length`` the fewest digits a PIN may have here (``[login] pin_length``).

    ``first_lead``: the floor's first lead, added by someone who is no lead (nobody is yet):
    refused with :class:`FloorHasALead` unless the roles include lead and no active operator
    holds it, checked in the same transaction as the insert (see
    :func:`_refuse_unless_first_lead`), so of two such adds at once only one passes."""
    allow(actor, "auth.add_operator")
    badge = badge.strip().upper()
    if not badge_pattern.fullmatch(badge):
        raise ServiceError(f"{badge!r} does not match the badge pattern {badge_pattern.pattern!r}")
    name = " ".join(name.split())
    if not name or not name.isprintable():
        raise ServiceError("the operator's name is empty or contains control characters")
    try:
        role_set = parse_roles(roles)
    except ValueError as exc:
        raise ServiceError(str(exc)) from None
    pin_hash = hash_pin(validate_pin(pin, pin_length))
    try:
        with db.transaction() as s:
            if first_lead:
                _refuse_unless_first_lead(s, role_set)
            op = Operator(badge=badge, name=name, pin_hash=pin_hash, active=True, failed_pins=0)
            op.roles = [OperatorRole(role=r) for r in sorted(role_set)]
            s.add(op)
            s.flush()
            return _info(op)
    except IntegrityError:
        raise Conflict(f"badge {badge} already belongs to another operator") from None


def list_operators(db: Database) -> list[OperatorRow]:
    with db.read() as s:
        ops = s.scalars(select(Operator).order_by(Operator.badge)).all()
        return [
            OperatorRow(
                badge=o.badge,
                name=o.name,
                roles=frozenset(r.role for r in o.roles),
                active=o.active,
                locked_until=o.locked_until,
                last_login_at=o.last_login_at,
            )
            for o in ops
        ]


def _update_operator(db: Database, badge: str, **values: object) -> None:
    with db.transaction() as s:
        result = s.execute(update(Operator).where(Operator.badge == badge).values(**values))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise NotFound(f"no operator has badge {badge}")


def disable_operator(db: Database, actor: Actor, badge: str) -> None:
    allow(actor, "auth.disable_operator")
    _update_operator(db, badge.strip().upper(), active=False)


def enable_operator(db: Database, actor: Actor, badge: str) -> None:
    allow(actor, "auth.enable_operator")
    _update_operator(db, badge.strip().upper(), active=True, failed_pins=0, locked_until=None)


def reset_pin(db: Database, actor: Actor, badge: str, pin: str, *, pin_length: int = 4) -> None:
    """Set a new PIN (``pin_length`` to 8 digits) and lift any lock."""
    allow(actor, "auth.reset_pin")
    pin_hash = hash_pin(validate_pin(pin, pin_length))
    _update_operator(db, badge.strip().upper(), pin_hash=pin_hash, failed_pins=0, locked_until=None)
