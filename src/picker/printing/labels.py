"""Courier labels: a layout filled with a parcel's data, drawn as PDF, ZPL or a 203-dpi PNG.

The label is composed once (:func:`compose`): every block's text fitted into its box — set at the
layout's size when it fits, shrunk down to the block's ``min_size``, then wrapped, and only as a
last resort cut with a visible "…" and a warning (never silently) — and the tracking number as
Code128 bars. The three renderers then draw the same composition, so a PNG preview shows exactly
what the printer will print.

Right-to-left text (Hebrew, Arabic) is shaped and put in visual order once, in the composition
(:mod:`picker.printing.shaping`), so the three renderers draw the same row of glyphs.

Customer text is data: control and bidi-control characters are dropped, and nothing in it is
interpreted (ReportLab's drawString takes text literally; in ZPL all text is sent as graphics, so
a ``^`` or ``~`` in a name can never become a printer command).
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import unicodedata
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from functools import cache, lru_cache, partial

from babel import Locale
from babel.languages import get_official_languages
from babel.numbers import format_currency
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from picker.config import DEFAULT_LABEL_FONTS
from picker.domain.label_text import LabelText
from picker.printing.barcodes import QUIET_MODULES, bar_runs, modules
from picker.printing.font_chain import Face, FontChain, font_chain
from picker.printing.fonts import one_document_at_a_time, prime, register_fonts, wrap
from picker.printing.layouts import FLOOR_PT, MIN_MODULE_DOTS, Block, Box, Layout
from picker.printing.shaping import shape, visual

DPI = 203
PT_PER_MM = 72 / 25.4
DOT_MM = 25.4 / DPI
LEADING = 1.18
PAD_MM = 1.2
CAPTION_PT = 6.0


class LabelError(ValueError):
    """A label that cannot be drawn as its layout asks (the message says why)."""


# --- what a label says -----------------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    name: str
    street: str
    postal_code: str
    city: str
    country: str
    """ISO 3166 two-letter code."""
    street2: str = ""


@dataclass(frozen=True)
class LabelData:
    sender: Address
    recipient: Address
    courier: str
    service: str
    tracking: str
    parcel_no: int
    parcel_count: int
    weight_g: int | None
    order_number: str
    closed_on: date
    routing: str
    cod_amount: Decimal | None = None
    cod_currency: str | None = None
    #: A return label's mark and its RMA number ("RETURN", "RMA-000012"), printed in the COD
    #: box (a return is never cash on delivery) and after the order number; None on a parcel's.
    mark: str | None = None
    reference: str | None = None


def clean(text: str | None) -> str:
    """Customer text as a label prints it: control and format characters (bidi overrides,
    zero-width joiners, ESC…) dropped, runs of white space made one space."""
    if not text:
        return ""
    kept = (
        " " if c.isspace() else c
        for c in text
        if c.isspace() or unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    return " ".join("".join(kept).split())


#: The recipient's fields a label prints, and how a person names each.
RECIPIENT_FIELDS = {
    "name": "the recipient's name",
    "street": "the street",
    "street2": "the street's second line",
    "postal_code": "the postal code",
    "city": "the city",
}


def undrawable(recipient: Address, chain: FontChain) -> dict[str, list[str]]:
    """The characters of each recipient field (by name) that no font of ``chain`` can draw,
    as the label would print them; fields with none are left out."""
    found = {}
    for field, _ in RECIPIENT_FIELDS.items():
        missing = chain.undrawable(shape(clean(getattr(recipient, field))))
        if missing:
            found[field] = missing
    return found


def redrawn(recipient: Address, chain: FontChain, choice: LabelText) -> Address:
    """The recipient with each character no font can draw written in Latin letters
    (``transliterate``, by anyascii) or left as a blank '_' to write in by hand."""
    from anyascii import anyascii

    def fix(text: str) -> str:
        out = []
        for c in clean(text):
            if c.isspace() or chain.font_for(c, False) is not None:
                out.append(c)
            elif choice is LabelText.TRANSLITERATE:
                out.append(anyascii(c) or "_")
            else:
                out.append("_")
        return "".join(out)

    fixed = {field: fix(getattr(recipient, field)) for field in RECIPIENT_FIELDS}
    return replace(recipient, **fixed)


@cache
def country_name(code: str) -> str:
    """The destination country as postal services want it: in English, in capitals."""
    name = Locale("en").territories.get(code.upper())
    return (name or code).upper()


@cache
def locale_for(country: str) -> str:
    """The destination's locale (its first official language), for money as people there
    write it; English when Babel knows none."""
    languages = get_official_languages(country.upper(), de_facto=True)
    for language in languages:
        candidate = f"{language}_{country.upper()}"
        try:
            Locale.parse(candidate)
        except (ValueError, LookupError):
            continue
        return candidate
    return "en"


def cod_text(amount: Decimal, currency: str, country: str) -> str:
    """E.g. ``1 234,50 zł`` for PLN to Poland, ``1.234 ₫`` for VND to Vietnam."""
    return format_currency(amount, currency, locale=locale_for(country))


def routing_code(country: str, postal_code: str) -> str:
    """The sort code couriers route by when they give none: country and postal region."""
    digits = "".join(c for c in postal_code if c.isalnum())[:2]
    return f"{country.upper()} {digits}".strip()


# --- composition -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    block: str
    x: float
    baseline: float
    """Millimetres from the label's top-left corner."""
    size: float
    """Points."""
    bold: bool
    text: str
    runs: tuple[Placed, ...] = ()
    """The text cut by font of the chain, each run placed: what every renderer draws."""


