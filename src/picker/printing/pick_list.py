"""The printed pick list: for sites that pick from paper, one A4 page (or more) per order.

The order's barcode on top (scan it at the packing table), then the lines in walking order, each
with its bin barcode, product, product barcode and quantity, and a box to tick.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from picker.domain.ean import is_valid_gtin
from picker.domain.text import printable
from picker.printing.barcodes import MODULE_203DPI_3, draw_bars, modules, symbol_width
from picker.printing.fonts import BOLD, REGULAR, fit, one_document_at_a_time, register_fonts


@dataclass(frozen=True)
class PickListLine:
    bin: str
    sku: str
    name: str
    barcode: str | None
    quantity: int


@dataclass(frozen=True)
class PickListOrder:
    number: str
    courier: str
    tote: str | None
    lines: Sequence[PickListLine]


MARGIN = 12 * mm
ROW_H = 24 * mm
HEADER_H = 34 * mm


@one_document_at_a_time
def render_pick_lists(orders: Sequence[PickListOrder], *, printed_at: str) -> bytes:
    """Every order's pick list as one PDF (byte-identical for the same input)."""
    register_fonts()
    out = io.BytesIO()
    c = Canvas(out, pagesize=A4, invariant=1)
    c.setTitle("Pick lists")
    for order in orders:
        _order(c, order, printed_at)
    c.save()
    return out.getvalue()


def _order(c: Canvas, order: PickListOrder, printed_at: str) -> None:
    page_w, page_h = A4
    width = page_w - 2 * MARGIN
    page = 1

    def header() -> float:
        top = page_h - MARGIN
        c.setFont(BOLD, 18)
        c.drawString(MARGIN, top - 7 * mm, f"Pick list {order.number}")
        c.setFont(REGULAR, 10)
        tote = f"   tote {order.tote}" if order.tote else ""
        c.drawString(
            MARGIN, top - 13 * mm, f"{printable(order.courier)}{tote}   printed {printed_at}"
        )
        c.drawRightString(page_w - MARGIN, top - 17 * mm, f"page {page}")
        pattern = modules("code128", order.number)
        draw_bars(
            c, pattern, page_w - MARGIN - symbol_width(pattern, MODULE_203DPI_3), top - 12 * mm,
            module=MODULE_203DPI_3, height=12 * mm,
        )  # fmt: skip
        c.line(MARGIN, top - HEADER_H + 4 * mm, page_w - MARGIN, top - HEADER_H + 4 * mm)
        return top - HEADER_H

    y = header()
    for i, line in enumerate(order.lines, start=1):
        if y - ROW_H < MARGIN:
            c.showPage()
            page += 1
            y = header()
        y -= ROW_H
        _row(c, i, line, MARGIN, y, width)
    c.showPage()


def _row(c: Canvas, i: int, line: PickListLine, x: float, y: float, width: float) -> None:
    c.rect(x, y + ROW_H - 9 * mm, 5 * mm, 5 * mm, stroke=1, fill=0)  # the tick box
    c.setFont(BOLD, 14)
    c.drawString(x + 8 * mm, y + ROW_H - 8 * mm, f"{i}. {line.bin}")
    bin_bars = modules("code128", line.bin)
    draw_bars(c, bin_bars, x + 4 * mm, y + 2 * mm, module=MODULE_203DPI_3 * 0.8, height=10 * mm)
    middle = x + 70 * mm
    c.setFont(BOLD, 12)
    c.drawString(middle, y + ROW_H - 8 * mm, f"× {line.quantity}")
    c.setFont(REGULAR, 10)
    c.drawString(middle + 16 * mm, y + ROW_H - 8 * mm, printable(line.sku))
    c.drawString(middle, y + ROW_H - 14 * mm, fit(c, printable(line.name), width - 70 * mm, 10))
    if line.barcode:
        symbology = (
            "ean13" if len(line.barcode) == 13 and is_valid_gtin(line.barcode) else "code128"
        )
        bars = modules(symbology, line.barcode)
        module = MODULE_203DPI_3 * 0.8
        right = x + width - symbol_width(bars, module)
        draw_bars(c, bars, right, y + 2 * mm, module=module, height=10 * mm)
    c.setLineWidth(0.3)
    c.line(x, y, x + width, y)
    c.setLineWidth(1)
