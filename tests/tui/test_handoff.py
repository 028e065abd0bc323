"""The handoff zone on the real app: a whole pickup by scans, refusals, close and manifest."""

from __future__ import annotations

from sqlalchemy import select

from picker.store.engine import Database
from picker.store.models import Order, Parcel, PrintJob
from picker.tui.screens.handoff import HandoffScreen
from tests.tui.conftest import LEAD
from tests.tui.helpers import burst, feedback, scan, settle, text_of


async def to_handoff(pilot) -> HandoffScreen:  # type: ignore[no-untyped-def]
    await scan(pilot, LEAD[0])
    await scan(pilot, LEAD[3])
    await pilot.press("enter")  # home: Enter opens this terminal's station, the handoff zone
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, HandoffScreen)
    return screen


def busiest(screen: HandoffScreen):  # type: ignore[no-untyped-def]
    return max(screen.lanes, key=lambda ln: ln.parcels)


def statuses(url: str, numbers: list[str]) -> set[str]:
    db = Database(url)
    try:
        with db.read() as s:
            return set(s.scalars(select(Order.status).where(Order.number.in_(numbers))))
    finally:
        db.dispose()


async def test_a_whole_pickup_by_scans(app_factory, floor_url) -> None:
    app = app_factory(station="handoff")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_handoff(pilot)
        lane = busiest(screen)
        assert lane.parcels > 0 and lane.lane in text_of(pilot, "#lanes")
        await burst(pilot, "SOMEWHERE")  # not a courier: nothing opens
        assert feedback(pilot)[0] == "error" and screen.pickup is None
        await burst(pilot, lane.lane)
        assert screen.pickup is not None and feedback(pilot)[0] == "ok"
        parcels = list(screen.pickup.waiting_listed)
        other = next(ln for ln in screen.lanes if ln.courier != lane.courier and ln.parcels)
        for i, (tracking, _) in enumerate(parcels, start=1):
            await burst(pilot, tracking)
            kind, message = feedback(pilot)
            assert kind == "ok" and f"{i} of {len(parcels)}" in message, message
        await burst(pilot, parcels[0][0])  # twice: refused, named
        assert feedback(pilot)[0] == "error" and "handed over already" in feedback(pilot)[1]
        db = Database(floor_url)
        try:
            with db.read() as s:
                foreign = s.scalar(
                    select(Parcel.tracking_no)
                    .where(Parcel.courier_id == other.courier_id, Parcel.status == "closed")
                    .limit(1)
                )
        finally:
            db.dispose()
        await burst(pilot, foreign)
        assert f"put it back in lane {other.lane}" in feedback(pilot)[1]
        await burst(pilot, "CMD-CLOSE")  # the lane is empty: closes at once
        kind, message = feedback(pilot)
        assert kind == "ok" and "closed" in message and "Manifest printing" in message
        assert screen.pickup is None
    orders = [order for _, order in parcels]
    assert statuses(floor_url, orders) == {"executed"}
    db = Database(floor_url)
    try:
        with db.read() as s:
            assert s.scalar(select(PrintJob.kind).where(PrintJob.kind == "manifest")) == "manifest"
    finally:
        db.dispose()


async def test_closing_with_parcels_left_lists_them_then_undo_and_missing(
    app_factory, floor_url
) -> None:
    app = app_factory(station="handoff")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_handoff(pilot)
        lane = busiest(screen)
        assert lane.parcels >= 2
        await burst(pilot, lane.courier)
        first, second = screen.pickup.waiting_listed[:2]  # type: ignore[union-attr]
        await burst(pilot, first[0])
        await burst(pilot, second[0])
        await burst(pilot, "CMD-UNDO")
        assert feedback(pilot)[0] == "ok" and second[0] in feedback(pilot)[1]
        await burst(pilot, "CMD-CLOSE")
        assert screen.closing and "Still in lane" in text_of(pilot, "#still-here")
        await pilot.press("f6")  # the rest cannot be found: missing
        await settle(pilot)
        kind, message = feedback(pilot)
        assert kind == "ok" and "missing: their orders are on hold" in message
    assert statuses(floor_url, [second[1]]) == {"on_hold"}


async def test_the_lanes_refresh_by_themselves_when_a_parcel_arrives(
    app_factory, floor_url
) -> None:
    from sqlalchemy import update

    app = app_factory(station="handoff")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_handoff(pilot)
        before = {ln.lane: ln.parcels for ln in screen.lanes}
        db = Database(floor_url)
        try:  # another terminal changes the lanes: a parcel appears in one (written directly)
            with db.transaction() as s:
                target = s.execute(
                    select(Parcel.id, Parcel.courier_id)
                    .join(Order, Order.id == Parcel.order_id)
                    .where(Parcel.status == "handed_over", Order.status == "executed")
                    .limit(1)
                ).one()
                order_id = s.scalar(select(Parcel.order_id).where(Parcel.id == target.id))
                s.execute(update(Order).where(Order.id == order_id).values(status="packed"))
                s.execute(
                    update(Parcel)
                    .where(Parcel.id == target.id)
                    .values(status="closed", pickup_id=None, handed_over_at=None)
                )
        finally:
            db.dispose()
        lane = next(ln for ln in screen.lanes if ln.courier_id == target.courier_id)
        for _ in range(50):  # the screen polls every few seconds on SQLite
            await pilot.pause(0.1)
            now = next(ln for ln in screen.lanes if ln.courier_id == target.courier_id)
            if now.parcels > before[lane.lane]:
                break
        assert now.parcels == before[lane.lane] + 1