@dataclass(frozen=True)
class Placed:
    font: int
    """Index into the chain's fonts."""
    text: str
    dx: float
    """Millimetres from the text's x."""


@dataclass(frozen=True)
class Frame:
    x: float
    y: float
    w: float
    h: float
    line: float
    """Millimetres; a ``line`` of 0 fills the rectangle (a bar, a rule)."""


@dataclass(frozen=True)
class Bars:
    x: float
    y: float
    height: float
    """Millimetres: the left edge of the quiet zone, the top of the bars."""
    dots: int
    """Module width in printer dots."""
    pattern: str
    data: str

    @property
    def module(self) -> float:
        return self.dots * DOT_MM


@dataclass(frozen=True)
class Composed:
    layout: Layout
    data: LabelData
    items: tuple[Text | Frame | Bars, ...]
    warnings: tuple[str, ...]
    chain: FontChain | None = None
    """The fonts the text runs name (None: the default chain)."""

    @property
    def fonts(self) -> FontChain:
        return self.chain or default_chain()


def default_chain() -> FontChain:
    """The chain of the default ``[labels] fonts``."""
    return font_chain(DEFAULT_LABEL_FONTS)


def _width_pt(text: str, size: float, bold: bool, chain: FontChain | None = None) -> float:
    # Widths scale with the size: fitting tries many sizes of the same text, measured once.
    return _width_1pt(chain or default_chain(), text, bold) * size


@lru_cache(maxsize=8192)
def _width_1pt(chain: FontChain, text: str, bold: bool) -> float:
    return chain.width(text, bold)


def placed(
    chain: FontChain, block: str, x: float, baseline: float, size: float, bold: bool, text: str
) -> Text:
    """A line of text at (``x``, ``baseline``), cut into runs by the font that draws them."""
    runs, dx = [], 0.0
    for run in chain.runs(text, bold):
        runs.append(Placed(run.font, run.text, dx))
        dx += chain.fonts[run.font].face(bold).width(run.text) * size / PT_PER_MM
    return Text(block, x, baseline, size, bold, text, tuple(runs))


