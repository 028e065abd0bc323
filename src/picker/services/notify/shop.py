"""Fulfilment back to the shop (filled in by the shop part)."""

from __future__ import annotations

from picker.config import Settings


def describe_requests(letter: object, settings: Settings) -> str:
    raise NotImplementedError