async def test_a_pickup_closed_on_another_terminal_lets_the_lead_open_a_new_one(
    app_factory, floor_url
) -> None:
    from picker.services.actors import Actor
    from picker.services.floor import handoff
    from tests.conftest import NOW

    app = app_factory(station="handoff")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_handoff(pilot)
        lane = busiest(screen)
        await burst(pilot, lane.lane)
        first, second = screen.pickup.waiting_listed[:2]  # type: ignore[union-attr]
        await burst(pilot, first[0])
        db = Database(floor_url)
        try:  # the other lead at the same courier closes the shared pickup
            handoff.close_pickup(
                db,
                Actor("T99"),
                app.settings,
                screen.pickup.id,
                clock=lambda: NOW,  # type: ignore[union-attr]
            )
        finally:
            db.dispose()
        await burst(pilot, second[0])
        kind, message = feedback(pilot)
        assert kind == "error" and "was closed" in message and screen.pickup is None
        await burst(pilot, lane.lane)  # a new pickup, and the parcel goes on it
        await burst(pilot, second[0])
        assert feedback(pilot)[0] == "ok", feedback(pilot)


async def test_every_key_of_the_handoff_zone_is_shown_on_a_handheld(app_factory) -> None:
    from tests.tui.test_packing import keys_shown

    app = app_factory(station="handoff")
    async with app.run_test(size=(40, 16)) as pilot:
        await to_handoff(pilot)
        shown = keys_shown(pilot)
        for key in ("F2 Lead tools", "F4 Undo", "F6 Missing", "F8 Close", "Esc Back", "^Q Quit"):
            assert key in shown, shown


async def test_on_a_handheld_every_lane_is_a_row_and_the_pickups_lane_counts_down(
    app_factory,
) -> None:
    from textual.widgets import Digits

    from tests.tui.test_packing import on_screen, screen_text

    app = app_factory(station="handoff")
    async with app.run_test(size=(40, 16)) as pilot:

        def row(ln) -> str:  # type: ignore[no-untyped-def]
            """The lane's one row on screen (its code and courier start it)."""
            start = f"{ln.lane} {ln.courier}"
            found = [line for line in screen_text(pilot) if start in line]
            assert len(found) == 1, f"{start!r} not on one row: {found}"
            return found[0]

        screen = await to_handoff(pilot)
        lane = busiest(screen)
        assert len(screen.lanes) >= 3 and lane.parcels >= 2
        for ln in screen.lanes:  # code, parcels and cutoff on the lane's one row
            parcels = f"{ln.parcels} parcel" if ln.parcels == 1 else f"{ln.parcels} parcels"
            assert parcels in row(ln) and (ln.next_cutoff is None or ":" in row(ln)), row(ln)
        await burst(pilot, lane.lane)
        total = lane.parcels
        waiting = list(screen.pickup.waiting_listed)  # type: ignore[union-attr]
        for scanned, (tracking, _) in enumerate(waiting[:2], 1):
            await burst(pilot, tracking)
            assert screen.query_one("#scanned", Digits).value == str(scanned)
            on_screen(pilot, f"of {total} scanned", "F8 Close")
            assert f"{total - scanned} left · {scanned} scanned" in row(lane)
            assert all(row(ln) for ln in screen.lanes)  # every lane still in sight
        await burst(pilot, "CMD-UNDO")  # one back in the lane: it counts again
        assert f"{total - 1} left · 1 scanned" in row(lane)
        assert screen.query_one("#scanned", Digits).value == "1"


def age_parcels_on_their_way(url: str, days: int) -> int:
    """The floor's parcels on their way handed over ``days`` days earlier: how many."""
    from datetime import timedelta

    from sqlalchemy import update

    db = Database(url)
    try:
        with db.transaction() as s:
            on_the_way = s.execute(
                select(Parcel.id, Parcel.handed_over_at)
                .join(Order, Order.id == Parcel.order_id)
                .where(Parcel.status == "handed_over", Order.status == "executed")
            ).all()
            for parcel_id, at in on_the_way:
                s.execute(update(Parcel).where(Parcel.id == parcel_id)
                          .values(handed_over_at=at - timedelta(days=days)))  # fmt: skip
            return len(on_the_way)
    finally:
        db.dispose()


async def test_the_lead_sees_how_many_parcels_are_stale_in_one_short_line(
    app_factory, floor_url
) -> None:
    app = app_factory(station="handoff")
    async with app.run_test(size=(40, 16)) as pilot:
        screen = await to_handoff(pilot)
        assert screen.stale == 0 and not screen.query_one("#stale").display
    aged = age_parcels_on_their_way(floor_url, 10)
    assert aged > 0
    app = app_factory(station="handoff")
    async with app.run_test(size=(40, 16)) as pilot:
        screen = await to_handoff(pilot)
        line = text_of(pilot, "#stale")
        assert screen.stale == aged
        assert line == f"{aged} parcel{'s' if aged > 1 else ''} stale: no courier news"
        assert len(line) <= 40 and screen.query_one("#stale").display