def _paragraphs(name: str, block: Block, d: LabelData) -> list[tuple[str, bool]]:
    """The lines (before wrapping) a block shows, each with its weight."""
    b = block.bold

    def address(a: Address) -> list[tuple[str, bool]]:
        lines = [(clean(a.name), True), (clean(a.street), b), (clean(a.street2), b),
                 (clean(f"{a.postal_code} {a.city}"), b), (country_name(a.country), b)]  # fmt: skip
        return [(text, bold) for text, bold in lines if text]

    if name == "sender":
        return address(d.sender)
    if name == "recipient":
        return address(d.recipient)
    if name == "courier":
        return [(clean(d.courier), True), (clean(d.service), b)]
    if name == "routing":
        return [(clean(d.routing), b)]
    if name == "parcel":
        return [(f"{d.parcel_no} / {d.parcel_count}", b)]
    if name == "weight":
        return [(f"{d.weight_g / 1000:.2f} kg" if d.weight_g else "— kg", b)]
    if name == "order":
        if d.reference:
            return [(clean(f"{d.order_number} / {d.reference}"), b)]
        return [(clean(d.order_number), b)]
    if name == "date":
        return [(d.closed_on.isoformat(), b)]
    if name == "cod":
        if d.mark:
            return [(clean(" ".join(p for p in (d.mark, d.reference) if p)), True)]
        if d.cod_amount is None or not d.cod_currency:
            return []
        amount = cod_text(d.cod_amount, d.cod_currency, d.recipient.country)
        return [("COD", True), (amount, True)]
    raise AssertionError(name)


#: Text sizes are tried in steps of this many points.
SIZE_STEP = 0.5


def largest_size(top: float, bottom: float, fits: Callable[[float], bool]) -> float | None:
    """The largest of ``top``, ``top - 0.5``, … down to ``bottom`` at which ``fits`` — found by
    a binary search (whatever fits at a size fits at every smaller one), so even an absurd
    ``top`` costs a few dozen tries; None when not even the smallest fits."""
    last = math.floor((top - bottom) / SIZE_STEP + 1e-9)  # the smallest size: top - last steps
    if last < 0 or not math.isfinite(top):
        return None
    if fits(top):
        return top
    if last == 0 or not fits(top - last * SIZE_STEP):
        return None
    too_big, small_enough = 0, last
    while small_enough - too_big > 1:
        middle = (too_big + small_enough) // 2
        if fits(top - middle * SIZE_STEP):
            small_enough = middle
        else:
            too_big = middle
    return top - small_enough * SIZE_STEP


def fit_block(
    paragraphs: Sequence[tuple[str, bool]], width_mm: float, height_mm: float,
    size: float, min_size: float, chain: FontChain | None = None,
) -> tuple[float, list[tuple[str, bool]], bool]:  # fmt: skip
    """(size, lines, whole): the largest size at which the paragraphs fit the box — first on
    one line each (shrinking down to ``min_size``), then wrapped (down to the readable floor).
    ``whole`` is False when even that does not fit: the lines that fit are returned, the last
    one ending in "…"."""
    width, height = width_mm * PT_PER_MM, height_mm * PT_PER_MM

    def tall(n: int, s: float) -> bool:
        return n * s * LEADING <= height + 1e-6

    def one_line_each(s: float) -> bool:
        return tall(len(paragraphs), s) and all(
            _width_pt(t, s, b, chain) <= width for t, b in paragraphs
        )

    def wrapped(s: float) -> list[tuple[str, bool]]:
        return [
            (line, b)
            for t, b in paragraphs
            for line in wrap(t, width, partial(_width_pt, size=s, bold=b, chain=chain))
        ]

    found = largest_size(size, min_size, one_line_each)
    if found is not None:
        return found, list(paragraphs), True
    found = largest_size(size, FLOOR_PT, lambda s: tall(len(wrapped(s)), s))
    if found is not None:
        return found, wrapped(found), True
    smallest = size - max(0, math.floor((size - FLOOR_PT) / SIZE_STEP + 1e-9)) * SIZE_STEP
    s = FLOOR_PT
    room = max(1, int(height / (s * LEADING)))
    kept = wrapped(smallest)[:room] or [("", False)]
    text, bold = kept[-1]
    while text and _width_pt(text + "…", s, bold, chain) > width:
        text = text[:-1]
    kept[-1] = (text + "…", bold)
    return s, kept, False


