"""The customer-service desk on the real app: a key typed or scanned, the matches, the order
opened with its status in the customer's words and its tracking; a lead's hold, release and
resend; the service role refused those in words; customer text shown literally."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from picker.config import Settings
from picker.domain.courier_events import RawEvent
from picker.services.actors import Actor
from picker.services.notify import outbox
from picker.services.notify.dispatcher import dispatch_due
from picker.services.tracking.events import import_events
from picker.store.engine import Database
from picker.store.models import Order, OrderEvent, OutboxMessage, Parcel
from picker.tui.screens.service import ServiceScreen
from tests.conftest import NOW
from tests.tui.conftest import LEAD, SERVICE
from tests.tui.helpers import burst, feedback, feedback_text, scan, settle, text_of
from tests.tui.test_snapshots import steady

#: An order handed to its courier on the demo floor (seed 11), and its parcel.
SHIPPED = "PO-0000005"


def with_db(url: str, fn):  # type: ignore[no-untyped-def]
    db = Database(url)
    try:
        return fn(db)
    finally:
        db.dispose()


def tracking_of(url: str, number: str) -> str:
    def read(db: Database) -> str:
        with db.read() as s:
            return s.scalar(
                select(Parcel.tracking_no).join(Order, Order.id == Parcel.order_id)
                .where(Order.number == number, Parcel.status == "handed_over")
            )  # fmt: skip

    return with_db(url, read)


def out_for_delivery(url: str, settings: Settings, number: str) -> str:
    """The courier said the order's parcel is out for delivery (a status file imported)."""
    tracking = tracking_of(url, number)
    at = NOW - timedelta(hours=3)
    with_db(url, lambda db: import_events(
        db, Actor("T00"), [RawEvent(1, tracking, "out_for_delivery", at, "Kraków", None)],
        settings=settings,
    ))  # fmt: skip
    return tracking


def mailed(url: str, settings: Settings, number: str) -> None:
    """The order's "shipped" mail queued and sent (into the test's mail folder)."""

    def send(db: Database) -> None:
        with db.transaction() as s:
            order_id = s.scalar(select(Order.id).where(Order.number == number))
            outbox.enqueue(s, order_id, "shipped", at=NOW, settings=settings)
        assert dispatch_due(db, settings, clock=lambda: NOW, claimed_by="T07:mail").sent

    with_db(url, send)


async def to_desk(pilot, who=LEAD) -> ServiceScreen:  # type: ignore[no-untyped-def]
    await scan(pilot, who[0])
    await scan(pilot, who[3])
    await pilot.press("enter")  # home: Enter opens this terminal's station, the service desk
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ServiceScreen)
    return screen


