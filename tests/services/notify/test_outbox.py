"""The outbox on both databases: written with its cause, once per cause, never for work that did
not commit; skipped with the reason when there is nothing to send; a lead's retry and cancel."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select, update

from picker.config import ChannelSettings, Settings
from picker.domain.roles import NotAllowed
from picker.services.errors import ServiceError
from picker.services.floor import handoff
from picker.services.notify import outbox
from picker.services.orders import lead_actions
from picker.store.engine import Database
from picker.store.models import Order, OutboxMessage, Parcel
from tests.conftest import NOW
from tests.services.floor.test_handoff import packed
from tests.services.floor.test_packing import LEAD, PACKER
from tests.services.floor.test_picking import clock, order_id, status
from tests.services.intake.test_order_import import CLI, order, run, stock


def with_notify(settings: Settings, *, shop: bool = True, **events: bool) -> Settings:
    """``settings`` with the shopify channel's fulfilment configured (``shop``) and the events
    given switched on or off."""
    channels = (
        {"shopify": ChannelSettings("shopify", "shopify", "http://127.0.0.1:9/admin/api/2025-01")}
        if shop
        else {}
    )
    notify = replace(settings.notify, events={**settings.notify.events, **events})
    return replace(settings, notify=notify, channels=channels)


def rows(db: Database, **where: object) -> list[OutboxMessage]:
    with db.read() as s:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        for column, value in where.items():
            query = query.where(getattr(OutboxMessage, column) == value)
        return list(s.scalars(query))


def ship(db: Database, settings: Settings, *trackings: str) -> handoff.ClosedPickup:
    pickup = handoff.open_pickup(db, LEAD, "POST", clock=clock)
    for tracking in trackings:
        handoff.hand_over_parcel(db, LEAD, pickup.id, tracking, clock=clock)
    return handoff.close_pickup(db, LEAD, settings, pickup.id, clock=clock)


def test_a_pickups_close_queues_one_mail_and_one_shop_message_per_order_shipped(
    floor, settings
) -> None:
    settings = with_notify(settings)
    one, [a] = packed(floor, settings, ("SKU-00001", 1), tote="T-0901")
    two, [b1, b2] = packed(floor, settings, ("SKU-00001", 1), ("SKU-00002", 1), tote="T-0902",
                           parcels=2)  # fmt: skip
    stays, _ = packed(floor, settings, ("SKU-00001", 1), tote="T-0903")
    before = len(rows(floor, event="shipped"))
    closed = ship(floor, settings, a, b1, b2)
    assert set(closed.executed) == {one, two}
    shipped = rows(floor, event="shipped")
    assert before == 0 and len(shipped) == 4
    by_order = {(m.order_id, m.kind): m for m in shipped}
    for number, tracking in ((one, [a]), (two, [b1, b2])):
        oid = order_id(floor, number)
        mail, shop = by_order[(oid, "email")], by_order[(oid, "shop")]
        assert (mail.status, shop.status) == ("queued", "queued")
        assert mail.recipient == "huong@example.vn" and shop.recipient == "shopify"
        with floor.read() as s:
            parcels = s.scalars(select(Parcel.id).where(Parcel.tracking_no.in_(tracking)))
            assert mail.parcels == sorted(parcels) == shop.parcels
        assert mail.next_attempt_at == clock() and mail.attempts == 0
    assert order_id(floor, stays) not in {m.order_id for m in shipped}


def test_a_pickup_close_rolled_back_queues_nothing(floor, settings, monkeypatch) -> None:
    number, [a] = packed(floor, settings, ("SKU-00001", 1), tote="T-0901")
    pickup = handoff.open_pickup(floor, LEAD, "POST", clock=clock)
    handoff.hand_over_parcel(floor, LEAD, pickup.id, a, clock=clock)

    def broken(*_: object) -> bytes:  # after the orders moved and the messages were queued
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(handoff, "render_manifest", broken)
    with pytest.raises(OSError):
        handoff.close_pickup(floor, LEAD, settings, pickup.id, clock=clock)
    assert status(floor, number) == "packed"
    assert rows(floor, event="shipped") == []
    monkeypatch.undo()
    assert handoff.close_pickup(floor, LEAD, settings, pickup.id, clock=clock).executed == (number,)
    assert len(rows(floor, event="shipped", kind="email")) == 1


def test_the_same_cause_never_queues_twice(floor, settings) -> None:
    number, [a] = packed(floor, settings, ("SKU-00001", 1), tote="T-0901")
    ship(floor, settings, a)
    oid = order_id(floor, number)
    for _ in range(2):  # the cause told again (a retried close, a script): nothing new
        with floor.transaction() as s:
            outbox.enqueue(s, oid, "shipped", settings=settings, at=clock())
            outbox.enqueue(s, [oid, oid], "shipped", at=clock())
    assert len(rows(floor, order_id=oid, event="shipped")) == 2  # one mail, one shop message


def test_nothing_to_send_to_or_an_event_switched_off_is_skipped_with_the_reason(
    floor, settings
) -> None:
    no_mail, [a] = packed(floor, settings, ("SKU-00001", 1), tote="T-0901")
    with floor.transaction() as s:
        s.execute(update(Order).where(Order.number == no_mail).values(customer_email=None))
    bad_mail, [b] = packed(floor, settings, ("SKU-00001", 1), tote="T-0902")
    with floor.transaction() as s:  # a header smuggled into the address
        s.execute(
            update(Order)
            .where(Order.number == bad_mail)
            .values(customer_email="x@example.com\r\nBcc: all@example.com")
        )
    ship(floor, with_notify(settings, shop=False), a, b)  # no shop channel configured
    for number in (no_mail, bad_mail):
        mail, shop = rows(floor, order_id=order_id(floor, number), event="shipped")
        assert (mail.status, shop.status) == ("skipped", "skipped")
        assert mail.next_attempt_at is None
        assert shop.error == "the shop channel shopify has no fulfilment_url ([channels.shopify])"
    assert rows(floor, order_id=order_id(floor, no_mail), event="shipped")[0].error == (
        "the order has no e-mail address"
    )
    assert rows(floor, order_id=order_id(floor, bad_mail), event="shipped")[0].error == (
        "the order's e-mail address is not one mail can go to"
    )
    off, [c] = packed(floor, settings, ("SKU-00001", 1), tote="T-0903")
    ship(floor, with_notify(settings, shipped=False), c)
    assert {
        (m.status, m.error) for m in rows(floor, order_id=order_id(floor, off), event="shipped")
    } == {("skipped", "the shipped event is switched off ([notify.events] shipped)")}


def test_intake_tells_of_acceptance_and_of_an_address_the_customer_must_fix(
    floor, settings
) -> None:
    stock(floor, "SKU-00001", A_01_01_1=10)
    on = with_notify(settings, accepted=True, on_hold_customer=True)
    run(floor, on, order("1001"))
    run(floor, settings, order("1002"))  # accepted is off by default
    no_street = order("1003")
    no_street = replace(no_street, ship=replace(no_street.ship, street="", postal_code=""))
    run(floor, on, no_street)
    run(floor, on, order("1004", ("SKU-NOPE", 1)))  # held for what only the shop can fix
    run(floor, on, order("1001"))  # imported again: nothing new
    with floor.read() as s:
        numbers = dict(s.execute(select(Order.shop_order_no, Order.id)).all())
    accepted = rows(floor, event="accepted")
    assert [(m.order_id, m.status) for m in accepted] == [
        (numbers["1001"], "queued"),
        (numbers["1002"], "skipped"),
    ]
    assert accepted[1].error == "the accepted event is switched off ([notify.events] accepted)"
    [held] = rows(floor, event="on_hold_customer")
    assert held.order_id == numbers["1003"] and held.status == "queued"
    assert held.detail == {"missing": ["street", "postal_code"]}
    assert rows(floor, order_id=numbers["1004"]) == []


def test_a_dry_run_import_queues_nothing(floor, settings) -> None:
    stock(floor, "SKU-00001", A_01_01_1=10)
    run(floor, with_notify(settings, accepted=True), order("1001"), dry_run=True)
    assert rows(floor) == []


def test_a_cancelled_paid_order_tells_the_customer_the_reason_the_lead_chose(
    floor, settings
) -> None:
    stock(floor, "SKU-00001", A_01_01_1=10)
    run(floor, settings, order("1001"), order("1002"),
        order("1003", paid=False, cod=True, payment_state="cod"))  # fmt: skip
    with floor.read() as s:
        fraud, asked, cod = s.scalars(select(Order.number).order_by(Order.shop_order_no)).all()
    # The lead's words mention the customer; what the customer is told is what the lead chose.
    lead_actions.cancel_order(floor, CLI, fraud, "fraud suspected, customer unreachable",
                              customer_reason="payment", clock=clock,
                              settings=settings)  # fmt: skip
    # No reason chosen: none is given, whatever the lead's words seem to say.
    lead_actions.cancel_order(floor, CLI, asked, "customer asked by phone, ticket 4411",
                              clock=clock, settings=settings)  # fmt: skip
    lead_actions.cancel_order(floor, CLI, cod, "customer asked", clock=clock)
    told = {m.order_id: m.detail for m in rows(floor, event="cancelled")}
    assert told == {order_id(floor, fraud): {"reason": "payment"},
                    order_id(floor, asked): {"reason": "other"}}  # fmt: skip
    with pytest.raises(ServiceError, match="'fraud' is not a reason a customer is told"):
        lead_actions.cancel_order(floor, CLI, cod, "x", customer_reason="fraud", clock=clock)


def test_an_order_released_onto_the_floor_is_accepted_once(floor, settings) -> None:
    stock(floor, "SKU-00001")  # none at all: held short
    no_street = order("1001")
    no_street = replace(no_street, ship=replace(no_street.ship, street=""))
    run(floor, settings, order("1002"), no_street)
    with floor.read() as s:
        fix, short = s.scalars(select(Order.number).order_by(Order.shop_order_no)).all()
    assert [m.status for m in rows(floor, event="accepted")] == ["skipped"]  # off by default
    with floor.transaction() as s:
        s.execute(update(Order).where(Order.number == fix).values(ship_street="Hàng Bài 12"))
    stock(floor, "SKU-00001", A_01_01_1=10)
    assert lead_actions.release_order(floor, CLI, fix, settings=settings).released
    [released] = lead_actions.retry_short_orders(floor, CLI, settings=settings)
    assert released.released and released.number == short
    accepted = rows(floor, event="accepted")
    # The fixed order is accepted now (the dispatcher decides whether it is sent); the short
    # one was accepted at intake already: the same cause, nothing new.
    assert [(m.order_id, m.status) for m in accepted] == [
        (order_id(floor, short), "skipped"),
        (order_id(floor, fix), "queued"),
    ]


def test_the_demo_floors_history_queues_nothing(db) -> None:
    from picker.demo.builder import build_demo

    build_demo(db, orders=300, seed=3, now=NOW)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert s.scalar(select(func.count()).where(Order.status == "executed")) > 0


# --- a lead's retry and cancel ---------------------------------------------------------------


def _failed(db: Database, settings: Settings) -> list[int]:
    _, [a] = packed(db, settings, ("SKU-00001", 1), tote="T-0901")
    ship(db, with_notify(settings), a)
    ids = [m.id for m in rows(db, event="shipped")]
    with db.transaction() as s:
        s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(status="failed", error="550 no such user", attempts=3)
        )
    return ids


def test_a_lead_sends_failed_messages_again(floor, settings) -> None:
    mail, shop = _failed(floor, settings)
    assert outbox.summary(floor).words == "mail: 1 failed; shop: 1 failed"
    assert outbox.retry(floor, LEAD, [mail], clock=clock) == [mail]
    again = rows(floor, id=mail)[0]
    assert (again.status, again.attempts, again.next_attempt_at) == ("queued", 0, clock())
    assert outbox.summary(floor).words == "shop: 1 failed"
    with pytest.raises(ServiceError, match=f"message {mail} is queued, not failed"):
        outbox.retry(floor, LEAD, [shop, mail], clock=clock)
    assert rows(floor, id=shop)[0].status == "failed"  # refused whole
    assert outbox.retry(floor, LEAD, clock=clock) == [shop]  # every failed one
    with pytest.raises(NotAllowed):
        outbox.retry(floor, PACKER, clock=clock)


def test_a_lead_cancels_a_message_with_a_reason(floor, settings) -> None:
    mail, _ = _failed(floor, settings)
    with pytest.raises(ServiceError, match="say why"):
        outbox.cancel(floor, LEAD, mail, "  ", clock=clock)
    done = outbox.cancel(floor, LEAD, mail, "customer phoned, told in person", clock=clock)
    assert done.status == "cancelled"
    assert done.error == (
        f"cancelled on T23 by Lead One at {NOW + (clock() - NOW):%Y-%m-%d %H:%M} UTC: "
        "customer phoned, told in person"
    )
    with pytest.raises(ServiceError, match="is cancelled: only a queued or failed"):
        outbox.cancel(floor, LEAD, mail, "again", clock=clock)
    with pytest.raises(ServiceError, match="no message 999"):
        outbox.cancel(floor, LEAD, 999, "why", clock=clock)
    with pytest.raises(NotAllowed):
        outbox.cancel(floor, PACKER, mail, "why", clock=clock)


def test_a_floor_built_again_gives_its_mails_new_message_ids_and_a_message_keeps_its_own(
    floor, second_db, settings
) -> None:
    from datetime import UTC, datetime

    from picker.demo.builder import build_demo
    from picker.services.notify import compose
    from tests.conftest import NOW

    build_demo(second_db, orders=0, seed=1, now=NOW)  # the same demo floor, built again
    started = datetime.now(UTC)

    def running() -> datetime:  # a floor's clock: it moves on
        return clock() + (datetime.now(UTC) - started)

    mails = []
    for db in (floor, second_db):  # the same history on each
        _, [a] = packed(db, settings, ("SKU-00001", 1), tote="T-0901")
        pickup = handoff.open_pickup(db, LEAD, "POST", clock=running)
        handoff.hand_over_parcel(db, LEAD, pickup.id, a, clock=running)
        handoff.close_pickup(db, LEAD, settings, pickup.id, clock=running)
        [mail] = rows(db, event="shipped", kind="email")
        with db.read() as s:
            letter, raw = compose.preview(s, mail.id, settings)
            again = compose.preview(s, mail.id, settings)[1]  # sent again after a crash
        assert again == raw  # the same message, byte for byte
        mails.append((mail.id, mail.key, compose.stable_message_id(letter, settings)))
    (id_a, key_a, message_a), (id_b, key_b, message_b) = mails
    assert (id_a, key_a) == (id_b, key_b)  # the same row and cause in both databases …
    assert message_a != message_b  # … but another mail: a server that saw one keeps the other
