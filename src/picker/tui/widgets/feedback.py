"""The feedback bar every station shares: the last scan, its result big and coloured, the next step.

Green for accepted, red with the terminal bell for refused, blue for information. The next step
("Scan bin A-03-12-2") stays until the screen sets another, so the operator always knows what to do.
A result does not outstay its news: an accepted one fades after 8 seconds and a refusal after 30
(or at the next key typed), leaving the next step alone, so an answer minutes old is never read as
the answer to the scan just made.
Everything is shown literally: a scan or a customer name with ``[markup]`` or control characters
cannot style or move anything.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from rich.text import Text
from textual.timer import Timer
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

    #: Seconds a result of each kind stays before only the next step is left (None: it stays).
    FADE_S: ClassVar[dict[Kind, float | None]] = {"ok": 8.0, "error": 30.0, "info": None}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.kind: Kind = "info"
        self.message = ""
        self.scan: str | None = None
        self.next_step = ""
        """What the operator does next; shown under every result until changed."""
        self._fade: Timer | None = None
        self.faded = False
        """The last result faded: only the next step is shown."""

    def show(
        self, kind: Kind, message: str, *, scan: str | None = None, next_step: str | None = None
    ) -> None:
        """Show a result. ``scan`` is the raw scan it answers (hidden characters made visible);
        ``next_step`` replaces the standing instruction when given."""
        self.kind, self.message, self.scan = kind, message, scan
        self.faded = False
        if next_step is not None:
            self.next_step = next_step
        self.set_classes(f"-{kind}")
        self.update(self._render_text())
        if kind == "error":
            self.app.bell()
        if self._fade is not None:
            self._fade.stop()
            self._fade = None
        after = self.FADE_S.get(kind)
        if after is not None:
            self._fade = self.set_timer(after, self.fade, name="feedback fade")

    def fade(self) -> None:
        """The result is old news: only the next step is left (a result with no next step
        after it stays: the bar is never left empty)."""
        if self._fade is not None:
            self._fade.stop()
            self._fade = None
        if self.kind == "info" or not self.next_step:
            return
        self.kind, self.message, self.scan = "info", "", None
        self.faded = True
        self.set_classes("-info")
        self.update(self._render_text())

    def key_typed(self) -> None:
        """A person typed: a refusal on show has been read."""
        if self.kind == "error":
            self.fade()

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
        # On a short screen (a handheld) a row is dear: the scan is echoed where it matters,
        # under a refusal (a misread is seen), not under an accepted one.
        short = self.is_mounted and self.screen.has_class("-short")
        if self.scan is not None and not (short and self.kind != "error"):
            text.append(f"Scan: {visible(self.scan)}\n", style="italic")
        if self.faded:  # the next step alone
            text.append("▶ " + safe(self.next_step), style="bold reverse")
            return text
        text.append(_BADGE[self.kind] + safe(self.message), style="bold")
        if self.next_step:
            text.append("\n▶ " + safe(self.next_step), style="bold reverse")
        return text
