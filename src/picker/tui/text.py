"""Stored text made safe for the screen: never markup, never control sequences."""

from __future__ import annotations

from rich.text import Text


def safe(text: str | None) -> str:
    """Control characters (ESC, BEL, …) are shown as visible escapes instead of acting."""
    if not text:
        return ""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def plain(text: str | None, style: str = "") -> Text:
    """A Rich Text that displays ``text`` literally: ``[bold]`` stays ``[bold]``."""
    return Text(safe(text), style=style)
