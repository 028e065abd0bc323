"""An order's whole story, in time order (``picker order timeline``, the customer-service desk).

Every table that records something that happened to an order is a *source*: one small function
that reads its rows for one order with one indexed query and turns them into :class:`Entry`
lines (when, what, who, where). :data:`SOURCES` lists them; adding a source (courier tracking
events, COD settlement) is one function and one entry in that list.

The JSON of :meth:`Timeline.as_json` is documented and stable: keys are only ever added.
Times are ISO 8601 in UTC, as every other JSON output of Picker writes them. Texts are
returned as stored (a customer's or a scanner's text included): the caller shows them
literally (``printable`` on a terminal, markup escaped in the TUI).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, bindparam, func, select, union
from sqlalchemy.orm import Session, aliased

from picker.domain.courier_events import WORDS as COURIER_WORDS
from picker.domain.courier_events import CourierStatus
from picker.services.cod import settlements_in
from picker.services.errors import NotFound
from picker.store.engine import Database
from picker.store.models import (
    Bin,
    Courier,
    CourierPickup,
    Operator,
    Order,
    OrderEvent,
    OutboxMessage,
    PackagingType,
    Parcel,
    PrintJob,
    Product,
    Return,
    ReturnLine,
    ReturnUnit,
    ScanJournal,
    TrackingEvent,
)

# What happened first when several things share one instant (one transaction writes them all
# with the same time): the scan, then what it opened, closed or queued, then the status it
# moved the order to, then what was to be told about it.
SCAN, OPENED, PARCEL, PRINT, CLOSED, STATUS, MESSAGE, PRINTED, SENT = range(0, 90, 10)


@dataclass(frozen=True)
class Entry:
    """One line of an order's story."""

    at: datetime
    kind: str
    """What recorded it: status, scan, parcel, print, pickup, message (sources add theirs)."""
    what: str
    operator: str | None
    """The operator's badge; None when no operator acted (a data feed, a dispatcher)."""
    terminal: str | None
    """Where: the terminal (or the worker, ``host:pid``) that did it; None when not recorded."""
    source: str | None = None
    """The data feed (``OSUSER@HOST``) that acted when no operator did."""
    rank: int = field(default=STATUS, compare=False)
    """Order among entries of the same instant (see the constants above)."""
    row: int = field(default=0, compare=False)
    """The row's id in its table: order among entries of one source and instant."""

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "kind": self.kind,
            "what": self.what,
            "operator": self.operator,
            "terminal": self.terminal,
            "source": self.source,
        }


@dataclass(frozen=True)
class Timeline:
    order: str
    status: str
    customer: str
    entries: tuple[Entry, ...]

    def as_json(self) -> dict[str, Any]:
        return {"order": self.order, "timeline": [e.as_json() for e in self.entries]}


#: A source: (session, order id) -> the order's entries from one table, in one query (built
#: once, with :data:`ORDER_ID` for the order).
Source = Callable[[Session, int], list[Entry]]


def _badge(column: Any) -> Any:
    """The badge of the operator whose id is ``column`` (NULL for none): a scalar subquery on
    the operators' primary key, so a source needs no join per operator column."""
    return select(Operator.badge).where(Operator.id == column).scalar_subquery()


#: The order a source reads: each source's statement is built once, at import, with this
#: parameter (building a statement with subqueries and aliases costs more than running it).
ORDER_ID = bindparam("order_id", type_=Integer)


def _parcel_ids() -> Any:
    return select(Parcel.id).where(Parcel.order_id == ORDER_ID)


def _pickup_ids() -> Any:
    return select(Parcel.pickup_id).where(
        Parcel.order_id == ORDER_ID, Parcel.pickup_id.is_not(None)
    )


def _then(status: str, error: str | None, waiting: str | None = None) -> str:
    """How a job or a message ended, when that is not a line of its own."""
    if status in ("done", "sent"):
        return ""
    if status in ("queued", "sending", "printing"):
        return f" — {waiting or status}" + (f" ({error})" if error else "")
    return f" — {status}" + (f": {error}" if error else "")


# --- the sources ------------------------------------------------------------------------------


_EVENTS = select(
    OrderEvent.id, OrderEvent.at, OrderEvent.from_status, OrderEvent.to_status, OrderEvent.reason,
    OrderEvent.terminal_id, OrderEvent.source, _badge(OrderEvent.operator_id).label("badge"),
).where(OrderEvent.order_id == ORDER_ID)  # fmt: skip


