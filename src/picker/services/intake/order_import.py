"""Order intake: import, validate, reserve, assign — and the lead's release and cancel.

Each order is all or nothing: the order, its lines, its events and its reservation are written
together or not at all (on SQLite, under a savepoint in a group of orders that commit together;
on PostgreSQL, in a transaction of its own). Re-importing the same channel + shop order number
changes nothing (``INSERT … ON CONFLICT DO NOTHING`` on the unique key, so two importers racing
each other cannot both create it).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from itertools import islice
from typing import Any

from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from picker.channels.orders import ParsedFile
from picker.config import IntakeSettings, Settings
from picker.domain.intake import IncomingLine, IncomingOrder, RecordError
from picker.domain.picking import PutBack
from picker.domain.reservation import Need
from picker.domain.roles import Role
from picker.domain.statuses import OrderStatus, check_order_transition
from picker.domain.validation import fixable_reasons, record_problems
from picker.services.actors import Actor, Clock, require_lead, system_clock
from picker.services.errors import NotFound, ServiceError, describe_failure
from picker.services.intake.allocation import (
    Assignment,
    assign_ready,
    put_back_picked,
    release_reservation,
    reserve_order,
)
from picker.services.intake.reports import ImportProblem, ImportReport
from picker.services.orders.status import StatusChange, hand_over, move_order
from picker.store import statements as sql
from picker.store.engine import Database, GroupCommit, must_retry
from picker.store.models import (
    Courier,
    CourierService,
    Order,
    OrderLine,
    Parcel,
    ParcelItem,
    PickTask,
    Product,
    Tote,
)

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Lookups:
    """What validation needs from the database, read once per import."""

    products: dict[str, int]  # SKU → product id
    services: dict[tuple[str, str], tuple[int, int, bool]]  # (courier, service) → ids, express

    @classmethod
    def load(cls, s: Session) -> Lookups:
        products = dict(s.execute(select(Product.sku, Product.id).where(Product.active)).all())
        services = {
            (code, service): (courier_id, service_id, express)
            for code, service, courier_id, service_id, express in s.execute(
                select(
                    Courier.code,
                    CourierService.code,
                    Courier.id,
                    CourierService.id,
                    CourierService.express,
                )
                .join(CourierService, CourierService.courier_id == Courier.id)
                .where(Courier.active)
            )
        }
        return cls(products, services)

    def shipping(
        self, intake: IntakeSettings, code: str, title: str
    ) -> tuple[int, int, bool] | None:
        """The courier and service a shop's shipping method maps to (code first, then title)."""
        for key in (code, title):
            target = intake.shipping.get(key.strip().lower()) if key else None
            if target is not None and target in self.services:
                return self.services[target]
        return None


#: Largest amount the store holds exactly (a 64-bit count of 1/10,000 units), with room to sum.
MAX_AMOUNT = Decimal("100000000000")
#: SQLite: the most orders that share one COMMIT, and the longest one group of them holds the
#: write lock; between groups the lock is free while the next records are read and checked.
GROUP_ORDERS = 64
GROUP_SECONDS = 0.020


def _width(column: str) -> int:
    return int(Order.__table__.c[column].type.length)  # type: ignore[attr-defined]


class _Rollback(Exception):
    """Leave the order's transaction without writing anything (dry run, already imported)."""

    def __init__(self, outcome: str) -> None:
        self.outcome = outcome


@dataclass(frozen=True, slots=True)
class _Checked:
    """An order read, checked and judged before the database is touched: what is written."""

    record: int
    row: tuple[Any, ...]  # the orders row, in storage form (see statements.order_row)
    lines: tuple[tuple[int, IncomingLine, int | None], ...]  # (line number, line, product id)
    status: OrderStatus  # the first
    reason: str  # of the first event


_Outcome = str | ImportProblem  # what became of a record: how it was imported, or why not


