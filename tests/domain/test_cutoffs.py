"""Cutoffs: local pickup times, the next one and the last one that went by."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from picker.domain.cutoffs import (
    CutoffError,
    is_late,
    last_cutoff,
    next_cutoff,
    parse_cutoff,
    parse_cutoffs,
    ship_by,
)

WARSAW = ZoneInfo("Europe/Warsaw")
TIMES = (time(11, 0), time(16, 30))


def _at(hour: int, minute: int = 0) -> datetime:
    """A winter day in Warsaw (UTC+1), as UTC."""
    return datetime(2026, 12, 4, hour, minute, tzinfo=WARSAW).astimezone(UTC)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (_at(8), _at(11)),
        (_at(11), _at(11)),  # a cutoff at this very minute is still ahead
        (_at(12), _at(16, 30)),
        (_at(17), datetime(2026, 12, 5, 11, tzinfo=WARSAW).astimezone(UTC)),
    ],
)
def test_the_next_cutoff_is_the_first_still_ahead_else_tomorrows_first(now, expected) -> None:
    assert next_cutoff(TIMES, now, WARSAW) == expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (_at(8), datetime(2026, 12, 3, 16, 30, tzinfo=WARSAW).astimezone(UTC)),
        (_at(12), _at(11)),
        (_at(17), _at(16, 30)),
    ],
)
def test_the_last_cutoff_is_the_latest_gone_by(now, expected) -> None:
    assert last_cutoff(TIMES, now, WARSAW) == expected


def test_without_cutoffs_there_is_no_next_or_last() -> None:
    assert next_cutoff((), _at(8), WARSAW) is None
    assert last_cutoff((), _at(8), WARSAW) is None


@pytest.mark.parametrize("text", ["4pm", "24:00", "16:60", "1630", "", "16:30:00"])
def test_a_cutoff_that_is_not_hh_mm_is_refused_in_words(text: str) -> None:
    with pytest.raises(CutoffError, match="is not a time of day written HH:MM"):
        parse_cutoff(text)


def test_stored_cutoffs_are_read_sorted_once_each_and_bad_ones_left_out() -> None:
    assert parse_cutoffs(["16:30", "11:00", "16:30", "noon"]) == TIMES


@pytest.mark.parametrize(
    ("placed", "expected"),
    [
        (_at(8), _at(16, 30)),  # the day's last pickup, not the first one still ahead
        (_at(12), _at(16, 30)),
        (_at(16, 30), _at(16, 30)),
        (_at(17), datetime(2026, 12, 5, 16, 30, tzinfo=WARSAW).astimezone(UTC)),
    ],
)
def test_an_order_ships_by_the_last_cutoff_of_the_day_it_was_placed_for(placed, expected) -> None:
    assert ship_by(TIMES, placed, WARSAW) == expected


@pytest.mark.parametrize(
    ("placed", "now", "late"),
    [
        (_at(8), _at(12), False),  # missed 11:00, still goes at 16:30
        (_at(8), _at(16, 30), False),  # the last pickup at this very minute
        (_at(8), _at(16, 31), True),  # the day's last pickup went without it
        (_at(8), _at(23, 59), True),
        (_at(17), _at(23, 59), False),  # placed after the last pickup: tomorrow's
        (_at(17), datetime(2026, 12, 5, 9, tzinfo=WARSAW).astimezone(UTC), False),
        (_at(9), datetime(2026, 12, 5, 9, tzinfo=WARSAW).astimezone(UTC), True),  # yesterday's
    ],
)
def test_an_order_is_late_once_the_last_pickup_of_its_day_went_by(placed, now, late) -> None:
    assert is_late(TIMES, placed, now, WARSAW) is late


def test_without_cutoffs_an_order_is_never_late() -> None:
    assert ship_by((), _at(8), WARSAW) is None
    assert is_late((), _at(8), _at(23), WARSAW) is False
