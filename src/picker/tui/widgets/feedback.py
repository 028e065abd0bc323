"""The feedback bar every station shares: the last scan, its result big and coloured, the next step.

Green for accepted, red with the terminal bell for refused, blue for information. The next step
("Scan bin A-03-12-2") stays until the screen sets another, so the operator always knows what to do.
Everything is shown literally: a scan or a customer name with ``[markup]`` or control characters
cannot style or move anything.
"""

from __future__ import annotations

from typing import Literal

from rich.text import Text
from textual.widgets import Static

from picker.domain.scanning import visible
from picker.tui.text import safe

Kind = Literal["ok", "error", "info"]
_BADGE: dict[str, str] = {"ok": "✔ ", "error": "✘ ", "info": ""}


class Feedback(Static):
    """Shows the outcome of the last scan or action; an error also rings the terminal bell."""

    DEFAULT_CSS = """
    Feedback {
        width: 100%;
        height: auto;
        min-height: 3;
        padding: 0 1;
        content-align: center middle;
        text-align: center;
        background: $panel;
        color: $text;
    }
    Feedback.-ok { background: $success; color: $text; }
    Feedback.-error { background: $error; color: $text; }
    Feedback.-info { background: $primary-darken-2; color: $text; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.kind: Kind = "info"
        self.message = ""
        self.scan: str | None = None
        self.next_step = ""
        """What the operator does next; shown under every result until changed."""

    def show(
        self, kind: Kind, message: str, *, scan: str | None = None, next_step: str | None = None
    ) -> None:
        """Show a result. ``scan`` is the raw scan it answers (hidden characters made visible);
        ``next_step`` replaces the standing instruction when given."""
        self.kind, self.message, self.scan = kind, message, scan
        if next_step is not None:
            self.next_step = next_step
        self.set_classes(f"-{kind}")
        self.update(self._render_text())
        if kind == "error":
            self.app.bell()

    def set_next_step(self, next_step: str) -> None:
        """Change the standing instruction under the result (no new result, no bell)."""
        if next_step != self.next_step:
            self.next_step = next_step
            self.update(self._render_text())

    def ok(self, message: str, *, scan: str | None = None, next_step: str | None = None) -> None:
        self.show("ok", message, scan=scan, next_step=next_step)

    def error(self, message: str, *, scan: str | None = None, next_step: str | None = None) -> None:
        self.show("error", message, scan=scan, next_step=next_step)

    def info(self, message: str, *, scan: str | None = None, next_step: str | None = None) -> None:
        self.show("info", message, scan=scan, next_step=next_step)

    def _render_text(self) -> Text:
        text = Text()
        if self.scan is not None:
            text.append(f"Scan: {visible(self.scan)}\n", style="italic")
        text.append(_BADGE[self.kind] + safe(self.message), style="bold")
        if self.next_step:
            text.append("\n▶ " + safe(self.next_step), style="bold reverse")
        return text
