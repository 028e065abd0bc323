"""Stored text shown to people: customer and operator text is data, never instructions."""

from __future__ import annotations

import re
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


def printable_lines(text: str | None) -> str:
    """:func:`printable`, line by line: a message's own line breaks stay, every other control
    character (an OSC title sequence in an argument echoed back) is shown as an escape."""
    return "\n".join(printable(line) for line in (text or "").split("\n"))


#: A spreadsheet reads a cell starting with one of these as a formula (or, for tab and CR, shifts
#: it into one): ``=HYPERLINK(…)``, ``+cmd|' /C calc'!A0``, ``@SUM(…)``, ``-2+3``.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")


def spreadsheet_cell(text: str) -> str:
    """``text`` as a CSV cell a spreadsheet shows as text: one starting like a formula gets a
    leading apostrophe (OWASP's advice against CSV injection), everything else is unchanged —
    a plain number such as ``-5.00`` too, which is no formula and stays a number for scripts."""
    if text.startswith(FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def plural(n: int, word: str, many: str | None = None) -> str:
    """``n`` and ``word`` in the number they need: ``plural(1, "parcel")`` is ``"1 parcel"``,
    ``plural(2, "parcel")`` is ``"2 parcels"``, ``plural(0, "box", "boxes")`` is ``"0 boxes"``,
    ``plural(20000, "order")`` is ``"20,000 orders"`` (thousands grouped, as the command line
    writes every count). The plural is ``word + "s"`` unless ``many`` names it (English has no
    rule worth guessing: "boxes", "entries", "people")."""
    if n == 1:
        return f"{n} {word}"
    return f"{n:,} {many if many is not None else word + 's'}"


def waiting(n: int, word: str) -> str:
    """``plural`` with its verb: ``"1 parcel waits"``, ``"2 parcels wait"``."""
    return f"{plural(n, word)} {'waits' if n == 1 else 'wait'}"
