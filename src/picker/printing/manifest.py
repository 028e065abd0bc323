"""The courier manifest: the list of parcels a courier takes at a pickup, signed on both sides.

Every page carries the pickup number as a barcode (the courier's handheld scans it), the courier,
when the pickup was closed and by which shift lead, and "page n of N". Then one row per parcel,
the column headings repeated on each page; after the last row the totals, the parcels missing at
the pickup, and a signature block for the courier and one for the shift lead. The totals and the
signatures are never split over a page break.

As in the packing slip, the layout (:func:`_layout`) places every item on its page first, so the
drawing knows the page count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from barcode.errors import BarcodeError
from reportlab.lib.pagesizes import A4
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
class ManifestLine:
    tracking_no: str
    order_number: str
    parcel_no: int  # parcel n …
    parcel_count: int  # … of N
    weight_g: int | None
    cod: str | None  # cash to collect, already formatted (e.g. "1 234,50 zł"); None if prepaid


@dataclass(frozen=True)
class Manifest:
    pickup_number: str  # e.g. "PU-000042": a Code128 barcode on top of every page
    courier: str  # e.g. "Swift Parcel (SWIFT)"
    warehouse: tuple[str, ...]  # sender address lines
    closed_at: str  # "2026-11-22 16:05" (local time, already formatted)
    lead: str  # the shift lead's name
    lines: Sequence[ManifestLine]
    cod_totals: Sequence[str]  # formatted per currency, e.g. ("1 234,50 zł", "5.000.000 ₫")
    missing: Sequence[str] = ()  # tracking numbers of parcels marked missing at this pickup


PAGE_W, PAGE_H = A4
MARGIN = 10 * mm
WIDTH = PAGE_W - 2 * MARGIN
BARCODE_H = 12 * mm
#: The barcode shares the header with the title; beyond this it would squeeze the title out.
BARCODE_MAX_W = 100 * mm
HEADER_H = 25 * mm
BODY_TOP = PAGE_H - MARGIN - HEADER_H

#: A sender address longer than this is folded into its last line (shortened with an ellipsis).
MAX_ADDRESS_LINES = 5

# The table's columns: # (right-aligned), tracking number, order, parcel, weight (right-aligned),
# COD (right-aligned at the right margin); each x with the width its text is fitted to.
NO_RIGHT, NO_W = MARGIN + 9 * mm, 9 * mm
TRACKING_X, TRACKING_W = MARGIN + 12 * mm, 50 * mm
ORDER_X, ORDER_W = MARGIN + 64 * mm, 38 * mm
PARCEL_X, PARCEL_W = MARGIN + 104 * mm, 18 * mm
WEIGHT_RIGHT, WEIGHT_W = MARGIN + 146 * mm, 22 * mm
COD_RIGHT, COD_W = PAGE_W - MARGIN, 40 * mm
GAP = 2 * mm
ROW_H = 6 * mm
ROW_SIZE = 10

SIGNATURE_H = 42 * mm  # the blocks with the space above them


@one_document_at_a_time
def render_manifest(manifest: Manifest) -> bytes:
    """A4 portrait; byte-identical for the same input."""
    if not manifest.pickup_number:
        raise ValueError("a manifest needs a pickup number for its barcode")
    try:
        pattern = modules("code128", manifest.pickup_number)
    except BarcodeError as e:
        raise ValueError(f"pickup number {manifest.pickup_number!r} is not Code128: {e}") from e
    if symbol_width(pattern, MODULE_203DPI_3) > BARCODE_MAX_W:
        raise ValueError(f"pickup number {manifest.pickup_number!r} is too long for a barcode")
    register_fonts()
    return render(
        _layout(manifest), A4, f"Courier manifest {printable(manifest.pickup_number)}",
        lambda c, page: _header(c, manifest, pattern, page),
    )  # fmt: skip


def _header(c: Canvas, manifest: Manifest, pattern: str, page: str) -> None:
    """Title, courier and who closed the pickup on the left; the barcode on the right with the
    page number under it. The text is fitted to the space left of the barcode's quiet zone."""
    top = PAGE_H - MARGIN
    bars_w = symbol_width(pattern, MODULE_203DPI_3)
    bars_x = PAGE_W - MARGIN - bars_w
    text_w = bars_x - MARGIN - GAP
    draw_bars(
        c, pattern, bars_x, top - 1 * mm - BARCODE_H, module=MODULE_203DPI_3, height=BARCODE_H
    )
    c.setFont(REGULAR, 8)
    c.drawRightString(PAGE_W - MARGIN, top - 17 * mm, fit(c, page, bars_w, 8))
    title = f"Courier manifest {printable(manifest.pickup_number)}"
    lines = (
        (title, BOLD, 15, 6 * mm),
        (f"Courier: {printable(manifest.courier)}", BOLD, 11, 12 * mm),
        (
            f"Closed at {printable(manifest.closed_at)}   ·   "
            f"shift lead {printable(manifest.lead)}",
            REGULAR, 9, 17 * mm,
        ),
    )  # fmt: skip
    for text, font, size, down in lines:
        c.setFont(font, size)
        c.drawString(MARGIN, top - down, fit(c, text, text_w, size, font))
    c.setLineWidth(0.8)
    c.line(MARGIN, top - HEADER_H + 3 * mm, PAGE_W - MARGIN, top - HEADER_H + 3 * mm)


