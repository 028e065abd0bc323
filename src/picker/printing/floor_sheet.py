"""The floor sheet: a PDF of barcodes to try Picker with a real scanner.

Badges (with PINs, for the demo), station commands, bins, products, totes and packaging, each as
a barcode with its text under it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from picker.printing.code_cells import SheetCode, draw_code_cell
from picker.printing.fonts import BOLD, one_document_at_a_time, register_fonts

__all__ = ["SheetCode", "SheetSection", "render_floor_sheet"]


COLUMNS = 2
CELL_H = 34 * mm
MARGIN = 12 * mm


@dataclass(frozen=True)
class SheetSection:
    """A titled run of codes; a long one flows over as many pages as it needs, its title
    repeated ("… continued") at the top of each."""

    title: str
    codes: Sequence[SheetCode]
    #: Codes side by side: 3 fit an EAN-13 each on A4 (a whole catalogue on fewer pages).
    columns: int = COLUMNS
    cell_h: float = CELL_H


@one_document_at_a_time
def render_floor_sheet(title: str, sections: Sequence[SheetSection]) -> bytes:
    """The sheet as PDF bytes (byte-identical for the same input)."""
    register_fonts()
    out = io.BytesIO()
    page_w, page_h = A4
    c = Canvas(out, pagesize=A4, invariant=1)
    c.setTitle(title)
    y = page_h - MARGIN

    def header() -> float:
        c.setFont(BOLD, 16)
        c.drawString(MARGIN, page_h - MARGIN - 6 * mm, title)
        return page_h - MARGIN - 12 * mm

    def section_title(text: str, y: float) -> float:
        c.setFont(BOLD, 12)
        c.drawString(MARGIN, y - 6 * mm, text)
        return y - 9 * mm

    y = header()
    for section in sections:
        cell_w = (page_w - 2 * MARGIN) / section.columns
        if y - 10 * mm - section.cell_h < MARGIN:
            c.showPage()
            y = header()
        y = section_title(section.title, y)
        for i, code in enumerate(section.codes):
            col = i % section.columns
            if col == 0:
                if y - section.cell_h < MARGIN:
                    c.showPage()
                    y = section_title(f"{section.title} (continued)", header())
                y -= section.cell_h
            draw_code_cell(c, code, MARGIN + col * cell_w, y, cell_w, section.cell_h)
        y -= 4 * mm
    c.showPage()
    c.save()
    return out.getvalue()
