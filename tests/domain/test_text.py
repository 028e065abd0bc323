"""Text shown to people and written to files: data, never instructions."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from picker.domain.text import FORMULA_START, spreadsheet_cell


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
