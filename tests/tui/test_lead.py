"""The lead's tools on the real app: scans and a keyed reason, journaled, refusals in words."""

from __future__ import annotations

from sqlalchemy import select

from picker.store.engine import Database
from picker.store.models import Order, OrderEvent, Parcel
from picker.tui.screens.lead import LeadScreen
from tests.tui.helpers import burst, feedback, feedback_text, settle, text_of
from tests.tui.test_handoff import to_handoff


def one(url: str, query):  # type: ignore[no-untyped-def]
    db = Database(url)
    try:
        with db.read() as s:
            return s.execute(query).first()
    finally:
        db.dispose()


async def to_tools(pilot) -> LeadScreen:  # type: ignore[no-untyped-def]
    await to_handoff(pilot)
    await pilot.press("f2")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, LeadScreen)
    return screen


async def key(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press(*text, "enter")
    await settle(pilot)


async def test_held_orders_are_listed_with_their_reasons(app_factory, floor_url) -> None:
    held = one(floor_url, select(Order.number).where(Order.status == "on_hold").limit(1))
    app = app_factory(station="handoff")
    async with app.run_test(size=(80, 24)) as pilot:
        await to_tools(pilot)
        assert held.number in text_of(pilot, "#held")


async def test_a_lead_voids_a_parcel_with_a_reason_and_it_is_journaled(
    app_factory, floor_url
) -> None:
    parcel = one(
        floor_url,
        select(Parcel.tracking_no, Order.number)
        .join(Order, Order.id == Parcel.order_id)
        .where(Parcel.status == "closed", Order.status == "packed"),
    )
    app = app_factory(station="handoff")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_tools(pilot)
        await pilot.press("f7")
        await burst(pilot, parcel.tracking_no)
        assert screen.step is not None and screen.step.keyed  # now the reason, keyed
        await key(pilot, "box crushed")
        kind, message = feedback(pilot)
        assert kind == "ok" and f"Parcel {parcel.tracking_no} of {parcel.number} voided" in message
        await pilot.press("f9")  # a voided parcel's label is not printed again
        await burst(pilot, parcel.tracking_no)
        await key(pilot, "smudged")
        assert feedback(pilot)[0] == "error" and "voided" in feedback(pilot)[1]
    event = one(floor_url, select(OrderEvent.reason).order_by(OrderEvent.id.desc()).limit(1))
    assert "box crushed" in event.reason


async def test_a_tool_can_be_stopped_before_it_changes_anything(app_factory, floor_url) -> None:
    app = app_factory(station="handoff")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_tools(pilot)
        await pilot.press("f3")
        await burst(pilot, "CMD-CANCEL")
        assert screen.tool is None and "nothing changed" in feedback(pilot)[1]
        await burst(pilot, "PO-0000001")  # no tool chosen: refused
        assert feedback(pilot)[0] == "error" and "Choose a tool first" in feedback(pilot)[1]


async def test_a_lead_chooses_what_a_label_prints_for_letters_no_font_has(
    app_factory, floor_url
) -> None:
    from sqlalchemy import update

    db = Database(floor_url)
    try:
        with db.transaction() as s:
            number = s.scalar(select(Order.number).where(Order.status == "assigned").limit(1))
            s.execute(update(Order).where(Order.number == number).values(ship_name="ᚠᚢ Smith"))
    finally:
        db.dispose()
    app = app_factory(station="handoff")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_tools(pilot)
        # The packer was told "ask a lead": the lead's standing prompt and key bar name the tool.
        assert "F4 label text" in feedback_text(pilot)
        assert "Label text" in str(pilot.app.screen.query_one("KeyBar").render())
        await pilot.press("f4")
        await burst(pilot, number)
        assert screen.step is not None and screen.step.keyed
        await key(pilot, "x")  # neither T nor H: refused, nothing changed
        assert feedback(pilot)[0] == "error" and "Key T" in feedback(pilot)[1]
        await pilot.press("f4")
        await burst(pilot, number)
        await key(pilot, "h")
        kind, message = feedback(pilot)
        assert kind == "ok" and message.startswith(
            f"{number}: labels print letters no font has printed with blanks to write in by hand"
        )
        assert "the recipient's name: __ Smith" in message
    chosen = one(floor_url, select(Order.label_text).where(Order.number == number))
    assert chosen.label_text == "hand_write"
