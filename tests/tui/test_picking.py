"""The picker's station on the real app, driven only by scans (and Enter)."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from picker.services.actors import Actor
from picker.services.orders import lead_actions
from picker.store.engine import Database
from picker.store.models import Operator, Order, OrderLine, Tote
from picker.tui.screens.pick import PickScreen
from picker.tui.screens.queue import QueueScreen
from tests.conftest import NOW
from tests.tui.conftest import PICKER
from tests.tui.helpers import burst, feedback, feedback_text, scan, settle, text_of


def give_orders(url: str, n: int, *, min_units: int = 1) -> list[str]:
    """Hand ``n`` of the demo floor's assigned orders to the test picker (a lead's override)."""
    db = Database(url)
    try:
        with db.read() as s:
            mine = select(Operator.id).where(Operator.badge == PICKER[0]).scalar_subquery()
            units = (
                select(func.sum(OrderLine.quantity))
                .where(OrderLine.order_id == Order.id)
                .scalar_subquery()
            )
            numbers = list(
                s.scalars(
                    select(Order.number)
                    .where(Order.status == "assigned", units >= min_units)
                    .where(Order.assignee_id.is_distinct_from(mine))
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


def screen_lines(pilot) -> list[str]:  # type: ignore[no-untyped-def]
    """The screen as the operator sees it, line by line (what a snapshot would show)."""
    import io

    from rich.console import Console

    app = pilot.app
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True)
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text(styles=False).splitlines()


def queue_rows(pilot) -> list[str]:  # type: ignore[no-untyped-def]
    """The lines of the picker queue's list, as drawn."""
    region = pilot.app.screen.query_one("#orders").region
    return screen_lines(pilot)[region.y : region.bottom]


def highlighted(queue: QueueScreen) -> str | None:
    from textual.widgets import OptionList

    orders = queue.query_one("#orders", OptionList)
    assert orders.highlighted is not None
    return orders.get_option_at_index(orders.highlighted).id


async def test_the_queue_on_a_handheld_shows_an_order_a_line_and_the_prompt(
    app_factory, floor_url
) -> None:
    numbers = give_orders(floor_url, 6)
    app = app_factory()
    async with app.run_test(size=(40, 16)) as pilot:
        await to_queue(pilot)
        await burst(pilot, "T-0991")  # one started, five to start
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        lines, rows = screen_lines(pilot), queue_rows(pilot)
        for number in numbers:
            [row] = [ln for ln in rows if number in ln]  # one line each, all in sight
            assert re.search(r"\d+/\d+u +(\d\d:\d\d|LATE)$", row.rstrip()), row
        assert "6 orders for you, 1 started" in lines[1]
        waiting = queue._next_to_start()
        assert waiting is not None
        assert any(f"Scan an empty tote for {waiting.number}" in ln for ln in lines)
        # Enter: what finishes the queue's part (the key bar wraps to two lines since F7 Count)
        assert any("⏎ Pick" in ln for ln in lines[-2:])


async def test_the_highlighted_order_is_the_one_the_prompt_names(app_factory, floor_url) -> None:
    give_orders(floor_url, 4)
    app = app_factory()
    async with app.run_test(size=(40, 16)) as pilot:
        await to_queue(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)

        def named() -> str:
            found = re.search(r"Scan an empty tote for (\S+)", feedback_text(pilot))
            assert found, feedback_text(pilot)
            return found.group(1)

        assert highlighted(queue) == named() == queue.entries[0].number
        await burst(pilot, "T-0991")  # the first starts and goes to the top, started
        started = queue.entries[0]
        assert started.started and highlighted(queue) == named() != started.number
        for key in ("down", "down", "up", "up", "up", "up"):  # never onto the started order
            await pilot.press(key)
            assert highlighted(queue) == named() != started.number
        await pilot.press("down", "down")
        chosen = named()
        await burst(pilot, "T-0992")  # the tote starts the order the prompt named
        assert next(e for e in queue.entries if e.number == chosen).tote == "T-0992"
        assert highlighted(queue) == named()


