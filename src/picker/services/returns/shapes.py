"""What the returns services hand back and refuse with: the shapes the station, the command line
and the back office share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from picker.services.errors import ServiceError

STATION = "returns"


class ReturnRefused(ServiceError):
    """A return action refused: the message names what is wrong (the SKU, the line, the
    order's status); nothing was changed."""


class ReturnBusy(ReturnRefused):
    """The return is being received at another terminal."""

    def __init__(self, number: str, terminal: str, operator: str | None) -> None:
        self.number, self.terminal, self.operator = number, terminal, operator
        by = f" by {operator}" if operator else ""
        super().__init__(f"{number} is being received at {terminal}{by}")


@dataclass(frozen=True)
class LineView:
    """One line of the order, as the desk sees it."""

    order_line_id: int
    sku: str
    name: str
    unit_price: Decimal
    ordered: int
    #: Units of it handed to a courier.
    shipped: int
    #: Units received back on earlier returns.
    returned_before: int
    #: Units of it in this return, by condition ("pending" for one not judged yet).
    this_return: Mapping[str, int]
    #: What the RMA expects back; None when the return has no RMA line for it.
    expected: int | None

    @property
    def this_total(self) -> int:
        return sum(self.this_return.values())

    @property
    def may_come_back(self) -> int:
        """Units that may still be received (shipped, not back yet)."""
        return max(0, self.shipped - self.returned_before - self.this_total)


@dataclass(frozen=True)
class UnitView:
    """One unit received in a return."""

    id: int
    #: None for a foreign item without a code.
    sku: str | None
    name: str
    #: None: scanned, not judged yet.
    condition: str | None
    #: Where it went (the resell bin, the quarantine bin); None for scrap, foreign, pending.
    bin: str | None
    note: str | None
    at: datetime


@dataclass(frozen=True)
class PendingUnit:
    """The unit the desk is working on: it needs its condition, or (resell) its bin."""

    unit_id: int
    sku: str
    name: str
    #: "condition" or "bin".
    needs: str
    #: The product's pick face with the most stock, else the bin it was last in; None if none.
    suggested_bin: str | None


@dataclass(frozen=True)
class Closed:
    """A return closed: its outcome."""

    number: str
    order_number: str
    #: The order's status after the close (``returned`` when everything shipped came back).
    order_status: str
    #: What the customer gets back in all (shipping included), in ``currency``.
    refund: Decimal
    #: Of which shipping.
    refund_shipping: Decimal
    currency: str
    #: Units of ours received, and units not ours.
    units: int
    foreign_units: int
    #: Everything shipped came back (the order is ``returned``).
    full_return: bool
    exchange_order: str | None = None
    #: What the customer owes for the replacement (it costs more than what came back).
    exchange_due: Decimal | None = None


@dataclass(frozen=True)
class ReturnView:
    """What the returns station draws."""

    number: str
    order_number: str
    customer_name: str
    #: The return's status: open (being received), closed…
    status: str
    reason: str | None
    exchange: bool
    lines: tuple[LineView, ...]
    #: The units received in this return, last first.
    units: tuple[UnitView, ...]
    pending: PendingUnit | None
    #: The refund for what was received so far (goods only; shipping is settled at close).
    refund_so_far: Decimal
    currency: str
    #: Every line the RMA expects is received and judged (False without RMA lines).
    complete: bool
    #: A sentence for the screen: what to scan next.
    next_step: str
    held_by_terminal: str | None = None
    #: Set when this action closed the return (``[returns] auto_close``).
    closed: Closed | None = None


@dataclass(frozen=True)
class PutAway:
    """A resellable unit put in a bin."""

    view: ReturnView
    sku: str
    bin: str
    #: Orders held short for this SKU that the restock released.
    released: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReceiveLine:
    """One line of a back-office receipt: ``qty`` units of ``sku`` in ``condition``, put in
    ``bin`` (resell; None: the suggested bin)."""

    sku: str
    qty: int
    condition: str
    bin: str | None = None


@dataclass(frozen=True)
class ReturnSummary:
    """A return in a list."""

    number: str
    order_number: str
    status: str
    reason: str | None
    exchange: bool
    tracking_no: str | None
    created_at: datetime
    closed_at: datetime | None
    #: Units of ours received, and units not ours.
    units: int
    foreign_units: int
    refund_amount: Decimal | None
    currency: str
    held_by_terminal: str | None
    exchange_order: str | None
    #: What the RMA expects: (SKU, quantity) each.
    expected: tuple[tuple[str, int], ...] = field(default=())


@dataclass(frozen=True)
class ReturnDetail:
    """One return in full (``picker return show``)."""

    summary: ReturnSummary
    customer_name: str
    order_status: str
    lines: tuple[LineView, ...]
    units: tuple[UnitView, ...]
    refund_shipping: Decimal | None
    note: str | None
    created_by: str | None
    closed_by: str | None
