"""Operators' roles and the stations each may work at."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Role(StrEnum):
    PICKER = "picker"
    PACKER = "packer"
    LEAD = "lead"


class Station(StrEnum):
    PICKING = "picking"
    PACKING = "packing"
    HANDOFF = "handoff"


STATION_TITLES: dict[Station, str] = {
    Station.PICKING: "Picker queue",
    Station.PACKING: "Packing table",
    Station.HANDOFF: "Handoff zone",
}

#: The role a station needs; a lead may work every station of the floor.
STATION_ROLE: dict[Station, Role] = {
    Station.PICKING: Role.PICKER,
    Station.PACKING: Role.PACKER,
    Station.HANDOFF: Role.LEAD,
}


class NotAllowed(Exception):
    """An operator tried something their roles do not allow."""


def parse_roles(text: str | Iterable[str]) -> frozenset[Role]:
    """``"picker,packer"`` or an iterable of names → roles; unknown names raise ``ValueError``."""
    names = text.split(",") if isinstance(text, str) else list(text)
    roles: set[Role] = set()
    for name in names:
        name = name.strip().lower()
        if not name:
            continue
        try:
            roles.add(Role(name))
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise ValueError(f"{name!r} is not a role (known: {known})") from None
    if not roles:
        raise ValueError("an operator needs at least one role")
    return frozenset(roles)


def may_work(roles: Iterable[Role], station: Station) -> bool:
    roles = set(roles)
    return Role.LEAD in roles or STATION_ROLE[station] in roles


def stations_for(roles: Iterable[Role]) -> list[Station]:
    """The stations these roles allow, in floor order."""
    roles = set(roles)
    return [s for s in Station if may_work(roles, s)]


def require(roles: Iterable[Role], needed: Role, action: str) -> None:
    """Raise :class:`NotAllowed` unless ``roles`` include ``needed`` (or lead)."""
    roles = set(roles)
    if Role.LEAD not in roles and needed not in roles:
        raise NotAllowed(f"{action} needs the {needed.value} role")
