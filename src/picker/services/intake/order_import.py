"""Order intake: import, validate, reserve, assign.

The lead's release, hold and cancel are in :mod:`picker.services.orders.lead_actions`.

Each order is all or nothing: the order, its lines, its events and its reservation are written
together or not at all (on SQLite, under a savepoint in a group of orders that commit together;
on PostgreSQL, in a transaction of its own). Re-importing the same channel + shop order number
changes nothing (``INSERT … ON CONFLICT DO NOTHING`` on the unique key, so two importers racing
each other cannot both create it).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from itertools import islice
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from picker.channels.orders import Format, ParsedFile, parse_orders
from picker.config import IntakeSettings, Settings
from picker.domain.intake import IncomingLine, IncomingOrder, LineNotShipped, RecordError
from picker.domain.order_search import order_keys
from picker.domain.reservation import Need
from picker.domain.statuses import ORDER_FINISHED, OrderStatus, check_order_transition
from picker.domain.validation import fixable_reasons, record_problems
from picker.services.actors import Actor, Clock, allow, system_clock
from picker.services.errors import describe_failure
from picker.services.intake.allocation import (
    assign_with_settings,
    reserve_order,
)
from picker.services.intake.reports import ImportProblem, ImportReport
from picker.services.notify import outbox
from picker.services.orders.status import move_order
from picker.store import statements as sql
from picker.store.engine import Database, GroupCommit, must_retry
from picker.store.models import (
    Courier,
    CourierService,
    Order,
    Product,
)

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Lookups:
    """What validation needs from the database, read once per import."""

    products: dict[str, int]  # SKU → product id
    services: dict[tuple[str, str], tuple[int, int, bool]]  # (courier, service) → ids, express
    #: SKUs of products that do not travel in a parcel (gift cards, downloads).
    not_shipping: frozenset[str] = frozenset()

    @classmethod
    def load(cls, s: Session, *, skus: Collection[str] | None = None) -> Lookups:
        """Every active product (an import), or only those of ``skus`` (a few orders checked
        again: the catalogue may hold 100,000 products)."""
        only = [Product.sku.in_(sorted(skus))] if skus is not None else []
        products = dict(
            s.execute(select(Product.sku, Product.id).where(Product.active, *only)).all()
        )
        not_shipping = frozenset(
            s.scalars(select(Product.sku).where(Product.active, Product.ships.is_(False), *only))
        )
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
                .where(Courier.active, CourierService.active)
            )
        }
        return cls(products, services, not_shipping)

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
    keys: tuple[tuple[str, str], ...] = ()  # what the order is found by (kind, key)


@dataclass(frozen=True, slots=True)
class _Settled:
    """A record that is no work for the floor (fulfilled by the shop, nothing left to ship):
    counted under ``outcome``, nothing written — unless the order was imported before, when it
    is already on the floor and the lead is told (see :func:`_settle`)."""

    record: int
    outcome: str
    channel: str
    shop_order_no: str


@dataclass(frozen=True, slots=True)
class _Changed:
    """An order imported before that the shop now says is no work for the floor: counted as
    already imported, and a problem the lead reads (nothing on the floor is changed)."""

    problem: ImportProblem


_Outcome = str | ImportProblem | _Changed  # how a record was imported, or why not


def read_export(
    data: bytes,
    *,
    settings: Settings,
    file_name: str,
    format: Format | None = None,
    channel: str | None = None,
) -> ParsedFile:
    """A shop's export read by its channel adapter (the format detected when None), with this
    floor's cash-on-delivery gateways. Raises :class:`~picker.channels.files.FileRefused`,
    before anything is read into the database, when the file as a whole cannot be used."""
    return parse_orders(
        data,
        file_name=file_name,
        format=format,
        channel=channel,
        cod_gateways=settings.intake.cod_gateways,
    )


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
    """Import every record of ``parsed``; counts imported / on_hold / already_imported / failed,
    fulfilled_in_shop and nothing_to_ship (no work for the floor: nothing written),
    changed_in_shop (imported before and still on the floor, though the shop now says it is no
    work: a problem names each, nothing is changed), and ``assigned`` for the orders given to
    pickers at the end.

    Every order is all or nothing. On SQLite consecutive orders share a COMMIT (a group of up to
    :data:`GROUP_ORDERS` orders, or :data:`GROUP_SECONDS` of holding the write lock); records
    are read and checked before the lock is taken. Counts and ``progress`` include only what is
    committed: an import stopped half-way leaves whole orders, and running it again reports
    those as already imported.
    """
    allow(actor, "intake.order_import.import_orders")
    report = ImportReport()
    with db.read() as s:
        lookups = Lookups.load(s)
    records = iter(parsed.records)
    waiting: deque[_Checked | _Settled | ImportProblem] = deque()
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
                conn, group, waiting, limit, actor, clock, dry_run, file_name, settings
            )
            if unsettled:  # written, then lost with their group: each again, on its own
                solo = len(unsettled)
                waiting.extendleft(reversed(unsettled))
            else:
                solo = max(0, solo - len(outcomes))
            for _, outcome in sorted(outcomes, key=lambda o: o[0]):
                if isinstance(outcome, ImportProblem):
                    report.fail(outcome)
                elif isinstance(outcome, _Changed):
                    report.add("already_imported")
                    report.add("changed_in_shop")
                    report.problems.append(outcome.problem)
                else:
                    report.add(outcome)
            before, done = done, done + len(outcomes)
            if progress and (done // 500 > before // 500 or done == parsed.total):
                progress(done, parsed.total)
    if not dry_run:
        with db.transaction() as s:
            assigned = assign_with_settings(s, actor, settings, clock)
        report.add("assigned", len(assigned))
    return report


def _check(
    record: int,
    item: IncomingOrder | RecordError,
    file_name: str,
    lookups: Lookups,
    intake: IntakeSettings,
) -> _Checked | _Settled | ImportProblem:
    if isinstance(item, RecordError):
        return ImportProblem(file_name, record, item.field, item.reason)
    if item.fulfilled_in_shop:
        return _Settled(record, "fulfilled_in_shop", item.channel, item.shop_order_no)
    item = _floor_part(item, lookups)
    if not item.lines and item.not_shipped:
        return _Settled(record, "nothing_to_ship", item.channel, item.shop_order_no)
    try:
        return _judge(record, item, lookups, intake)
    except RecordError as exc:
        return ImportProblem(file_name, record, exc.field, exc.reason)


_SHOP_SAYS = {
    "fulfilled_in_shop": "the shop now says it is fulfilled",
    "nothing_to_ship": "the shop now says nothing is left to ship (refunded or removed)",
}


def _settle(conn: Connection, group: GroupCommit, item: _Settled, file_name: str) -> str | _Changed:
    """A record with no work for the floor: its outcome, or — when the order was imported
    before and is on the floor — a problem naming it, for the lead to hold or cancel."""
    with group.unit():  # read in the group's transaction (SQLite) or one of its own (PostgreSQL)
        found = conn.execute(
            select(Order.number, Order.status).where(
                Order.channel == item.channel, Order.shop_order_no == item.shop_order_no
            )
        ).one_or_none()
    if found is None:
        return item.outcome
    status = OrderStatus(found.status)
    if status in ORDER_FINISHED:
        return "already_imported"  # it left the floor (or never will): nothing to tell
    why = (
        f"{found.number} is {status.value} on the floor but {_SHOP_SAYS[item.outcome]}: "
        "hold or cancel it (picker --as BADGE order hold|cancel); nothing was changed"
    )
    return _Changed(ImportProblem(file_name, item.record, "", why))


def _floor_part(order: IncomingOrder, lookups: Lookups) -> IncomingOrder:
    """The order with the lines of products that do not ship (the catalogue says so) moved to
    what is recorded but not shipped."""
    if not lookups.not_shipping or not any(ln.sku in lookups.not_shipping for ln in order.lines):
        return order
    aside = tuple(
        LineNotShipped(ln.sku, ln.name, ln.quantity, "does not ship (catalogue)")
        for ln in order.lines
        if ln.sku in lookups.not_shipping
    )
    return replace(
        order,
        lines=tuple(ln for ln in order.lines if ln.sku not in lookups.not_shipping),
        not_shipped=order.not_shipped + aside,
    )


def _write_group(
    conn: Connection,
    group: GroupCommit,
    waiting: deque[_Checked | _Settled | ImportProblem],
    limit: int,
    actor: Actor,
    clock: Clock,
    dry_run: bool,
    file_name: str,
    settings: Settings,
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
        if isinstance(item, _Settled):
            outcomes.append((item.record, _settle(conn, group, item, file_name)))
            continue
        try:
            written.append(
                (item, _write_retrying(conn, group, item, actor, now, dry_run, settings))
            )
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
    settings: Settings,
) -> str:
    """One order as one unit of the group; a unit that lost a deadlock to another importer
    (PostgreSQL, where each order is its own transaction) is run again."""
    for attempt in range(3):
        try:
            with group.unit():
                return _write(conn, order, actor, now, dry_run, settings)
        except _Rollback as stop:
            return stop.outcome
        except DBAPIError as exc:
            if not must_retry(exc) or attempt == 2:
                raise
    raise AssertionError("unreachable")


#: (label, width of its orders column, how to read it): text the store cannot hold when longer.
_TEXTS: tuple[tuple[str, int, Callable[[IncomingOrder], str]], ...] = tuple(
    (label, _width(column), read)
    for label, column, read in (
        ("shop order number", "shop_order_no", lambda o: o.shop_order_no),
        ("shop order id", "shop_order_id", lambda o: o.shop_order_id),
        ("customer locale", "customer_locale", lambda o: o.customer_locale),
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
        lines_not_shipped=[line.as_json() for line in order.not_shipped],
        customer_locale=order.customer_locale or None,
        shop_order_id=order.shop_order_id or None,
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
        keys=tuple(
            order_keys(shop_order_no=order.shop_order_no, customer_name=order.customer_name,
                       ship_name=ship.name, email=order.customer_email, phone=ship.phone)
        ),
    )  # fmt: skip


def _write(
    conn: Connection, order: _Checked, actor: Actor, now: datetime, dry_run: bool,
    settings: Settings,
) -> str:  # fmt: skip
    """Write a checked order inside the caller's unit; its outcome, or :class:`_Rollback`."""
    created = sql.insert_order(conn, order.row, now)
    if created is None:
        raise _Rollback("already_imported")  # nothing was written
    order_id, number = created
    sql.insert_search_keys(conn, order_id, order.keys)
    line_ids = sql.insert_lines(
        conn, order_id, [(no, line.sku, pid, line.name[:200], line.quantity, line.unit_price)
                         for no, line, pid in order.lines],
    )  # fmt: skip
    sql.insert_event(
        conn, order_id=order_id, at=now, operator_id=actor.operator_id,
        terminal_id=actor.terminal_id, source=actor.source, from_status=None,
        to_status=order.status.value, reason=order.reason,
    )  # fmt: skip
    valid = order.status is OrderStatus.UNHANDLED
    outcome = "imported" if valid else "on_hold"
    outbox.enqueue(conn, order_id, "accepted" if valid else "on_hold_customer", at=now,
                   settings=settings, reasons=order.reason.split("; "))  # fmt: skip
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
