"""Exchanges: a return closed with replacement goods instead of money.

:func:`create_exchange` runs inside the return close's transaction. It writes a new order for
the same customer, ship address, shipping method and courier as the returned order, its lines
the replacement SKUs, and links it to the return both ways (``orders.exchange_for_return_id``,
``returns.exchange_order_id``). The order is written the way intake writes one (its number
``PO-`` + id, its search keys, its first event; :mod:`picker.store.statements`), in the
returned order's channel under the shop order number of the RMA (``RMA-000012``: unique, and
what the customer was told), and is also found by the returned order's shop number.

It is paid: nothing is to be collected on delivery. Its lines are priced from the returned
order's line of the same SKU, else from the latest order line of that SKU in the same currency
(the shop's price of late); a SKU never sold in that currency is refused in words, since the
exchange could not be valued against what came back.

When the replacement is worth more than what came back, the difference is due from the
customer: the order goes on hold (``not paid: 20.00 EUR due for the exchange RMA-000012 …``),
which a lead releases (``picker order release``) when the shop says it is paid; the customer's
status reads "waiting for your payment". Otherwise it is reserved and assigned at once, in this
same transaction: the close and its replacement are one fact (a close rolled back takes the
replacement with it, and no other order can take the stock between the two), and it is held
``short:`` like any order when the stock is not there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from picker.config import Settings
from picker.domain.order_search import KIND_SHOP, order_keys, shop_key
from picker.domain.reservation import Need
from picker.domain.statuses import OrderStatus
from picker.services.actors import Actor
from picker.services.intake.allocation import assign_ready, reserve_order
from picker.services.orders.status import move_order
from picker.services.returns.shapes import ReturnRefused
from picker.store import statements as sql
from picker.store.models import Order, OrderLine, Product, Return, ReturnUnit

#: The shop's word for the replacement's payment (``orders.payment_state``).
PAYMENT_STATE = "exchange"
#: A foreign unit (not ours, an empty box) is worth nothing in an exchange.
_FOREIGN = "foreign"


class ExchangeRefused(ReturnRefused):
    """The replacement cannot be made as asked (unknown SKU, no price, no quantity): the
    message names what; the close that asked for it changes nothing."""


@dataclass(frozen=True)
class ExchangeMade:
    """The replacement order written for a return."""

    order_id: int
    number: str
    due: Decimal
    """What the customer still owes: the replacement's value less what came back, when the
    replacement is worth more (the order is on hold for it); else 0."""
    value: Decimal = Decimal(0)
    """What the replacement goods are worth (Σ price × quantity)."""
    returned: Decimal = Decimal(0)
    """What the goods that came back are worth (their lines' prices; foreign units nothing)."""
    status: str = OrderStatus.UNHANDLED.value
    """The replacement's status once written: assigned, unhandled (no picker free), on_hold."""
    hold_reasons: tuple[str, ...] = ()

    @property
    def refund(self) -> Decimal:
        """The money still owed to the customer: what came back less the replacement, when
        that is worth less; else 0."""
        return max(Decimal(0), self.returned - self.value)


def create_exchange(
    s: Session,
    actor: Actor,
    return_id: int,
    items: Sequence[tuple[str, int]],
    *,
    settings: Settings,
    at: datetime,
) -> ExchangeMade:
    """Write the replacement order for return ``return_id`` with ``items`` (SKU, quantity),
    inside the caller's transaction (the return's close); see the module's text. Raises
    :class:`ExchangeRefused` naming what cannot be done, having written nothing."""
    s.flush()  # the close's own changes first: what follows reads and writes the tables
    ret = s.get(Return, return_id)
    if ret is None:
        raise ExchangeRefused(f"return {return_id} does not exist")
    if ret.exchange_order_id is not None:
        made = s.scalar(select(Order.number).where(Order.id == ret.exchange_order_id))
        raise ExchangeRefused(f"{ret.number} was exchanged already, for {made}")
    wanted = _wanted(items, ret.number)
    original = s.execute(select(Order).where(Order.id == ret.order_id)).scalar_one()
    products = _products(s, list(wanted), ret.number)
    currency = original.currency
    priced = [
        (sku, products[sku], qty, _price(s, original.id, products[sku], sku, currency, ret.number))
        for sku, qty in wanted.items()
    ]
    value = sum((price * qty for _, _, qty, price in priced), Decimal(0))
    returned = returned_value(s, return_id)
    due = max(Decimal(0), value - returned)
    hold = (
        [f"not paid: {_amount(due)} {currency} due for the exchange {ret.number} "
         "(release when the shop says it is paid)"]
        if due else []
    )  # fmt: skip
    first = OrderStatus.ON_HOLD if hold else OrderStatus.UNHANDLED
    row = sql.order_row(
        channel=original.channel,
        shop_order_no=ret.number,
        customer_name=original.customer_name,
        customer_email=original.customer_email,
        ship_name=original.ship_name,
        ship_street=original.ship_street,
        ship_street2=original.ship_street2,
        ship_postal_code=original.ship_postal_code,
        ship_city=original.ship_city,
        ship_region=original.ship_region,
        ship_country=original.ship_country,
        ship_phone=original.ship_phone,
        shipping_method=original.shipping_method,
        shipping_title=original.shipping_title,
        courier_id=original.courier_id,
        service_id=original.service_id,
        currency=currency,
        total_amount=value,
        cod_amount=None,
        paid=True,
        payment_state=PAYMENT_STATE,
        placed_at=at,
        priority=original.priority,
        status=first.value,
        hold_reasons=hold,
        intake_problems=[],
        note=f"Exchange for {ret.number} of {original.number}",
        lines_not_shipped=[],
        customer_locale=original.customer_locale,
        shop_order_id=None,
    )
    conn = s.connection()
    created = sql.insert_order(conn, row, at)
    if created is None:
        raise ExchangeRefused(
            f"channel {original.channel} has an order numbered {ret.number} already"
        )
    order_id, number = created
    keys = order_keys(
        shop_order_no=ret.number, customer_name=original.customer_name,
        ship_name=original.ship_name, email=original.customer_email, phone=original.ship_phone,
    )  # fmt: skip
    their_no = shop_key(original.shop_order_no)
    if their_no and (KIND_SHOP, their_no) not in keys:
        keys.append((KIND_SHOP, their_no))  # found by the number the customer knows, too
    sql.insert_search_keys(conn, order_id, keys)
    names = dict(s.execute(select(Product.sku, Product.name).where(Product.sku.in_(wanted))).all())
    line_ids = sql.insert_lines(
        conn, order_id,
        [(no, sku, pid, names[sku][:200], qty, price)
         for no, (sku, pid, qty, price) in enumerate(priced, start=1)],
    )  # fmt: skip
    s.execute(
        update(Order)
        .where(Order.id == order_id)
        .values(exchange_for_return_id=ret.id, label_text=original.label_text)
    )
    ret.exchange_order_id = order_id
    why = f"exchange for {ret.number} of {original.number}"
    move_order(
        s, order_id=order_id, number=number, from_=None, version=1, to=first, actor=actor,
        reason="; ".join([why, *hold]), at=at,
    )  # fmt: skip
    status, reasons = first, tuple(hold)
    if first is OrderStatus.UNHANDLED:
        needs = [
            Need(line_id, pid, sku, qty)
            for line_id, (sku, pid, qty, _) in zip(line_ids, priced, strict=True)
        ]
        plan = reserve_order(conn, order_id, at, needs)
        if plan.complete:
            assigned = assign_ready(
                s, actor, now=at, max_per_picker=settings.intake.max_orders_per_picker,
                tz=settings.warehouse.tz,
            )  # fmt: skip
            if any(a.order_number == number for a in assigned):
                status = OrderStatus.ASSIGNED
        else:
            short = "short: " + ", ".join(plan.short)
            move_order(
                s, order_id=order_id, number=number, from_=OrderStatus.UNHANDLED, version=1,
                to=OrderStatus.ON_HOLD, actor=actor, reason=short, at=at, hold_reasons=[short],
            )  # fmt: skip
            status, reasons = OrderStatus.ON_HOLD, (short,)
    return ExchangeMade(order_id, number, due, value, returned, status.value, reasons)


def returned_value(s: Session, return_id: int) -> Decimal:
    """What the return's units of ours are worth, by their order lines' prices (a foreign item
    or an empty box is worth nothing; a unit's condition does not change its price)."""
    total = s.scalar(
        select(func.coalesce(func.sum(OrderLine.unit_price), 0))
        .select_from(ReturnUnit)
        .join(OrderLine, OrderLine.id == ReturnUnit.order_line_id)
        .where(
            ReturnUnit.return_id == return_id,
            (ReturnUnit.condition.is_(None)) | (ReturnUnit.condition != _FOREIGN),
        )
    )
    return Decimal(total or 0)


def _wanted(items: Sequence[tuple[str, int]], rma: str) -> dict[str, int]:
    """The replacement's SKUs with their quantities (a SKU named twice counted once)."""
    wanted: dict[str, int] = {}
    for sku, qty in items:
        sku = sku.strip()
        if not sku:
            raise ExchangeRefused(f"name the replacement's SKU for {rma} (SKU:QTY)")
        if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0:
            raise ExchangeRefused(f"{sku}: a replacement's quantity is a whole number above 0")
        wanted[sku] = wanted.get(sku, 0) + qty
    if not wanted:
        raise ExchangeRefused(f"an exchange for {rma} needs the replacement goods (SKU:QTY)")
    return wanted


def _products(s: Session, skus: list[str], rma: str) -> dict[str, int]:
    """SKU → product id of the replacement goods; refused for a SKU the catalogue does not
    know, has retired, or that does not ship."""
    rows = {
        r.sku: r
        for r in s.execute(
            select(Product.id, Product.sku, Product.active, Product.ships).where(
                Product.sku.in_(skus)
            )
        )
    }
    for sku in skus:
        r = rows.get(sku)
        if r is None:
            raise ExchangeRefused(f"no product {sku} in the catalogue: {rma} was not exchanged")
        if not r.active:
            raise ExchangeRefused(f"{sku} is retired from the catalogue: it cannot replace goods")
        if not r.ships:
            raise ExchangeRefused(f"{sku} does not ship (catalogue): it cannot replace goods")
    return {sku: rows[sku].id for sku in skus}


def _price(
    s: Session, order_id: int, product_id: int, sku: str, currency: str, rma: str
) -> Decimal:
    """A replacement unit's price: the returned order's line of the SKU; else the latest order
    line of it in the same currency; else refused in words."""
    on_order = s.scalar(
        select(OrderLine.unit_price)
        .where(OrderLine.order_id == order_id, OrderLine.product_id == product_id)
        .order_by(OrderLine.line_no)
        .limit(1)
    )
    if on_order is not None:
        return Decimal(on_order)
    latest = s.scalar(
        select(OrderLine.unit_price)
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.product_id == product_id, Order.currency == currency)
        .order_by(OrderLine.id.desc())
        .limit(1)
    )
    if latest is None:
        raise ExchangeRefused(
            f"no price known for {sku}: no order in {currency} has it, so the exchange for "
            f"{rma} cannot be weighed against what came back; choose another SKU, or refund"
        )
    return Decimal(latest)


def _amount(amount: Decimal) -> str:
    """An amount as a hold reason says it: two places, or as many as it has."""
    cents = amount.quantize(Decimal("0.01"))
    return str(cents if cents == amount else amount.normalize())
