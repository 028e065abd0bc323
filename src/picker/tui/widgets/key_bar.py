"""One line at the bottom naming the screen's keys, drawn once.

Textual's Footer rebuilds itself whenever the focus moves (the active bindings may change); on a
pick screen, where the focus moves between the scan and quantity fields with every line, that
rebuild was the largest single cost of a scan. A station's keys do not change, so they are
written once from the screen's bindings.
"""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Static


class KeyBar(Static):
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        width: 100%;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
    }
    """

    def on_mount(self) -> None:
        text = Text()
        for binding in self.screen.BINDINGS:
            if isinstance(binding, Binding) and binding.show:
                key = self.app.get_key_display(binding)
                text.append(f" {key} ", style="bold reverse")
                text.append(f" {binding.description}  ")
        self.update(text)
