"""Text shown to people and written to files: data, never instructions."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from picker.domain.text import FORMULA_START, plural, spreadsheet_cell


@given(st.text())
def test_a_spreadsheet_cell_never_starts_like_a_formula_and_keeps_the_text(text: str) -> None:
    cell = spreadsheet_cell(text)
    assert not cell.startswith(FORMULA_START) or float(cell) == float(text)  # a plain number
    assert cell == text or cell == "'" + text


def test_formula_cells_get_an_apostrophe_and_plain_ones_stay() -> None:
    assert spreadsheet_cell("=1+1") == "'=1+1"
    assert spreadsheet_cell("@SUM(A1)") == "'@SUM(A1)"
    assert spreadsheet_cell("\tx") == "'\tx"
    assert spreadsheet_cell("Zoë = fine") == "Zoë = fine"
    assert spreadsheet_cell("") == ""
    assert spreadsheet_cell("-5.00") == "-5.00"  # a number, no formula: stays a number
    assert spreadsheet_cell("-2+3") == "'-2+3"


def test_plural_says_one_parcel_and_two_parcels() -> None:
    assert plural(1, "parcel") == "1 parcel"
    assert plural(2, "parcel") == "2 parcels"
    assert plural(0, "order") == "0 orders"
    assert plural(-1, "unit") == "-1 units"
    assert plural(1, "box", "boxes") == "1 box"
    assert plural(3, "box", "boxes") == "3 boxes"
    assert plural(2, "pick list") == "2 pick lists"
    assert plural(20_000, "order") == "20,000 orders"
