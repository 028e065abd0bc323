"""Screen snapshots of login and home, at 80x24 and on a 40x16 handheld."""

import pytest

from tests.tui.conftest import LEAD, PICKER
from tests.tui.helpers import scan

SIZES = [(80, 24), (40, 16)]


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_login_badge_step(snap_compare, app_factory, size) -> None:
    assert snap_compare(app_factory(), terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_login_pin_step(snap_compare, app_factory, size) -> None:
    async def badge(pilot) -> None:  # type: ignore[no-untyped-def]
        await scan(pilot, PICKER[0])

    assert snap_compare(app_factory(), terminal_size=size, run_before=badge)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_login_wrong_pin(snap_compare, app_factory, size) -> None:
    async def wrong(pilot) -> None:  # type: ignore[no-untyped-def]
        await scan(pilot, PICKER[0])
        await scan(pilot, "0000")

    assert snap_compare(app_factory(), terminal_size=size, run_before=wrong)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_home_of_a_lead(snap_compare, app_factory, size) -> None:
    async def login(pilot) -> None:  # type: ignore[no-untyped-def]
        await scan(pilot, LEAD[0])
        await scan(pilot, LEAD[3])

    assert snap_compare(app_factory(), terminal_size=size, run_before=login)
