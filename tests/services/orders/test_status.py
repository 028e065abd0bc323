"""Order status changes go through the domain, write an event, and settle races in the DB."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from picker.domain.roles import NotAllowed
from picker.domain.statuses import IllegalTransition, OrderStatus
from picker.services import auth
from picker.services.actors import Actor
from picker.services.errors import Conflict
from picker.services.orders import status as orders
from picker.services.orders import views
from picker.services.orders.lead_actions import cancel_order, hold_order
from picker.store.engine import Database
from picker.store.models import Order, OrderEvent
from tests.conftest import NOW


def _order(db: Database, status: OrderStatus = OrderStatus.UNHANDLED) -> str:
    with db.transaction() as s:
        s.add(
            Order(
                number="PO-0000001", channel="shop", shop_order_no="1001", customer_name="Zoë",
                ship_name="Zoë", ship_street="Kwiatowa 1", ship_postal_code="00-950",
                ship_city="Warszawa", ship_country="PL", shipping_method="post_standard",
                currency="PLN", total_amount=Decimal("99.99"), paid=True, placed_at=NOW,
                status=status, hold_reasons=[],
            )
        )  # fmt: skip
    return "PO-0000001"


@pytest.fixture
def lead(db_url: str) -> Actor:
    db = Database(db_url)
    op = auth.add_operator(db, Actor("T09"), "EMP-0001", "Lea Lead", "lead", "1111")
    db.dispose()
    return Actor("T09", op)


def _events(db: Database) -> list[tuple]:
    with db.read() as s:
        return [
            (e.from_status, e.to_status, e.terminal_id, e.operator_id, e.reason)
            for e in s.scalars(select(OrderEvent).order_by(OrderEvent.id))
        ]


def test_hold_and_cancel_write_one_event_each_with_who_where_and_why(db, lead) -> None:
    number = _order(db)
    change = hold_order(db, lead, number, "address looks wrong", clock=lambda: NOW)
    assert (change.from_status, change.to_status) == ("unhandled", "on_hold")
    cancel_order(db, lead, number, "customer cancelled", clock=lambda: NOW + timedelta(1))
    assert _events(db) == [
        ("unhandled", "on_hold", "T09", lead.operator_id, "address looks wrong"),
        ("on_hold", "cancelled", "T09", lead.operator_id, "customer cancelled"),
    ]
    with db.read() as s:
        order = s.scalars(select(Order)).one()
        assert order.status is OrderStatus.CANCELLED
        assert order.hold_reasons == ["address looks wrong"]
        assert order.version == 3


def test_an_illegal_transition_is_refused_and_changes_nothing(db, lead) -> None:
    _order(db, OrderStatus.DELIVERED)
    with pytest.raises(IllegalTransition, match="from delivered to on_hold"), db.transaction() as s:
        order = s.scalars(select(Order)).one()
        orders.move_order(
            s, order_id=order.id, number=order.number, from_=order.status, version=order.version,
            to=OrderStatus.ON_HOLD, actor=lead, reason="too late", at=NOW,
        )  # fmt: skip
    assert _events(db) == []
    with db.read() as s:
        assert s.scalars(select(Order.version)).one() == 1


def test_a_stale_read_loses_the_race_and_writes_nothing(db_url, lead) -> None:
    # Two terminals read the same order; the first one's change lands, the second one's
    # (made on what it read before) is refused and writes no event.
    first, second = Database(db_url), Database(db_url)
    number = _order(first)
    try:
        with second.read() as s:
            stale = s.scalars(select(Order)).one()  # version 1, as the second terminal saw it
        hold_order(first, lead, number, "first terminal", clock=lambda: NOW)
        conflict = pytest.raises(Conflict, match=f"order {number} was changed on another")
        with conflict, second.transaction() as s:
            # What it read is what it decides on: the UPDATE must find version 1 gone.
            orders.move_order(
                s, order_id=stale.id, number=stale.number, from_=stale.status,
                version=stale.version, to=OrderStatus.CANCELLED, actor=lead, reason="late", at=NOW,
            )  # fmt: skip
        assert [e[1] for e in _events(first)] == ["on_hold"]
        with first.read() as s:
            order = s.scalars(select(Order)).one()
            assert (order.status, order.version) == (OrderStatus.ON_HOLD, 2)
    finally:
        first.dispose()
        second.dispose()


def test_only_a_lead_may_hold_or_release(db, lead) -> None:
    number = _order(db)
    picker = auth.add_operator(db, Actor("T01"), "EMP-0002", "Pat Picker", "picker", "2222")
    with pytest.raises(NotAllowed, match="needs the lead role"):
        hold_order(db, Actor("T01", picker), number, "why not")
    assert _events(db) == []


def test_history_lists_the_events_in_order(db, lead) -> None:
    number = _order(db)
    hold_order(db, lead, number, "payment pending", clock=lambda: NOW)
    events = views.order_detail(db, number).events
    assert [(e.from_status, e.to_status, e.terminal, e.reason) for e in events] == [
        ("unhandled", "on_hold", "T09", "payment pending")
    ]
