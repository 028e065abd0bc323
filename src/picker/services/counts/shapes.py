"""What the count services hand back and refuse with: the shapes the counting station, the
command line and the lead share."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from picker.domain.text import plural
from picker.services.errors import ServiceError

STATION = "counting"


class CountRefused(ServiceError):
    """A count action refused: the message names what is wrong and what to do; nothing was
    changed."""


class CountBusy(CountRefused):
    """The bin is being counted at another terminal."""

    def __init__(self, number: str, bin_code: str, terminal: str, operator: str | None) -> None:
        self.number, self.bin, self.terminal, self.operator = number, bin_code, terminal, operator
        by = f" by {operator}" if operator else ""
        super().__init__(f"{bin_code} is being counted at {terminal}{by} ({number})")


class RecountBySameOperator(CountRefused):
    """A recount must be made by someone other than the first counter."""

    def __init__(self, number: str, first: str | None) -> None:
        self.number, self.first = number, first
        who = f" ({first} counted it first)" if first else ""
        super().__init__(f"{number} must be recounted by someone else{who}")


@dataclass(frozen=True)
class CountSummary:
    """A count task in a list (planned, running, waiting, closed)."""

    number: str
    bin: str
    zone: str
    pick_seq: int
    status: str
    round: int
    plan_reason: str | None
    planned_at: datetime
    #: The bin's last closed count before this one (None: never counted).
    counted_at: datetime | None
    held_by_terminal: str | None
    held_by: str | None
    closed_at: datetime | None = None


class PlannedCounts(list[CountSummary]):
    """The tasks a plan created (least recently counted first); ``skipped`` names the bins left
    out because a count of them is already active (``A-01-02-1 (CNT-000012, counting)``)."""

    def __init__(self, planned: list[CountSummary], skipped: tuple[str, ...] = ()) -> None:
        super().__init__(planned)
        self.skipped = skipped


@dataclass(frozen=True)
class CountLineView:
    """One product of a round: what was counted; ``expected`` only in a view that is not blind
    (the lead's), never at the station."""

    round: int
    sku: str
    name: str
    counted: int
    expected: int | None = None
    counted_by: str | None = None


@dataclass(frozen=True)
class CountView:
    """A count as a screen or the lead sees it. ``blind``: the counter's view — only what was
    counted so far this round, never an expected quantity."""

    number: str
    bin: str
    status: str
    round: int
    blind: bool
    lines: tuple[CountLineView, ...]
    #: The product a keyed number applies to (the last one scanned this round).
    last_sku: str | None
    held_by_terminal: str | None
    held_by: str | None
    plan_reason: str | None
    first_counter: str | None = None
    decided_by: str | None = None
    decision_reason: str | None = None
    planned_at: datetime | None = None
    closed_at: datetime | None = None

    @property
    def units(self) -> int:
        """Units counted this round."""
        return sum(ln.counted for ln in self.lines if ln.round == self.round)

    def counted(self, sku: str) -> int:
        """Units of ``sku`` counted this round."""
        return sum(ln.counted for ln in self.lines if ln.round == self.round and ln.sku == sku)


@dataclass(frozen=True)
class ProductResult:
    """One product of a finished count: the bin's stock when it was compared, what was counted,
    and the difference (counted − expected)."""

    sku: str
    name: str
    expected: int
    counted: int

    @property
    def difference(self) -> int:
        return self.counted - self.expected


@dataclass(frozen=True)
class CountResult:
    """What finishing (or deciding) a count did. ``status``: ``done`` (no difference, or the
    stock adjusted), ``recount`` (another operator must count again), ``approval`` (waits for a
    lead, stock unchanged), ``rejected``."""

    number: str
    bin: str
    status: str
    round: int
    products: tuple[ProductResult, ...]
    adjusted: bool
    #: Orders whose reservations the count took away, reserved again from other bins.
    re_reserved: tuple[str, ...] = ()
    #: Orders put on hold (``short: SKU``): nothing left elsewhere.
    held: tuple[str, ...] = ()
    #: Orders held short released because the count found more.
    released: tuple[str, ...] = ()
    #: What the orders held at a picking station left in totes: (order, tote) to the problem
    #: shelf.
    totes_to_shelf: tuple[tuple[str, str], ...] = field(default=())

    @property
    def differences(self) -> tuple[ProductResult, ...]:
        return tuple(p for p in self.products if p.difference)

    @property
    def words(self) -> str:
        """The result in words, for the counter or the lead."""
        if self.status == "recount":
            return (
                f"{self.bin} differs from the stock: another operator must recount {self.bin} "
                f"({self.number})"
            )
        if self.status == "approval":
            return f"{self.bin}: the difference waits for a lead's approval ({self.number})"
        if self.status == "rejected":
            return f"{self.number} rejected: the stock of {self.bin} is unchanged"
        if self.status == "cancelled":
            return f"{self.number} cancelled"
        if not self.adjusted:
            return f"{self.bin} counted: no difference"
        diffs = ", ".join(f"{p.difference:+d} {p.sku}" for p in self.differences)
        parts = [f"{self.bin} adjusted: {diffs}"]
        if self.re_reserved:
            parts.append("re-reserved elsewhere: " + ", ".join(self.re_reserved))
        if self.held:
            parts.append("held short: " + ", ".join(self.held))
        if self.released:
            parts.append("released: " + ", ".join(self.released))
        return "; ".join(parts)


def planned_words(planned: PlannedCounts) -> str:
    """``3 counts planned; 1 bin skipped (A-01-02-1 (CNT-000012, counting))``."""
    text = f"{plural(len(planned), 'count')} planned"
    if planned.skipped:
        text += f"; {plural(len(planned.skipped), 'bin')} skipped ({', '.join(planned.skipped)})"
    return text
