"""Packing rules: the checklist, what an item scan verifies, weights, and what a parcel needs.

At the packing table every unit of an order is verified by a scan against the order's lines
(one scan, one unit; a GS1 string with a count verifies that many), into the order's open
parcel. A parcel closes when it holds something, has its box and its weight, and the address
is confirmed; the order is packed when its last parcel closes with every unit verified. A wrong
scan raises :class:`~picker.domain.picking.WrongScan` naming what is wrong; nothing changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from picker.domain.picking import WrongScan

#: The heaviest parcel a weight may say (a keying slip of a few zeros is refused by name).
MAX_PARCEL_G = 100_000


@dataclass(frozen=True)
class CheckLine:
    """One order line on the packing checklist."""

    line_id: int
    line_no: int
    product_id: int
    sku: str
    name: str
    barcodes: frozenset[str]
    quantity: int
    verified: int
    """Units verified into live parcels (open or closed; a voided parcel's units count again)."""
    in_open: int
    """Of those, units in the open parcel."""
    weight_g: int
    fragile: bool

    @property
    def left(self) -> int:
        return self.quantity - self.verified

    def is_item(self, codes: Iterable[str]) -> bool:
        return any(c in self.barcodes or c == self.sku for c in codes)


def match_line(
    lines: Sequence[CheckLine], codes: Sequence[str], shown: str, order: str
) -> CheckLine:
    """The line a product scan verifies: the first of the product's lines with units left.

    Refused when the product is not in the order, or when all its units are verified already.
    """
    mine = [ln for ln in lines if ln.is_item(codes)]
    if not mine:
        raise WrongScan(
            f"{shown} is not in {order}. Put it aside for the shift lead; scan the order's items."
        )
    for line in mine:
        if line.left > 0:
            return line
    done = mine[0]
    total = sum(ln.quantity for ln in mine)
    raise WrongScan(
        f"{done.sku}: all {total} are verified already. One too many: put it aside for the lead."
    )


def check_count(line: CheckLine, count: int) -> None:
    """A count to verify on ``line`` (a GS1 count or a keyed number): 1 up to what is left."""
    if count < 1:
        raise WrongScan("Key a quantity of 1 or more.")
    if count > line.left:
        raise WrongScan(
            f"Only {line.left} of {line.sku} left to verify; {count} is too many. Count again."
        )


_WEIGHT = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(kg|g)?\s*$", re.IGNORECASE)


def parse_weight(text: str) -> int:
    """A weight as keyed (or read from a scale): ``1250``, ``1250 g``, ``1.25 kg``, ``1,25kg``.

    A bare number is grams when whole, kilograms when it has a decimal part (``1.25``). Returns
    whole grams; refused (words) when unreadable, zero, or over :data:`MAX_PARCEL_G`.
    """
    match = _WEIGHT.match(text)
    if match is None:
        raise WrongScan(f"{text.strip()!r} is not a weight. Key grams (1250) or kg (1.25 kg).")
    number, unit = match.group(1).replace(",", "."), (match.group(2) or "").lower()
    try:
        value = Decimal(number)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        raise WrongScan(f"{text.strip()!r} is not a weight.") from None
    if unit == "kg" or (not unit and "." in number):
        value *= 1000
    grams = int(value.to_integral_value())
    if grams < 1:
        raise WrongScan("A parcel weighs something: key its weight in grams or kg.")
    if grams > MAX_PARCEL_G:
        raise WrongScan(
            f"{grams / 1000:g} kg is more than a parcel may weigh ({MAX_PARCEL_G // 1000} kg). "
            "Key it again."
        )
    return grams


def expected_weight(contents: Iterable[tuple[int, int]], tare_g: int) -> int:
    """Grams a parcel should weigh at least: its units (product weight, count) and its box."""
    return tare_g + sum(weight * count for weight, count in contents)


def weight_problem(
    weighed: int, expected: int, tolerance_pct: float, tolerance_g: int
) -> str | None:
    """Words for a parcel lighter than its contents + box by more than the tolerance (the
    larger of ``tolerance_pct`` of the expected weight and ``tolerance_g``); None when fine."""
    allowed = max(expected * tolerance_pct / 100, tolerance_g)
    if weighed >= expected - allowed:
        return None
    return (
        f"{weighed} g is too light: its contents and box weigh {expected} g. Check the contents, "
        "then weigh again."
    )


@dataclass(frozen=True)
class ParcelState:
    """What the open parcel has so far."""

    units: int
    packaging: str | None
    weight_g: int | None


def missing_for_close(parcel: ParcelState, address_confirmed: bool) -> list[str]:
    """What the open parcel still needs before it can close, as the next steps to say."""
    missing = []
    if parcel.units == 0:
        missing.append("scan the items for it")
    if parcel.packaging is None:
        missing.append("scan the box")
    if parcel.weight_g is None:
        missing.append("key the weight")
    if not address_confirmed:
        missing.append("confirm the address")
    return missing
