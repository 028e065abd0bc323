"""Driving the app like a scanner: the whole code, then Enter."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Input, Static

from picker.tui.widgets.feedback import Feedback


async def scan(pilot: Pilot, text: str) -> None:
    """Type ``text`` into the focused input at once and press Enter; wait for the database."""
    focused = pilot.app.focused
    assert isinstance(focused, Input), f"focus is on {focused!r}, not an input"
    focused.value = text
    await pilot.press("enter")
    await settle(pilot)


async def burst(pilot: Pilot, text: str) -> None:
    """Scan ``text`` as a scanner does (key events 2 ms apart, GS as its key, then Enter)."""
    from picker.bench.terminal import type_scan

    await type_scan(pilot.app, text)  # type: ignore[arg-type]
    await settle(pilot)


async def settle(pilot: Pilot) -> None:
    """Wait until every queued scan is applied and every database worker is done."""
    await pilot.pause()
    await pilot.app.scans_settled()  # type: ignore[attr-defined]
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def feedback(pilot: Pilot) -> tuple[str, str]:
    """(kind, message) of the feedback bar on the current screen."""
    widget = pilot.app.screen.query_one(Feedback)
    return widget.kind, widget.message


def feedback_text(pilot: Pilot) -> str:
    """Everything the feedback bar shows: the scan, the message, the next step."""
    return str(pilot.app.screen.query_one(Feedback).render())


def text_of(pilot: Pilot, selector: str) -> str:
    return str(pilot.app.screen.query_one(selector, Static).render())
