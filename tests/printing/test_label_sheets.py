"""Label sheets: every code scans back, on A4 grids and 4x6 thermal pages alike."""

import pytest

from picker.printing.code_cells import SheetCode
from picker.printing.label_sheets import SHEETS, LabelSheet, UnprintableCode, render_label_sheets
from tests.printing.pdf_reading import read_pages


def test_a4_sheets_hold_24_labels_a_page_and_every_code_scans_back() -> None:
    codes = [SheetCode(f"Zone A · aisle 1 · bay {i}", f"A-01-{i:02d}-1") for i in range(1, 31)]
    pages = read_pages(render_label_sheets("Bins", codes, SHEETS["a4"]))
    assert [p.size_mm for p in pages] == [(210.0, 297.0)] * 2
    assert [len(p.codes) for p in pages] == [24, 6]
    assert sorted(c for p in pages for c in p.codes) == [c.code for c in codes]
    assert "Zone A · aisle 1 · bay 30" in pages[1].text


def test_a_4x6_sheet_is_one_big_label_a_page() -> None:
    codes = [
        SheetCode("Bubble envelope M, the one with the long name that must be shortened", "BOX-M"),
        SheetCode("Tote", "T-0001"),
    ]
    pages = read_pages(render_label_sheets("x", codes, SHEETS["4x6"]))
    assert [(p.size_mm, p.codes) for p in pages] == [
        ((101.6, 152.4), ["BOX-M"]),
        ((101.6, 152.4), ["T-0001"]),
    ]
    assert "Bubble envelope M" in pages[0].text and "…" in pages[0].text


def test_the_same_labels_render_byte_identical() -> None:
    codes = [SheetCode("Tote", f"T-{i:04d}") for i in range(1, 9)]
    assert render_label_sheets("x", codes, SHEETS["a4"]) == render_label_sheets(
        "x", codes, SHEETS["a4"]
    )


def test_a_code_code128_cannot_carry_is_named_and_nothing_rendered() -> None:
    codes = [SheetCode("Badge", "EMP-0001"), SheetCode("Badge", "EMP-Łódź")]
    with pytest.raises(UnprintableCode, match="cannot be printed as a barcode: 'EMP-Łódź'"):
        render_label_sheets("x", codes, SHEETS["a4"])


def test_a_sheet_whose_labels_do_not_fit_its_page_is_refused_when_made() -> None:
    with pytest.raises(ValueError, match="3 x 9 labels of 70 x 37 mm do not fit"):
        LabelSheet("bad", 210, 297, 3, 9, 70, 37, 10)
