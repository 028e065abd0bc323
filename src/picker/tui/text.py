"""Stored text made safe for the screen: never markup, never control sequences."""

from __future__ import annotations

from rich.text import Text

from picker.domain.text import printable as safe

__all__ = ["plain", "safe"]


def plain(text: str | None, style: str = "") -> Text:
    """A Rich Text that displays ``text`` literally: ``[bold]`` stays ``[bold]``."""
    return Text(safe(text), style=style)
