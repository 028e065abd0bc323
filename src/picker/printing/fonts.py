"""The fonts shipped with Picker (DejaVu Sans: Latin, Greek, Cyrillic, Vietnamese).

DejaVu is under the Bitstream Vera licence with public-domain changes; see
fonts/LICENSE-DejaVu.txt beside this file.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable
from functools import partial, wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from reportlab.lib.rl_accel import fp_str
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import (
    FF_NONSYMBOLIC,
    FF_SYMBOLIC,
    SUBSETN,
    TTFont,
    makeToUnicodeCMap,
)
from reportlab.pdfgen.canvas import Canvas

FONT_DIR = Path(__file__).resolve().parent / "fonts"
REGULAR = "PickerSans"
BOLD = "PickerSans-Bold"


#: Letters (beyond ASCII) of the languages our floors ship to most, and a few signs. Every
#: document gets them at fixed codes of each font's first subset (:func:`prime`), so that subset
#: is the same in almost every label, and is built and compressed once per process.
PRIMED = (
    "ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝßàáâãäåæçèéêëìíîïñòóôõöøùúûüýÿ"
    "ĄąĆćČčĎďĘęĚěŁłŃńŇňŐőŒœŘřŚśŠšŤťŮůŰűŹźŻżŽžĂăȘșȚțĞğİıŞş"
    "€£₫₽№–—‘’“”„…·×°"
)


P = ParamSpec("P")
R = TypeVar("R")

#: ReportLab keeps a TTF font's per-document state in the font object ("you cannot use the same
#: TTFont object for different documents at the same time"), and our subset caches live there
#: too: every document drawn with the shipped fonts is written under this lock.
DOCUMENT_LOCK = threading.RLock()


def one_document_at_a_time(render: Callable[P, R]) -> Callable[P, R]:
    """Decorate a function that writes a PDF with the shipped fonts: it runs under
    :data:`DOCUMENT_LOCK`."""

    @wraps(render)
    def locked(*args: P.args, **kwargs: P.kwargs) -> R:
        with DOCUMENT_LOCK:
            return render(*args, **kwargs)

    return locked


@one_document_at_a_time
def register_fonts() -> None:
    """Register the shipped fonts with ReportLab (once per process)."""
    registered = pdfmetrics.getRegisteredFontNames()
    for name, file in ((REGULAR, "DejaVuSans.ttf"), (BOLD, "DejaVuSans-Bold.ttf")):
        if name not in registered:
            font = TTFont(name, str(FONT_DIR / file))
            # ReportLab builds, formats and deflates the embedded subsets (font file, widths,
            # ToUnicode map) for every document: for a label of one page that was most of its
            # cost. The same subset is made once per process.
            font.face.addSubsetObjects = partial(_subset_objects, font.face, {})
            font.addObjects = partial(_font_objects, font, {})
            pdfmetrics.registerFont(font)


#: Per font: the codes :data:`PRIMED` was given (assignments, subsets, next free code).
_primed: dict[str, tuple[dict[int, int], list[list[int]], int]] = {}


def prime(canvas: Canvas) -> None:
    """Give :data:`PRIMED` its fixed codes in this document (nothing is drawn)."""
    doc = canvas._doc
    for name in (REGULAR, BOLD):
        font = pdfmetrics.getFont(name)
        if name not in _primed:  # assign the codes once, then copy them into every document
            font.splitString(PRIMED, doc)
            s = font.state[doc]
            _primed[name] = (dict(s.assignments), [list(x) for x in s.subsets], s.nextCode)
            continue
        assignments, subsets, next_code = _primed[name]
        state = font.state[doc] = TTFont.State(font._asciiReadable, font)
        state.assignments = dict(assignments)
        state.subsets = [list(subset) for subset in subsets]
        state.nextCode = next_code


def _font_objects(font: Any, made: dict[tuple[str, tuple[int, ...]], tuple[bytes, bytes]],
                  doc: Any) -> None:  # fmt: skip
    """ReportLab's ``TTFont.addObjects`` (one font object per subset of up to 256 characters),
    with each subset's widths array and deflated ToUnicode map made once and kept."""
    try:
        state = font.state[doc]
    except KeyError:
        state = font.state[doc] = TTFont.State(font._asciiReadable)
    state.frozen = 1
    for n, subset in enumerate(state.subsets):
        internal = font.getSubsetInternalName(n, doc)[1:]
        base = b"".join((SUBSETN(n), b"+", font.face.name, font.face.subfontNameX)).decode("pdfdoc")
        key = (base, tuple(subset))
        if key not in made:
            if len(made) > 256:
                made.clear()
            widths = " ".join(fp_str(font.face.getCharWidth(c)) for c in subset)
            cmap = zlib.compress(makeToUnicodeCMap(base, subset).encode("utf-8"))
            made[key] = (f"[{widths}]".encode("ascii"), cmap)
        widths_array, deflated_cmap = made[key]
        pdf_font = pdfdoc.PDFTrueTypeFont()
        pdf_font.Name = internal
        pdf_font.BaseFont = base
        pdf_font.FirstChar = 0
        pdf_font.LastChar = len(subset) - 1
        pdf_font.Widths = widths_array  # bytes go into the PDF as they are
        cmap_stream = pdfdoc.PDFStream()
        cmap_stream.content = deflated_cmap
        cmap_stream.dictionary["Filter"] = pdfdoc.PDFArray([pdfdoc.PDFName("FlateDecode")])
        pdf_font.ToUnicode = doc.Reference(cmap_stream, "toUnicodeCMap:" + base)
        pdf_font.FontDescriptor = font.face.addSubsetObjects(doc, base, subset)
        doc.Reference(pdf_font, internal)
        doc.idToObject["BasicFonts"].dict[internal] = pdf_font
    del font.state[doc]


