"""The picker's station on the real app, driven only by scans (and Enter)."""

from __future__ import annotations

from sqlalchemy import func, select

from picker.services.actors import Actor
from picker.services.orders import lead_actions
from picker.store.engine import Database
from picker.store.models import Order, OrderLine, Tote
from picker.tui.screens.pick import PickScreen
from picker.tui.screens.queue import QueueScreen
from tests.conftest import NOW
from tests.tui.conftest import PICKER
from tests.tui.helpers import burst, feedback, scan, settle


def give_orders(url: str, n: int, *, min_units: int = 1) -> list[str]:
    """Hand ``n`` of the demo floor's assigned orders to the test picker (a lead's override)."""
    db = Database(url)
    try:
        with db.read() as s:
            units = (
                select(func.sum(OrderLine.quantity))
                .where(OrderLine.order_id == Order.id)
                .scalar_subquery()
            )
            numbers = list(
                s.scalars(
                    select(Order.number)
                    .where(Order.status == "assigned", units >= min_units)
                    .order_by(Order.id)
                    .limit(n)
                )
            )
        assert len(numbers) == n
        for number in numbers:
            lead_actions.assign_order(db, Actor("T00"), number, PICKER[0], clock=lambda: NOW)
        return numbers
    finally:
        db.dispose()


def statuses(url: str, numbers: list[str]) -> list[str]:
    db = Database(url)
    try:
        with db.read() as s:
            rows = s.execute(select(Order.number, Order.status).where(Order.number.in_(numbers)))
            found = {r.number: r.status for r in rows}
        return [found[n] for n in numbers]
    finally:
        db.dispose()


async def to_queue(pilot) -> None:  # type: ignore[no-untyped-def]
    await scan(pilot, PICKER[0])
    await scan(pilot, PICKER[3])
    await pilot.press("enter")  # home: Enter opens the picker queue
    await settle(pilot)


async def first_unit(pilot):  # type: ignore[no-untyped-def]
    """From login to one unit of the first line scanned (tote T-0990, bin, item); returns
    that line as it was before the unit."""
    await to_queue(pilot)
    await burst(pilot, "T-0990")
    line = pilot.app.screen.line
    await burst(pilot, line.bin_code)
    await burst(pilot, sorted(line.barcodes)[0])
    return line


async def pick_everything(pilot, *, keyed: bool = False) -> int:  # type: ignore[no-untyped-def]
    """Walk the pick screen to the end by scans; returns the number of scans made."""
    screen = pilot.app.screen
    assert isinstance(screen, PickScreen)
    made = 0
    while (line := screen.line) is not None:
        made += 1
        if screen.step.value == "bin":
            await burst(pilot, line.bin_code)
            continue
        item = sorted(line.barcodes)[0] if line.barcodes else line.sku
        await burst(pilot, item)
        if keyed and line.left > 1 and not screen.is_batch:
            await pilot.press(*str(line.left - 1), "enter")
            await settle(pilot)
        if screen.is_batch:
            await burst(pilot, line.tote)
        assert feedback(pilot)[0] == "ok", feedback(pilot)
    return made


