"""The moves screen on the real app, by scans alone: a reserve bin scanned takes its move, the
item is checked (a wrong one refused red with the bell), Enter keys the planned count, the pick
face scanned moves the stock. Snapshots at 80x24 and on a 40x16 handheld.

The demo floor's own levels and reserve stock are cleared first; each test plans its one move."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text, update

from picker.config import load_settings
from picker.services import replenish
from picker.services.actors import Actor
from picker.store.engine import Database
from picker.store.models import Bin, PickTask, Product, Stock
from picker.tui.screens.moves import MovesScreen
from tests.conftest import REPO
from tests.services.intake.test_order_import import stock
from tests.tui.conftest import PICKER
from tests.tui.helpers import burst, feedback, scan, settle
from tests.tui.test_snapshots import SIZES, steady

FACE, RESERVE = "A-01-01-1", "C-01-01-4"


def one_move(url: str) -> tuple[str, str]:
    """A product no order wants, 4 on its face A-01-01-1 (levels 10–50) and 100 in reserve:
    the planned move's (number, SKU)."""
    db = Database(url)
    try:
        with db.transaction() as s:
            s.execute(update(Bin).values(min_qty=None, max_qty=None))
            s.execute(text("DELETE FROM move_tasks"))
            s.execute(text("DELETE FROM stock WHERE bin_id IN "
                           "(SELECT id FROM bins WHERE role = 'reserve')"))  # fmt: skip
            wanted = select(PickTask.product_id)
            sku = s.scalar(
                select(Product.sku).where(Product.id.not_in(wanted)).order_by(Product.id).limit(1)
            )
            assert not s.scalar(
                select(Stock.reserved).join(Product).where(Product.sku == sku, Stock.reserved > 0)
            )
        stock(db, sku, A_01_01_1=4, C_01_01_4=100)
        replenish.set_bin(db, Actor("T00"), FACE, min_qty=10, max_qty=50)
        settings = load_settings(REPO / "config.toml", environ={})
        [move] = replenish.plan_replenishment(db, Actor("T00"), settings=settings).moves
        return move.number, sku
    finally:
        db.dispose()


def on_hand(url: str, sku: str, code: str) -> int:
    db = Database(url)
    try:
        with db.read() as s:
            return s.scalar(
                select(Stock.on_hand).join(Bin, Bin.id == Stock.bin_id)
                .join(Product, Product.id == Stock.product_id)
                .where(Product.sku == sku, Bin.code == code)
            ) or 0  # fmt: skip
    finally:
        db.dispose()


async def to_moves(pilot) -> MovesScreen:  # type: ignore[no-untyped-def]
    await scan(pilot, PICKER[0])
    await scan(pilot, PICKER[3])
    pilot.app.open_screen("moves")  # as the counting screen's F6 does
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, MovesScreen)
    return screen


async def test_one_move_by_scans_alone(app_factory, floor_url) -> None:
    number, sku = one_move(floor_url)
    app = app_factory(station="counting")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_moves(pilot)
        assert [m.number for m in screen.moves] == [number]
        await burst(pilot, RESERVE)
        assert feedback(pilot) == ("ok", f"{number}: take 46 × {sku}")
        await burst(pilot, "SKU-99999")
        assert feedback(pilot) == (
            "error",
            f"SKU-99999 is not in the catalogue: {number} moves {sku} — scan {sku}",
        )
        assert pilot.app.bells == 1
        await burst(pilot, sku)
        assert feedback(pilot) == ("ok", f"{sku} ✓ — how many did you take?")
        assert screen.stage == "count"
        await pilot.press("enter")  # Enter: the planned count
        await settle(pilot)
        assert screen.stage == "to" and screen.units == 46
        await burst(pilot, "A-01-02-1")
        assert feedback(pilot) == (
            "error",
            f"A-01-02-1 is not this move's pick face: put them in {FACE}",
        )
        await burst(pilot, FACE)
        assert feedback(pilot) == ("ok", f"Moved 46 × {sku} to {FACE}: {number} done")
        assert screen.view is None and screen.moves == []
    assert on_hand(floor_url, sku, FACE) == 50
    assert on_hand(floor_url, sku, RESERVE) == 54


async def test_a_terminal_that_dies_mid_move_finds_it_again(app_factory, floor_url) -> None:
    number, _ = one_move(floor_url)
    async with app_factory(station="counting").run_test(size=(80, 24)) as pilot:
        await to_moves(pilot)
        await burst(pilot, RESERVE)
    async with app_factory(station="counting").run_test(size=(80, 24)) as pilot:
        screen = await to_moves(pilot)
        assert screen.view is not None and screen.view.number == number
        assert feedback(pilot) == ("info", f"Back to {number}: scan the item")


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_snapshot_idle(snap_compare, app_factory, floor_url, size) -> None:
    one_move(floor_url)

    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await to_moves(pilot)
        await steady(pilot)

    assert snap_compare(app_factory(station="counting"), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_snapshot_move_taken_to_the_face(snap_compare, app_factory, floor_url, size) -> None:
    _, sku = one_move(floor_url)

    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await to_moves(pilot)
        await burst(pilot, RESERVE)
        await burst(pilot, sku)
        await pilot.press("enter")
        await settle(pilot)
        await steady(pilot)

    assert snap_compare(app_factory(station="counting"), terminal_size=size, run_before=run)
