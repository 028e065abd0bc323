"""Stored text shown to people: customer and operator text is data, never instructions."""

from __future__ import annotations


def printable(text: str | None) -> str:
    """``text`` with every non-printable character (ESC, BEL, bidi controls…) shown as an
    escape such as ``\\x1b`` instead of acting on the terminal or the printer."""
    if not text:
        return ""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