def _layout(manifest: Manifest) -> list[list[Item]]:
    flow = Flow(BODY_TOP, MARGIN)
    _sender(flow, manifest.warehouse)
    _table_head(flow)
    for i, line in enumerate(manifest.lines, start=1):
        if flow.need(ROW_H):
            _table_head(flow)
        _row(flow, i, line)
    cod = [printable(total) for total in manifest.cod_totals] or ["none"]
    missing = _missing_lines(manifest.missing)
    # The courier signs for the totals: keep them, the missing parcels and the signatures on one
    # page when they fit on one; only a missing list longer than a page lets them part.
    ending = _totals_height(cod) + _missing_height(missing) + SIGNATURE_H
    if ending <= BODY_TOP - MARGIN:
        flow.need(ending)
    _totals(flow, manifest.lines, cod)
    if missing:
        _missing(flow, missing)
    _signatures(flow, manifest.lead)
    return flow.pages


def _sender(flow: Flow, warehouse: Sequence[str]) -> None:
    shown = [printable(line) for line in warehouse]
    if len(shown) > MAX_ADDRESS_LINES:
        shown[MAX_ADDRESS_LINES - 1 :] = [", ".join(shown[MAX_ADDRESS_LINES - 1 :])]
    flow.add(Text(MARGIN, flow.y - 3 * mm, "Sender", BOLD, 7, WIDTH))
    for i, text in enumerate(shown):
        flow.add(Text(MARGIN, flow.y - 7 * mm - i * 3.8 * mm, text, REGULAR, 9, WIDTH))
    flow.y -= 7 * mm + len(shown) * 3.8 * mm + 2 * mm


def _table_head(flow: Flow) -> None:
    y = flow.y - 5 * mm
    flow.add(
        Text(NO_RIGHT, y, "#", BOLD, 8, NO_W, right=True),
        Text(TRACKING_X, y, "Tracking number", BOLD, 8, TRACKING_W),
        Text(ORDER_X, y, "Order", BOLD, 8, ORDER_W),
        Text(PARCEL_X, y, "Parcel", BOLD, 8, PARCEL_W),
        Text(WEIGHT_RIGHT, y, "Weight (kg)", BOLD, 8, WEIGHT_W, right=True),
        Text(COD_RIGHT, y, "COD", BOLD, 8, COD_W, right=True),
        Line(MARGIN, PAGE_W - MARGIN, flow.y - 6.5 * mm, 0.8),
    )
    flow.y -= 6.5 * mm


def _row(flow: Flow, i: int, line: ManifestLine) -> None:
    y = flow.y - ROW_H + 1.8 * mm
    weight = "—" if line.weight_g is None else _kg(line.weight_g)
    flow.add(
        Text(NO_RIGHT, y, str(i), REGULAR, 8, NO_W, right=True),
        Text(TRACKING_X, y, printable(line.tracking_no), BOLD, ROW_SIZE, TRACKING_W),
        Text(ORDER_X, y, printable(line.order_number), REGULAR, ROW_SIZE, ORDER_W),
        Text(PARCEL_X, y, f"{line.parcel_no}/{line.parcel_count}", REGULAR, ROW_SIZE, PARCEL_W),
        Text(WEIGHT_RIGHT, y, weight, REGULAR, ROW_SIZE, WEIGHT_W, right=True),
        Text(COD_RIGHT, y, printable(line.cod), REGULAR, ROW_SIZE, COD_W, right=True),
        Line(MARGIN, PAGE_W - MARGIN, flow.y - ROW_H, 0.3),
    )
    flow.y -= ROW_H


