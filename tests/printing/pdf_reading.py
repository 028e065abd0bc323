"""Reading a PDF back as a scanner and a person would: each page's barcodes, sizes and text."""

from __future__ import annotations

from dataclasses import dataclass

import pypdfium2
import zxingcpp


@dataclass(frozen=True)
class PageRead:
    codes: list[str]  # the barcodes decoded at 203 dpi, top to bottom as zxing finds them
    size_mm: tuple[float, float]
    text: str


def read_pages(pdf_bytes: bytes) -> list[PageRead]:
    pdf = pypdfium2.PdfDocument(pdf_bytes)
    try:
        pages = []
        for page in pdf:
            image = page.render(scale=203 / 72).to_pil()
            width, height = page.get_size()
            pages.append(
                PageRead(
                    [r.text for r in zxingcpp.read_barcodes(image)],
                    (round(width / 72 * 25.4, 1), round(height / 72 * 25.4, 1)),
                    page.get_textpage().get_text_range(),
                )
            )
        return pages
    finally:
        pdf.close()