def import_orders(
    db: Database,
    actor: Actor,
    parsed: ParsedFile,
    *,
    settings: Settings,
    file_name: str,
    dry_run: bool = False,
    clock: Clock = system_clock,
    progress: Progress | None = None,
) -> ImportReport:
    """Import every record of ``parsed``; counts imported / on_hold / already_imported / failed
    (and ``assigned`` for the orders given to pickers at the end).

    Every order is all or nothing. On SQLite consecutive orders share a COMMIT (a group of up to
    :data:`GROUP_ORDERS` orders, or :data:`GROUP_SECONDS` of holding the write lock); records
    are read and checked before the lock is taken. Counts and ``progress`` include only what is
    committed: an import stopped half-way leaves whole orders, and running it again reports
    those as already imported.
    """
    require_lead(actor, "importing orders")
    report = ImportReport()
    with db.read() as s:
        lookups = Lookups.load(s)
    records = iter(parsed.records)
    waiting: deque[_Checked | ImportProblem] = deque()
    solo = 0  # orders to write again one per transaction (their group was lost)
    done = 0
    with db.writer() as conn:
        group = db.group_commit(conn, max_units=GROUP_ORDERS, max_seconds=GROUP_SECONDS)
        while True:
            for record, item in islice(records, max(0, group.max_units - len(waiting))):
                waiting.append(_check(record, item, file_name, lookups, settings.intake))
            if not waiting:
                break
            limit = 1 if solo else group.max_units
            outcomes, unsettled = _write_group(
                conn, group, waiting, limit, actor, clock, dry_run, file_name
            )
            if unsettled:  # written, then lost with their group: each again, on its own
                solo = len(unsettled)
                waiting.extendleft(reversed(unsettled))
            else:
                solo = max(0, solo - len(outcomes))
            for _, outcome in sorted(outcomes, key=lambda o: o[0]):
                if isinstance(outcome, ImportProblem):
                    report.fail(outcome)
                else:
                    report.add(outcome)
            before, done = done, done + len(outcomes)
            if progress and (done // 500 > before // 500 or done == parsed.total):
                progress(done, parsed.total)
    if not dry_run:
        with db.transaction() as s:
            assigned = _assign(s, actor, settings, clock)
        report.add("assigned", len(assigned))
    return report


def _check(
    record: int,
    item: IncomingOrder | RecordError,
    file_name: str,
    lookups: Lookups,
    intake: IntakeSettings,
) -> _Checked | ImportProblem:
    if isinstance(item, RecordError):
        return ImportProblem(file_name, record, item.field, item.reason)
    try:
        return _judge(record, item, lookups, intake)
    except RecordError as exc:
        return ImportProblem(file_name, record, exc.field, exc.reason)


def _write_group(
    conn: Connection,
    group: GroupCommit,
    waiting: deque[_Checked | ImportProblem],
    limit: int,
    actor: Actor,
    clock: Clock,
    dry_run: bool,
    file_name: str,
) -> tuple[list[tuple[int, _Outcome]], list[_Checked]]:
    """Write orders from ``waiting`` until the group is due, and commit them.

    Returns each settled record's outcome, and the orders that were written but lost with
    their group (to be written again).
    """
    outcomes: list[tuple[int, _Outcome]] = []
    written: list[tuple[_Checked, str]] = []
    now = clock()  # the orders of a group are written (and committed) at one moment
    while waiting and len(outcomes) + len(written) < limit and not group.due:
        item = waiting.popleft()
        if isinstance(item, ImportProblem):
            outcomes.append((item.record, item))
            continue
        try:
            written.append((item, _write_retrying(conn, group, item, actor, now, dry_run)))
        except (DBAPIError, OverflowError) as exc:
            why = describe_failure(exc) or f"{type(exc).__name__}: {exc}"
            outcomes.append((item.record, ImportProblem(file_name, item.record, "", why)))
            if group.lost:
                group.rollback()
                return outcomes, [checked for checked, _ in written]
    try:
        group.commit()
    except DBAPIError as exc:
        if len(written) > 1:
            return outcomes, [checked for checked, _ in written]
        why = describe_failure(exc) or f"{type(exc).__name__}: {exc}"
        outcomes += [(c.record, ImportProblem(file_name, c.record, "", why)) for c, _ in written]
        return outcomes, []
    outcomes += [(checked.record, outcome) for checked, outcome in written]
    return outcomes, []


def _write_retrying(
    conn: Connection,
    group: GroupCommit,
    order: _Checked,
    actor: Actor,
    now: datetime,
    dry_run: bool,
) -> str:
    """One order as one unit of the group; a unit that lost a deadlock to another importer
    (PostgreSQL, where each order is its own transaction) is run again."""
    for attempt in range(3):
        try:
            with group.unit():
                return _write(conn, order, actor, now, dry_run)
        except _Rollback as stop:
            return stop.outcome
        except DBAPIError as exc:
            if not must_retry(exc) or attempt == 2:
                raise
    raise AssertionError("unreachable")


def _assign(s: Session, actor: Actor, settings: Settings, clock: Clock) -> list[Assignment]:
    return assign_ready(
        s,
        actor,
        now=clock(),
        max_per_picker=settings.intake.max_orders_per_picker,
        tz=settings.warehouse.tz,
    )


#: (label, width of its orders column, how to read it): text the store cannot hold when longer.
_TEXTS: tuple[tuple[str, int, Callable[[IncomingOrder], str]], ...] = tuple(
    (label, _width(column), read)
    for label, column, read in (
        ("shop order number", "shop_order_no", lambda o: o.shop_order_no),
        ("channel", "channel", lambda o: o.channel),
        ("customer name", "customer_name", lambda o: o.customer_name),
        ("customer email", "customer_email", lambda o: o.customer_email),
        ("ship name", "ship_name", lambda o: o.ship.name),
        ("ship street", "ship_street", lambda o: o.ship.street),
        ("ship street 2", "ship_street2", lambda o: o.ship.street2),
        ("postal code", "ship_postal_code", lambda o: o.ship.postal_code),
        ("city", "ship_city", lambda o: o.ship.city),
        ("region", "ship_region", lambda o: o.ship.region),
        ("phone", "ship_phone", lambda o: o.ship.phone),
        ("shipping method", "shipping_method", lambda o: o.shipping_code or o.shipping_title),
        ("shipping title", "shipping_title", lambda o: o.shipping_title),
    )
)


def _check_record(order: IncomingOrder) -> None:
    """What the store cannot hold as sent is a clear problem, not a database error: over-long
    text (the column sizes of the schema) and impossible amounts."""
    for label, width, read in _TEXTS:
        value = read(order)
        if len(value) > width:
            raise RecordError(label, f"longer than {width} characters ({len(value)})")
    for line in order.lines:
        if len(line.sku) > 64:
            raise RecordError("sku", f"{line.sku[:20]!r}… is longer than 64 characters")
        if abs(line.unit_price) > MAX_AMOUNT:
            raise RecordError("price", f"{line.unit_price} is beyond any real price")
    if abs(order.total) > MAX_AMOUNT:
        raise RecordError("total", f"{order.total} is beyond any real order total")


def _judge(record: int, order: IncomingOrder, lookups: Lookups, intake: IntakeSettings) -> _Checked:
    """Check and validate an order (no database): raises :class:`RecordError` for what cannot
    be stored; every reason for a hold is listed."""
    _check_record(order)
    problems, bad_lines = record_problems(order)
    shipping = lookups.shipping(intake, order.shipping_code, order.shipping_title)
    method = order.shipping_code or order.shipping_title
    ship = order.ship
    reasons = fixable_reasons(
        skus=[line.sku for line in order.lines],
        known_skus=lookups.products,
        name=ship.name,
        street=ship.street,
        city=ship.city,
        postal_code=ship.postal_code,
        country=ship.country,
        shipping_known=shipping is not None,
        shipping_method=method,
        paid=order.paid,
        cod=order.cod,
        payment_state=order.payment_state,
    )
    valid = not problems and not reasons
    courier_id, service_id, express = shipping if shipping else (None, None, False)
    first = OrderStatus.UNHANDLED if valid else OrderStatus.ON_HOLD
    # The first event: the domain says whether a new order may start here.
    check_order_transition(None, first)
    products = lookups.products
    row = sql.order_row(
        channel=order.channel,
        shop_order_no=order.shop_order_no,
        customer_name=order.customer_name,
        customer_email=order.customer_email or None,
        ship_name=ship.name,
        ship_street=ship.street,
        ship_street2=ship.street2 or None,
        ship_postal_code=ship.postal_code,
        ship_city=ship.city,
        ship_region=ship.region or None,
        ship_country=ship.country if len(ship.country) == 2 else "",
        ship_phone=ship.phone or None,
        shipping_method=method,
        shipping_title=order.shipping_title,
        courier_id=courier_id,
        service_id=service_id,
        currency=order.currency,
        total_amount=order.total,
        cod_amount=order.total if order.cod and order.total > 0 else None,
        paid=order.paid,
        payment_state=order.payment_state[:32],
        placed_at=order.placed_at,
        priority=10 if express else 0,
        status=first.value,
        hold_reasons=[*problems, *reasons],
        intake_problems=problems,
        note=order.note or None,
    )
    return _Checked(
        record=record,
        row=row,
        lines=tuple(
            (i + 1, line, products.get(line.sku))
            for i, line in enumerate(order.lines)
            if i not in bad_lines
        ),
        status=first,
        reason="imported" if valid else "; ".join([*problems, *reasons]),
    )


def _write(conn: Connection, order: _Checked, actor: Actor, now: datetime, dry_run: bool) -> str:
    """Write a checked order inside the caller's unit; its outcome, or :class:`_Rollback`."""
    created = sql.insert_order(conn, order.row, now)
    if created is None:
        raise _Rollback("already_imported")  # nothing was written
    order_id, number = created
    line_ids = sql.insert_lines(
        conn, order_id, [(no, line.sku, pid, line.name[:200], line.quantity, line.unit_price)
                         for no, line, pid in order.lines],
    )  # fmt: skip
    sql.insert_event(
        conn, order_id=order_id, at=now, operator_id=actor.operator_id,
        terminal_id=actor.terminal_id, from_status=None, to_status=order.status.value,
        reason=order.reason,
    )  # fmt: skip
    valid = order.status is OrderStatus.UNHANDLED
    outcome = "imported" if valid else "on_hold"
    if valid:
        needs = [
            Need(line_id, pid, line.sku, line.quantity)
            for line_id, (_, line, pid) in zip(line_ids, order.lines, strict=True)
            if pid is not None
        ]
        plan = reserve_order(conn, order_id, now, needs)
        if not plan.complete:
            short = "short: " + ", ".join(plan.short)
            move_order(
                conn, order_id=order_id, number=number, from_=OrderStatus.UNHANDLED,
                version=1, to=OrderStatus.ON_HOLD, actor=actor, reason=short, at=now,
                hold_reasons=[short],
            )  # fmt: skip
            outcome = "on_hold"
    if dry_run:
        raise _Rollback(outcome)
    return outcome


# --- the lead: release, retry, cancel, assign -----------------------------------------------


@dataclass(frozen=True)
class Release:
    number: str
    released: bool
    reasons: tuple[str, ...]  # why it stays on hold (empty when released)


def _recheck(s: Session, order: Order, lookups: Lookups, intake: IntakeSettings) -> list[str]:
    """Validation again, on what is stored: SKUs resolved anew, shipping looked up anew."""
    lines = s.scalars(select(OrderLine).where(OrderLine.order_id == order.id)).all()
    for line in lines:
        line.product_id = lookups.products.get(line.sku)
    shipping = lookups.shipping(intake, order.shipping_method, order.shipping_title)
    order.courier_id, order.service_id = (shipping[0], shipping[1]) if shipping else (None, None)
    order.priority = 10 if shipping and shipping[2] else 0
    s.flush()
    return [
        *order.intake_problems,
        *fixable_reasons(
            skus=[line.sku for line in lines],
            known_skus=lookups.products,
            name=order.ship_name,
            street=order.ship_street,
            city=order.ship_city,
            postal_code=order.ship_postal_code,
            country=order.ship_country,
            shipping_known=shipping is not None,
            shipping_method=order.shipping_method,
            paid=order.paid,
            cod=order.cod_amount is not None,
            payment_state=order.payment_state or ("paid" if order.paid else "unpaid"),
        ),
    ]


def _release(
    s: Session, actor: Actor, order: Order, lookups: Lookups, intake: IntakeSettings, now: datetime,
    reason: str,
) -> Release:  # fmt: skip
    if order.status is not OrderStatus.ON_HOLD:
        raise ServiceError(f"order {order.number} is {order.status.value}, not on hold")
    reasons = _recheck(s, order, lookups, intake)
    if not reasons and _all_in_parcels(s, order.id):
        return _back_to(s, actor, order, OrderStatus.PACKED, now, f"{reason}; back to its lane")
    if not reasons and _all_picked(s, order.id):
        return _back_to_packing(s, actor, order, now, reason)
    reserved = s.scalar(
        select(func.count())
        .select_from(PickTask)
        .where(PickTask.order_id == order.id, PickTask.retired_at.is_(None))
    )
    if not reasons and not reserved:
        plan = reserve_order(s.connection(), order.id, now)
        if not plan.complete:
            reasons = ["short: " + ", ".join(plan.short)]
    if reasons:
        s.execute(
            update(Order).where(Order.id == order.id).values(hold_reasons=reasons, updated_at=now)
        )
        return Release(order.number, False, tuple(reasons))
    # Its picker of before (a shortage held it mid-pick) is not kept: it is given out afresh.
    move_order(
        s, order_id=order.id, number=order.number, from_=order.status, version=order.version,
        to=OrderStatus.UNHANDLED, actor=actor, reason=reason, at=now, hold_reasons=[],
        assignee_id=None,
    )  # fmt: skip
    _free_tote(s, order.id)  # from the problem shelf: emptied (put back) when it was held
    return Release(order.number, True, ())


def _free_tote(s: Session, order_id: int) -> None:
    s.execute(
        update(Tote)
        .where(Tote.order_id == order_id)
        .values(order_id=None, bound_at=None, location=None)
    )


def _all_picked(s: Session, order_id: int) -> bool:
    """Every unit of the order is picked (in its tote, or in parcels): held at packing."""
    ordered = s.scalar(select(func.sum(OrderLine.quantity)).where(OrderLine.order_id == order_id))
    picked = s.scalar(select(func.sum(PickTask.picked)).where(PickTask.order_id == order_id))
    return bool(ordered) and picked == ordered


def _all_in_parcels(s: Session, order_id: int) -> bool:
    """Every unit of the order is in closed (or handed over) parcels and none is open: held
    after packing (a parcel missing at a pickup, since found)."""
    ordered = s.scalar(select(func.sum(OrderLine.quantity)).where(OrderLine.order_id == order_id))
    packed = s.scalar(
        select(func.sum(ParcelItem.quantity))
        .join(Parcel, Parcel.id == ParcelItem.parcel_id)
        .where(Parcel.order_id == order_id, Parcel.status.in_(("closed", "handed_over")))
    )
    still_open = s.scalar(
        select(func.count())
        .select_from(Parcel)
        .where(Parcel.order_id == order_id, Parcel.status == "open")
    )
    return bool(ordered) and packed == ordered and not still_open


def _back_to(
    s: Session, actor: Actor, order: Order, to: OrderStatus, now: datetime, reason: str
) -> Release:
    move_order(
        s, order_id=order.id, number=order.number, from_=order.status, version=order.version,
        to=to, actor=actor, reason=reason, at=now, hold_reasons=[],
    )  # fmt: skip
    return Release(order.number, True, ())


def _back_to_packing(s: Session, actor: Actor, order: Order, now: datetime, reason: str) -> Release:
    """A held order whose goods are all picked goes back to the packing table with its tote
    (what was verified into its open parcel is kept) for any packer to open."""
    move_order(
        s, order_id=order.id, number=order.number, from_=order.status, version=order.version,
        to=OrderStatus.PICKED, actor=actor, reason=f"{reason}; back to packing", at=now,
        hold_reasons=[], packer_id=None, held_by_terminal=None,
    )  # fmt: skip
    s.execute(update(Tote).where(Tote.order_id == order.id).values(location="packing"))
    return Release(order.number, True, ())


def _load(s: Session, number: str) -> Order:
    order = s.scalars(select(Order).where(Order.number == number).with_for_update()).one_or_none()
    if order is None:
        raise NotFound(f"no order {number}")
    return order


def release_order(
    db: Database,
    actor: Actor,
    number: str,
    *,
    settings: Settings,
    reason: str = "released by lead",
    clock: Clock = system_clock,
) -> Release:
    """A lead releases a hold: validation and reservation run again; still wrong → stays held
    with the reasons of now."""
    require_lead(actor, "releasing an order")
    with db.transaction() as s:
        lookups = Lookups.load(s)
        result = _release(s, actor, _load(s, number), lookups, settings.intake, clock(), reason)
        if result.released:
            _assign(s, actor, settings, clock)
    return result


def retry_short_orders(
    db: Database, actor: Actor, *, settings: Settings, clock: Clock = system_clock
) -> list[Release]:
    """After stock arrived: every order held only for shortage is tried again, oldest first."""
    with db.read() as s:
        held = s.execute(
            select(Order.number, Order.hold_reasons)
            .where(Order.status == OrderStatus.ON_HOLD)
            .order_by(Order.placed_at, Order.id)
        ).all()
    numbers = [n for n, reasons in held if reasons and all(r.startswith("short:") for r in reasons)]
    results = []
    with db.read() as s:
        lookups = Lookups.load(s)
    for number in numbers:
        with db.transaction() as s:
            order = _load(s, number)
            if order.status is OrderStatus.ON_HOLD:
                results.append(
                    _release(s, actor, order, lookups, settings.intake, clock(), "stock arrived")
                )
    if any(r.released for r in results):
        with db.transaction() as s:
            _assign(s, actor, settings, clock)
    return results


#: Statuses with goods already in totes or parcels: holding or cancelling them needs a put-back,
#: which comes with the picking and packing stations; until then the lead is told so.
_GOODS_OUT = (OrderStatus.PICKING, OrderStatus.PICKED, OrderStatus.PACKING, OrderStatus.PACKED)


def _reason(text: str, what: str) -> str:
    text = " ".join(text.split())
    if not text or not text.isprintable():
        raise ServiceError(f"say why the order {what} (printable text)")
    return text


def _stop_order(
    db: Database, actor: Actor, number: str, to: OrderStatus, reason: str, clock: Clock
) -> StatusChange:
    """Hold or cancel: the reservation is given back and the picker freed, in one transaction."""
    with db.transaction() as s:
        order = _load(s, number)
        if order.status in _GOODS_OUT:
            raise ServiceError(
                f"order {number} is {order.status.value}: picked goods must be put back first, "
                "which the picking and packing stations do"
            )
        cancel = to is OrderStatus.CANCELLED
        if cancel:
            _refuse_packed_parcels(s, order)
        reasons = [*order.hold_reasons, reason] if to is OrderStatus.ON_HOLD else None
        change = move_order(
            s, order_id=order.id, number=order.number, from_=order.status, version=order.version,
            to=to, actor=actor, reason=reason, at=clock(), assignee_id=None,
            **({"hold_reasons": reasons} if reasons is not None else {}),
        )  # fmt: skip
        release_reservation(s, order.id, change.at)
        back: tuple[PutBack, ...] = ()
        if cancel:
            # A held order's tote (and the box it was being packed into) may still hold what
            # was picked: emptied at the problem shelf, each unit back to its bin.
            back = put_back_picked(s, actor, order.id, change.at)
            open_parcel = select(Parcel.id).where(
                Parcel.order_id == order.id, Parcel.status == "open"
            )
            s.execute(delete(ParcelItem).where(ParcelItem.parcel_id.in_(open_parcel)))
            s.execute(delete(Parcel).where(Parcel.id.in_(open_parcel)))
        _free_tote(s, order.id)
        return replace(change, put_back=back)


def _refuse_packed_parcels(s: Session, order: Order) -> None:
    """An order with parcels closed (labelled) or with a courier is not cancelled here: its
    goods are not in a tote. Void the closed ones first (the goods come back to the packing
    table); one with the courier is a return."""
    packed = s.scalar(
        select(func.count())
        .select_from(Parcel)
        .where(Parcel.order_id == order.id, Parcel.status.in_(("closed", "handed_over")))
    )
    if packed:
        raise ServiceError(
            f"order {order.number} has {packed} parcel(s) closed or with the courier: void the "
            "closed ones first (picker parcel void); one with the courier is a return"
        )


def hold_order(
    db: Database, actor: Actor, number: str, reason: str, *, clock: Clock = system_clock
) -> StatusChange:
    """A lead puts an order on hold, with the reason; its stock and picker are freed."""
    require_lead(actor, "putting an order on hold")
    return _stop_order(db, actor, number, OrderStatus.ON_HOLD, _reason(reason, "goes on hold"),
                       clock)  # fmt: skip


def cancel_order(
    db: Database, actor: Actor, number: str, reason: str, *, clock: Clock = system_clock
) -> StatusChange:
    """A lead cancels an order before picking; what it had reserved is given back."""
    require_lead(actor, "cancelling an order")
    return _stop_order(db, actor, number, OrderStatus.CANCELLED, _reason(reason, "is cancelled"),
                       clock)  # fmt: skip


def assign_ready_orders(
    db: Database, actor: Actor, *, settings: Settings, clock: Clock = system_clock
) -> list[Assignment]:
    """Give every reserved, unassigned order to a picker, as far as the pickers' limits go."""
    require_lead(actor, "assigning orders")
    with db.transaction() as s:
        return _assign(s, actor, settings, clock)


def assign_order(
    db: Database,
    actor: Actor,
    number: str,
    badge: str,
    *,
    reason: str = "",
    clock: Clock = system_clock,
) -> StatusChange | None:
    """A lead gives an order to a named picker (an override of the automatic assignment).

    A reserved, unassigned order becomes ``assigned``; an assigned one changes hands; one being
    picked is taken over — its tote, its counts and its open lines go with it, and the new
    picker's next login resumes it where the last one stopped. Each is an event naming the
    lead, both pickers and the reason.
    """
    from picker.store.models import Operator, OperatorRole

    require_lead(actor, "assigning an order")
    badge = badge.strip().upper()
    why = f": {reason}" if reason else ""

    def work(s: Session) -> StatusChange | None:
        picker = s.execute(
            select(Operator.id, Operator.active)
            .join(OperatorRole, OperatorRole.operator_id == Operator.id)
            .where(Operator.badge == badge, OperatorRole.role == Role.PICKER)
        ).one_or_none()
        if picker is None:
            raise NotFound(f"no picker has badge {badge}")
        if not picker.active:
            raise ServiceError(f"badge {badge} is disabled")
        order = _load(s, number)
        now = clock()
        if order.status in (OrderStatus.ASSIGNED, OrderStatus.PICKING):
            if order.assignee_id == picker.id:
                return None  # already theirs: nothing to hand over
            before = s.scalar(select(Operator.badge).where(Operator.id == order.assignee_id))
            verb = "taken over" if order.status is OrderStatus.PICKING else "reassigned"
            hand_over(
                s, order_id=order.id, number=number, status=order.status, version=order.version,
                to_operator=picker.id, actor=actor, at=now,
                reason=f"{verb} from {before or '-'} to {badge} by lead{why}",
            )  # fmt: skip
            if order.status is OrderStatus.PICKING:
                s.execute(
                    update(PickTask)
                    .where(PickTask.order_id == order.id)
                    .values(picker_id=picker.id, updated_at=now)
                )
            return None
        if order.status is not OrderStatus.UNHANDLED:
            raise ServiceError(f"order {number} is {order.status.value}: only unhandled, "
                               "assigned or picking orders can be given to a picker")  # fmt: skip
        reserved = s.scalar(
            select(func.count())
            .select_from(PickTask)
            .where(PickTask.order_id == order.id, PickTask.retired_at.is_(None))
        )
        if not reserved:
            raise ServiceError(f"order {number} has no stock reserved yet")
        return move_order(
            s, order_id=order.id, number=number, from_=order.status, version=order.version,
            to=OrderStatus.ASSIGNED, actor=actor, reason=f"assigned to {badge} by lead{why}",
            at=now, assignee_id=picker.id,
        )  # fmt: skip

    return db.run(work)
