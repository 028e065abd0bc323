"""Walking order through the warehouse: zone, then aisle, serpentine bays, then level."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class BinAddress:
    zone: str
    aisle: int
    bay: int
    level: int

    @property
    def code(self) -> str:
        return f"{self.zone}-{self.aisle:02d}-{self.bay:02d}-{self.level}"


def walk_key(address: BinAddress) -> tuple[str, int, int, int]:
    """Sort key of the walk: odd aisles are walked up the bays, even aisles back down."""
    bay = address.bay if address.aisle % 2 == 1 else -address.bay
    return (address.zone, address.aisle, bay, address.level)


def walking_order(addresses: list[BinAddress]) -> list[BinAddress]:
    return sorted(addresses, key=walk_key)


class BadBinCode(ValueError):
    """A bin code that is not zone-aisle-bay-level."""


def parse_bin_code(code: str) -> BinAddress:
    """``"A-03-12-2"`` → its address; the zone is letters, the rest whole numbers."""
    parts = code.split("-")
    if len(parts) != 4 or not parts[0].isalpha() or not all(p.isdigit() for p in parts[1:]):
        raise BadBinCode(f"{code!r} is not a bin code (zone-aisle-bay-level, e.g. A-03-12-2)")
    zone, aisle, bay, level = parts[0].upper(), int(parts[1]), int(parts[2]), int(parts[3])
    if aisle > 99 or bay > 99 or level > 99 or len(zone) > 2:
        raise BadBinCode(f"{code!r} is out of range (zone up to 2 letters, numbers up to 99)")
    return BinAddress(zone, aisle, bay, level)


def pick_sequence(address: BinAddress) -> int:
    """A whole number that sorts bins in walking order (see :func:`walk_key`), so a bin created
    later slots into the walk without renumbering the others."""
    # Zone: up to two letters, left-aligned base 27 ("A" < "AA" < "B", as text sorts); the
    # largest value, ZZ-99-99-99, stays inside a 32-bit integer column.
    zone = 0
    for letter in address.zone.upper().ljust(2)[:2]:
        zone = zone * 27 + (0 if letter == " " else ord(letter) - ord("A") + 1)
    bay = address.bay if address.aisle % 2 == 1 else 99 - address.bay
    return ((zone * 100 + address.aisle) * 100 + bay) * 100 + address.level
