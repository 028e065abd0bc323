"""The returns station: a returned parcel opened by one scan, each unit scanned, judged and put
away, the return closed with its refund. One transaction per scan, the scan journaled in it
(a refused scan changes nothing and is journaled by the screen, as at picking and packing).

A return is held by the terminal receiving it (``returns.held_by_terminal``, claimed by a
conditional UPDATE): a second terminal scanning the same parcel is told who has it, and the same
terminal after a crash finds the same counts, since every unit is committed as it is scanned.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from picker.config import Settings
from picker.domain.returns import Condition, UnknownCondition, parse_condition
from picker.services import scans
from picker.services.actors import Actor, Clock, allow, system_clock
from picker.services.errors import Conflict
from picker.services.orders.lead_actions import retry_held_short
from picker.services.returns import _core as core
from picker.services.returns.shapes import (
    STATION,
    Closed,
    PutAway,
    ReturnBusy,
    ReturnRefused,
    ReturnView,
)
from picker.services.scans import ScanOutcome
from picker.store.engine import Database
from picker.store.models import Order, Product, Return, ReturnUnit

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
    now = clock()

    def work(s: Session) -> ReturnView:
        found = core.find(s, text)
        return_id = found.return_id
        if return_id is not None:
            status = s.scalar(select(Return.status).where(Return.id == return_id))
            if status not in core.ACTIVE:
                number = s.scalar(select(Return.number).where(Return.id == return_id))
                raise ReturnRefused(
                    f"{number} is {status}: scan the order to receive another return of it."
                )
        else:
            return_id = core.active_return(s, found.order_id)
        if return_id is None:
            order = core.check_returnable(s, found.order_id)
            return_id, _ = core.create(s, actor, order, now, status="open")
        else:
            status = s.scalar(select(Return.status).where(Return.id == return_id))
            if status == "authorized":  # an RMA of goods that may no longer come back
                core.check_returnable(s, found.order_id)
        # One return at a time per terminal: another it held is parked (left open, unclaimed).
        s.execute(
            update(Return)
            .where(Return.held_by_terminal == actor.terminal_id, Return.id != return_id)
            .values(held_by_terminal=None, held_by=None)
        )
        core.claim(s, actor, return_id, now)
        _journal(s, actor, scan, found.order_id, now)
        return core.view(s, return_id)

    return db.run(work)


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
    now = clock()

    def work(s: Session) -> ReturnView:
        ret = core.load_held(s, actor, number)
        core.refuse_if_pending(s, ret.number, ret.id)
        order_number = _order_number(s, ret.order_id)
        core.count_unit(s, actor, ret, order_number, code, now)
        _journal(s, actor, scan, ret.order_id, now)
        return core.view(s, ret.id)

    return db.run(work)


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
    try:
        judged = parse_condition(condition)
    except UnknownCondition as exc:
        raise ReturnRefused(str(exc)) from None
    words = core.clean_note(note)
    now = clock()

    def work(s: Session) -> ReturnView:
        ret = core.load_held(s, actor, number)
        p = core.pending(s, ret.id)
        if p is None:
            raise ReturnRefused(f"{ret.number}: scan an item first, then its condition.")
        core.apply_condition(s, actor, settings, ret, p, judged, words, now)
        _journal(s, actor, scan, ret.order_id, now)
        return _after_unit(s, actor, ret, settings, now)

    return db.run(work)


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
    now = clock()

    def work(s: Session) -> tuple[PutAway, str]:
        ret = core.load_held(s, actor, number)
        p = core.pending(s, ret.id)
        if p is None or p.product_id is None:
            raise ReturnRefused(f"{ret.number}: no unit waits for a bin; scan an item first.")
        if p.condition is None:
            raise ReturnRefused(
                f"{ret.number}: say the condition of {p.sku} first (CMD-RESELL for a shelf)."
            )
        bin_id, code = core.resell_bin(s, bin_code)
        core.stock_unit(s, actor, p.unit_id, p.product_id, bin_id, ret.order_id, now)
        _journal(s, actor, scan, ret.order_id, now)
        return PutAway(_after_unit(s, actor, ret, settings, now), p.sku, code), p.sku

    done, sku = db.run(work)
    try:
        released = retry_held_short(db, actor=actor, settings=settings, clock=clock, sku=sku)
    except Conflict:  # another terminal changed a held order meanwhile: the lead retries it
        released = []
    names = tuple(r.number for r in released if r.released)
    return PutAway(done.view, done.sku, done.bin, names)


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
    words = core.clean_note(note)
    if words is None:
        raise ReturnRefused("Say what came that is not ours (a foreign item, an empty box).")
    now = clock()

    def work(s: Session) -> ReturnView:
        ret = core.load_held(s, actor, number)
        p = core.pending(s, ret.id)
        if p is not None and p.condition is not None:
            raise ReturnRefused(f"{ret.number}: put {p.sku} in a bin first (scan the bin).")
        if p is not None:  # the unit just scanned is not ours after all
            core.apply_condition(s, actor, settings, ret, p, Condition.FOREIGN, words, now)
        else:
            core.add_foreign(s, actor, ret.id, words, now)
        _journal(s, actor, scan, ret.order_id, now)
        return _after_unit(s, actor, ret, settings, now)

    return db.run(work)


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
    now = clock()

    def work(s: Session) -> ReturnView:
        ret = core.load_held(s, actor, number)
        last = s.execute(
            select(ReturnUnit.id, ReturnUnit.order_line_id, ReturnUnit.stocked, Product.sku)
            .outerjoin(Product, Product.id == ReturnUnit.product_id)
            .where(ReturnUnit.return_id == ret.id)
            .order_by(ReturnUnit.id.desc())
            .limit(1)
        ).first()
        if last is None:
            raise ReturnRefused(f"{ret.number}: nothing received yet, nothing to undo.")
        if last.stocked:
            core.unstock_unit(s, actor, last.id, last.sku or "unit", ret.order_id, now)
        if last.order_line_id is not None:
            core.uncount(s, last.order_line_id)
        s.execute(delete(ReturnUnit).where(ReturnUnit.id == last.id))
        _journal(s, actor, scan, ret.order_id, now)
        return core.view(s, ret.id)

    return db.run(work)


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
    now = clock()

    def work(s: Session) -> ReturnView:
        ret = core.load_held(s, actor, number)
        s.execute(
            update(Return)
            .where(Return.id == ret.id, Return.held_by_terminal == actor.terminal_id)
            .values(held_by_terminal=None, held_by=None, version=Return.version + 1)
        )
        _journal(s, actor, scan, ret.order_id, now)
        return core.view(s, ret.id)

    return db.run(work)


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
    now = clock()

    def work(s: Session) -> Closed:
        ret = core.load_held(s, actor, number)
        closed = core.close(s, actor, ret, exchange=exchange, settings=settings, now=now)
        _journal(s, actor, scan, ret.order_id, now)
        return closed

    return db.run(work)


# --- shared ----------------------------------------------------------------------------------


def _journal(
    s: Session, actor: Actor, scan: ScanOutcome | None, order_id: int, now: datetime
) -> None:
    if scan is not None:
        scans.journal(s, actor, STATION, STATION, scan.for_order(order_id), at=now)


def _order_number(s: Session, order_id: int) -> str:
    return str(s.scalar(select(Order.number).where(Order.id == order_id)))


def _after_unit(
    s: Session, actor: Actor, ret: Return, settings: Settings, now: datetime
) -> ReturnView:
    """The view after a unit was judged or put away; the return closed by itself when
    ``[returns] auto_close`` and everything its RMA expects is here and judged (not an
    exchange: its replacement is keyed at the close)."""
    if settings.returns.auto_close and not ret.exchange:
        lines = core.line_views(s, ret)
        if core.is_complete(lines, core.pending(s, ret.id)):
            closed = core.close(s, actor, ret, exchange=None, settings=settings, now=now)
            return core.view(s, ret.id, closed)
    return core.view(s, ret.id)
