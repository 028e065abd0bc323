"""Screen snapshots of login and home, at 80x24 and on a 40x16 handheld."""

import pytest
from textual.widgets import Input

from tests.tui.conftest import LEAD, PICKER
from tests.tui.helpers import burst, scan, settle

SIZES = [(80, 24), (40, 16)]


async def steady(pilot) -> None:  # type: ignore[no-untyped-def]
    """Cursor blink off, so a slow machine cannot catch the cursor mid-blink."""
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_login_badge_step(snap_compare, app_factory, size) -> None:
    assert snap_compare(app_factory(), terminal_size=size, run_before=steady)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_login_pin_step(snap_compare, app_factory, size) -> None:
    async def badge(pilot) -> None:  # type: ignore[no-untyped-def]
        await scan(pilot, PICKER[0])
        await steady(pilot)

    assert snap_compare(app_factory(), terminal_size=size, run_before=badge)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_login_wrong_pin(snap_compare, app_factory, size) -> None:
    async def wrong(pilot) -> None:  # type: ignore[no-untyped-def]
        await scan(pilot, PICKER[0])
        await scan(pilot, "0000")
        await steady(pilot)

    assert snap_compare(app_factory(), terminal_size=size, run_before=wrong)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_home_of_a_lead(snap_compare, app_factory, size) -> None:
    async def login(pilot) -> None:  # type: ignore[no-untyped-def]
        await scan(pilot, LEAD[0])
        await scan(pilot, LEAD[3])
        await steady(pilot)

    assert snap_compare(app_factory(), terminal_size=size, run_before=login)


