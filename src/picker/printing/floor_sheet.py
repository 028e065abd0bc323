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


@dataclass(frozen=True)
class SheetSection:
    title: str
    codes: Sequence[SheetCode]


COLUMNS = 2
CELL_H = 34 * mm
MARGIN = 12 * mm


@one_document_at_a_time
def render_floor_sheet(title: str, sections: Sequence[SheetSection]) -> bytes:
    """The sheet as PDF bytes (byte-identical for the same input)."""
    register_fonts()
    out = io.BytesIO()
    page_w, page_h = A4
    c = Canvas(out, pagesize=A4, invariant=1)
    c.setTitle(title)
    cell_w = (page_w - 2 * MARGIN) / COLUMNS
    y = page_h - MARGIN

    def header() -> float:
        c.setFont(BOLD, 16)
        c.drawString(MARGIN, page_h - MARGIN - 6 * mm, title)
        return page_h - MARGIN - 12 * mm

    y = header()
    for section in sections:
        if y - 10 * mm - CELL_H < MARGIN:
            c.showPage()
            y = header()
        c.setFont(BOLD, 12)
        c.drawString(MARGIN, y - 6 * mm, section.title)
        y -= 9 * mm
        for i, code in enumerate(section.codes):
            col = i % COLUMNS
            if col == 0:
                if y - CELL_H < MARGIN:
                    c.showPage()
                    y = header()
                y -= CELL_H
            draw_code_cell(c, code, MARGIN + col * cell_w, y, cell_w, CELL_H)
        y -= 4 * mm
    c.showPage()
    c.save()
    return out.getvalue()
