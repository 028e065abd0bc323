"""The pick screen meets a bin being counted: the picker is told to go on, and the line comes
back at the end of the walk."""

from __future__ import annotations

from picker.domain.roles import Role
from picker.services import counts
from picker.services.actors import Actor, OperatorInfo
from picker.store.engine import Database
from picker.store.models import Operator
from picker.tui.screens.pick import PickScreen
from tests.conftest import NOW
from tests.tui.conftest import PICKER2
from tests.tui.helpers import burst, feedback
from tests.tui.test_picking import give_orders, pick_everything, statuses, to_queue


def _counter(db: Database) -> Actor:
    from sqlalchemy import select

    with db.read() as s:
        op_id = s.scalar(select(Operator.id).where(Operator.badge == PICKER2[0]))
    return Actor("T31", OperatorInfo(op_id, PICKER2[0], PICKER2[1], frozenset({Role.PICKER})))


async def test_a_counted_bin_is_refused_with_words_and_its_line_comes_back_last(
    app_factory, floor_url, settings
) -> None:
    numbers = give_orders(floor_url, 3)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await to_queue(pilot)
        for tote in ("T-0991", "T-0992", "T-0993"):
            await burst(pilot, tote)
        screen = app.screen
        assert isinstance(screen, PickScreen)
        first = screen.line
        assert first is not None
        db = Database(floor_url)
        try:
            view = counts.start_count(
                db, _counter(db), first.bin_code, settings=settings, clock=lambda: NOW
            )
        finally:
            db.dispose()
        await burst(pilot, first.bin_code)
        kind, message = feedback(pilot)
        assert kind == "error"
        assert message == (
            f"{first.bin_code} is being counted ({view.number}) — go on to the next line; "
            "this one comes back when the count closes"
        )
        after = screen.line
        assert after is not None and after.bin_code != first.bin_code  # the next line
        left = screen.ordered()
        assert left[-1].bin_code == first.bin_code  # offered again at the end
        db = Database(floor_url)
        try:
            counts.cancel(db, Actor("T00"), view.number, settings=settings, clock=lambda: NOW)
        finally:
            db.dispose()
        await pick_everything(pilot)
        assert screen.line is None
    assert statuses(floor_url, numbers) == ["picked"] * 3
