"""One scannable code as a cell: its caption above, its bars, its text below.

The demo's floor sheet and the label sheets of a real floor (shelves, totes, lanes, packaging,
badges) draw their codes with this one function, so a code that scans on one scans on the other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from picker.printing.barcodes import MODULE_203DPI_3, QUIET_MODULES, draw_bars, modules
from picker.printing.fonts import BOLD, REGULAR, fit

#: One dot of a 203 dpi thermal printer: bars wider than the usual three dots are whole dots,
#: or the printer rounds each bar its own way and the widths the scanner reads drift.
DOT_203DPI = 25.4 / 203 * mm
#: The text size the cell's proportions are drawn for (the floor sheet's 34 mm cells).
BASE_TEXT_PT = 10.0


@dataclass(frozen=True)
class SheetCode:
    """One barcode on a sheet: what it is (caption), the code, and its symbology."""

    caption: str
    code: str
    symbology: str = "code128"
    note: str = ""


def draw_code_cell(
    c: Canvas,
    code: SheetCode,
    x: float,
    y: float,
    width: float,
    height: float,
    *,
    text_pt: float = BASE_TEXT_PT,
) -> None:
    """Draw ``code`` in the box at (``x``, ``y``) of ``width`` x ``height`` points.

    ``text_pt`` sizes the code's text; the caption, the margins and the widest bars grow with
    it, so a bigger label (a 4x6 shelf label) is readable and scannable from further away.
    """
    scale = text_pt / BASE_TEXT_PT
    pad = 2 * mm * scale
    pattern = modules(code.symbology, code.code)
    room = (width - 2 * pad) / (len(pattern) + 2 * QUIET_MODULES)
    module = min(MODULE_203DPI_3 * scale, room)
    if module > MODULE_203DPI_3:
        module = max(MODULE_203DPI_3, math.floor(module / DOT_203DPI) * DOT_203DPI)
    caption_pt = 0.9 * text_pt
    c.setFont(REGULAR, caption_pt)
    c.drawString(
        x + pad, y + height - 5 * mm * scale, fit(c, code.caption, width - 2 * pad, caption_pt)
    )
    draw_bars(c, pattern, x, y + 9 * mm * scale, module=module, height=height - 16 * mm * scale)
    text = code.code + (f"   {code.note}" if code.note else "")
    left = x + pad + QUIET_MODULES * module
    size = text_pt
    wide = c.stringWidth(text, BOLD, size)
    if wide > x + width - pad - left:  # never cut a code short: make it smaller
        size *= (x + width - pad - left) / wide
    c.setFont(BOLD, size)
    c.drawString(left, y + 4 * mm * scale, text)