def status_events(s: Session, order_id: int) -> list[Entry]:
    """Every status change (and event kept with the status: a parcel voided, a hold's why)."""
    rows = s.execute(_EVENTS, {"order_id": order_id})
    entries = []
    for r in rows:
        to = r.to_status.value
        if r.from_status is None:
            what = f"new, {to}"
        elif r.from_status.value == to:
            what = f"still {to}"
        else:
            what = f"{r.from_status.value} → {to}"
        what += f": {r.reason}" if r.reason else ""
        entries.append(Entry(r.at, "status", what, r.badge, r.terminal_id, r.source, STATUS, r.id))
    return entries


_SCANS = select(
    ScanJournal.id, ScanJournal.at, ScanJournal.terminal_id, ScanJournal.station,
    ScanJournal.screen, ScanJournal.raw, ScanJournal.kind, ScanJournal.result, ScanJournal.message,
    _badge(ScanJournal.operator_id).label("badge"),
).where(ScanJournal.order_id == ORDER_ID)  # fmt: skip


def scan_entries(s: Session, order_id: int) -> list[Entry]:
    """Every scan journaled against the order, accepted or refused."""
    rows = s.execute(_SCANS, {"order_id": order_id})
    entries = []
    for r in rows:
        where = r.screen or r.station
        what = f"{where}: scanned {r.kind} {r.raw} — {r.result}"
        what += f": {r.message}" if r.message else ""
        entries.append(Entry(r.at, "scan", what, r.badge, r.terminal_id, None, SCAN, r.id))
    return entries


def _parcels_query() -> Any:
    first_label = (
        select(PrintJob.terminal_id)
        .where(PrintJob.parcel_id == Parcel.id, PrintJob.kind == "label",
               PrintJob.reason.is_(None))
        .order_by(PrintJob.id)
        .limit(1)
        .scalar_subquery()
    )  # fmt: skip

    # The scan that handed it over, when the handoff was scanned (the command line's is not):
    # its terminal and operator, each a lookup among the order's scans.
    def handover_scan(column: Any) -> Any:
        handed = aliased(ScanJournal)
        return (
            select(column(handed))
            .where(handed.order_id == ORDER_ID, handed.raw == Parcel.tracking_no,
                   handed.at == Parcel.handed_over_at, handed.result == "accepted")
            .order_by(handed.id)
            .limit(1)
            .scalar_subquery()
        )  # fmt: skip

    scanner = handover_scan(lambda h: _badge(h.operator_id))
    return (
        select(Parcel.id, Parcel.seq, Parcel.tracking_no, Parcel.weight_g, Parcel.closed_at,
               Parcel.handed_over_at, PackagingType.code.label("box"),
               Courier.code.label("courier"), CourierPickup.number.label("pickup"),
               _badge(Parcel.closed_by).label("closer"), first_label.label("close_terminal"),
               func.coalesce(scanner, _badge(CourierPickup.opened_by)).label("hander"),
               handover_scan(lambda h: h.terminal_id).label("hand_terminal"))
        .join(Courier, Courier.id == Parcel.courier_id)
        .outerjoin(PackagingType, PackagingType.id == Parcel.packaging_type_id)
        .outerjoin(CourierPickup, CourierPickup.id == Parcel.pickup_id)
        .where(Parcel.order_id == ORDER_ID)
    )  # fmt: skip


_PARCELS = _parcels_query()


def parcel_entries(s: Session, order_id: int) -> list[Entry]:
    """Each parcel closed (tracking number, box, weight) and handed over to the courier."""
    rows = s.execute(_PARCELS, {"order_id": order_id})
    entries = []
    for r in rows:
        if r.closed_at is not None:
            box = f", {r.box}" if r.box else ""
            weight = f", {r.weight_g} g" if r.weight_g else ""
            what = f"parcel {r.seq} closed: {r.tracking_no} ({r.courier}{box}{weight})"
            entries.append(
                Entry(r.closed_at, "parcel", what, r.closer, r.close_terminal, None, PARCEL, r.id)
            )
        if r.handed_over_at is not None:
            what = f"parcel {r.seq} {r.tracking_no} handed over to {r.courier} on {r.pickup}"
            entries.append(
                Entry(r.handed_over_at, "parcel", what, r.hander, r.hand_terminal, None,
                      PARCEL, r.id)
            )  # fmt: skip
    return entries


_DOCUMENTS = {"label": "label", "manifest": "manifest", "pick_list": "pick list",
              "packing_slip": "packing slip", "floor_sheet": "floor sheet"}  # fmt: skip


