"""The fonts shipped with Picker (DejaVu Sans: Latin, Greek, Cyrillic, Vietnamese).

DejaVu is under the Bitstream Vera licence with public-domain changes; see
fonts/LICENSE-DejaVu.txt beside this file.
"""

from __future__ import annotations

from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

FONT_DIR = Path(__file__).resolve().parent / "fonts"
REGULAR = "PickerSans"
BOLD = "PickerSans-Bold"


def register_fonts() -> None:
    """Register the shipped fonts with ReportLab (once per process)."""
    registered = pdfmetrics.getRegisteredFontNames()
    if REGULAR not in registered:
        pdfmetrics.registerFont(TTFont(REGULAR, str(FONT_DIR / "DejaVuSans.ttf")))
    if BOLD not in registered:
        pdfmetrics.registerFont(TTFont(BOLD, str(FONT_DIR / "DejaVuSans-Bold.ttf")))


def fit(c: Canvas, text: str, width: float, size: float, font: str = REGULAR) -> str:
    """Shorten ``text`` to ``width`` with an ellipsis rather than run over its neighbour."""
    if c.stringWidth(text, font, size) <= width:
        return text
    while text and c.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"
