"""The label's font fallback chain: DejaVu Sans (shipped), then fonts found through fontconfig.

``[labels] fonts`` names font families in order. DejaVu Sans is shipped with Picker; every other
family is looked up with fontconfig (``fc-match``), regular and bold, and used only when
fontconfig finds that very family (it otherwise answers with a look-alike). Each character of a
label's text is drawn with the first font of the chain that has a glyph for it
(:meth:`FontChain.runs`), and the PDF, the PNG preview and ZPL all draw the same runs.

Two kinds of font files are met. TrueType outlines (DejaVu, Noto Sans Arabic/Hebrew/Thai) are
registered with ReportLab as they are. PostScript (CFF) outlines (Debian's Noto Sans CJK, a
``.ttc`` collection) cannot be embedded by ReportLab: for each PDF the characters drawn with such
a font are cut out of it with fontTools and converted to TrueType outlines, a few kilobytes
(:meth:`Face.pdf_font`). Pillow draws both kinds directly.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from PIL import ImageFont
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from picker.printing.fonts import BOLD, FONT_DIR, REGULAR, register_fonts

#: The shipped family: always in the chain (first, unless the list puts it elsewhere).
SHIPPED = "DejaVu Sans"
#: Printer dots per inch of the raster outputs (PNG preview, ZPL graphics).
DPI = 203

_LOCK = threading.RLock()


@dataclass(eq=False)
class Face:
    """One font file (regular or bold) of a family in the chain."""

    family: str
    path: Path
    index: int
    bold: bool
    #: The ReportLab font name for TrueType outlines; empty for CFF (converted per document).
    reportlab: str
    cmap: frozenset[int]
    _advances: dict[int, float] = field(default_factory=dict, repr=False)
    """CFF only: advance width per character, in points at 1 pt."""
    _pdf_fonts: OrderedDict[frozenset[str], str] = field(default_factory=OrderedDict, repr=False)

    @property
    def cff(self) -> bool:
        return not self.reportlab

    def has(self, char: str) -> bool:
        return ord(char) in self.cmap

    def width(self, text: str) -> float:
        """Advance width of ``text`` at 1 pt."""
        if self.reportlab:
            return pdfmetrics.stringWidth(text, self.reportlab, 1.0)
        return sum(self._advances.get(ord(c), 0.5) for c in text)

    def pil(self, size_pt: float) -> ImageFont.FreeTypeFont:
        """The face for Pillow at ``size_pt`` on a 203-dpi printer; laid out as given (the text
        is already in visual order and shaped, see :mod:`picker.printing.shaping`)."""
        return _pil(self.path, self.index, max(1, round(size_pt * DPI / 72)))

    def pdf_font(self, chars: Iterable[str]) -> str:
        """The ReportLab font that draws ``chars`` with this face: the face itself for TrueType;
        for CFF a TrueType font of just these characters, made with fontTools (kept for the
        documents that follow, the last 64 sets)."""
        if self.reportlab:
            return self.reportlab
        wanted = frozenset(chars)
        with _LOCK:
            name = self._pdf_fonts.get(wanted)
            if name is not None:
                self._pdf_fonts.move_to_end(wanted)
                return name
            digest = hashlib.sha1("".join(sorted(wanted)).encode("utf-8")).hexdigest()[:12]
            name = f"PickerCFF-{'b' if self.bold else 'r'}{self.index}-{digest}"
            font = TTFont(name, io.BytesIO(_truetype_subset(self.path, self.index, wanted)))
            pdfmetrics.registerFont(font)
            self._pdf_fonts[wanted] = name
            if len(self._pdf_fonts) > 64:
                _, old = self._pdf_fonts.popitem(last=False)
                pdfmetrics._fonts.pop(old, None)  # ReportLab has no unregister
            return name


@dataclass(frozen=True, eq=False)
class ChainFont:
    family: str
    regular: Face
    bold: Face

    def face(self, bold: bool) -> Face:
        return self.bold if bold else self.regular


@dataclass(frozen=True)
class Run:
    """A stretch of text drawn with one font of the chain."""

    font: int
    """Index into :attr:`FontChain.fonts`."""
    text: str


@dataclass(frozen=True, eq=False)
class FontChain:
    fonts: tuple[ChainFont, ...]
    #: Families of ``[labels] fonts`` that could not be used, each with why, in words.
    missing: tuple[str, ...] = ()

    @property
    def families(self) -> tuple[str, ...]:
        return tuple(f.family for f in self.fonts)

    def font_for(self, char: str, bold: bool) -> int | None:
        """The first font of the chain with a glyph for ``char``; None when none has one."""
        for n, font in enumerate(self.fonts):
            if font.face(bold).has(char):
                return n
        return None

    def undrawable(self, text: str) -> list[str]:
        """The characters of ``text`` (in order, once each) no font of the chain can draw."""
        seen: list[str] = []
        for c in text:
            if c.isspace() or c in seen:
                continue
            if self.font_for(c, False) is None and self.font_for(c, True) is None:
                seen.append(c)
        return seen

    def runs(self, text: str, bold: bool) -> tuple[Run, ...]:
        """``text`` cut into runs, each drawn with the first font that has all its glyphs.
        Spaces and combining marks stay with the font of the letter before them when it has
        them, so a word is not split between fonts; a character no font has goes to the
        first font (and is reported by :meth:`undrawable`)."""
        out: list[Run] = []
        current: int | None = None
        start = 0
        for i, c in enumerate(text):
            joins = c.isspace() or unicodedata.category(c).startswith("M")
            if joins and current is not None and self.fonts[current].face(bold).has(c):
                continue
            chosen = self.font_for(c, bold)
            if chosen is None:
                chosen = current if current is not None else 0
            if chosen != current:
                if current is not None and i > start:
                    out.append(Run(current, text[start:i]))
                current, start = chosen, i
        if current is not None and len(text) > start:
            out.append(Run(current, text[start:]))
        return tuple(out)

    def width(self, text: str, bold: bool) -> float:
        """Advance width of ``text`` at 1 pt, each run in its own font."""
        if not text:
            return 0.0
        return sum(self.fonts[r.font].face(bold).width(r.text) for r in self.runs(text, bold))


# --- building the chain -------------------------------------------------------------------------


def shipped() -> ChainFont:
    register_fonts()
    regular = _reportlab_face(SHIPPED, FONT_DIR / "DejaVuSans.ttf", 0, False, REGULAR)
    bold = _reportlab_face(SHIPPED, FONT_DIR / "DejaVuSans-Bold.ttf", 0, True, BOLD)
    return ChainFont(SHIPPED, regular, bold)


@cache
def font_chain(families: Sequence[str]) -> FontChain:
    """The chain of ``families`` (``[labels] fonts``), built once per process. DejaVu Sans is
    the shipped one; the others are found through fontconfig, or listed in :attr:`missing`."""
    fonts: list[ChainFont] = []
    missing: list[str] = []
    names = list(dict.fromkeys(families))
    if SHIPPED not in names:
        names.insert(0, SHIPPED)
    for family in names:
        if family == SHIPPED:
            fonts.append(shipped())
            continue
        found, why = _found(family)
        if found is None:
            missing.append(f"{family}: {why}")
        else:
            fonts.append(found)
    return FontChain(tuple(fonts), tuple(missing))


def _found(family: str) -> tuple[ChainFont | None, str]:
    regular = _match(family, bold=False)
    if regular is None:
        if shutil.which("fc-match") is None:
            return None, "fontconfig (fc-match) is not installed, so no system font is found"
        return None, "not installed (fontconfig does not know it)"
    bold = _match(family, bold=True) or regular
    try:
        with _LOCK:
            faces = [_face(family, path, index, is_bold) for (path, index), is_bold in
                     ((regular, False), (bold, True))]  # fmt: skip
    except Exception as exc:  # a font file we cannot read is a font the chain does without
        return None, f"{regular[0]} cannot be read ({type(exc).__name__}: {exc})"
    return ChainFont(family, faces[0], faces[1]), ""


def _match(family: str, *, bold: bool) -> tuple[Path, int] | None:
    """fontconfig's file and collection index for ``family`` (bold or regular), or None when
    fontconfig is absent or only offers another family in its place."""
    if shutil.which("fc-match") is None or not family.strip() or ":" in family:
        return None
    pattern = f"{family}:weight={'bold' if bold else 'regular'}"
    try:
        done = subprocess.run(
            ["fc-match", "--format=%{file}\\n%{index}\\n%{family}\\n%{weight}\\n", pattern],
            capture_output=True, text=True, timeout=10, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    lines = done.stdout.splitlines()
    if done.returncode != 0 or len(lines) < 3:
        return None
    file, index, names = lines[0], lines[1], lines[2]
    if family.casefold() not in (n.strip().casefold() for n in names.split(",")):
        return None
    if bold and len(lines) > 3 and lines[3].strip().isdigit() and int(lines[3]) < 150:
        return None  # fontconfig offers the regular weight: no bold in this family
    return Path(file), int(index) if index.strip().isdigit() else 0


def _face(family: str, path: Path, index: int, bold: bool) -> Face:
    from fontTools.ttLib import TTFont as ToolsFont

    tools = ToolsFont(str(path), fontNumber=index, lazy=True)
    try:
        if "glyf" in tools:
            slug = hashlib.sha1(f"{path}#{index}".encode()).hexdigest()[:10]
            return _reportlab_face(family, path, index, bold, f"PickerFont-{slug}")
        cmap = tools.getBestCmap()
        upm = tools["head"].unitsPerEm
        metrics = tools["hmtx"].metrics
        advances = {cp: metrics[glyph][0] / upm for cp, glyph in cmap.items() if glyph in metrics}
        return Face(family, path, index, bold, "", frozenset(cmap), advances)
    finally:
        tools.close()


def _reportlab_face(family: str, path: Path, index: int, bold: bool, name: str) -> Face:
    with _LOCK:
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, str(path), subfontIndex=index))
        font = pdfmetrics.getFont(name)
    return Face(family, path, index, bold, name, frozenset(font.face.charToGlyph))


@cache
def _pil(path: Path, index: int, pixels: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(
        str(path), size=pixels, index=index, layout_engine=ImageFont.Layout.BASIC
    )


def _truetype_subset(path: Path, index: int, chars: frozenset[str]) -> bytes:
    """A TrueType font holding just ``chars`` of a CFF font: subset by fontTools, its cubic
    outlines turned into TrueType's quadratic ones (within 1 font unit)."""
    from fontTools import subset
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont as ToolsFont
    from fontTools.ttLib import newTable

    font = ToolsFont(str(path), fontNumber=index, lazy=True)
    options = subset.Options()
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.layout_features = []
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(chars)))
    subsetter.subset(font)
    glyphs = font.getGlyphSet()
    order = font.getGlyphOrder()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    for table in ("CFF ", "VORG"):
        if table in font:
            del font[table]
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for key in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):  # fmt: skip
        setattr(maxp, key, 0)
    maxp.maxZones = 1
    font["head"].glyphDataFormat = 0
    font.sfntVersion = "\x00\x01\x00\x00"
    out = io.BytesIO()
    font.save(out)
    font.close()
    return out.getvalue()
