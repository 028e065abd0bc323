"""One line at the top: Picker, the terminal and its station, and who is logged in."""

from __future__ import annotations

from textual.widgets import Static

from picker.tui.text import safe


class TitleBar(Static):
    DEFAULT_CSS = """
    TitleBar {
        width: 100%;
        height: 1;
        background: $primary;
        color: $text;
        text-style: bold;
        padding: 0 1;
    }
    """

    def __init__(self, terminal: str, station: str, who: str = "") -> None:
        text = f"PICKER · {terminal} · {station}"
        if who:
            text += f" · {safe(who)}"
        super().__init__(text, markup=False)