async def _to_scanner_test(pilot) -> None:  # type: ignore[no-untyped-def]
    await scan(pilot, LEAD[0])
    await scan(pilot, LEAD[3])
    await pilot.press("f2")
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_scanner_test_reads_a_gs1_code(snap_compare, app_factory, size) -> None:
    """Feedback bar, accepted: green, the scan, the standing next step; the fields listed."""

    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await _to_scanner_test(pilot)
        await burst(pilot, "]C10109501101530003" + "17270200" + "10AB-12\x1d21X9")
        await steady(pilot)

    assert snap_compare(app_factory(), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_scanner_test_misread(snap_compare, app_factory, size) -> None:
    """Feedback bar, refused: red, the reason, what to do."""

    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await _to_scanner_test(pilot)
        await scan(pilot, "4006381333932")
        await steady(pilot)

    assert snap_compare(app_factory(), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_home_refuses_a_scan_it_has_no_use_for(snap_compare, app_factory, size) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await scan(pilot, PICKER[0])
        await scan(pilot, PICKER[3])
        await scan(pilot, "A-03-12-2")
        await steady(pilot)

    assert snap_compare(app_factory(), terminal_size=size, run_before=run)


async def _queue_of_three(pilot) -> None:  # type: ignore[no-untyped-def]
    from tests.tui.test_picking import give_orders

    give_orders(pilot.app.db.url, 3)
    await scan(pilot, PICKER[0])
    await scan(pilot, PICKER[3])
    await pilot.press("enter")
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_picker_queue(snap_compare, app_factory, size) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await _queue_of_three(pilot)
        await burst(pilot, "T-0991")  # one started, two waiting
        await steady(pilot)

    assert snap_compare(app_factory(), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_picker_queue_of_six_after_the_last_pickup(snap_compare, app_factory, size) -> None:
    """Six orders, one started, all LATE in red: each on one line, the prompt in sight."""
    from tests.conftest import NOW
    from tests.tui.test_picking import give_orders

    app = app_factory()
    tz = app.settings.warehouse.tz
    app.clock = lambda: NOW.astimezone(tz).replace(hour=23, minute=0).astimezone(NOW.tzinfo)

    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        give_orders(pilot.app.db.url, 6)
        await scan(pilot, PICKER[0])
        await scan(pilot, PICKER[3])
        await pilot.press("enter")
        await settle(pilot)
        await burst(pilot, "T-0991")
        await steady(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_pick_screen(snap_compare, app_factory, size) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await _queue_of_three(pilot)
        for tote in ("T-0991", "T-0992", "T-0993"):
            await burst(pilot, tote)
        await burst(pilot, pilot.app.screen.line.bin_code)
        await steady(pilot)

    assert snap_compare(app_factory(), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_pick_screen_wrong_bin(snap_compare, app_factory, size) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await _queue_of_three(pilot)
        for tote in ("T-0991", "T-0992", "T-0993"):
            await burst(pilot, tote)
        await burst(pilot, "Z-99-99-9")
        await steady(pilot)

    assert snap_compare(app_factory(), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_pick_screen_shortage_count(snap_compare, app_factory, size) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await _queue_of_three(pilot)
        for tote in ("T-0991", "T-0992", "T-0993"):
            await burst(pilot, tote)
        await burst(pilot, pilot.app.screen.line.bin_code)
        await burst(pilot, "CMD-SHORT")
        await steady(pilot)

    assert snap_compare(app_factory(), terminal_size=size, run_before=run)


async def _packing_in_progress(pilot) -> None:  # type: ignore[no-untyped-def]
    """A two-unit order open at the packing table, one unit verified."""
    from tests.tui.test_packing import picked_order, to_table, verify_units

    _, tote = picked_order(pilot.app.db.url, units=2)
    screen = await to_table(pilot, tote)
    await verify_units(pilot, screen, 1)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_packing_checklist_in_progress(snap_compare, app_factory, size) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await _packing_in_progress(pilot)
        await steady(pilot)

    assert snap_compare(app_factory(), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_packing_wrong_item(snap_compare, app_factory, size) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await _packing_in_progress(pilot)
        await burst(pilot, "4006381333931")
        await steady(pilot)

    assert snap_compare(app_factory(), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_packing_closed_with_lane(snap_compare, app_factory, size) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        from tests.tui.test_packing import verify_units, weigh

        await _packing_in_progress(pilot)
        screen = pilot.app.screen
        await verify_units(pilot, screen, 1)
        await burst(pilot, "BOX-M")
        await weigh(pilot, screen)
        await burst(pilot, "CMD-OK")
        await steady(pilot)

    assert snap_compare(app_factory(), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_packing_f9_names_the_order_and_lists_the_reasons(snap_compare, app_factory, size) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await _packing_in_progress(pilot)
        await pilot.press("f9")
        await settle(pilot)
        await steady(pilot)

    assert snap_compare(app_factory(), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_packing_address_to_confirm(snap_compare, app_factory, size) -> None:
    """Everything but the address done: the address, the step, F5 and F9 all in sight."""

    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        from tests.tui.test_packing import verify_units, weigh

        await _packing_in_progress(pilot)
        screen = pilot.app.screen
        await verify_units(pilot, screen, 1)
        await burst(pilot, "BOX-M")
        await weigh(pilot, screen)
        await steady(pilot)

    assert snap_compare(app_factory(), terminal_size=size, run_before=run)


async def _handoff(pilot):  # type: ignore[no-untyped-def]
    from tests.tui.test_handoff import busiest, to_handoff

    screen = await to_handoff(pilot)
    return screen, busiest(screen)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_handoff_lanes(snap_compare, app_factory, size) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await _handoff(pilot)
        await steady(pilot)

    assert snap_compare(app_factory(station="handoff"), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_handoff_lanes_with_stale_parcels(snap_compare, app_factory, floor_url, size) -> None:
    from tests.tui.test_handoff import age_parcels_on_their_way

    age_parcels_on_their_way(floor_url, 10)

    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await _handoff(pilot)
        await steady(pilot)

    assert snap_compare(app_factory(station="handoff"), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_handoff_pickup_in_progress(snap_compare, app_factory, size) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        screen, lane = await _handoff(pilot)
        await burst(pilot, lane.lane)
        await burst(pilot, screen.pickup.waiting_listed[0][0])
        await steady(pilot)

    assert snap_compare(app_factory(station="handoff"), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_handoff_refused_scan(snap_compare, app_factory, size) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        _, lane = await _handoff(pilot)
        await burst(pilot, lane.lane)
        await burst(pilot, "EE000000000PL")
        await steady(pilot)

    assert snap_compare(app_factory(station="handoff"), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_handoff_closed_pickup(snap_compare, app_factory, size) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        screen, lane = await _handoff(pilot)
        await burst(pilot, lane.lane)
        for tracking, _ in list(screen.pickup.waiting_listed):
            await burst(pilot, tracking)
        await burst(pilot, "CMD-CLOSE")
        await steady(pilot)

    assert snap_compare(app_factory(station="handoff"), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_handoff_closing_lists_what_stays_in_the_lane(snap_compare, app_factory, size) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        screen, lane = await _handoff(pilot)
        await burst(pilot, lane.lane)
        await burst(pilot, screen.pickup.waiting_listed[0][0])
        await burst(pilot, "CMD-CLOSE")
        await steady(pilot)

    assert snap_compare(app_factory(station="handoff"), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_lead_tools_voiding_a_parcel(snap_compare, app_factory, size) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        from tests.tui.test_lead import to_tools

        await to_tools(pilot)
        await pilot.press("f7")
        await burst(pilot, "EE000000045PL")
        await steady(pilot)

    assert snap_compare(app_factory(station="handoff"), terminal_size=size, run_before=run)


HOSTILE = {
    "ship_name": "[bold]Zofia[/] [@click=app.quit]Wróbel[/]\x1b[31m \u202eevil\u202c",
    "ship_street": "ul. [link=http://x]Długa[/link] 5\x07",
    "note": "[red]leave at door[/red] \x1b]8;;http://x\x07here\x1b]8;;\x07",
    "gift_message": "Happy [blink]birthday[/blink]! \u200f\u05e9\u05dc\u05d5\u05dd",
}


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_packing_a_customer_with_markup_and_escapes_shows_them_literally(
    snap_compare, app_factory, size
) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        from sqlalchemy import update

        from picker.store.models import Order
        from tests.tui.test_packing import picked_order, to_table

        number, tote = picked_order(pilot.app.db.url, units=1)
        with pilot.app.db.transaction() as s:
            s.execute(update(Order).where(Order.number == number).values(**HOSTILE))
        await to_table(pilot, tote)
        await steady(pilot)

    assert snap_compare(app_factory(), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_lead_tools_list_hostile_hold_reasons_literally(snap_compare, app_factory, size) -> None:
    """Hold reasons quote what the shop sent (an unknown shipping method, a country) and what a
    packer keyed: markup, escapes and bidi marks in them are shown as text."""

    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        from sqlalchemy import select, update

        from picker.store.models import Order
        from tests.tui.test_lead import to_tools

        with pilot.app.db.transaction() as s:
            first = s.scalar(
                select(Order.id).where(Order.status == "on_hold").order_by(Order.id).limit(1)
            )
            reasons = [
                "unknown shipping method: '[bold]EXPRESS[/] [@click=app.quit]now[/]'",
                f"packing: {HOSTILE['note']}",
                f"address: country '{HOSTILE['ship_name'][-12:]}' is not a two-letter code",
            ]
            s.execute(update(Order).where(Order.id == first).values(hold_reasons=reasons))
        await to_tools(pilot)
        await steady(pilot)

    assert snap_compare(app_factory(station="handoff"), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_pick_screen_holding_a_scan_while_the_database_is_away(
    snap_compare, app_factory, fresh_postgres_url, size
) -> None:
    """The server out of reach mid-pick: the item scan held in red, the line under the title
    counting what waits."""
    from tests.tui.test_database_lost import floor_with_a_picker, item_scan_held, through_relay

    floor_with_a_picker(fresh_postgres_url)
    relay, through = through_relay(fresh_postgres_url)

    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await item_scan_held(pilot, relay.stop)
        await steady(pilot)

    try:
        assert snap_compare(app_factory(through), terminal_size=size, run_before=run)
    finally:
        relay.stop()
