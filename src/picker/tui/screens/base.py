"""What every Picker screen shares: typed access to the app's settings, database and clock."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.screen import Screen

if TYPE_CHECKING:
    from picker.tui.app import PickerApp


class PickerScreen(Screen[None]):
    @property
    def picker(self) -> PickerApp:
        """The running app, typed (``self.app`` is a plain ``App`` to the type checker)."""
        return cast("PickerApp", self.app)