def _kg(grams: int) -> str:
    """As the parcel label prints it, so the two agree to the last digit."""
    return f"{grams / 1000:.2f}"


TOTALS_LEADING = 5.5 * mm
MISSING_LEADING = 4.8 * mm
MISSING_SIZE = 10


def _totals_height(cod: Sequence[str]) -> float:
    return 4 * mm + (2 + len(cod)) * TOTALS_LEADING


def _totals(flow: Flow, lines: Sequence[ManifestLine], cod: Sequence[str]) -> None:
    """Parcels, weight and cash to collect (one currency a line), kept together on one page."""
    weighed = [line.weight_g for line in lines if line.weight_g is not None]
    weight = f"Total weight: {_kg(sum(weighed))} kg"
    if len(weighed) < len(lines):
        weight += f" ({len(lines) - len(weighed)} not weighed)"
    leading = TOTALS_LEADING
    flow.need(_totals_height(cod))
    flow.y -= 4 * mm
    for text in (f"Parcels: {len(lines)}", weight, "Cash on delivery:"):
        flow.add(Text(MARGIN, flow.y - leading + 1.5 * mm, text, BOLD, 11, WIDTH))
        flow.y -= leading
    flow.y += leading  # the amounts start beside "Cash on delivery:"
    amount_x = MARGIN + 40 * mm
    for amount in cod:
        flow.add(Text(amount_x, flow.y - leading + 1.5 * mm, amount, BOLD, 11, WIDTH - 40 * mm))
        flow.y -= leading


def _missing_lines(missing: Sequence[str]) -> list[str]:
    """The tracking numbers, wrapped to the page."""
    measure = partial(stringWidth, fontName=REGULAR, fontSize=MISSING_SIZE)
    return wrap(", ".join(printable(t) for t in missing), WIDTH, measure) if missing else []


def _missing_height(lines: Sequence[str]) -> float:
    return 8 * mm + len(lines) * MISSING_LEADING if lines else 0


def _missing(flow: Flow, lines: Sequence[str]) -> None:
    """The heading, then the wrapped tracking numbers; the heading never ends a page alone."""
    leading = MISSING_LEADING
    flow.need(8 * mm + leading)
    flow.y -= 3 * mm
    flow.add(Text(MARGIN, flow.y - 3.8 * mm, "Missing at pickup:", BOLD, 10, WIDTH))
    flow.y -= 5 * mm
    for text in lines:
        flow.need(leading)
        flow.add(Text(MARGIN, flow.y - leading + 1.3 * mm, text, REGULAR, MISSING_SIZE, WIDTH))
        flow.y -= leading


def _signatures(flow: Flow, lead: str) -> None:
    """The courier's block (name, signature, date) beside the shift lead's (name printed,
    signature), each with lines to sign on; both on one page."""
    flow.need(SIGNATURE_H)
    flow.y -= 6 * mm
    top = flow.y
    half = (WIDTH - 10 * mm) / 2
    right_x = MARGIN + half + 10 * mm
    label_w = 20 * mm
    blocks = (
        (MARGIN, "Courier", (("Name", None), ("Signature", None), ("Date", None))),
        (right_x, "Shift lead", (("Name", printable(lead)), ("Signature", None))),
    )
    for x, heading, fields in blocks:
        flow.add(Text(x, top - 4 * mm, heading, BOLD, 11, half))
        for n, (label, value) in enumerate(fields):
            y = top - 14 * mm - n * 9 * mm
            flow.add(Text(x, y, f"{label}:", REGULAR, 9, label_w - GAP))
            if value is not None:
                flow.add(Text(x + label_w, y + 1 * mm, value, BOLD, 10, half - label_w))
            flow.add(Line(x + label_w, x + half, y - 1 * mm, 0.5))
    flow.y = top - SIGNATURE_H + 6 * mm
