"""The top of every screen: Picker, the terminal and its station, who is logged in — and, only
while something is wrong with this terminal's printer, a red line saying so ("printer T01 down,
3 labels queued"). The floor goes on working: the jobs wait in the queue and print later."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from picker.tui.text import safe


class TitleBar(Vertical):
    DEFAULT_CSS = """
    TitleBar {
        width: 100%;
        height: auto;
    }
    TitleBar > #title {
        width: 100%;
        height: 1;
        background: $primary;
        color: $text;
        text-style: bold;
        padding: 0 1;
    }
    TitleBar > #printer {
        width: 100%;
        height: auto;
        background: $error;
        color: $text;
        text-style: bold;
        padding: 0 1;
        display: none;
    }
    TitleBar > #printer.shown {
        display: block;
    }
    """

    def __init__(self, terminal: str, station: str, who: str = "") -> None:
        super().__init__()
        text = f"PICKER · {terminal} · {station}"
        if who:
            text += f" · {safe(who)}"
        self._title = text

    def compose(self) -> ComposeResult:
        yield Static(self._title, id="title", markup=False)
        yield Static("", id="printer", markup=False)

    def on_mount(self) -> None:
        alert = getattr(self.app, "printer_alert", None)
        self.show_printer(alert if isinstance(alert, str) else None)

    def show_printer(self, alert: str | None) -> None:
        """The printer's trouble in words, or None to hide the line."""
        line = self.query_one("#printer", Static)
        line.update(f"⎙ {alert}" if alert else "")
        line.set_class(bool(alert), "shown")
