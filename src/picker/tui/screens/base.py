"""What every Picker screen shares: typed access to the app's settings, database and clock."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.screen import Screen
from textual.widgets import Input

from picker.domain.scans import clean_scan

if TYPE_CHECKING:
    from picker.tui.app import PickerApp


class PickerScreen(Screen[None]):
    @property
    def picker(self) -> PickerApp:
        """The running app, typed (``self.app`` is a plain ``App`` to the type checker)."""
        return cast("PickerApp", self.app)

    def take_scan(self, event: Input.Submitted) -> str | None:
        """The submitted text as the scanner meant it (framing stripped); clears the input.

        None when nothing is left (a bare Enter).
        """
        scanner = self.picker.settings.scanner
        text = clean_scan(event.value, scanner.prefix, scanner.suffix)
        event.input.value = ""
        return text or None
