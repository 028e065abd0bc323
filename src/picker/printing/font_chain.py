"""The label's font fallback chain: DejaVu Sans (shipped), then fonts found through fontconfig.

``[labels] fonts`` names font families in order. DejaVu Sans is shipped with Picker; every other
family is looked up with fontconfig (``fc-match``), regular and bold, and used only when
fontconfig finds that very family (it otherwise answers with a look-alike). Each character of a
label's text is drawn with the first font of the chain that has a glyph for it
(:meth:`FontChain.runs`), and the PDF, the PNG preview and ZPL all draw the same runs.

Two kinds of font files are met. TrueType outlines (DejaVu, Noto Sans Arabic/Hebrew/Thai) are
registered with ReportLab as they are. PostScript (CFF) outlines (Debian's Noto Sans CJK, a
``.ttc`` collection) cannot be embedded by ReportLab: for each PDF the characters drawn with such
a font are drawn into a small TrueType font with fontTools (their outlines converted), a few
kilobytes and milliseconds (:meth:`Face.pdf_font`). Pillow draws both kinds directly.
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
from typing import Any

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
    """One font file (regular or bold) of a family in the chain. Its glyphs are read when a
    label first needs a character the fonts before it lack (a CJK font's character map takes
    a good part of a second to read; a Latin label never pays it)."""

    family: str
    path: Path
    index: int
    bold: bool
    #: The ReportLab font name for TrueType outlines; empty for CFF (converted per document).
    reportlab: str
    _cmap: frozenset[int] | None = field(default=None, repr=False)
    _advances: dict[int, float] = field(default_factory=dict, repr=False)
    """CFF only: advance width per character, in points at 1 pt."""
    _pdf_fonts: OrderedDict[frozenset[str], str] = field(default_factory=OrderedDict, repr=False)

    @property
    def cff(self) -> bool:
        return not self.reportlab

    @property
    def cmap(self) -> frozenset[int]:
        """The characters this face has a glyph for (none when its file cannot be read)."""
        if self._cmap is None:
            with _LOCK:
                if self._cmap is None:
                    try:
                        self._cmap = self._load()
                    except Exception:  # a broken file: the chain draws with the other fonts
                        self._cmap = frozenset()
        return self._cmap

    def _load(self) -> frozenset[int]:
        if self.reportlab:
            if self.reportlab not in pdfmetrics.getRegisteredFontNames():
                font = TTFont(self.reportlab, str(self.path), subfontIndex=self.index)
                pdfmetrics.registerFont(font)
            return frozenset(pdfmetrics.getFont(self.reportlab).face.charToGlyph)
        tools = _source(self.path, self.index)
        cmap = tools.getBestCmap()
        upm = tools["head"].unitsPerEm
        metrics = tools["hmtx"].metrics
        self._advances = {cp: metrics[g][0] / upm for cp, g in cmap.items() if g in metrics}
        return frozenset(cmap)

    @property
    def loaded(self) -> bool:
        """Whether its glyphs have been read (:attr:`cmap`)."""
        return self._cmap is not None

    def has(self, char: str) -> bool:
        return ord(char) in self.cmap

    def width(self, text: str) -> float:
        """Advance width of ``text`` at 1 pt."""
        if self.reportlab:
            self.cmap  # noqa: B018 - registers the font with ReportLab on first use
            return pdfmetrics.stringWidth(text, self.reportlab, 1.0)
        self.cmap  # noqa: B018 - reads the advances on first use
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
            data = _truetype_subset(self.path, self.index, wanted, name)
            font = TTFont(name, io.BytesIO(data))
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
    """The face of a font file, its outlines' kind and licence looked at (quick: the table
    directory and OS/2); its glyphs are read on first use."""
    from fontTools.ttLib import TTFont as ToolsFont

    with ToolsFont(str(path), fontNumber=index, lazy=True) as tools:
        if "OS/2" in tools and tools["OS/2"].fsType & 0x0002:
            raise ValueError("its licence does not allow it to be embedded in a document")
        truetype = "glyf" in tools
    if truetype:
        slug = hashlib.sha1(f"{path}#{index}".encode()).hexdigest()[:10]
        return Face(family, path, index, bold, f"PickerFont-{slug}")
    return Face(family, path, index, bold, "")


def _reportlab_face(family: str, path: Path, index: int, bold: bool, name: str) -> Face:
    face = Face(family, path, index, bold, name)
    face.cmap  # noqa: B018 - the shipped font: read at once
    return face


def _source(path: Path, index: int) -> Any:
    """The fontTools font of a CFF face, opened once (its glyphs read as needed)."""
    from fontTools.ttLib import TTFont as ToolsFont

    source = _SOURCES.get((path, index))
    if source is None:
        source = _SOURCES[(path, index)] = ToolsFont(str(path), fontNumber=index, lazy=True)
    return source


@cache
def _pil(path: Path, index: int, pixels: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(
        str(path), size=pixels, index=index, layout_engine=ImageFont.Layout.BASIC
    )


#: CFF fonts opened once (their glyphs are read as needed): (path, index) → fontTools font.
_SOURCES: dict[tuple[Path, int], Any] = {}


def _truetype_subset(path: Path, index: int, chars: frozenset[str], name: str) -> bytes:
    """A TrueType font named ``name`` holding just ``chars`` of a CFF font: each glyph's cubic
    outlines turned into TrueType's quadratic ones (within 1 font unit), with the font's own
    advance widths and vertical metrics. Built with fontTools in a few milliseconds; the CFF
    font itself is opened once (under the caller's lock)."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    source = _source(path, index)
    cmap = source.getBestCmap()
    order, mapping = [".notdef"], {}
    for c in sorted(chars):
        glyph = cmap.get(ord(c))
        if glyph is not None:
            mapping[ord(c)] = glyph
            if glyph not in order:
                order.append(glyph)
    outlines = source.getGlyphSet()
    glyphs = {}
    for glyph in order:
        pen = TTGlyphPen(None)
        outlines[glyph].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyphs[glyph] = pen.glyph()
    advances = source["hmtx"].metrics
    hhea, os2 = source["hhea"], source["OS/2"]
    built = FontBuilder(source["head"].unitsPerEm, isTTF=True)
    built.setupGlyphOrder(order)
    built.setupCharacterMap(mapping)
    built.setupGlyf(glyphs)
    glyf = built.font["glyf"]
    built.setupHorizontalMetrics({g: (advances[g][0], getattr(glyf[g], "xMin", 0)) for g in order})
    built.setupHorizontalHeader(ascent=hhea.ascent, descent=hhea.descent)
    built.setupNameTable({"familyName": name, "styleName": "Regular", "psName": name})
    built.setupOS2(
        sTypoAscender=os2.sTypoAscender, sTypoDescender=os2.sTypoDescender,
        usWinAscent=os2.usWinAscent, usWinDescent=os2.usWinDescent,
        sCapHeight=getattr(os2, "sCapHeight", 0), usWeightClass=os2.usWeightClass,
        fsType=0,  # the source's embedding rights were checked when it joined the chain
    )  # fmt: skip
    built.setupPost()
    out = io.BytesIO()
    built.save(out)
    return out.getvalue()