async def search(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    await scan(pilot, text)


async def key(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press(*text, "enter")
    await settle(pilot)


async def test_a_tracking_number_scanned_opens_its_order_with_the_courier_s_words(
    app_factory, floor_url, settings
) -> None:
    tracking = out_for_delivery(floor_url, settings, SHIPPED)
    app = app_factory(station="service")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_desk(pilot)
        await burst(pilot, tracking)  # a scanner's burst: one match, opened at once
        assert screen.card is not None and screen.card.number == SHIPPED
        card = text_of(pilot, "#card")
        assert "Out for delivery with CityRun Couriers since 22 Nov 07:30" in card
        assert tracking in card and "out for delivery" in card
        [parcel] = screen.card.parcels
        assert parcel.url is not None and tracking in parcel.url and parcel.url in card
        assert "Story (" in text_of(pilot, "#timeline")
        await pilot.press("escape")  # back to the search
        assert screen.card is None and isinstance(app.screen, ServiceScreen)
        await pilot.press("escape")  # and home
        assert not isinstance(app.screen, ServiceScreen)


async def test_a_name_typed_lists_the_matches_and_enter_opens_the_one_chosen(
    app_factory,
) -> None:
    app = app_factory(station="service")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_desk(pilot)
        await key(pilot, "magnus kohler")  # typed, accents folded: two orders of his
        assert [m.number for m in screen.matches] == ["PO-0000039", "PO-0000003"]
        assert screen.card is None and "2 orders match" in feedback(pilot)[1]
        await pilot.press("down", "enter")  # the second, the older
        await settle(pilot)
        assert screen.card is not None and screen.card.number == "PO-0000003"
        assert "Delivered" in text_of(pilot, "#card")
        await pilot.press("escape")  # back to the same matches
        assert screen.card is None and len(screen.matches) == 2


async def test_no_match_says_so_in_red_with_the_bell(app_factory) -> None:
    app = app_factory(station="service")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_desk(pilot)
        bells = app.bells
        await key(pilot, "nobody@example.invalid")
        assert feedback(pilot) == ("error", "No order matches 'nobody@example.invalid'.")
        assert app.bells == bells + 1 and screen.card is None and not screen.matches


async def test_a_lead_holds_with_a_reason_and_releases_and_both_are_journaled(
    app_factory, floor_url
) -> None:
    number = "PO-0000046"  # unhandled: nothing picked yet
    app = app_factory(station="service")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_desk(pilot)
        await key(pilot, number)
        await pilot.press("f3")
        assert screen.asking == "hold" and app.focused is screen.query_one("#entry")
        await key(pilot, "customer asks to wait")
        assert feedback(pilot)[0] == "ok" and "on hold" in feedback(pilot)[1]
        assert screen.card is not None and screen.card.status == "on_hold"
        assert "On hold: we are checking your order" in text_of(pilot, "#card")
        await pilot.press("f4")
        await settle(pilot)
        assert feedback(pilot) == ("ok", f"{number} released")
        assert screen.card.status != "on_hold"

    def reasons(db: Database) -> list[str]:
        with db.read() as s:
            return list(s.scalars(
                select(OrderEvent.reason).join(Order, Order.id == OrderEvent.order_id)
                .where(Order.number == number).order_by(OrderEvent.id)
            ))  # fmt: skip

    found = with_db(floor_url, reasons)
    assert "customer asks to wait" in found
    assert f"released at the service desk by {LEAD[1]}" in found


async def test_a_lead_resends_the_last_mail_once(app_factory, floor_url, settings) -> None:
    mailed(floor_url, settings, SHIPPED)
    app = app_factory(station="service")
    async with app.run_test(size=(80, 24)) as pilot:
        await to_desk(pilot)
        await key(pilot, SHIPPED)
        assert "Last mail: shipped, sent" in text_of(pilot, "#card")  # 80 columns
        await burst(pilot, "CMD-RESEND")
        kind, message = feedback(pilot)
        assert kind == "ok" and message.startswith(f"{SHIPPED}: the shipped mail goes again to")
        await pilot.press("f5")  # again, while the copy waits: refused, nothing more queued
        await settle(pilot)
        assert feedback(pilot)[0] == "error" and "waiting to be sent" in feedback(pilot)[1]

    def copies(db: Database) -> list[str]:
        with db.read() as s:
            return list(s.scalars(select(OutboxMessage.status).where(
                OutboxMessage.event == "shipped", OutboxMessage.kind == "email")))  # fmt: skip

    assert sorted(with_db(floor_url, copies)) == ["queued", "sent"]


async def test_the_service_role_is_refused_the_lead_s_actions_in_words(
    app_factory, floor_url, settings
) -> None:
    mailed(floor_url, settings, SHIPPED)
    app = app_factory(station="service")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_desk(pilot, SERVICE)
        await key(pilot, "PO-0000046")
        for press, words in (("f3", "putting an order on hold"), ("f4", "releasing an order"),
                             ("f5", "sending a customer's mail again")):  # fmt: skip
            bells = app.bells
            await pilot.press(press)
            await settle(pilot)
            assert feedback(pilot) == (
                "error",
                f"Only a lead may do this: {words} needs the lead role.",
            )
            assert app.bells == bells + 1 and screen.asking is None
        await burst(pilot, "CMD-HOLD")
        assert "needs the lead role" in feedback(pilot)[1]

    def unchanged(db: Database) -> tuple[str, int]:
        with db.read() as s:
            status = s.scalar(select(Order.status).where(Order.number == "PO-0000046"))
            queued = len(s.scalars(select(OutboxMessage.id).where(
                OutboxMessage.status == "queued")).all())  # fmt: skip
            return status.value, queued

    assert with_db(floor_url, unchanged) == ("unhandled", 0)


async def test_a_hostile_customer_name_is_shown_literally_and_cut_to_its_row(
    app_factory, floor_url
) -> None:
    hostile = "[bold red]Admin[/] \x1b[31mRed\x1b[0m " + "Wolfeschlegelsteinhausen" * 3

    def rename(db: Database) -> None:
        with db.transaction() as s:
            s.execute(update(Order).where(Order.number == SHIPPED).values(customer_name=hostile))

    with_db(floor_url, rename)
    app = app_factory(station="service")
    async with app.run_test(size=(40, 16)) as pilot:
        await to_desk(pilot)
        await key(pilot, SHIPPED)
        card = text_of(pilot, "#card")
        name_row = next(row for row in card.split("\n") if "Admin" in row)
        assert name_row.startswith("[bold red]Admin[/] \\x1b[31mRed")  # not red, not bold
        assert name_row.endswith("…") and len(name_row) <= 40
        assert "\x1b" not in feedback_text(pilot) + card


# --- snapshots: 80x24 and a 40x16 handheld ---------------------------------------------------

SIZES = [(80, 24), (40, 16)]


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_snapshot_search_with_matches(snap_compare, app_factory, size) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await to_desk(pilot)
        await key(pilot, "magnus kohler")
        await steady(pilot)

    assert snap_compare(app_factory(station="service"), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_snapshot_an_opened_order(snap_compare, app_factory, floor_url, settings, size) -> None:
    out_for_delivery(floor_url, settings, SHIPPED)
    mailed(floor_url, settings, SHIPPED)

    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await to_desk(pilot)
        await key(pilot, SHIPPED)
        await steady(pilot)

    assert snap_compare(app_factory(station="service"), terminal_size=size, run_before=run)