def compose(layout: Layout, data: LabelData, chain: FontChain | None = None) -> Composed:
    """Place everything the label shows; the renderers only draw what this returns. Text is
    drawn with ``chain`` (default: the default ``[labels] fonts``), each character with the
    first of its fonts that has it."""
    register_fonts()
    chain = chain or default_chain()
    items: list[Text | Frame | Bars] = []
    warnings: list[str] = []
    for name, block in layout.blocks.items():
        paragraphs = [(shape(t), b) for t, b in _paragraphs(name, block, data)]
        if not paragraphs:
            continue  # a COD box on a prepaid parcel
        box = block.box
        if block.frame:
            items.append(Frame(box.x, box.y, box.w, box.h, block.frame))
        top = box.y + PAD_MM
        if block.caption:
            top += CAPTION_PT / PT_PER_MM
            items.append(
                placed(chain, name, box.x + PAD_MM, top - 0.4, CAPTION_PT, True, block.caption)
            )
        inner_w = box.w - 2 * PAD_MM
        inner_h = box.y + box.h - PAD_MM - top
        size, lines, whole = fit_block(
            paragraphs, inner_w, inner_h, block.size, block.min_size, chain
        )
        if not whole:
            warnings.append(f"{name}: too long for its box even at {FLOOR_PT:g} pt; cut at …")
        missing = chain.undrawable(" ".join(t for t, _ in lines))
        if missing:
            warnings.append(f"{name}: no label font has a glyph for {glyph_names(missing)}")
        step = size * LEADING / PT_PER_MM
        baseline = top + size / PT_PER_MM
        for logical, bold in lines:
            text = visual(logical)
            width = _width_pt(text, size, bold, chain) / PT_PER_MM
            x = box.x + PAD_MM
            if block.align == "center":
                x = box.x + (box.w - width) / 2
            elif block.align == "right":
                x = box.x + box.w - PAD_MM - width
            items.append(placed(chain, name, x, baseline, size, bold, text))
            baseline += step
    items.extend(_barcode(layout, data.tracking, chain))
    for rule in layout.rules:
        items.append(Frame(rule.x0, rule.y - rule.width / 2, rule.x1 - rule.x0, rule.width, 0))
    return Composed(layout, data, tuple(items), tuple(warnings), chain)


def _barcode(layout: Layout, tracking: str, chain: FontChain) -> list[Text | Frame | Bars]:
    spec = layout.barcode
    box: Box = spec.box
    if not tracking or not tracking.isascii() or not tracking.isprintable():
        raise LabelError(f"tracking number {tracking!r} cannot be a Code128 barcode")
    pattern = modules("code128", tracking)
    for dots in range(spec.module_dots, MIN_MODULE_DOTS - 1, -1):
        width = (len(pattern) + 2 * QUIET_MODULES) * dots * DOT_MM
        if width <= box.w + 1e-6:
            break
    else:
        raise LabelError(
            f"the barcode box is {box.w:g} mm wide; tracking number {tracking} needs "
            f"{width:.1f} mm for its bars with their quiet zones (widen [barcode] box)"
        )
    text_h = spec.text_size * LEADING / PT_PER_MM if spec.text_size else 0.0
    bars_h = box.h - text_h
    x = box.x + (box.w - width) / 2
    items: list[Text | Frame | Bars] = [Bars(x, box.y, bars_h, dots, pattern, tracking)]
    if spec.text_size:
        text_w = _width_pt(tracking, spec.text_size, False, chain) / PT_PER_MM
        items.append(
            placed(chain, "tracking", box.x + (box.w - text_w) / 2, box.y + box.h - 0.5,
                   spec.text_size, False, tracking)
        )  # fmt: skip
    return items


