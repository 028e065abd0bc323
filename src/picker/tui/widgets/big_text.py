"""The one thing to act on, drawn three rows high: a bin code, a lane, a count.

Textual's ``Digits`` draws 0-9 and A-F only, and a bin code may start with any zone letter
(``Z-99-99-9``), so this is a font of our own, in the same box-drawing style: A-Z, 0-9, ``-``,
``.``, ``/`` and the space, three columns by three rows each. Zero is slashed, so it is never
read as the letter O. A text with a character the font lacks, or too wide for the widget, is
shown in plain bold letters instead: never cut, never a question mark.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

# Each glyph: three rows of three cells.
_GLYPHS = """
A ┏━┓|┣━┫|╹ ╹
B ┏┓ |┣┻┓|┗━┛
C ┏━╸|┃  |┗━╸
D ┳━┓|┃ ┃|┻━┛
E ┏━╸|┣━ |┗━╸
F ┏━╸|┣━ |╹
G ┏━╸|┃╺┓|┗━┛
H ╻ ╻|┣━┫|╹ ╹
I ╺┳╸| ┃ |╺┻╸
J   ╻|  ┃|┗━┛
K ╻ ╱|┣┫ |╹ ╲
L ╻  |┃  |┗━╸
M ┏┳┓|┃┃┃|╹╹╹
N ┏┓╻|┃┃┃|╹┗┛
O ┏━┓|┃ ┃|┗━┛
P ┏━┓|┣━┛|╹
Q ┏━┓|┃ ┃|┗━╲
R ┏━┓|┣┳┛|╹┗╸
S ┏━╸|┗━┓|╺━┛
T ╺┳╸| ┃ | ╹
U ╻ ╻|┃ ┃|┗━┛
V ╻ ╻|┃ ┃|╰┳╯
W ╻╻╻|┃┃┃|┗┻┛
X ╲ ╱| ╳ |╱ ╲
Y ╻ ╻|┗┳┛| ╹
Z ━━┓| ╱ |┗━━
0 ┏━┓|┃╱┃|┗━┛
1 ╺┓ | ┃ |╺┻╸
2 ╺━┓|┏━┛|┗━╸
3 ╺━┓| ━┫|╺━┛
4 ╻ ╻|┗━┫|  ╹
5 ┏━╸|┗━┓|┗━┛
6 ┏━╸|┣━┓|┗━┛
7 ╺━┓|  ┃|  ╹
8 ┏━┓|┣━┫|┗━┛
9 ┏━┓|┗━┫|╺━┛
- |╺━╸|
. | | ╻
/   ╱| ╱ |╱
"""

FONT: dict[str, tuple[str, str, str]] = {" ": ("   ", "   ", "   ")}
for _entry in _GLYPHS.strip("\n").splitlines():
    _top, _middle, _bottom = _entry[2:].split("|")
    FONT[_entry[0]] = (_top.ljust(3), _middle.ljust(3), _bottom.ljust(3))


def big_lines(text: str, gap: int = 1) -> tuple[str, str, str] | None:
    """``text`` (letters in either case) as three rows of the font, ``gap`` cells between
    characters; None when the font lacks one of its characters."""
    glyphs = [FONT.get(c) for c in text.upper()]
    if not text or any(g is None for g in glyphs):
        return None
    space = " " * gap
    rows = tuple(space.join(g[row] for g in glyphs if g is not None) for row in range(3))
    return rows[0], rows[1], rows[2]


def big_width(text: str, gap: int = 1) -> int:
    """Cells ``text`` takes drawn large with ``gap`` between characters."""
    return len(text) * (3 + gap) - gap if text else 0


class BigText(Widget):
    """``text`` three rows high when it fits (with a cell between characters when that fits
    too), else in plain bold letters. Centred; the widget's own colours apply."""

    DEFAULT_CSS = """
    BigText {
        width: 100%;
        height: auto;
        text-align: center;
        text-style: bold;
    }
    """

    text: reactive[str] = reactive("", layout=True)
    """What is shown (a bin code, a lane)."""

    def __init__(self, text: str = "", *, id: str | None = None, classes: str | None = None):
        super().__init__(id=id, classes=classes)
        self.text = text

    def fits(self, width: int) -> int | None:
        """The gap between characters that fits ``width`` (1, else 0), None when it does not
        fit large at all."""
        if big_lines(self.text) is None:
            return None
        for gap in (1, 0):
            if big_width(self.text, gap) <= width:
                return gap
        return None

    def render(self) -> Text:
        gap = self.fits(self.content_size.width or self.app.size.width)
        if gap is None:
            return Text(self.text)
        lines = big_lines(self.text, gap)
        assert lines is not None
        return Text("\n".join(lines))

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        if not self.text:
            return 0
        return 3 if self.fits(width) is not None else 1
