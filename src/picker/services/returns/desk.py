"""The returns station: a returned parcel opened by one scan, each unit scanned, judged and put
away, the return closed with its refund. One transaction per scan, the scan journaled in it."""

from __future__ import annotations

from collections.abc import Sequence

from picker.config import Settings
from picker.domain.returns import Condition
from picker.services.actors import Actor, Clock, allow, system_clock
from picker.services.returns.shapes import (
    Closed,
    PutAway,
    ReturnBusy,
    ReturnRefused,
    ReturnView,
)
from picker.services.scans import ScanOutcome
from picker.store.engine import Database

__all__ = [
    "Closed",
    "PutAway",
    "ReturnBusy",
    "ReturnRefused",
    "ReturnView",
    "close",
    "foreign",
    "judge",
    "open_return",
    "park",
    "put_away",
    "scan_item",
    "undo_last",
]


def open_return(
    db: Database,
    actor: Actor,
    text: str,
    *,
    settings: Settings,
    clock: Clock = system_clock,
    scan: ScanOutcome | None = None,
) -> ReturnView:
    """Open (or resume) the return of the order ``text`` names: a tracking number (the parcel
    it went out in, or the return label's), our order number, the shop's order number, or an
    RMA number. The order's active return is found or created, and claimed for this terminal.

    Refused (:class:`ReturnBusy`) while another terminal receives it; (:class:`ReturnRefused`)
    when nothing of the order was shipped, or everything shipped came back already."""
    allow(actor, "returns.desk.open_return")
    raise NotImplementedError


def scan_item(
    db: Database,
    actor: Actor,
    number: str,
    code: str,
    *,
    settings: Settings,
    clock: Clock = system_clock,
    scan: ScanOutcome | None = None,
) -> ReturnView:
    """A unit of the return scanned (a product barcode or SKU): a pending unit, counted on its
    order line's ``returned_qty``. Refused when the product is not in the order, when more
    would be back than was shipped, or while another unit waits for its condition or bin."""
    allow(actor, "returns.desk.scan_item")
    raise NotImplementedError


def judge(
    db: Database,
    actor: Actor,
    number: str,
    condition: Condition | str,
    *,
    note: str | None = None,
    settings: Settings,
    clock: Clock = system_clock,
    scan: ScanOutcome | None = None,
) -> ReturnView:
    """The pending unit's condition: damaged / defect / incomplete go to the quarantine bin at
    once (stock and ledger ``return``); scrap needs ``note`` (why) and moves no stock; resell
    waits for its bin (:func:`put_away`); foreign (needs ``note``) makes it a unit not ours."""
    allow(actor, "returns.desk.judge")
    raise NotImplementedError


def put_away(
    db: Database,
    actor: Actor,
    number: str,
    bin_code: str,
    *,
    settings: Settings,
    clock: Clock = system_clock,
    scan: ScanOutcome | None = None,
) -> PutAway:
    """The pending resellable unit into ``bin_code`` (an active bin, not quarantine): stock and
    ledger (``return``). Then orders held short for its SKU are tried again and assigned
    (``PutAway.released``)."""
    allow(actor, "returns.desk.put_away")
    raise NotImplementedError


def foreign(
    db: Database,
    actor: Actor,
    number: str,
    note: str,
    *,
    settings: Settings,
    clock: Clock = system_clock,
    scan: ScanOutcome | None = None,
) -> ReturnView:
    """A unit that is not ours (a foreign item, an empty box), recorded with ``note``. A unit
    still waiting for its condition becomes that unit (no longer counted as the order's)."""
    allow(actor, "returns.desk.foreign")
    raise NotImplementedError


def undo_last(
    db: Database,
    actor: Actor,
    number: str,
    *,
    settings: Settings,
    clock: Clock = system_clock,
    scan: ScanOutcome | None = None,
) -> ReturnView:
    """Take back the last unit of this open return: its count, and its stock (ledger
    ``return_undo``) while that unit is still free in its bin; refused in words otherwise."""
    allow(actor, "returns.desk.undo_last")
    raise NotImplementedError


def park(
    db: Database,
    actor: Actor,
    number: str,
    *,
    clock: Clock = system_clock,
    scan: ScanOutcome | None = None,
) -> ReturnView:
    """Leave the return open and unclaimed: another terminal may take it on."""
    allow(actor, "returns.desk.park")
    raise NotImplementedError


def close(
    db: Database,
    actor: Actor,
    number: str,
    *,
    exchange: Sequence[tuple[str, int]] | None = None,
    settings: Settings,
    clock: Clock = system_clock,
    scan: ScanOutcome | None = None,
) -> Closed:
    """Close the return in one transaction: the refund (goods, and shipping per
    ``[returns] refund_shipping``; for an exchange only what the returned goods cost beyond the
    replacement), the order ``returned`` when every shipped unit came back (else it stays
    executed / delivered), the ``return_received`` messages (customer and shop), and with
    ``exchange`` (SKU, quantity each) the replacement order. Refused while a unit is pending."""
    allow(actor, "returns.desk.close")
    raise NotImplementedError
