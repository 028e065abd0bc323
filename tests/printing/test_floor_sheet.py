"""The floor sheet's barcodes scan back to exactly what they say, text included."""

import pypdfium2
import zxingcpp

from picker.printing.floor_sheet import SheetCode, SheetSection, render_floor_sheet


def _decode(pdf_bytes: bytes) -> list[str]:
    pdf = pypdfium2.PdfDocument(pdf_bytes)
    try:
        return [
            r.text
            for page in pdf
            for r in zxingcpp.read_barcodes(page.render(scale=203 / 72).to_pil())
        ]
    finally:
        pdf.close()


def test_every_code_on_the_sheet_decodes_at_203_dpi() -> None:
    codes = [
        SheetCode("Zażółć gęślą jaźń — Ελληνικά — Tiếng Việt — Кирилиця", "EMP-0042", note="PIN 1"),
        SheetCode("Bin", "C-04-06-3"),
        SheetCode("Product", "4006381333931", symbology="ean13"),
        SheetCode("A long command", "CMD-NEWPARCEL"),
    ]
    pdf = render_floor_sheet("Test sheet", [SheetSection("All", codes)])
    assert pdf.startswith(b"%PDF")
    assert sorted(_decode(pdf)) == sorted(c.code for c in codes)


def test_the_same_sheet_renders_byte_identical() -> None:
    sections = [SheetSection("Totes", [SheetCode("Tote", f"T-{i:04d}") for i in range(1, 9)])]
    assert render_floor_sheet("x", sections) == render_floor_sheet("x", sections)


def test_many_codes_flow_over_several_pages() -> None:
    sections = [SheetSection("Bins", [SheetCode("Bin", f"A-01-{i:02d}-1") for i in range(1, 41)])]
    pdf = pypdfium2.PdfDocument(render_floor_sheet("x", sections))
    pages = len(pdf)
    pdf.close()
    assert pages >= 3
    assert len(_decode(render_floor_sheet("x", sections))) == 40


def test_a_section_of_three_columns_flows_over_pages_with_its_title_repeated() -> None:
    from tests.printing.pdf_reading import read_pages

    codes = [SheetCode(f"Product {i}", f"400638133{i:03d}"[:12], symbology="ean13")
             for i in range(1, 61)]  # fmt: skip
    codes = [SheetCode(c.caption, c.code + _check(c.code), symbology="ean13") for c in codes]
    pages = read_pages(render_floor_sheet("x", [SheetSection("Products", codes, columns=3)]))
    assert len(pages) >= 3
    assert sorted(code for page in pages for code in page.codes) == sorted(c.code for c in codes)
    assert all("Products (continued)" in page.text for page in pages[1:])


def _check(digits: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return str(-total % 10)
