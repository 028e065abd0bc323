"""The fonts shipped with Picker (DejaVu Sans: Latin, Greek, Cyrillic, Vietnamese).

DejaVu is under the Bitstream Vera licence with public-domain changes; see
fonts/LICENSE-DejaVu.txt beside this file.
"""

from __future__ import annotations

import zlib
from functools import partial
from pathlib import Path
from typing import Any

from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import FF_NONSYMBOLIC, FF_SYMBOLIC, TTFont
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


def register_fonts() -> None:
    """Register the shipped fonts with ReportLab (once per process)."""
    registered = pdfmetrics.getRegisteredFontNames()
    for name, file in ((REGULAR, "DejaVuSans.ttf"), (BOLD, "DejaVuSans-Bold.ttf")):
        if name not in registered:
            font = TTFont(name, str(FONT_DIR / file))
            # ReportLab builds and deflates the embedded subset for every document: for a
            # label of one page that was most of its cost. The same subset is made once.
            font.face.addSubsetObjects = partial(_subset_objects, font.face, {})
            pdfmetrics.registerFont(font)


def prime(canvas: Canvas) -> None:
    """Give :data:`PRIMED` its fixed codes in this document (nothing is drawn)."""
    for name in (REGULAR, BOLD):
        pdfmetrics.getFont(name).splitString(PRIMED, canvas._doc)


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
