"""A text block that costs the screen a new layout only when its height can have changed.

A station screen redraws what it shows after every scan; a Static's update lays the whole screen
out again, and on the handoff zone that doubled the time from a parcel scan to its answer.
Most of a screen does not change with a scan (the address, the order's head) and what does
often keeps its height (a lane's row, a checklist line): those are redrawn in place.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class SteadyText(Static):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self._shown: Text | None = None

    def put(self, text: Text) -> None:
        """Show ``text``: nothing happens when it is what is shown already; no new layout when
        the widget does not wrap (CSS ``text-wrap: nowrap``) and it has as many lines as
        before."""
        shown = self._shown
        if shown is not None and text == shown and text.style == shown.style:
            return
        same_height = (
            shown is not None
            and self.styles.text_wrap == "nowrap"
            and text.plain.count("\n") == shown.plain.count("\n")
        )
        self._shown = text
        self.update(text, layout=not same_height)
