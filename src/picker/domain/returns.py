"""Returns: what a returned unit may be judged to be, and what the customer gets back.

A unit that comes back is scanned, then judged with one more scan (``CMD-RESELL``,
``CMD-DAMAGED``…): a resellable unit goes back on a shelf, a damaged, defective or incomplete one
to the quarantine bin (never sold), a scrapped one nowhere. An item that is not ours (a foreign
item, an empty box) is recorded as ``foreign``. The refund is the returned lines' prices, plus the
shipping paid when ``[returns] refund_shipping`` says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Condition(StrEnum):
    """What a returned unit was judged to be."""

    RESELL = "resell"
    DAMAGED = "damaged"
    DEFECT = "defect"
    INCOMPLETE = "incomplete"
    SCRAP = "scrap"
    FOREIGN = "foreign"


#: The scan (or key) that judges the pending unit.
CONDITION_COMMANDS: dict[str, Condition] = {
    "CMD-RESELL": Condition.RESELL,
    "CMD-DAMAGED": Condition.DAMAGED,
    "CMD-DEFECT": Condition.DEFECT,
    "CMD-INCOMPLETE": Condition.INCOMPLETE,
    "CMD-SCRAP": Condition.SCRAP,
    "CMD-FOREIGN": Condition.FOREIGN,
}
#: Units of ours that may not be sold: they go to the quarantine bin at once.
QUARANTINE = frozenset({Condition.DAMAGED, Condition.DEFECT, Condition.INCOMPLETE})
#: Conditions whose unit is ours (counted on the order line, refunded).
OURS = frozenset(set(Condition) - {Condition.FOREIGN})

#: How a condition reads on a screen and in the customer's mail (English).
CONDITION_WORDS: dict[Condition, str] = {
    Condition.RESELL: "as new",
    Condition.DAMAGED: "damaged",
    Condition.DEFECT: "defective",
    Condition.INCOMPLETE: "incomplete",
    Condition.SCRAP: "scrapped",
    Condition.FOREIGN: "not ours",
}

#: ``[returns] refund_shipping``.
REFUND_SHIPPING = ("never", "full_return", "always")

RMA_PREFIX = "RMA-"
_RMA = re.compile(r"RMA-\d{6,10}")


def rma_number(return_id: int) -> str:
    """A return's number: ``RMA-`` and its id, zero-padded to 6 digits."""
    return f"{RMA_PREFIX}{return_id:06d}"


def is_rma_number(text: str) -> bool:
    return _RMA.fullmatch(text.strip().upper()) is not None


class UnknownCondition(ValueError):
    def __init__(self, text: str) -> None:
        known = ", ".join(c.value for c in Condition)
        super().__init__(f"{text!r} is not a condition ({known})")


def parse_condition(text: str | Condition) -> Condition:
    """``"resell"``, ``"CMD-RESELL"`` or a :class:`Condition` → the condition."""
    if isinstance(text, Condition):
        return text
    word = text.strip()
    command = CONDITION_COMMANDS.get(word.upper())
    if command is not None:
        return command
    try:
        return Condition(word.lower())
    except ValueError:
        if word.lower() == "defective":
            return Condition.DEFECT
        raise UnknownCondition(text) from None


def needs_bin(condition: Condition) -> bool:
    """A resellable unit waits for the bin it is put in."""
    return condition is Condition.RESELL


def to_quarantine(condition: Condition) -> bool:
    return condition in QUARANTINE


def is_ours(condition: Condition | None) -> bool:
    """A unit of the order (any condition but foreign; a pending unit of a line is ours)."""
    return condition is not Condition.FOREIGN


@dataclass(frozen=True)
class RefundLine:
    """Units of one order line received back (of ours), at the line's unit price."""

    unit_price: Decimal
    units: int


def shipping_paid(total: Decimal, lines: Iterable[tuple[Decimal, int]]) -> Decimal:
    """What the customer paid for shipping: the order's total less its lines (never below 0).

    ``lines`` are (unit price, quantity) of every line of the order."""
    goods = sum((price * quantity for price, quantity in lines), Decimal(0))
    return max(Decimal(0), total - goods)


def refund(
    lines: Iterable[RefundLine],
    *,
    shipping: Decimal,
    policy: str,
    full_return: bool,
) -> tuple[Decimal, Decimal]:
    """(refund in all, of which shipping) for the units received.

    ``shipping`` is what was paid for shipping (:func:`shipping_paid`); ``policy`` is
    ``[returns] refund_shipping``: never, full_return (only when everything shipped came back:
    ``full_return``), always (when anything of ours came back)."""
    if policy not in REFUND_SHIPPING:
        known = ", ".join(REFUND_SHIPPING)
        raise ValueError(f"{policy!r} is not a shipping refund policy ({known})")
    goods = sum((line.unit_price * line.units for line in lines), Decimal(0))
    refunded_shipping = Decimal(0)
    anything_back = goods > 0 or full_return
    if anything_back and (policy == "always" or (policy == "full_return" and full_return)):
        refunded_shipping = shipping
    return goods + refunded_shipping, refunded_shipping


def exchange_refund(returned: Decimal, replacement: Decimal) -> tuple[Decimal, Decimal]:
    """(refund, due) of an exchange: the difference when the returned goods cost more than the
    replacement (refunded), or when the replacement costs more (due from the customer)."""
    if returned >= replacement:
        return returned - replacement, Decimal(0)
    return Decimal(0), replacement - returned
