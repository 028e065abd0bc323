"""The big coloured line that answers every scan: green ok, red error (with the bell)."""

from __future__ import annotations

from textual.widgets import Static

from picker.tui.text import plain


class Feedback(Static):
    """Shows the outcome of the last action; an error also rings the terminal bell."""

    DEFAULT_CSS = """
    Feedback {
        width: 100%;
        height: auto;
        min-height: 3;
        padding: 0 1;
        text-style: bold;
        content-align: center middle;
        text-align: center;
        background: $panel;
        color: $text;
    }
    Feedback.-ok { background: $success; color: $text; }
    Feedback.-error { background: $error; color: $text; }
    Feedback.-info { background: $primary-darken-2; color: $text; }
    """

    def show(self, kind: str, message: str) -> None:
        """``kind`` is ok, error or info."""
        self.set_classes(f"-{kind}")
        self.update(plain(message))
        if kind == "error":
            self.app.bell()

    def ok(self, message: str) -> None:
        self.show("ok", message)

    def error(self, message: str) -> None:
        self.show("error", message)

    def info(self, message: str) -> None:
        self.show("info", message)
