"""Sheets of scannable labels for a real floor: shelves, totes, lanes, packaging, badges.

A sheet is a page size and a grid of labels on it (sizes in mm, checked when the sheet is
made); each label is drawn as the floor sheet draws its codes (:func:`draw_code_cell`).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import barcode.errors
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from picker.printing.barcodes import modules
from picker.printing.code_cells import SheetCode, draw_code_cell
from picker.printing.fonts import one_document_at_a_time, register_fonts


class UnprintableCode(ValueError):
    """A code its symbology cannot carry (Code 128 is ASCII): nothing is drawn."""


@dataclass(frozen=True)
class LabelSheet:
    """A page of ``columns`` x ``rows`` labels of ``label_w`` x ``label_h`` mm, the grid
    centred on the page; ``text_pt`` sizes each label's code (its caption and bars follow)."""

    name: str
    page_w: float
    page_h: float
    columns: int
    rows: int
    label_w: float
    label_h: float
    text_pt: float

    def __post_init__(self) -> None:
        if self.columns < 1 or self.rows < 1:
            raise ValueError(f"label sheet {self.name}: at least one label per page")
        if self.columns * self.label_w > self.page_w or self.rows * self.label_h > self.page_h:
            raise ValueError(
                f"label sheet {self.name}: {self.columns} x {self.rows} labels of "
                f"{self.label_w:g} x {self.label_h:g} mm do not fit a page of "
                f"{self.page_w:g} x {self.page_h:g} mm"
            )
        if self.label_h < 16 * self.text_pt / 10 + 6:
            raise ValueError(f"label sheet {self.name}: labels too low for {self.text_pt:g} pt")

    @property
    def per_page(self) -> int:
        return self.columns * self.rows


#: ``a4``: the common A4 stock of 24 self-adhesive labels, 70 x 37 mm (or plain paper to cut);
#: ``4x6``: one big label a page, for a 4 x 6 inch thermal printer.
SHEETS: dict[str, LabelSheet] = {
    "a4": LabelSheet("a4", 210, 297, 3, 8, 70, 37, 10),
    "4x6": LabelSheet("4x6", 101.6, 152.4, 1, 1, 101.6, 152.4, 26),
}


@one_document_at_a_time
def render_label_sheets(title: str, codes: Sequence[SheetCode], sheet: LabelSheet) -> bytes:
    """The labels as PDF bytes, in the order given, row by row (byte-identical for the same
    input). Raises :class:`UnprintableCode` naming every code its symbology cannot carry."""
    unprintable = [c.code for c in codes if not _encodable(c)]
    if unprintable:
        shown = ", ".join(repr(c) for c in unprintable[:5])
        more = f" and {len(unprintable) - 5} more" if len(unprintable) > 5 else ""
        raise UnprintableCode(f"cannot be printed as a barcode: {shown}{more}")
    register_fonts()
    out = io.BytesIO()
    c = Canvas(out, pagesize=(sheet.page_w * mm, sheet.page_h * mm), invariant=1)
    c.setTitle(title)
    left = (sheet.page_w - sheet.columns * sheet.label_w) / 2 * mm
    top = (sheet.page_h + sheet.rows * sheet.label_h) / 2 * mm
    w, h = sheet.label_w * mm, sheet.label_h * mm
    for i, code in enumerate(codes):
        if i and i % sheet.per_page == 0:
            c.showPage()
        row, col = divmod(i % sheet.per_page, sheet.columns)
        draw_code_cell(c, code, left + col * w, top - (row + 1) * h, w, h, text_pt=sheet.text_pt)
    c.showPage()
    c.save()
    return out.getvalue()


def _encodable(code: SheetCode) -> bool:
    try:
        modules(code.symbology, code.code)
    except (barcode.errors.BarcodeError, ValueError):
        return False
    return True