async def test_one_order_from_the_queue_to_picked_by_scans_alone(app_factory, floor_url) -> None:
    [number] = give_orders(floor_url, 1)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await to_queue(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert [e.number for e in app.screen.entries] == [number]
        await burst(pilot, "T-0990")  # the tote starts the order; the only one: straight to pick
        assert isinstance(app.screen, PickScreen)
        await pick_everything(pilot, keyed=True)
        field = app.screen.query_one("#scan")
        assert field.display and app.focused is field  # back to scans after a keyed last unit
        kind, message = feedback(pilot)
        assert kind == "ok" and f"{number} picked. Take tote T-0990 to packing staging" in message
    assert statuses(floor_url, [number]) == ["picked"]


async def test_a_batch_of_three_is_one_walk_with_a_tote_check(app_factory, floor_url) -> None:
    numbers = give_orders(floor_url, 3)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await to_queue(pilot)
        for tote in ("T-0991", "T-0992", "T-0993"):
            await burst(pilot, tote)
        assert isinstance(app.screen, PickScreen) and app.screen.is_batch
        seqs = [ln.pick_seq for ln in app.screen.lines]
        assert len({ln.order_id for ln in app.screen.lines}) == 3
        await pick_everything(pilot)
        assert app.screen.line is None
    assert statuses(floor_url, numbers) == ["picked"] * 3
    assert seqs  # the walk covered every order's lines
    db = Database(floor_url)
    with db.read() as s:
        locations = set(
            s.scalars(select(Tote.location).where(Tote.code.in_(["T-0991", "T-0992", "T-0993"])))
        )
    db.dispose()
    assert locations == {"packing"}


async def test_wrong_bin_item_and_tote_are_refused_in_red_and_change_nothing(
    app_factory, floor_url
) -> None:
    give_orders(floor_url, 2)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await to_queue(pilot)
        await burst(pilot, "T-0991")
        await burst(pilot, "T-0992")
        assert isinstance(app.screen, PickScreen)
        screen = app.screen
        line = screen.line
        assert line is not None
        bells = app.bells
        await burst(pilot, "Z-99-99-9")
        assert feedback(pilot)[0] == "error" and f"Go to bin {line.bin_code}" in feedback(pilot)[1]
        await burst(pilot, line.bin_code)
        await burst(pilot, "4006381333931")
        kind, message = feedback(pilot)
        assert kind == "error" and f"Take {line.sku}" in message
        await burst(pilot, sorted(line.barcodes)[0])
        wrong = "T-0992" if line.tote == "T-0991" else "T-0991"
        await burst(pilot, wrong)
        assert (
            feedback(pilot)[0] == "error"
            and f"Put {line.sku} into tote {line.tote}" in feedback(pilot)[1]
        )
        assert app.bells == bells + 3
        assert screen.line is not None and screen.line.picked == line.picked  # nothing counted
        await burst(pilot, line.tote)
        assert feedback(pilot)[0] == "ok"
        assert (
            screen.lines
            and next(ln for ln in screen.lines if ln.task_id == line.task_id).picked
            == line.picked + 1
        )


async def test_leaving_mid_pick_resumes_at_the_same_line_with_the_same_counts(
    app_factory, floor_url
) -> None:
    give_orders(floor_url, 1, min_units=2)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        line = await first_unit(pilot)
        now = next(ln for ln in app.screen.lines if ln.task_id == line.task_id)
        task, picked = line.task_id, now.picked
        assert picked == 1
    # The terminal dies; the picker logs in again (here, on a new app on the same floor).
    again = app_factory()
    async with again.run_test(size=(80, 24)) as pilot:
        await scan(pilot, PICKER[0])
        await scan(pilot, PICKER[3])
        await settle(pilot)
        assert isinstance(again.screen, PickScreen)
        resumed = next(ln for ln in again.screen.lines if ln.task_id == task)
        assert resumed.picked == picked
        # The same line is current again if it has more to pick, asking for its bin first.
        if resumed.left:
            assert again.screen.line.task_id == task and again.screen.step.value == "bin"


async def test_cmd_undo_puts_the_last_pick_back(app_factory, floor_url) -> None:
    give_orders(floor_url, 1, min_units=2)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        line = await first_unit(pilot)
        await burst(pilot, "CMD-UNDO")
        kind, message = feedback(pilot)
        assert kind == "ok" and message.startswith(f"Undone: 1 × {line.sku}")
        assert app.screen.line.picked == line.picked


async def test_cmd_short_with_a_keyed_count_corrects_the_bin(app_factory, floor_url) -> None:
    give_orders(floor_url, 1)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await to_queue(pilot)
        await burst(pilot, "T-0990")
        line = app.screen.line
        await burst(pilot, line.bin_code)
        await burst(pilot, "CMD-SHORT")
        assert app.focused.id == "qty"
        await pilot.press("0", "enter")
        await settle(pilot)
        kind, message = feedback(pilot)
        assert (kind == "error" and "on hold" in message) or (
            kind == "ok" and "now from" in message
        )


async def test_enter_on_the_queue_picks_what_is_started_and_the_queue_is_kept(
    app_factory, floor_url
) -> None:
    give_orders(floor_url, 2)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await to_queue(pilot)
        queue = app.screen
        await pilot.press("enter")  # nothing started yet: it says what to do
        await settle(pilot)
        assert feedback(pilot)[0] == "error" and "Scan an empty tote for" in feedback(pilot)[1]
        await burst(pilot, "T-0991")
        assert app.screen is queue and sum(e.started for e in queue.entries) == 1
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PickScreen) and not app.screen.is_batch
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is queue  # the same screen, its list read again