def glyph_names(chars: Sequence[str]) -> str:
    """Characters as a person can look them up: ``'ꙮ' (U+A66E)``, the first five."""
    named = ", ".join(f"'{c}' (U+{ord(c):04X})" for c in chars[:5])
    return named + ("…" if len(chars) > 5 else "")


# --- PDF -------------------------------------------------------------------------------------


@one_document_at_a_time
def render_pdf(labels: Sequence[Composed], *, invariant: bool = False) -> bytes:
    """One page per label, the page the label's size; vector text and bars."""
    register_fonts()
    out = io.BytesIO()
    c = Canvas(out, invariant=int(invariant))
    c.setTitle("Labels")
    prime(c)
    names = _pdf_fonts(labels)
    for label in labels:
        width, height = label.layout.width * mm, label.layout.height * mm
        c.setPageSize((width, height))
        for item in label.items:
            if isinstance(item, Text):
                for piece in item.runs:
                    face = label.fonts.fonts[piece.font].face(item.bold)
                    c.setFont(names[id(face)], item.size)
                    c.drawString((item.x + piece.dx) * mm, height - item.baseline * mm, piece.text)
            elif isinstance(item, Frame):
                if item.line == 0:
                    c.rect(item.x * mm, height - (item.y + item.h) * mm, item.w * mm,
                           item.h * mm, stroke=0, fill=1)  # fmt: skip
                else:
                    c.setLineWidth(item.line * mm)
                    inset = item.line / 2
                    c.rect((item.x + inset) * mm, height - (item.y + item.h - inset) * mm,
                           (item.w - item.line) * mm, (item.h - item.line) * mm, stroke=1,
                           fill=0)  # fmt: skip
            else:
                left = item.x + QUIET_MODULES * item.module
                bottom = height - (item.y + item.height) * mm
                for start, run in bar_runs(item.pattern):
                    c.rect((left + start * item.module) * mm, bottom, run * item.module * mm,
                           item.height * mm, stroke=0, fill=1)  # fmt: skip
        c.showPage()
    c.save()
    return out.getvalue()


def _pdf_fonts(labels: Sequence[Composed]) -> dict[int, str]:
    """The ReportLab font of each face the labels draw with (by the face's id): a font that
    can be embedded as it is, or one made of just the characters drawn (CFF outlines)."""
    faces: dict[int, tuple[Face, set[str]]] = {}
    for label in labels:
        for item in label.items:
            if isinstance(item, Text):
                for run in item.runs:
                    face = label.fonts.fonts[run.font].face(item.bold)
                    faces.setdefault(id(face), (face, set()))[1].update(run.text)
    return {key: face.pdf_font(chars) for key, (face, chars) in faces.items()}


# --- raster: the PNG preview and ZPL's text ----------------------------------------------------


def dots(value_mm: float) -> int:
    return round(value_mm / DOT_MM)


def _runs(chain: FontChain, item: Text) -> Iterable[tuple[int, int, str, ImageFont.FreeTypeFont]]:
    """(x, baseline) in dots, text and Pillow font of each run of ``item``."""
    for run in item.runs:
        face = chain.fonts[run.font].face(item.bold)
        yield dots(item.x + run.dx), dots(item.baseline), run.text, face.pil(item.size)


def _draw_text(
    draw: ImageDraw.ImageDraw, chain: FontChain, item: Text, ink: int, dx: int = 0, dy: int = 0
) -> None:
    for x, y, text, font in _runs(chain, item):
        draw.text((x - dx, y - dy), text, fill=ink, font=font, anchor="ls")


def _draw_bars(draw: ImageDraw.ImageDraw, item: Bars, ink: int) -> None:
    left, top, bottom = (
        dots(item.x) + QUIET_MODULES * item.dots,
        dots(item.y),
        dots(item.y + item.height),
    )
    for start, run in bar_runs(item.pattern):
        x0 = left + start * item.dots
        draw.rectangle((x0, top, x0 + run * item.dots - 1, bottom - 1), fill=ink)


