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
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def feedback(pilot: Pilot) -> tuple[str, str]:
    """(kind, text) of the feedback line on the current screen."""
    widget = pilot.app.screen.query_one(Feedback)
    kind = next((c[1:] for c in widget.classes if c.startswith("-")), "")
    return kind, str(widget.render())


def text_of(pilot: Pilot, selector: str) -> str:
    return str(pilot.app.screen.query_one(selector, Static).render())
