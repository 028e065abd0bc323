"""Every operator of a fresh demo floor logs in at their station and finds work there, with no
lead's help and no error: a picker the queue (or the pick list of the totes started), a packer
the order they left open (or a tote waiting at the table), the lead the handoff zone's lanes.

Each one is driven as a person would: the badge and PIN typed key by key, Enter, then the first
scan of their work. Issue 19: the demo gave a packer two orders at the table, and she was caught
between "You have PO-0000022 open" and "You have PO-0000020 open" until a lead took one over.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select
from textual.pilot import Pilot
from textual.widgets import Static

from picker.demo.builder import DemoResult, build_demo
from picker.store.engine import Database
from picker.store.models import Order, Tote
from picker.tui.screens.handoff import HandoffScreen
from picker.tui.screens.home import HomeScreen
from picker.tui.screens.login import LoginScreen
from picker.tui.screens.pack import PackScreen
from picker.tui.screens.pick import PickScreen
from picker.tui.screens.queue import QueueScreen
from tests.conftest import NOW
from tests.tui.helpers import burst, feedback, settle

#: Seeds of the floors tried: 1 is the one ``make run`` builds.
SEEDS = (1, 7)
#: The station each role's terminal stands at.
STATION = {"picker": "picking", "packer": "packing", "lead": "handoff"}


@pytest.fixture(scope="module")
def floors(tmp_path_factory: pytest.TempPathFactory) -> dict[int, tuple[Path, DemoResult]]:
    """The demo floor as ``picker demo`` builds it (60 orders), once per seed."""
    built = {}
    for seed in SEEDS:
        path = tmp_path_factory.mktemp(f"demo{seed}") / "floor.db"
        db = Database(f"sqlite:///{path}")
        built[seed] = (path, build_demo(db, seed=seed, now=NOW))
        db.dispose()
    return built


async def type_keys(pilot: Pilot, text: str) -> None:
    """``text`` typed by a person, key by key, then Enter."""
    await pilot.press(*text, "enter")
    await settle(pilot)


def no_error(pilot: Pilot, what: str) -> None:
    kind, message = feedback(pilot)
    assert kind != "error", f"{what}: {message}"
    assert pilot.app.bells == 0, f"{what}: the bell rang ({message})"  # type: ignore[attr-defined]


def a_free_tote(url: str) -> str:
    db = Database(url)
    try:
        with db.read() as s:
            return str(s.scalar(select(Tote.code).where(Tote.order_id.is_(None)).order_by(Tote.id)))
    finally:
        db.dispose()


def a_tote_waiting_at_packing(url: str) -> str | None:
    db = Database(url)
    try:
        with db.read() as s:
            return s.scalar(
                select(Tote.code)
                .join(Order, Order.id == Tote.order_id)
                .where(Order.status == "picked")
                .order_by(Order.id)
                .limit(1)
            )
    finally:
        db.dispose()


async def first_work(pilot: Pilot, url: str, who: str) -> str:
    """The first scan of the operator's work on the screen they reached; what it was."""
    screen = pilot.app.screen
    if isinstance(screen, QueueScreen):
        assert screen.entries, f"{who}: the queue is empty"
        if not any(e.started for e in screen.entries):
            await burst(pilot, a_free_tote(url))  # the highlighted order into a tote
            no_error(pilot, f"{who} starting an order")
        await pilot.press("enter")  # pick the started orders
        await settle(pilot)
        screen = pilot.app.screen
    if isinstance(screen, PickScreen):
        assert screen.line is not None, f"{who}: a pick list with nothing to pick"
        await burst(pilot, screen.line.bin_code)
        return f"picking at bin {screen.line.bin_code}"
    if isinstance(screen, PackScreen):
        if screen.view is None:
            tote = a_tote_waiting_at_packing(url)
            assert tote is not None, f"{who}: no order open and no tote waiting at packing"
            await burst(pilot, tote)
            no_error(pilot, f"{who} opening tote {tote}")
        view = screen.view
        assert view is not None, f"{who}: no order at the table"
        if view.units_left:
            line = next(ln for ln in view.lines if ln.left)
            await burst(pilot, sorted(line.barcodes)[0] if line.barcodes else line.sku)
            return f"verifying {line.sku} of {view.number}"
        # Every unit verified: the box next, scanned by the name the box chooser shows.
        await pilot.press("f3")
        await settle(pilot)
        choices = str(screen.query_one("#choices", Static).render()).splitlines()
        box = choices[1].split()[1]  # line 1 reads "1 BOX-ENVM Bubble envelope M 20 g"
        await burst(pilot, box)
        return f"boxing {view.number} in {box}"
    if isinstance(screen, HandoffScreen):
        lane = next((ln for ln in screen.lanes if ln.parcels), None)
        assert lane is not None, f"{who}: no parcels in any lane"
        await burst(pilot, lane.lane)  # the courier is here: a pickup opens
        return f"handing over lane {lane.lane}"
    raise AssertionError(f"{who} reached {type(screen).__name__}, no station")


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("badge", [f"EMP-{i:04d}" for i in range(1, 6)])
async def test_every_demo_operator_logs_in_at_their_station_and_gets_to_work(
    app_factory, floors, tmp_path, seed, badge
) -> None:
    demo, result = floors[seed]
    [op] = [o for o in result.operators if o.badge == badge]
    path = tmp_path / "floor.db"
    shutil.copyfile(demo, path)
    url = f"sqlite:///{path}"
    role = op.roles.split(",")[0]
    who = f"{badge} ({role}, seed {seed})"
    app = app_factory(url, station=STATION[role])
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app.screen, LoginScreen)
        await type_keys(pilot, badge)
        await type_keys(pilot, op.pin)
        assert app.operator is not None and app.operator.badge == badge, feedback(pilot)
        no_error(pilot, f"{who} logging in")
        if isinstance(app.screen, HomeScreen):  # nothing to resume: Enter opens the station
            await pilot.press("enter")
            await settle(pilot)
        no_error(pilot, f"{who} at {type(app.screen).__name__}")
        did = await first_work(pilot, url, who)
        no_error(pilot, f"{who} {did}")
        assert feedback(pilot)[0] == "ok", f"{who} {did}: {feedback(pilot)}"
