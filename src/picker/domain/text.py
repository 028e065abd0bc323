"""Stored text shown to people: customer and operator text is data, never instructions."""

from __future__ import annotations

import unicodedata


def printable(text: str | None) -> str:
    """``text`` with every non-printable character (ESC, BEL, bidi controls…) shown as an
    escape such as ``\\x1b`` instead of acting on the terminal or the printer. Spaces of any
    width (the no-break space money is written with, ``1\u00a0234,50\u00a0zł``) stay spaces."""
    if not text:
        return ""
    return "".join(
        c if c.isprintable() else " " if unicodedata.category(c) == "Zs" else repr(c)[1:-1]
        for c in text
    )
