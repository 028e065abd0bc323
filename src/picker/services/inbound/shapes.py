"""What the inbound services hand back and refuse with: the shapes the receiving station, the
command line and the back office share."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from picker.services.errors import ServiceError

STATION = "receiving"
#: The bin role of the dock (received goods waiting for put-away, never reserved or picked).
RECEIVING_ROLE = "receiving"
#: Receipts the dock may still receive into.
RECEIVABLE = ("expected", "open")


# --- refusals ----------------------------------------------------------------------------------


class InboundRefused(ServiceError):
    """An inbound action refused: the message names what is wrong; nothing was changed."""


class ReceiptRefused(InboundRefused):
    """A receipt (or a scan on it) refused: no such notice, closed, not held here…"""


class ReceiptBusy(ReceiptRefused):
    """The receipt is being received at another terminal."""

    def __init__(self, reference: str, terminal: str, operator: str | None) -> None:
        self.reference, self.terminal, self.operator = reference, terminal, operator
        by = f" by {operator}" if operator else ""
        super().__init__(f"{reference} is being received at {terminal}{by}")


class UnknownProduct(ReceiptRefused):
    """The scanned code is no product of the catalogue (a lead may accept it with a reason).
    ``units``: what the scan stood for (what a lead's acceptance of it receives)."""

    def __init__(self, code: str, units: int = 1) -> None:
        self.code, self.units = code, units
        # Short: two rows of a 40-column handheld.
        super().__init__(f"{code}: unknown product — set it aside; a lead can accept it")


class NotOnNotice(ReceiptRefused):
    """A known product the notice does not list (a lead may accept it with a reason).
    ``units``: what the scan stood for (a case: its units)."""

    def __init__(self, reference: str, sku: str, name: str, units: int = 1) -> None:
        self.reference, self.sku, self.name, self.units = reference, sku, name, units
        super().__init__(f"{sku} is not on {reference}: set it aside; a lead can accept it")


class OverReceipt(ReceiptRefused):
    """More than the notice expects (beyond ``[receiving] over_tolerance_pct``)."""

    def __init__(
        self, sku: str, expected: int, received: int, more: int, tolerance_pct: float
    ) -> None:
        self.sku, self.expected, self.received, self.more = sku, expected, received, more
        pct = f"{tolerance_pct:g}"
        super().__init__(
            f"{sku}: {received}/{expected} in — {more} more is over the {pct}% tolerance; a "
            "lead can accept"
        )

    @property
    def units(self) -> int:
        """What the refused scan stood for (what a lead's acceptance of it receives)."""
        return self.more


class PutAwayRefused(InboundRefused):
    """A put-away refused: nothing of that product in the dock, a bin that may not take it…"""


# --- views -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptLineView:
    """One line of a receipt."""

    line_no: int
    sku: str
    #: The product's name ("" for a product the catalogue does not know).
    name: str
    expected: int
    received: int
    lot: str | None
    expiry: date | None
    #: A lead's reason for accepting it (an over-receipt, not on the notice, unknown).
    accepted_reason: str | None
    #: False for a product the catalogue does not know (accepted by a lead, never stocked).
    known: bool = True

    @property
    def complete(self) -> bool:
        """Everything expected is here (never for a line not on the notice)."""
        return self.expected > 0 and self.received >= self.expected

    @property
    def missing(self) -> int:
        return max(0, self.expected - self.received)


@dataclass(frozen=True)
class ReceiptView:
    """A receipt as the station draws it."""

    reference: str
    supplier: str | None
    expected_at: date | None
    #: expected, open, closed, cancelled.
    status: str
    lines: tuple[ReceiptLineView, ...]
    expected_units: int
    received_units: int
    held_by_terminal: str | None = None
    #: The name of the operator receiving it now.
    held_by: str | None = None

    @property
    def complete(self) -> bool:
        """Every line on the notice received in full."""
        return all(ln.received >= ln.expected for ln in self.lines)


@dataclass(frozen=True)
class ReceiptSummary:
    """A receipt in a list."""

    reference: str
    supplier: str | None
    expected_at: date | None
    status: str
    lines: int
    expected_units: int
    received_units: int
    held_by_terminal: str | None = None
    held_by: str | None = None


@dataclass(frozen=True)
class Received:
    """Units received by one scan (or a keyed count, or a lead's acceptance)."""

    view: ReceiptView
    line: ReceiptLineView
    #: Units this action added (negative when a keyed count lowered the last scan).
    added: int
    #: What one scan of that code stands for: the case's units, else 1.
    units_per_scan: int
    lot: str | None = None
    expiry: date | None = None
    #: Something the operator should know about the scan, e.g. a GS1 lot the notice does not
    #: list ("lot L9 is not on the notice: counted on SKU-00003 line 1"), else None.
    note: str | None = None

    @property
    def expected_units(self) -> int:
        return self.view.expected_units

    @property
    def received_units(self) -> int:
        return self.view.received_units


#: The kinds of :class:`Discrepancy`.
SHORT, OVER, UNKNOWN, NOT_ON_NOTICE = "short", "over", "unknown", "not_on_notice"


@dataclass(frozen=True)
class Discrepancy:
    """A line received other than its notice said."""

    line_no: int
    sku: str
    name: str
    #: short, over, unknown (not in the catalogue) or not_on_notice.
    kind: str
    expected: int
    received: int
    accepted_reason: str | None = None

    @property
    def difference(self) -> int:
        """Received minus expected (negative when short)."""
        return self.received - self.expected


@dataclass(frozen=True)
class Discrepancies:
    """What a closed receipt lacked or had too much of; lines received exactly are left out."""

    reference: str
    lines: tuple[Discrepancy, ...]
    expected_units: int
    received_units: int

    @property
    def clean(self) -> bool:
        return not self.lines


@dataclass(frozen=True)
class DockItem:
    """Units of one product waiting in the dock for put-away."""

    sku: str
    name: str
    units: int


@dataclass(frozen=True)
class Suggestion:
    """Where a product waiting in the dock should go."""

    sku: str
    name: str
    #: Units of it waiting in the dock.
    units: int
    #: The suggested bin; None when no bin fits (any active pick or reserve bin is accepted).
    bin: str | None
    #: Why that bin, in words.
    why: str


@dataclass(frozen=True)
class PutAwayDone:
    """Units put away from the dock into a bin."""

    sku: str
    name: str
    bin: str
    units: int
    #: Units of the product still waiting in the dock.
    left_in_dock: int
    #: Orders held short of the SKU that the put-away released.
    released: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BackOfficeLine:
    """One line of ``receive_lines``: units received, and where they were put."""

    sku: str
    units: int
    #: The bin they were put away into.
    bin: str


@dataclass(frozen=True)
class BackOfficeReceipt:
    """What ``picker inbound receive`` did."""

    reference: str
    #: The reference was not known: a receipt was created (source "cli").
    created: bool
    lines: tuple[BackOfficeLine, ...]
    view: ReceiptView
    #: Set when the receipt was closed (``close=True``).
    discrepancies: Discrepancies | None = None
    released: list[str] = field(default_factory=list)