def _subset_objects(
    face: Any, made: dict[tuple[int, ...], tuple[bytes, int]], doc: Any, fontname: str,
    subset: list[int],
) -> Any:  # fmt: skip
    """ReportLab's ``TTFontFace.addSubsetObjects``, with the font file of a subset made and
    deflated once (kept for the process, keyed by the subset's characters in code order)."""
    key = tuple(subset)
    if key not in made:
        if len(made) > 256:
            made.clear()
        raw = face.makeSubset(subset)
        made[key] = (zlib.compress(raw), len(raw))
    deflated, length = made[key]
    font_file = pdfdoc.PDFStream()
    font_file.content = deflated
    font_file.dictionary["Length1"] = length
    font_file.dictionary["Filter"] = pdfdoc.PDFArray([pdfdoc.PDFName("FlateDecode")])
    ref = doc.Reference(font_file, f"fontFile:{face.filename}({fontname})")
    flags = (face.flags & ~FF_NONSYMBOLIC) | FF_SYMBOLIC
    descriptor = pdfdoc.PDFDictionary(
        {
            "Type": "/FontDescriptor",
            "Ascent": face.ascent,
            "CapHeight": face.capHeight,
            "Descent": face.descent,
            "Flags": flags,
            "FontBBox": pdfdoc.PDFArray(face.bbox),
            "FontName": pdfdoc.PDFName(fontname),
            "ItalicAngle": face.italicAngle,
            "StemV": face.stemV,
            "FontFile2": ref,
            "MissingWidth": face.defaultWidth,
        }
    )
    return doc.Reference(descriptor, "fontDescriptor:" + fontname)


def fit(c: Canvas, text: str, width: float, size: float, font: str = REGULAR) -> str:
    """Shorten ``text`` to ``width`` with an ellipsis rather than run over its neighbour."""
    if c.stringWidth(text, font, size) <= width:
        return text
    while text and c.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def wrap(text: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """``text`` broken at spaces into lines no wider than ``width`` (as ``measure`` says); a
    word wider than a line is broken between characters, never dropped. No lines for ``""``."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if measure(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while measure(word) > width and len(word) > 1:
            cut = len(word) - 1
            while cut > 1 and measure(word[:cut]) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        lines.append(current)
    return lines
