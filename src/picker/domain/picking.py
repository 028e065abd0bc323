"""Picking rules: the walk, the current line, and what a scan must be at each step.

A pick list is the pick tasks of the orders a picker has started (one, or a batch with one tote
each), walked in bin order (``pick_seq``: zone, aisle, serpentine bays, level). Each line is
picked in steps: scan the bin, scan the item (the quantity may then be keyed), and — in a batch —
scan the order's tote (put-to-tote check). A wrong scan raises a :class:`WrongScan` naming what
was expected; nothing changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class PickLine:
    """One pick task as the picker sees it."""

    task_id: int
    order_id: int
    order_number: str
    tote: str
    bin_code: str
    pick_seq: int
    product_id: int
    sku: str
    name: str
    barcodes: frozenset[str]
    quantity: int
    picked: int
    short: int
    exchange: str | None = None
    """The RMA number when the order is a return's replacement goods (an exchange)."""

    @property
    def left(self) -> int:
        return self.quantity - self.picked - self.short

    @property
    def done(self) -> bool:
        return self.left == 0

    def is_item(self, codes: Iterable[str]) -> bool:
        """Whether a scan (its product lookup spellings, or a code) is this line's product."""
        return any(c in self.barcodes or c == self.sku for c in codes)


class Step(StrEnum):
    BIN = "bin"
    ITEM = "item"
    TOTE = "tote"


class WrongScan(Exception):
    """A scan that is not what the current step needs; the message names what is expected."""


def walk(lines: Iterable[PickLine]) -> list[PickLine]:
    """The lines in walking order; lines of one bin by order, then task."""
    return sorted(lines, key=lambda ln: (ln.pick_seq, ln.bin_code, ln.order_number, ln.task_id))


def current(lines: Sequence[PickLine]) -> PickLine | None:
    """The first line of the walk with something left to pick, None when all are done."""
    return next((ln for ln in walk(lines) if not ln.done), None)


def zones(bin_codes: Iterable[str]) -> list[str]:
    """The zones (the part before the first dash) a walk visits, in order."""
    return sorted({code.split("-", 1)[0] for code in bin_codes})


def check_bin(line: PickLine, scanned: str) -> None:
    if scanned != line.bin_code:
        raise WrongScan(f"Wrong bin {scanned}. Go to bin {line.bin_code}.")


def check_item(line: PickLine, codes: Sequence[str], shown: str) -> None:
    if not line.is_item(codes):
        raise WrongScan(f"Wrong item {shown}. Take {line.sku} {line.name} from {line.bin_code}.")
    if line.left <= 0:
        raise WrongScan(f"{line.sku}: all {line.quantity} are picked. Do not take more.")


def check_quantity(line: PickLine, quantity: int) -> None:
    """A keyed quantity: at least 1, at most what is left of the line."""
    if quantity < 1:
        raise WrongScan("Key a quantity of 1 or more.")
    if quantity > line.left:
        raise WrongScan(
            f"Only {line.left} of {line.sku} left to pick on this line; {quantity} is too many."
        )


def check_tote(line: PickLine, scanned: str) -> None:
    if scanned != line.tote:
        raise WrongScan(f"Wrong tote {scanned}. Put {line.sku} into tote {line.tote}.")


def check_short_count(line: PickLine, found: int) -> int:
    """How many are missing when the picker finds ``found`` in the bin (raises when none are)."""
    if found < 0:
        raise WrongScan("Key how many are really in the bin (0 or more).")
    if found >= line.left:
        raise WrongScan(
            f"{found} in the bin is enough for the {line.left} left to pick: no shortage. "
            f"Scan the item."
        )
    return line.left - found


@dataclass(frozen=True)
class PutBack:
    """Picked units that go back to the bin they came from (their order stopped)."""

    sku: str
    quantity: int
    bin: str


def put_backs(units: Iterable[tuple[str, str, int]]) -> tuple[PutBack, ...]:
    """(bin, SKU, units) summed per bin and product, in bin order: what to put back where."""
    summed: dict[tuple[str, str], int] = {}
    for code, sku, n in units:
        summed[(code, sku)] = summed.get((code, sku), 0) + n
    return tuple(PutBack(sku, n, code) for (code, sku), n in sorted(summed.items()))
