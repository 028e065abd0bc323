"""A scan on its way from the keyboard to a screen: what the app queues and screens receive."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field


@dataclass(frozen=True)
class IncomingScan:
    """A scan waiting to be applied: its raw text, whether it was typed, when it arrived, its
    key in the journal, and — for a scan that came while the database was away — the screen it
    was scanned on (it is applied there or not at all)."""

    raw: str
    manual: bool
    arrived: float
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    held_on: object | None = None
