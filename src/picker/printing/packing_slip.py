"""The packing slip: one A5 page (or more) that goes in the parcel with the goods.

The order's barcode on top (scanned at the packing table and by returns), who sent it and to whom,
the courier and dates, the lines with their quantities, and the customer's note and gift message.
Everything the customer typed is printed as data: markup stays literal, control characters are
shown as escapes.

The layout (:func:`_layout`) places every item on its page first; the drawing (:func:`_draw`)
then knows the page count, so each page can say "page n of N".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from reportlab.lib.pagesizes import A5
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from picker.domain.text import printable
from picker.printing.barcodes import MODULE_203DPI_3, draw_bars, modules, symbol_width
from picker.printing.flow import Flow, Item, Line, Text, render
from picker.printing.fonts import (
    BOLD,
    REGULAR,
    fit,
    one_document_at_a_time,
    register_fonts,
    wrap,
)


@dataclass(frozen=True)
class SlipLine:
    sku: str
    name: str
    quantity: int


@dataclass(frozen=True)
class PackingSlip:
    number: str
    placed_on: str
    sender: tuple[str, ...]
    ship_to: tuple[str, ...]
    courier: str
    lines: Sequence[SlipLine]
    note: str | None = None
    gift_message: str | None = None


PAGE_W, PAGE_H = A5
MARGIN = 10 * mm
WIDTH = PAGE_W - 2 * MARGIN
BARCODE_H = 12 * mm
HEADER_H = 27 * mm
BODY_TOP = PAGE_H - MARGIN - HEADER_H

#: An address longer than this is folded into its last line (and shortened with an ellipsis),
#: so the address block always fits on the first page.
MAX_ADDRESS_LINES = 8

# The table's columns: quantity (right-aligned at QTY_RIGHT), SKU, product name.
QTY_RIGHT = MARGIN + 12 * mm
SKU_X = MARGIN + 15 * mm
NAME_X = MARGIN + 50 * mm
ROW_H = 6.5 * mm


@one_document_at_a_time
def render_packing_slip(slip: PackingSlip, *, printed_at: str) -> bytes:
    """One A5 portrait packing slip (more pages when the lines run over), byte-identical for the
    same input."""
    pattern = modules("code128", slip.number)
    if symbol_width(pattern, MODULE_203DPI_3) > WIDTH:
        raise ValueError(f"order number {slip.number!r} is too long for a barcode on an A5 slip")
    register_fonts()
    return render(
        _layout(slip, printed_at), A5, f"Packing slip {printable(slip.number)}",
        lambda c, page: _header(c, slip, pattern, page),
    )  # fmt: skip


def _header(c: Canvas, slip: PackingSlip, pattern: str, page: str) -> None:
    top = PAGE_H - MARGIN
    c.setFont(REGULAR, 8)
    c.drawRightString(PAGE_W - MARGIN, top - 5 * mm, page)
    title_w = WIDTH - c.stringWidth(page, REGULAR, 8) - 4 * mm
    c.setFont(BOLD, 15)
    c.drawString(
        MARGIN, top - 6 * mm, fit(c, f"Packing slip {printable(slip.number)}", title_w, 15, BOLD)
    )
    draw_bars(
        c, pattern, MARGIN, top - 9 * mm - BARCODE_H, module=MODULE_203DPI_3, height=BARCODE_H
    )
    c.setLineWidth(0.8)
    c.line(MARGIN, top - HEADER_H + 3 * mm, PAGE_W - MARGIN, top - HEADER_H + 3 * mm)


def _layout(slip: PackingSlip, printed_at: str) -> list[list[Item]]:
    flow = Flow(BODY_TOP, MARGIN)
    _addresses(flow, slip)

    flow.need(12 * mm)
    flow.add(
        Text(MARGIN, flow.y - 4.5 * mm, f"Courier: {printable(slip.courier)}", BOLD, 11, WIDTH),
        Text(
            MARGIN, flow.y - 9 * mm,
            f"Placed on {printable(slip.placed_on)}   ·   printed {printable(printed_at)}",
            REGULAR, 9, WIDTH,
        ),
    )  # fmt: skip
    flow.y -= 13 * mm

    _table_head(flow)
    for line in slip.lines:
        if flow.need(ROW_H):
            _table_head(flow)
        y = flow.y - ROW_H + 2 * mm
        flow.add(
            Text(QTY_RIGHT, y, str(line.quantity), BOLD, 10, QTY_RIGHT - MARGIN, right=True),
            Text(SKU_X, y, printable(line.sku), REGULAR, 10, NAME_X - SKU_X - 2 * mm),
            Text(NAME_X, y, printable(line.name), REGULAR, 10, PAGE_W - MARGIN - NAME_X),
            Line(MARGIN, PAGE_W - MARGIN, flow.y - ROW_H, 0.3),
        )
        flow.y -= ROW_H

    flow.need(9 * mm)
    total = sum(line.quantity for line in slip.lines)
    flow.add(Text(MARGIN, flow.y - 6 * mm, f"Total units: {total}", BOLD, 11, WIDTH))
    flow.y -= 9 * mm

    if slip.note:
        _paragraph(flow, "Note", slip.note, 10)
    if slip.gift_message:
        _paragraph(flow, "Gift message", slip.gift_message, 11)
    return flow.pages


def _addresses(flow: Flow, slip: PackingSlip) -> None:
    """The sender (small, on the left) beside the recipient (larger, name in bold)."""
    sender_w = 42 * mm
    ship_x = MARGIN + sender_w + 6 * mm
    ship_w = PAGE_W - MARGIN - ship_x
    y = flow.y
    flow.add(Text(MARGIN, y - 3 * mm, "From", BOLD, 7, sender_w))
    flow.add(Text(ship_x, y - 3 * mm, "Ship to", BOLD, 7, ship_w))
    sender = _address(slip.sender)
    for i, text in enumerate(sender):
        flow.add(Text(MARGIN, y - 7 * mm - i * 3.5 * mm, text, REGULAR, 8, sender_w))
    ship_to = _address(slip.ship_to)
    for i, text in enumerate(ship_to):
        font = BOLD if i == 0 else REGULAR
        flow.add(Text(ship_x, y - 8.5 * mm - i * 5.5 * mm, text, font, 12, ship_w))
    flow.y -= max(7 * mm + len(sender) * 3.5 * mm, 8.5 * mm + len(ship_to) * 5.5 * mm) + 3 * mm


def _address(lines: Sequence[str]) -> list[str]:
    shown = [printable(line) for line in lines]
    if len(shown) > MAX_ADDRESS_LINES:
        shown[MAX_ADDRESS_LINES - 1 :] = [", ".join(shown[MAX_ADDRESS_LINES - 1 :])]
    return shown


def _table_head(flow: Flow) -> None:
    y = flow.y - 5 * mm
    flow.add(
        Text(QTY_RIGHT, y, "Qty", BOLD, 8, QTY_RIGHT - MARGIN, right=True),
        Text(SKU_X, y, "SKU", BOLD, 8, NAME_X - SKU_X),
        Text(NAME_X, y, "Product", BOLD, 8, PAGE_W - MARGIN - NAME_X),
        Line(MARGIN, PAGE_W - MARGIN, flow.y - 6.5 * mm, 0.8),
    )
    flow.y -= 6.5 * mm


def _paragraph(flow: Flow, label: str, text: str, size: float) -> None:
    """A labelled block of the customer's words, wrapped to the page, their line breaks kept."""
    leading = size * 0.45 * mm
    lines = [
        wrapped
        for paragraph in re.split(r"\r\n|\r|\n", text)
        for wrapped in wrap(
            printable(paragraph), WIDTH, partial(stringWidth, fontName=REGULAR, fontSize=size)
        )
        or [""]
    ]
    flow.need(5 * mm + leading + 2 * mm)  # the label never ends a page alone
    flow.y -= 2 * mm
    flow.add(Text(MARGIN, flow.y - 3.5 * mm, label, BOLD, 9, WIDTH))
    flow.y -= 5 * mm
    for line in lines:
        flow.need(leading)
        flow.add(Text(MARGIN, flow.y - leading + 1.2 * mm, line, REGULAR, size, WIDTH))
        flow.y -= leading