def _job_ids() -> Any:
    """The order's jobs, its parcels' and its pickups': a UNION, not an OR, which PostgreSQL
    would answer by reading a whole index of print_jobs (0.8 s on a 1,000,000-order floor)."""
    return union(
        select(PrintJob.id).where(PrintJob.order_id == ORDER_ID),
        select(PrintJob.id).where(PrintJob.parcel_id.in_(_parcel_ids())),
        select(PrintJob.id).where(PrintJob.pickup_id.in_(_pickup_ids())),
    )


_PRINTS = (
    select(PrintJob.id, PrintJob.created_at, PrintJob.kind, PrintJob.printer, PrintJob.title,
           PrintJob.status, PrintJob.last_error, PrintJob.printed_at, PrintJob.reason,
           PrintJob.terminal_id, PrintJob.claimed_by, PrintJob.attempts,
           _badge(func.coalesce(PrintJob.requested_by, Parcel.closed_by,
                                CourierPickup.closed_by)).label("badge"))
    .outerjoin(Parcel, Parcel.id == PrintJob.parcel_id)
    .outerjoin(CourierPickup, CourierPickup.id == PrintJob.pickup_id)
    .where(PrintJob.id.in_(_job_ids()))
)  # fmt: skip


def print_entries(s: Session, order_id: int) -> list[Entry]:
    """The order's documents (labels, reprints, packing slip) and its pickups' manifests, each
    queued, and printed (by whom it was sent)."""
    rows = s.execute(_PRINTS, {"order_id": order_id})
    entries = []
    for r in rows:
        document = f"{_DOCUMENTS.get(r.kind, r.kind)} {r.title or ''}".rstrip()
        tries = f"waiting, {r.attempts} tries" if r.attempts else "waiting"
        if r.reason:
            what = f"{document} printed again on {r.printer}: {r.reason}"
        else:
            what = f"{document} queued for {r.printer}"
        what += _then(r.status, r.last_error, tries)
        entries.append(Entry(r.created_at, "print", what, r.badge, r.terminal_id, None,
                             PRINT, r.id))  # fmt: skip
        if r.printed_at is not None:
            entries.append(Entry(r.printed_at, "print", f"{document} printed on {r.printer}",
                                 None, r.claimed_by, None, PRINTED, r.id))  # fmt: skip
    return entries


def _pickups_query() -> Any:
    manifest_terminal = (
        select(PrintJob.terminal_id)
        .where(PrintJob.pickup_id == CourierPickup.id, PrintJob.kind == "manifest")
        .order_by(PrintJob.id)
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(CourierPickup.id, CourierPickup.number, CourierPickup.opened_at,
               CourierPickup.closed_at, Courier.code,
               _badge(CourierPickup.opened_by).label("opener"),
               _badge(CourierPickup.closed_by).label("closer"),
               manifest_terminal.label("terminal"))
        .join(Courier, Courier.id == CourierPickup.courier_id)
        .where(CourierPickup.id.in_(_pickup_ids()))
    )  # fmt: skip


_PICKUPS = _pickups_query()


def pickup_entries(s: Session, order_id: int) -> list[Entry]:
    """The pickups the order's parcels left on: opened, and closed (the manifest's terminal)."""
    rows = s.execute(_PICKUPS, {"order_id": order_id})
    entries = []
    for r in rows:
        entries.append(Entry(r.opened_at, "pickup", f"pickup {r.number} opened for {r.code}",
                             r.opener, None, None, OPENED, r.id))  # fmt: skip
        if r.closed_at is not None:
            entries.append(Entry(r.closed_at, "pickup", f"pickup {r.number} closed",
                                 r.closer, r.terminal, None, CLOSED, r.id))  # fmt: skip
    return entries


_MESSAGES = select(
    OutboxMessage.id, OutboxMessage.created_at, OutboxMessage.sent_at, OutboxMessage.event,
    OutboxMessage.kind, OutboxMessage.recipient, OutboxMessage.status, OutboxMessage.error,
    OutboxMessage.attempts, OutboxMessage.claimed_by,
).where(OutboxMessage.order_id == ORDER_ID)  # fmt: skip


def message_entries(s: Session, order_id: int) -> list[Entry]:
    """What the customer and the shop were to be told: each message queued, and sent."""
    rows = s.execute(_MESSAGES, {"order_id": order_id})
    entries = []
    for r in rows:
        noun = "mail" if r.kind == "email" else "shop message"
        to = f" to {r.recipient}" if r.recipient else ""
        tries = f"waiting, {r.attempts} tries" if r.attempts else "waiting"
        what = f"{r.event} {noun}{to} queued (message {r.id})" + _then(r.status, r.error, tries)
        entries.append(Entry(r.created_at, "message", what, None, None, None, MESSAGE, r.id))
        if r.sent_at is not None:
            entries.append(Entry(r.sent_at, "message", f"{r.event} {noun} sent{to}",
                                 None, r.claimed_by, None, SENT, r.id))  # fmt: skip
    return entries


