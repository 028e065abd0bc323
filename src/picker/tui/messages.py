"""Messages used across the app: past-tense facts."""

from __future__ import annotations

from textual.message import Message

from picker.services.actors import OperatorInfo


class LoggedIn(Message):
    """An operator logged in on this terminal."""

    def __init__(self, operator: OperatorInfo) -> None:
        super().__init__()
        self.operator = operator


class LoggedOut(Message):
    """The operator logged out (key or CMD-LOGOUT scan)."""
