"""Right-to-left and joined scripts, shaped once for every output.

A label draws each line as a row of characters left to right (ReportLab's ``drawString``,
Pillow's basic layout): that is right for Latin, CJK and Thai, and wrong for Hebrew and
Arabic, which are stored in logical order (the order they are read) and shown right to left,
and Arabic letters take a different form at the start, middle and end of a word. So the label's
text is shaped here, once, for the PDF, the PNG and ZPL alike:

- :func:`shape` gives Arabic letters their joining forms (arabic-reshaper), before the text is
  measured and wrapped — the forms have their own widths;
- :func:`visual` puts each wrapped line into the order it is seen (python-bidi, the Unicode
  bidirectional algorithm), just before it is placed.

A PDF keeps the characters' Unicode meaning, so its text read back (copied, searched) is in
the logical order again; joining forms read back as their letters under NFKC.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import Any

#: Hebrew, Arabic, Syriac, Thaana, NKo… and their presentation forms: text that needs the bidi
#: algorithm. Anything else is drawn as it is (the usual case, kept fast).
_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
_ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff]")


@cache
def _reshaper() -> Any:
    """Imported when first needed (a tenth of a second that a Latin label never pays). Vowel
    marks (harakat) are kept: a name is printed as written, not simplified."""
    from arabic_reshaper import ArabicReshaper

    return ArabicReshaper(configuration={"delete_harakat": False, "support_ligatures": True})


@lru_cache(maxsize=4096)
def shape(text: str) -> str:
    """``text`` in logical order with Arabic letters in their joining forms."""
    if not _ARABIC.search(text):
        return text
    return str(_reshaper().reshape(text))


@lru_cache(maxsize=4096)
def visual(line: str) -> str:
    """One line in the order it is seen, left to right; the line's own first strong letter
    sets its direction (a Hebrew street number stays on its right)."""
    if not _RTL.search(line):
        return line
    from bidi import get_display

    return str(get_display(line))