_COURIER = (
    select(
        TrackingEvent.id, TrackingEvent.at, TrackingEvent.status, TrackingEvent.raw_status,
        TrackingEvent.location, TrackingEvent.detail, TrackingEvent.source, Parcel.tracking_no,
        Courier.code,
    )
    .join(Parcel, Parcel.id == TrackingEvent.parcel_id)
    .join(Courier, Courier.id == TrackingEvent.courier_id)
    .where(TrackingEvent.parcel_id.in_(_parcel_ids()))
)  # fmt: skip


def courier_entries(s: Session, order_id: int) -> list[Entry]:
    """What the courier said of each parcel (``picker tracking import``), at the courier's time,
    in its own word when that differs from ours."""
    entries = []
    for r in s.execute(_COURIER, {"order_id": order_id}):
        words = COURIER_WORDS[CourierStatus(r.status)]
        what = f"{r.code} {r.tracking_no}: {words}"
        what += f" ({r.raw_status})" if r.raw_status.casefold() != r.status else ""
        what += f" at {r.location}" if r.location else ""
        what += f": {r.detail}" if r.detail else ""
        entries.append(Entry(r.at, "courier", what, None, None, r.source, STATUS, r.id))
    return entries


def cod_entries(s: Session, order_id: int) -> list[Entry]:
    """The courier's cash-on-delivery remittance lines about the order: the one that settled
    its cash, and any kept for the lead with its problem."""
    entries = []
    for line in settlements_in(s, order_id):
        day = f"{line.remitted_at:%Y-%m-%d}"
        paid = (
            f"COD {line.amount} {line.currency} remitted by {line.courier} on {day}"
            f" (ref. {line.reference}, {line.tracking_no})"
        )
        if line.problem is None:
            what = f"{paid}: settled"
        else:
            what = f"{paid}: kept for the lead, {line.problem.words}"
            what += f": {line.detail}" if line.detail else ""
        entries.append(Entry(line.at, "cod", what, line.operator, line.terminal or None,
                             line.source, STATUS, line.id))  # fmt: skip
    return entries


def _return_ids() -> Any:
    """The returns in the order's story: its own (goods of it came back), and the one it is
    the replacement goods of (an exchange): a UNION of two indexed reads."""
    return union(
        select(Return.id).where(Return.order_id == ORDER_ID),
        select(Order.exchange_for_return_id).where(
            Order.id == ORDER_ID, Order.exchange_for_return_id.is_not(None)
        ),
    )


def _money(amount: Decimal | None) -> str:
    """An amount as the timeline says it: two places, or as many as it has."""
    if amount is None:
        return "0.00"
    cents = amount.quantize(Decimal("0.01"))
    return str(cents if cents == amount else amount.normalize())


def _number(column: Any) -> Any:
    """The number of the order whose id is ``column`` (NULL for none): a primary-key lookup."""
    return select(Order.number).where(Order.id == column).scalar_subquery()


def _returns_query() -> Any:
    return select(
        Return.id, Return.number, Return.order_id, Return.status, Return.reason, Return.exchange,
        Return.tracking_no, Return.created_at, Return.opened_at, Return.closed_at,
        Return.refund_amount, Return.refund_shipping, Return.currency, Return.terminal_id,
        _badge(Return.created_by).label("creator"), _badge(Return.closed_by).label("closer"),
        _number(Return.order_id).label("returned"),
        _number(Return.exchange_order_id).label("replacement"),
        select(ReturnLine.id).where(ReturnLine.return_id == Return.id).exists().label("rma"),
    ).where(Return.id.in_(_return_ids()))  # fmt: skip


_RETURNS = _returns_query()