async def test_after_the_last_pickup_of_the_day_the_queue_says_late_in_red(
    app_factory, floor_url
) -> None:
    from picker.tui.screens.queue import LATE_STYLE, cutoff_words

    numbers = give_orders(floor_url, 2)
    app = app_factory()
    tz = app.settings.warehouse.tz
    app.clock = lambda: NOW.astimezone(tz).replace(hour=23, minute=0).astimezone(NOW.tzinfo)
    async with app.run_test(size=(40, 16)) as pilot:
        await to_queue(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        for number in numbers:
            [row] = [ln for ln in queue_rows(pilot) if number in ln]
            assert row.rstrip().endswith("LATE") and " min" not in row
        late = cutoff_words(queue.entries[0], app.clock(), tz)
        assert late.plain == "LATE" and late.style == LATE_STYLE


async def test_the_queue_counts_in_words_one_order_two_orders(app_factory, floor_url) -> None:
    give_orders(floor_url, 1)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await to_queue(pilot)
        assert text_of(pilot, "#summary") == "1 order for you"
        assert feedback(pilot) == ("info", "1 order to start")
        give_orders(floor_url, 1)  # the lead hands over another one
        await pilot.press("f5")
        await settle(pilot)
        assert text_of(pilot, "#summary") == "2 orders for you"


async def _batch_at_the_first_bin(pilot) -> PickScreen:  # type: ignore[no-untyped-def]
    await to_queue(pilot)
    for tote in ("T-0991", "T-0992", "T-0993"):
        await burst(pilot, tote)
    screen = pilot.app.screen
    assert isinstance(screen, PickScreen) and screen.line is not None
    return screen


async def test_the_pick_screen_on_a_handheld_shows_the_bin_large_and_the_next_bin(
    app_factory, floor_url
) -> None:
    from picker.domain.picking import walk
    from picker.tui.widgets.big_text import big_lines

    give_orders(floor_url, 3)
    app = app_factory()
    async with app.run_test(size=(40, 16)) as pilot:
        screen = await _batch_at_the_first_bin(pilot)
        line = screen.line
        lines = [ln.strip() for ln in screen_lines(pilot)]
        rows = big_lines(line.bin_code)
        assert rows is not None
        at = lines.index(rows[0].strip())  # the bin code, three rows high
        assert lines[at + 1 : at + 3] == [r.strip() for r in rows[1:]]
        shown = "\n".join(lines)
        assert f"take {line.left}  of {line.quantity}" in shown and line.sku in shown
        assert f"tote {line.tote} · {line.order_number}" in shown
        ahead = [ln for ln in walk(screen.lines) if not ln.done and ln.task_id != line.task_id]
        after = ahead[0]
        assert any(  # the next bin, whole, on one line
            ln.startswith(f"Next: {after.bin_code} {after.sku} ×{after.left}") for ln in lines
        )
        assert not app.screen.query_one("#bin").has_class("-confirmed")
        await burst(pilot, line.bin_code)
        assert app.screen.query_one("#bin").has_class("-confirmed")  # the bin done: green


async def test_the_pick_screen_at_80x24_lists_more_of_the_walk(app_factory, floor_url) -> None:
    from picker.domain.picking import walk

    give_orders(floor_url, 3)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _batch_at_the_first_bin(pilot)
        line = screen.line
        ahead = [ln for ln in walk(screen.lines) if not ln.done and ln.task_id != line.task_id]
        assert len(ahead) >= 2
        lines = [ln.strip() for ln in screen_lines(pilot)]
        assert f"Next ({len(ahead)} lines to go):" in lines
        for ln in ahead[:4]:
            assert f"{ln.bin_code}  {ln.sku} ×{ln.left}  tote {ln.tote}" in lines
