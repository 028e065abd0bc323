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
