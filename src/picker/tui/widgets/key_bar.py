"""The lines at the bottom naming the screen's keys, Ctrl+Q (quit) last.

Textual's Footer rebuilds itself whenever the focus moves (the active bindings may change); on a
pick screen, where the focus moves between the scan and quantity fields with every line, that
rebuild was the largest single cost of a scan. A station's keys do not change, so they are read
once from the screen's bindings (and the app's, for Ctrl+Q).

Every key stays in sight however narrow the terminal: when they do not fit on one line they are
written closer together and wrap onto a second line (a third if need be), never cutting a key
from its name.
"""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.widget import Widget

#: The key's name as it is printed on the keyboard, where Textual writes it in lower case.
_NAMES = {"esc": "Esc", "enter": "Enter", "tab": "Tab", "space": "Space"}


def key_name(shown: str) -> str:
    """``f3`` → ``F3``, ``^q`` → ``^Q``, ``esc`` → ``Esc``: as the keyboard has it."""
    if shown in _NAMES:
        return _NAMES[shown]
    if shown.startswith("^") or (shown[:1] == "f" and shown[1:].isdigit()):
        return shown.upper()
    return shown


class KeyBar(Widget):
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        width: 100%;
        height: auto;
        background: $footer-background;
        color: $footer-foreground;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.keys: list[tuple[str, str]] = []
        """(key, what it does) in the order shown: the screen's, then the app's (quit)."""
        self._drawn: dict[int, Text] = {}

    def on_mount(self) -> None:
        shown = [*self.screen.BINDINGS, *self.app.BINDINGS]
        self.keys = [
            (key_name(self.app.get_key_display(b)), b.description)
            for b in shown
            if isinstance(b, Binding) and b.show
        ]
        self._drawn.clear()
        self.refresh(layout=True)

    def lines(self, width: int) -> Text:
        """The keys for ``width`` columns: roomy on one line when they fit, else close together
        and wrapped between keys."""
        if width not in self._drawn:
            self._drawn[width] = self._lay_out(width)
        return self._drawn[width]

    def _lay_out(self, width: int) -> Text:
        roomy = [self._item(key, what, roomy=True) for key, what in self.keys]
        if sum(len(item) for item in roomy) <= width:
            return Text("").join(roomy)
        text = Text()
        used = 0
        for key, what in self.keys:
            item = self._item(key, what, roomy=False)
            if used and used + 1 + len(item) > width:
                text.append("\n")
                used = 0
            elif used:
                text.append(" ")
                used += 1
            text.append_text(item)
            used += len(item)
        return text

    @staticmethod
    def _item(key: str, what: str, *, roomy: bool) -> Text:
        item = Text()
        if roomy:
            item.append(f" {key} ", style="bold reverse")
            item.append(f" {what}  ")
        else:
            item.append(key, style="bold reverse")
            item.append(f" {what}")
        return item

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.lines(width).plain.split("\n")) if self.keys else 1

    def render(self) -> Text:
        return self.lines(self.content_region.width or self.size.width)