def return_entries(s: Session, order_id: int) -> list[Entry]:
    """The order's returns (and, for a replacement, the return it replaces goods of):
    authorised, opened at the returns desk, closed with the refund, the exchange order."""
    entries = []
    for r in s.execute(_RETURNS, {"order_id": order_id}):
        rma = r.number if r.order_id == order_id else f"{r.number} of {r.returned}"
        why = f" ({r.reason})" if r.reason else ""
        # Authorised ahead (an RMA with the lines it expects), or made when the parcel was
        # opened at the desk (then its opening is its creation).
        authorised = r.rma or r.opened_at is None or r.opened_at > r.created_at
        if authorised:
            what = f"{rma} authorised{why}"
            what += ", an exchange asked" if r.exchange else ""
            what += f", return label {r.tracking_no}" if r.tracking_no else ""
            entries.append(Entry(r.created_at, "return", what, r.creator, r.terminal_id, None,
                                 OPENED, r.id))  # fmt: skip
        if r.opened_at is not None:
            what = f"{rma} opened at the returns desk" + ("" if authorised else why)
            who, where = (None, None) if authorised else (r.creator, r.terminal_id)
            entries.append(Entry(r.opened_at, "return", what, who, where, None, OPENED, r.id))
        if r.closed_at is None:
            continue
        if r.status == "cancelled":
            entries.append(Entry(r.closed_at, "return", f"{rma} cancelled", r.closer, None,
                                 None, CLOSED, r.id))  # fmt: skip
            continue
        what = f"{rma} closed: refund {_money(r.refund_amount)} {r.currency}"
        if r.refund_shipping:
            what += f" (shipping {_money(r.refund_shipping)} of it)"
        entries.append(Entry(r.closed_at, "return", what, r.closer, None, None, CLOSED, r.id))
        if r.replacement is not None:
            what = f"exchange order {r.replacement} created for {r.number} of {r.returned}"
            entries.append(Entry(r.closed_at, "return", what, r.closer, None, None, CLOSED,
                                 r.id))  # fmt: skip
    return entries


_RETURN_UNITS = (
    select(ReturnUnit.id, ReturnUnit.at, ReturnUnit.condition, ReturnUnit.note,
           ReturnUnit.stocked, ReturnUnit.terminal_id, ReturnUnit.order_line_id,
           Return.number, Return.order_id, Product.sku, Bin.code.label("bin"),
           _badge(ReturnUnit.operator_id).label("badge"))
    .join(Return, Return.id == ReturnUnit.return_id)
    .outerjoin(Product, Product.id == ReturnUnit.product_id)
    .outerjoin(Bin, Bin.id == ReturnUnit.bin_id)
    .where(ReturnUnit.return_id.in_(_return_ids()))
)  # fmt: skip

#: What a unit judged so became, by its condition.
_QUARANTINED = ("damaged", "defect", "incomplete")


def return_unit_entries(s: Session, order_id: int) -> list[Entry]:
    """Each unit received in the order's returns (or the return it replaces goods of), and
    how it was judged: resold into a bin, quarantined, scrapped, or not ours."""
    entries = []
    for r in s.execute(_RETURN_UNITS, {"order_id": order_id}):
        what = f"{r.number}: "
        if r.order_line_id is None or r.condition == "foreign":
            what += "not ours (foreign item or empty box)"
            what += f": {r.note}" if r.note else ""
        else:
            what += f"{r.sku or 'a unit'} "
            if r.condition is None:
                what += "received, to be judged"
            elif r.condition == "resell":
                what += f"resell, into {r.bin}" if r.bin and r.stocked else "resell, to a bin"
            elif r.condition in _QUARANTINED:
                what += f"{r.condition}, into quarantine {r.bin}" if r.bin else r.condition
            else:
                what += f"{r.condition}" + (f": {r.note}" if r.note else "")
        # After the return's opening when both share an instant, before its close.
        entries.append(Entry(r.at, "return", what, r.badge, r.terminal_id, None, PARCEL, r.id))
    return entries


#: Every table of the order's story. A new one: a function (session, order id) -> entries,
#: reading with one query indexed by the order, added here.
SOURCES: tuple[Source, ...] = (
    status_events,
    scan_entries,
    parcel_entries,
    print_entries,
    pickup_entries,
    message_entries,
    courier_entries,
    cod_entries,
    return_entries,
    return_unit_entries,
)


def order_timeline(db: Database, number: str, *, sources: Sequence[Source] = SOURCES) -> Timeline:
    """The order ``number``'s story from every source, oldest first (same instant: the
    scan, then its effects; same source: as written). :class:`NotFound` for no such order."""
    wanted = number.strip()
    with db.read() as s:
        order = s.execute(
            select(Order.id, Order.number, Order.status, Order.customer_name).where(
                Order.number == wanted
            )
        ).one_or_none()
        if order is None:
            raise NotFound(f"no order {number}")
        entries = [entry for source in sources for entry in source(s, order.id)]
    entries.sort(key=lambda e: (e.at, e.rank, e.row))
    return Timeline(order.number, order.status.value, order.customer_name, tuple(entries))
