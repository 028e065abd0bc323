"""Text three lines tall, readable at arm's length: a lane code (``LANE-1``) at the packing table.

Textual's ``Digits`` draws 0-9, A-F and a few signs only; a lane is named with any letter. This
is a 3x3 font of the same box-drawing strokes for A-Z, 0-9, ``-``, ``/``, ``.`` and space. Text
with a character the font lacks, or too wide for the widget even with the letters set close, is
written once in plain bold instead: never cut, never guessed.
"""

from __future__ import annotations

from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

_GLYPHS: dict[str, tuple[str, str, str]] = {
    "A": ("┏━┓", "┣━┫", "╹ ╹"),
    "B": ("┳━┓", "┣━┫", "┻━┛"),
    "C": ("┏━╸", "┃  ", "┗━╸"),
    "D": ("┳━┓", "┃ ┃", "┻━┛"),
    "E": ("┏━╸", "┣━╸", "┗━╸"),
    "F": ("┏━╸", "┣━╸", "╹  "),
    "G": ("┏━╸", "┃╺┓", "┗━┛"),
    "H": ("╻ ╻", "┣━┫", "╹ ╹"),
    "I": ("╺┳╸", " ┃ ", "╺┻╸"),
    "J": ("  ╻", "  ┃", "┗━┛"),
    "K": ("╻ ╱", "┣━ ", "╹ ╲"),
    "L": ("╻  ", "┃  ", "┗━╸"),
    "M": ("┏┳┓", "┃╹┃", "╹ ╹"),
    "N": ("┏┓╻", "┃┃┃", "╹┗┛"),
    "O": ("┏━┓", "┃ ┃", "┗━┛"),
    "P": ("┏━┓", "┣━┛", "╹  "),
    "Q": ("┏━┓", "┃ ┃", "┗━╋"),
    "R": ("┏━┓", "┣┳┛", "╹┗╸"),
    "S": ("┏━╸", "┗━┓", "╺━┛"),
    "T": ("╺┳╸", " ┃ ", " ╹ "),
    "U": ("╻ ╻", "┃ ┃", "┗━┛"),
    "V": ("╻ ╻", "╲ ╱", " ╹ "),
    "W": ("╻ ╻", "┃┃┃", "┗┻┛"),
    "X": ("╲ ╱", " ╳ ", "╱ ╲"),
    "Y": ("╻ ╻", "┗┳┛", " ╹ "),
    "Z": ("╺━┓", " ╱ ", "┗━╸"),
    "0": ("┏━┓", "┃╱┃", "┗━┛"),
    "1": ("╺┓ ", " ┃ ", "╺┻╸"),
    "2": ("╺━┓", "┏━┛", "┗━╸"),
    "3": ("╺━┓", " ━┫", "╺━┛"),
    "4": ("╻ ╻", "┗━┫", "  ╹"),
    "5": ("┏━╸", "┗━┓", "╺━┛"),
    "6": ("┏━╸", "┣━┓", "┗━┛"),
    "7": ("╺━┓", "  ┃", "  ╹"),
    "8": ("┏━┓", "┣━┫", "┗━┛"),
    "9": ("┏━┓", "┗━┫", "╺━┛"),
    "-": ("   ", "╺━╸", "   "),
    "/": ("  ╱", " ╱ ", "╱  "),
    ".": ("   ", "   ", " ╻ "),
    " ": ("   ", "   ", "   "),
}

#: Columns of one letter.
GLYPH_WIDTH = 3


def drawable(text: str) -> bool:
    """Whether the font has every character of ``text`` (letters in either case)."""
    return all(c in _GLYPHS for c in text.upper())


def big_lines(text: str, gap: int = 1) -> tuple[str, str, str]:
    """``text`` in the 3x3 font, ``gap`` columns between letters (KeyError: a character the
    font lacks; see :func:`drawable`)."""
    glyphs = [_GLYPHS[c] for c in text.upper()]
    space = " " * gap
    return (
        space.join(g[0] for g in glyphs),
        space.join(g[1] for g in glyphs),
        space.join(g[2] for g in glyphs),
    )


def big_width(text: str, gap: int = 1) -> int:
    return len(text) * GLYPH_WIDTH + max(0, len(text) - 1) * gap


class BigText(Widget):
    """``text`` three lines tall and centred; plain bold when it cannot be drawn so."""

    DEFAULT_CSS = """
    BigText {
        width: 100%;
        height: auto;
        text-style: bold;
        text-align: center;
    }
    """

    def __init__(self, text: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._text = text

    @property
    def text(self) -> str:
        return self._text

    def update(self, text: str) -> None:
        if text != self._text:
            self._text = text
            self.refresh(layout=True)

    def _lines(self, width: int) -> list[str]:
        text = self._text
        if text and drawable(text):
            for gap in (1, 0):
                if big_width(text, gap) <= width:
                    return list(big_lines(text, gap))
        return [text]

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines(width))

    def render(self) -> Text:
        width = self.content_region.width or self.size.width
        return Text("\n".join(self._lines(width)), no_wrap=True)
