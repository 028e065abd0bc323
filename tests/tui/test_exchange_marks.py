"""A return's replacement goods (an exchange) are marked "EXCHANGE · RMA-…" on the pick and
pack screens, whole on a 40-column handheld."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from picker.domain.returns import rma_number
from picker.store.engine import Database
from picker.store.models import Order, Return
from tests.conftest import NOW
from tests.tui.conftest import PICKER
from tests.tui.helpers import burst, scan, settle, text_of
from tests.tui.test_packing import picked_order, to_table
from tests.tui.test_picking import give_orders
from tests.tui.test_snapshots import SIZES, steady


def as_exchange(url: str, number: str) -> str:
    """Make ``number`` the replacement of a return of another order of the floor: its RMA."""
    db = Database(url)
    try:
        with db.transaction() as s:
            oid = s.scalar(select(Order.id).where(Order.number == number))
            other = s.scalar(select(Order.id).where(Order.id != oid).order_by(Order.id).limit(1))
            ret = Return(order_id=other, number=f"tmp-{oid}", status="closed", currency="PLN",
                         terminal_id="T30", created_at=NOW, opened_at=NOW, closed_at=NOW,
                         exchange=True, exchange_order_id=oid)  # fmt: skip
            s.add(ret)
            s.flush()
            ret.number = rma_number(ret.id)
            s.execute(update(Order).where(Order.id == oid).values(exchange_for_return_id=ret.id))
            return ret.number
    finally:
        db.dispose()


async def _picking_exchange(pilot) -> str:  # type: ignore[no-untyped-def]
    [number] = give_orders(pilot.app.db.url, 1)
    rma = as_exchange(pilot.app.db.url, number)
    await scan(pilot, PICKER[0])
    await scan(pilot, PICKER[3])
    await pilot.press("enter")
    await settle(pilot)
    await burst(pilot, "T-0991")
    return rma


async def _packing_exchange(pilot) -> str:  # type: ignore[no-untyped-def]
    number, tote = picked_order(pilot.app.db.url, units=1)
    rma = as_exchange(pilot.app.db.url, number)
    await to_table(pilot, tote)
    return rma


def _whole(pilot, selector: str, mark: str) -> None:  # type: ignore[no-untyped-def]
    text = text_of(pilot, selector)
    width = pilot.app.size.width
    assert any(mark in line for line in text.splitlines()), text
    assert all(len(line) <= width for line in text.splitlines()), text


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
async def test_the_pick_screen_marks_an_exchange(app_factory, size) -> None:
    async with app_factory().run_test(size=size) as pilot:
        rma = await _picking_exchange(pilot)
        _whole(pilot, "#line", f"EXCHANGE · {rma}")


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
async def test_the_pack_screen_marks_an_exchange(app_factory, size) -> None:
    async with app_factory().run_test(size=size) as pilot:
        rma = await _packing_exchange(pilot)
        _whole(pilot, "#order", f"EXCHANGE · {rma}")


async def test_an_order_that_is_no_exchange_carries_no_mark(app_factory) -> None:
    async with app_factory().run_test(size=(40, 16)) as pilot:
        _, tote = picked_order(pilot.app.db.url, units=1)
        await to_table(pilot, tote)
        assert "EXCHANGE" not in text_of(pilot, "#order")


def test_pick_screen_of_an_exchange_on_a_handheld(snap_compare, app_factory) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await _picking_exchange(pilot)
        await steady(pilot)

    assert snap_compare(app_factory(), terminal_size=(40, 16), run_before=run)


def test_pack_screen_of_an_exchange_on_a_handheld(snap_compare, app_factory) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await _packing_exchange(pilot)
        await steady(pilot)

    assert snap_compare(app_factory(), terminal_size=(40, 16), run_before=run)
