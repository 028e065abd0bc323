"""The first step of every scan: scanner framing removed, text cleaned.

The full router (kinds, GS1, misreads) builds on this; here only what every screen needs now.
"""

from __future__ import annotations


def clean_scan(raw: str, prefix: str = "", suffix: str = "") -> str:
    """Strip surrounding whitespace and the scanner's configured prefix and suffix."""
    text = raw.strip()
    if prefix and text.startswith(prefix):
        text = text[len(prefix) :]
    if suffix and text.endswith(suffix):
        text = text[: -len(suffix)]
    return text.strip()
