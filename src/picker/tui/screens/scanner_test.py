"""Scanner test: what a scan arrives as and what Picker reads in it, for setting up a new scanner.

The same explanation as ``picker scan explain``: the raw characters with hidden ones made visible,
the kind, every parsed field, or the exact reason it was refused, and a hint when the scanner
looks mis-set (missing suffix, doubled value, keyboard layout).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Input, Static

from picker.domain.scanning import Explanation, explain, visible
from picker.services.scans import ScanOutcome
from picker.tui.incoming import IncomingScan
from picker.tui.screens.base import PickerScreen
from picker.tui.text import safe
from picker.tui.widgets.feedback import Feedback
from picker.tui.widgets.key_bar import KeyBar


def describe(explained: Explanation) -> Text:
    """The explanation as lines of literal text (a scan cannot carry markup onto the screen)."""
    text = Text()
    text.append("Raw:  ", style="bold")
    text.append(safe(explained.visible) + "\n")
    scan = explained.scan
    if scan is not None:
        text.append("Kind: ", style="bold")
        text.append(scan.kind.value + "\n")
        if scan.text != explained.raw:
            text.append("Read: ", style="bold")
            text.append(safe(visible(scan.text)) + "\n")
        for f in scan.fields:
            ai = f" ({f.ai})" if f.ai else ""
            text.append(f"{safe(f.name)}{ai}: ", style="bold")
            text.append(safe(f.value) + "\n")
        for note in scan.notes:
            text.append(f"Note: {safe(note)}\n", style="italic")
    elif explained.error is not None:
        text.append("Refused: ", style="bold")
        text.append(safe(str(explained.error)) + "\n")
    for hint in explained.hints:
        text.append(f"Hint: {safe(hint)}\n", style="bold")
    return text


class ScannerTestScreen(PickerScreen):
    """Scan anything; see how it was read. Escape (or CMD-CANCEL) goes back."""

    SCREEN_NAME = "scanner-test"
    BINDINGS = [Binding("escape", "back", "Back", id="scanner_test.back")]

    def compose(self) -> ComposeResult:
        yield self.title_bar("scanner test")
        with VerticalScroll(id="scanner-test-body"):
            yield Static("Scan any barcode", classes="prompt")
            yield Static("", id="explained")
        yield Input(placeholder="or type a code, then Enter", id="scan", classes="scan")
        yield Feedback(id="feedback")
        yield KeyBar()

    def on_mount(self) -> None:
        self.feedback.info("Nothing scanned yet", next_step="Scan a barcode · Esc: back")
        self.query_one("#scan", Input).focus()

    async def receive(self, incoming: IncomingScan) -> None:
        explained = explain(incoming.raw, self.picker.router)
        scan = explained.scan
        if scan is not None and scan.text == "CMD-CANCEL":
            await self.journal(ScanOutcome.of(scan, "accepted"))
            self.action_back()
            return
        if scan is not None:
            outcome = ScanOutcome.of(scan, "accepted", "scanner test")
        else:
            assert explained.error is not None
            outcome = ScanOutcome.unreadable(incoming.raw, explained.error)
        await self.journal(outcome)
        self.query_one("#explained", Static).update(describe(explained))
        if scan is not None:
            message = f"Read as {scan.kind.value}"
            if explained.hints:
                message += " (see hint)"
            self.feedback.ok(message, scan=incoming.raw)
        else:
            self.feedback.error(str(explained.error), scan=incoming.raw)

    def action_back(self) -> None:
        self.app.pop_screen()
