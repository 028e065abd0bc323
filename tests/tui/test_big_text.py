"""The block font that draws a bin code (or a lane) three rows high."""

from __future__ import annotations

import string

from textual.app import App, ComposeResult

from picker.tui.widgets.big_text import FONT, BigText, big_lines


def test_every_letter_digit_and_dash_has_a_glyph_of_three_by_three() -> None:
    for char in string.ascii_uppercase + string.digits + "-":
        assert char in FONT, char
        assert [len(row) for row in FONT[char]] == [3, 3, 3], char
    drawn = {FONT[c] for c in string.ascii_uppercase + string.digits}
    assert len(drawn) == 36  # no two characters look alike (zero is slashed, O is not)


def test_a_bin_code_is_drawn_with_a_cell_between_characters() -> None:
    rows = big_lines("A-03-04-1")
    assert rows is not None and {len(r) for r in rows} == {9 * 4 - 1}
    assert rows[0].startswith("┏━┓ ") and rows[2].startswith("╹ ╹ ")  # A
    assert big_lines("z-9") == big_lines("Z-9")  # either case


def test_a_character_the_font_lacks_gives_no_big_lines() -> None:
    assert big_lines("A_1") is None and big_lines("") is None


class Holder(App[None]):
    def __init__(self, text: str, width: int) -> None:
        super().__init__()
        self.text, self.width = text, width

    def compose(self) -> ComposeResult:
        yield BigText(self.text, id="big")


async def _drawn(text: str, width: int) -> tuple[str, int]:
    app = Holder(text, width)
    async with app.run_test(size=(width, 6)) as pilot:
        await pilot.pause()
        widget = app.query_one(BigText)
        return str(widget.render()), widget.size.height


async def test_big_when_it_fits_closer_when_tight_plain_when_too_wide() -> None:
    assert await _drawn("A-03-04-1", 40) == ("\n".join(big_lines("A-03-04-1") or ()), 3)
    assert await _drawn("A-03-04-1", 30) == ("\n".join(big_lines("A-03-04-1", 0) or ()), 3)
    assert await _drawn("A-03-04-1", 20) == ("A-03-04-1", 1)  # never cut
    assert await _drawn("BIN_7", 40) == ("BIN_7", 1)  # a character with no glyph: plain