def _draw_frame(draw: ImageDraw.ImageDraw, item: Frame, ink: int) -> None:
    x0, y0 = dots(item.x), dots(item.y)
    x1, y1 = dots(item.x + item.w) - 1, dots(item.y + item.h) - 1
    if item.line == 0:
        draw.rectangle((x0, y0, x1, y1), fill=ink)
    else:
        draw.rectangle((x0, y0, x1, y1), outline=ink, width=max(1, dots(item.line)))


def raster(label: Composed) -> Image.Image:
    """The label as the printer's 203-dpi dots (mode "1": 0 is black)."""
    image = Image.new("1", (dots(label.layout.width), dots(label.layout.height)), 1)
    draw = ImageDraw.Draw(image)
    for item in label.items:
        if isinstance(item, Text):
            _draw_text(draw, label.fonts, item, 0)
        elif isinstance(item, Frame):
            _draw_frame(draw, item, 0)
        else:
            _draw_bars(draw, item, 0)
    return image


def render_png(label: Composed) -> bytes:
    out = io.BytesIO()
    raster(label).save(out, format="PNG", dpi=(DPI, DPI))
    return out.getvalue()


# --- ZPL -------------------------------------------------------------------------------------


def render_zpl(labels: Sequence[Composed]) -> bytes:
    """ZPL II for 203-dpi thermal printers: boxes as ``^GB``, the tracking barcode as ``^BC``
    (the printer draws the bars itself), and text as ``^GF`` graphics — every script prints on
    any Zebra without fonts downloaded to it, exactly as in the PDF."""
    out: list[str] = []
    for label in labels:
        out += ["^XA", "^CI28", f"^PW{dots(label.layout.width)}",
                f"^LL{dots(label.layout.height)}", "^LH0,0"]  # fmt: skip
        blocks: dict[str, list[Text]] = {}
        for item in label.items:
            if isinstance(item, Text):
                blocks.setdefault(item.block, []).append(item)
            elif isinstance(item, Frame):
                x, y, w, h = dots(item.x), dots(item.y), dots(item.w), dots(item.h)
                thick = min(w, h) if item.line == 0 else max(1, dots(item.line))
                out.append(f"^FO{x},{y}^GB{w},{h},{thick},B,0^FS")
            else:
                height = dots(item.height)
                left = dots(item.x) + QUIET_MODULES * item.dots
                # ^BC in automatic mode (A): the printer picks Code128's code sets itself.
                out.append(f"^BY{item.dots}^FO{left},{dots(item.y)}"
                           f"^BCN,{height},N,N,N,A^FD{item.data}^FS")  # fmt: skip
        for texts in blocks.values():
            out.append(_graphic(label.fonts, texts))
        out.append("^XZ")
    return ("\n".join(out) + "\n").encode("ascii")


def _graphic(chain: FontChain, texts: list[Text]) -> str:
    """One block's text as a ``^GF`` field (Zebra's Z64: deflate, base64, CRC-16)."""
    boxes = [
        (x + int(b[0]), y + int(b[1]), x + int(b[2]), y + int(b[3]))
        for t in texts
        for x, y, text, font in _runs(chain, t)
        for b in (font.getbbox(text, anchor="ls"),)
    ]
    x0, y0 = max(0, min(b[0] for b in boxes)), max(0, min(b[1] for b in boxes))
    x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    width = max(8, ((x1 - x0 + 7) // 8) * 8)
    image = Image.new("1", (width, max(1, y1 - y0)), 0)
    draw = ImageDraw.Draw(image)
    for t in texts:
        _draw_text(draw, chain, t, 1, x0, y0)  # 1 = a black dot in ZPL's bitmap
    raw = image.tobytes()
    encoded = base64.b64encode(zlib.compress(raw, 1))  # level 1: ~15% larger than 9, ~8x faster
    crc = binascii.crc_hqx(encoded, 0)
    row = width // 8
    return (
        f"^FO{x0},{y0}^GFA,{len(raw)},{len(raw)},{row},:Z64:{encoded.decode('ascii')}:{crc:04X}^FS"
    )
