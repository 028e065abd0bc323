"""The top of every screen: the terminal, its station, who is logged in, and any alert.

Picker, the terminal and its station, who is logged in — and, only while something is wrong, a
red line saying so: this terminal's printer ("printer T01 down, 3 labels queued": the jobs wait
in the queue and print later) or the database ("database unreachable, retrying": the terminal
looks every few seconds and says when it is back)."""

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
        alerts = getattr(self.app, "alerts", None)
        self.show_alerts(alerts() if callable(alerts) else [])

    def show_alerts(self, alerts: list[str]) -> None:
        """What is wrong, a line each (nothing: the red line is hidden)."""
        line = self.query_one("#printer", Static)
        line.update("\n".join(alerts))
        line.set_class(bool(alerts), "shown")
