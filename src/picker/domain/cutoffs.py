"""Courier cutoffs: the local times of day a courier's service is picked up.

A service lists its cutoffs as ``"HH:MM"`` texts (``["11:00", "16:30"]``), in the warehouse's
time zone. An order is urgent by its service's next cutoff; a lane shows its courier's next one
(the earliest of its services'), and a parcel closed before the last one that went by is late.
An order is late once the last cutoff of the day it was placed for went by without it (placed
after a day's last cutoff, it is for the next day's).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime, time, timedelta, tzinfo

_HH_MM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class CutoffError(ValueError):
    """A cutoff that is not a time of day, in words."""


def parse_cutoff(text: str) -> time:
    """``"16:30"`` → 16:30; anything else (``"4pm"``, ``"24:00"``) raises :class:`CutoffError`."""
    match = _HH_MM.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise CutoffError(f"cutoff {text!r} is not a time of day written HH:MM (e.g. 16:30)")
    return time(int(match.group(1)), int(match.group(2)))


def parse_cutoffs(texts: Iterable[str]) -> tuple[time, ...]:
    """Every cutoff of a list, earliest first, each once; stored texts that do not parse are
    left out (a row edited by hand must not stop the floor)."""
    times = set()
    for t in texts:
        try:
            times.add(parse_cutoff(t))
        except CutoffError:
            continue
    return tuple(sorted(times))


def cutoff_text(at: time) -> str:
    return f"{at:%H:%M}"


def next_cutoff(cutoffs: Sequence[time], now: datetime, tz: tzinfo) -> datetime | None:
    """The next moment one of the local ``cutoffs`` comes round (today's, or when all went by,
    tomorrow's first), in ``now``'s zone; None without cutoffs."""
    if not cutoffs:
        return None
    local = now.astimezone(tz)
    for day in (local.date(), local.date() + timedelta(days=1)):
        for at in sorted(cutoffs):
            moment = datetime.combine(day, at, tzinfo=tz)
            if moment >= local:
                return moment.astimezone(now.tzinfo)
    raise AssertionError("unreachable: tomorrow's first cutoff is always ahead")


def last_cutoff(cutoffs: Sequence[time], now: datetime, tz: tzinfo) -> datetime | None:
    """The last cutoff that went by before ``now`` (today's, else yesterday's last)."""
    if not cutoffs:
        return None
    local = now.astimezone(tz)
    for day in (local.date(), local.date() - timedelta(days=1)):
        for at in sorted(cutoffs, reverse=True):
            moment = datetime.combine(day, at, tzinfo=tz)
            if moment < local:
                return moment.astimezone(now.tzinfo)
    raise AssertionError("unreachable: yesterday's last cutoff is always behind")


def ship_by(cutoffs: Sequence[time], placed_at: datetime, tz: tzinfo) -> datetime | None:
    """The last pickup an order placed at ``placed_at`` is meant to leave on: the last cutoff of
    its local day, or, placed after that one, the next day's last; in ``placed_at``'s zone.
    None without cutoffs."""
    if not cutoffs:
        return None
    local = placed_at.astimezone(tz)
    last = max(cutoffs)
    for day in (local.date(), local.date() + timedelta(days=1)):
        moment = datetime.combine(day, last, tzinfo=tz)
        if moment >= local:
            return moment.astimezone(placed_at.tzinfo)
    raise AssertionError("unreachable: tomorrow's last cutoff is always ahead")


def is_late(cutoffs: Sequence[time], placed_at: datetime, now: datetime, tz: tzinfo) -> bool:
    """Whether the day's last pickup an order was meant for went by (at that very minute it is
    still on time); never late without cutoffs."""
    due = ship_by(cutoffs, placed_at, tz)
    return due is not None and now > due
