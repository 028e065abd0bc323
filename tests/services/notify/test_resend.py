"""A lead sends a customer their last mail again (the service desk, "I never got it"), on both
databases: one copy queued with a key and Message-ID of its own, journaled on the order; refused
in words, nothing queued, when there is nothing (true) to send or a copy already waits."""

from __future__ import annotations

import email
from dataclasses import replace
from datetime import timedelta
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import select, update

from picker.config import Settings
from picker.domain.roles import NotAllowed, Role
from picker.services.actors import Actor, OperatorInfo
from picker.services.errors import NotFound, ServiceError
from picker.services.notify import outbox
from picker.services.notify.dispatcher import dispatch_due
from picker.services.orders.service_desk import order_card
from picker.store.engine import Database
from picker.store.models import Order, OrderEvent, OutboxMessage
from tests.services.floor.test_handoff import packed
from tests.services.floor.test_packing import LEAD
from tests.services.floor.test_picking import clock
from tests.services.notify.test_outbox import rows, ship, with_notify

AGENT = Actor("T09", OperatorInfo(7, "EMP-0007", "Agent Seven", frozenset({Role.SERVICE})))


def later() -> object:
    return clock() + timedelta(hours=1)


@pytest.fixture
def mailing(settings: Settings, tmp_path: Path) -> Settings:
    """Mail into a folder (as the demo floor's), the shop told nothing."""
    s = with_notify(settings, shop=False)
    return replace(s, notify=replace(s.notify, smtp_url=f"file://{tmp_path / 'mail'}"))


def shipped_and_mailed(db: Database, settings: Settings) -> str:
    """An order handed to its courier, its "shipped" mail sent: its number."""
    number, [tracking] = packed(db, settings, ("SKU-00001", 1), tote="T-0901")
    ship(db, settings, tracking)
    with db.transaction() as s:  # the "accepted" mail (if any) is not this test's business
        s.execute(update(OutboxMessage).where(OutboxMessage.event != "shipped")
                  .values(status="skipped"))  # fmt: skip
    assert len(dispatch_due(db, settings, clock=clock).sent) == 1
    return number


def mails(settings: Settings) -> list[email.message.EmailMessage]:
    folder = settings.notify.folder
    assert folder is not None
    return [
        email.message_from_bytes(p.read_bytes(), policy=policy.default)  # type: ignore[misc]
        for p in sorted(folder.glob("*.eml"))
    ]


def test_a_lead_resends_the_last_mail_as_a_copy_of_its_own(floor, mailing) -> None:
    number = shipped_and_mailed(floor, mailing)
    [first] = rows(floor, event="shipped", kind="email")
    done = outbox.resend(floor, LEAD, number, clock=later)  # type: ignore[arg-type]
    assert (done.number, done.event, done.copy_of) == (number, "shipped", first.id)
    [_, copy] = rows(floor, event="shipped", kind="email")
    assert copy.id == done.message_id and copy.status == "queued" and copy.key != first.key
    assert copy.parcels == first.parcels and copy.recipient == first.recipient
    with floor.read() as s:
        reason = s.scalar(select(OrderEvent.reason).order_by(OrderEvent.id.desc()).limit(1))
    assert reason.startswith("mail sent again by Lead One: shipped to huong@example.vn")
    # A second press while the copy waits queues nothing more.
    with pytest.raises(ServiceError, match="waiting to be sent; nothing more queued"):
        outbox.resend(floor, LEAD, number, clock=later)  # type: ignore[arg-type]
    assert len(rows(floor, event="shipped", kind="email")) == 2
    assert len(dispatch_due(floor, mailing, clock=later).sent) == 1  # type: ignore[arg-type]
    sent = mails(mailing)
    assert len(sent) == 2 and sent[0]["Subject"] == sent[1]["Subject"]
    assert sent[0]["Message-ID"] != sent[1]["Message-ID"]  # not dropped as a duplicate
    # The card the desk shows tells the copy, sent.
    card = order_card(floor, mailing, number, now=clock())
    assert card.last_mail is not None and card.last_mail.id == copy.id
    assert card.last_mail.status == "sent"


def test_the_service_role_may_not_resend_and_nothing_is_queued(floor, mailing) -> None:
    number = shipped_and_mailed(floor, mailing)
    with pytest.raises(NotAllowed, match="sending a customer's mail again needs the lead role"):
        outbox.resend(floor, AGENT, number, clock=later)  # type: ignore[arg-type]
    assert len(rows(floor, kind="email", status="queued")) == 0


def test_nothing_to_resend_is_said_in_words(floor, mailing) -> None:
    with pytest.raises(NotFound, match="There is no order PO-9999999"):
        outbox.resend(floor, LEAD, "PO-9999999", clock=later)  # type: ignore[arg-type]
    number, [tracking] = packed(floor, mailing, ("SKU-00001", 1), tote="T-0902")
    with floor.transaction() as s:
        s.execute(update(OutboxMessage).values(status="skipped"))
    with pytest.raises(ServiceError, match="no mail has gone to this customer yet"):
        outbox.resend(floor, LEAD, number, clock=later)  # type: ignore[arg-type]
    ship(floor, mailing, tracking)
    dispatch_due(floor, mailing, clock=clock)
    with floor.transaction() as s:  # the customer's address since lost
        s.execute(update(Order).where(Order.number == number).values(customer_email=None))
    before = len(rows(floor))
    with pytest.raises(ServiceError, match="not sent again"):
        outbox.resend(floor, LEAD, number, clock=later)  # type: ignore[arg-type]
    assert len(rows(floor)) == before


def test_a_mail_no_longer_true_is_not_sent_again(floor, mailing) -> None:
    number = shipped_and_mailed(floor, mailing)
    with floor.transaction() as s:  # since returned to us
        s.execute(update(Order).where(Order.number == number).values(status="returned"))
    with pytest.raises(ServiceError, match="the order is returned now"):
        outbox.resend(floor, LEAD, number, clock=later)  # type: ignore[arg-type]
