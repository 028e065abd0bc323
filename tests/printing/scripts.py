"""Scripts a label must draw, the fonts that draw them, and how a test tells a drawn glyph from
a missing one.

A test that needs a script's font calls :func:`need_script`. When the font is not installed
the test is skipped with the reason and the script is named in the run's closing summary
("label scripts not checked", see tests/conftest.py); with ``CI=true`` it fails instead: CI
installs the fonts (.ci/run), so a missing one there is a broken set-up, not a pass.
"""

from __future__ import annotations

import os

import pytest
from PIL import Image, ImageChops

from picker.printing.font_chain import FontChain, font_chain
from picker.printing.labels import PT_PER_MM, Composed, Text, dots

#: Script → the family of the default chain that draws it (DejaVu, shipped, has Hebrew, Arabic
#: and Vietnamese).
SCRIPT_FONTS = {
    "CJK": "Noto Sans CJK SC",
    "Arabic": "DejaVu Sans",
    "Hebrew": "DejaVu Sans",
    "Thai": "Noto Sans Thai",
    "Vietnamese": "DejaVu Sans",
}
#: The Debian package of each family, for the message.
PACKAGES = {
    "Noto Sans CJK SC": "fonts-noto-cjk",
    "Noto Sans Arabic": "fonts-noto-core",
    "Noto Sans Hebrew": "fonts-noto-core",
    "Noto Sans Thai": "fonts-noto-core",
}
#: The user property a test leaves when it could not check a script (read by tests/conftest.py).
UNCHECKED = "label_script_not_checked"


def chain() -> FontChain:
    from picker.config import DEFAULT_LABEL_FONTS

    return font_chain(DEFAULT_LABEL_FONTS)


def need_script(request: pytest.FixtureRequest, script: str, family: str | None = None) -> None:
    """Go on only when ``script``'s font (or ``family``) is in the chain: else fail under CI,
    or skip with the script named in the run's summary."""
    family = family or SCRIPT_FONTS[script]
    if family in chain().families:
        return
    why = f"{script}: font {family!r} is not installed ({PACKAGES.get(family, '?')})"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{why}; CI installs it (.ci/run), so it must be there")
    request.node.user_properties.append((UNCHECKED, why))
    pytest.skip(why)


def text_items(label: Composed, block: str) -> list[Text]:
    return [t for t in label.items if isinstance(t, Text) and t.block == block]


def glyph_cells(image: Image.Image, label: Composed, item: Text) -> list[tuple[str, Image.Image]]:
    """Each visible character of ``item`` cut out of a 203-dpi raster of the label, where the
    composition placed it (box from its advance, a line's height)."""
    fonts = label.fonts
    cells = []
    top, bottom = dots(item.baseline - item.size / PT_PER_MM), dots(item.baseline + 1.0)
    for run in item.runs:
        face = fonts.fonts[run.font].face(item.bold)
        x = item.x + run.dx
        for c in run.text:
            advance = face.width(c) * item.size / PT_PER_MM
            if not c.isspace() and advance > 0:
                cells.append((c, image.crop((dots(x), top, dots(x + advance), bottom))))
            x += advance
    return cells


def inked(cell: Image.Image) -> bool:
    return cell.convert("L").getextrema()[0] < 128


def same(a: Image.Image, b: Image.Image) -> bool:
    if a.size != b.size:
        return False
    return ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is None


def assert_glyphs_drawn(image: Image.Image, label: Composed, item: Text) -> None:
    """Every character has ink, and different characters look different: a font without the
    glyphs draws the same empty box ("tofu") for each."""
    cells = glyph_cells(image, label, item)
    assert cells, item
    assert all(inked(cell) for _, cell in cells), f"a character of {item.text!r} drew nothing"
    distinct: dict[str, Image.Image] = {}
    for c, cell in cells:
        distinct.setdefault(c, _ink(cell))
    shapes = list(distinct.items())
    for i, (a, cell_a) in enumerate(shapes):
        for b, cell_b in shapes[i + 1 :]:
            assert not same(cell_a, cell_b), f"{a!r} and {b!r} drew the same box in {item.text!r}"


def _ink(cell: Image.Image) -> Image.Image:
    """The cell cut to its ink, so the same shape a dot further on compares equal."""
    grey = cell.convert("L")
    box = ImageChops.invert(grey).getbbox()
    return grey.crop(box) if box else grey
