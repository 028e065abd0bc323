"""Labels in every script the shops ship to: right to left in the right order, Arabic joined,
CJK, Thai and Vietnamese drawn — in the PDF (its text read back in the order it is read), the
PNG preview and ZPL (their glyphs drawn, not empty boxes)."""

from __future__ import annotations

import io
import unicodedata

import pypdfium2
import pytest
from PIL import Image

from picker.printing.labels import Address, Composed, compose, render_pdf, render_png, render_zpl
from picker.printing.layouts import load_layout
from picker.printing.shaping import shape, visual
from tests.printing.scripts import (
    SCRIPT_FONTS,
    assert_glyphs_drawn,
    chain,
    need_script,
    text_items,
)
from tests.printing.test_labels import LABELS, data
from tests.printing.zpl_raster import rasterize

HEBREW = Address("דוד כהן", "רחוב הרצל 12", "6100000", "תל אביב", "IL")
ARABIC = Address("محمد العلي", "شارع الملك فهد 45", "11564", "الرياض", "SA")


def label_of(recipient: Address) -> Composed:
    return compose(load_layout(LABELS, "4x6"), data(recipient), chain())


def pdf_read(label: Composed) -> tuple[str, Image.Image]:
    """The PDF's text as a reader gets it (NFKC: joining forms read as their letters), and the
    page at 203 dpi."""
    doc = pypdfium2.PdfDocument(render_pdf([label]))
    try:
        page = doc[0]
        text = unicodedata.normalize("NFKC", page.get_textpage().get_text_range())
        return " ".join(text.split()), page.render(scale=203 / 72).to_pil().convert("1")
    finally:
        doc.close()


def rasters(label: Composed) -> list[tuple[str, Image.Image]]:
    [zpl] = rasterize(render_zpl([label]))
    _, pdf = pdf_read(label)
    return [("pdf", pdf), ("png", Image.open(io.BytesIO(render_png(label)))), ("zpl", zpl)]


def test_hebrew_is_drawn_right_to_left_and_reads_back_in_logical_order() -> None:
    label = label_of(HEBREW)
    drawn = [t.text for t in text_items(label, "recipient")[1:]]
    # Drawn left to right in the order seen: the name's last letter leftmost, the house
    # number at the line's end on the right (where a right-to-left line ends).
    assert drawn[:3] == ["ןהכ דוד", "12 לצרה בוחר", "ביבא לת 6100000"]
    text, _ = pdf_read(label)
    for part in ("דוד כהן", "רחוב הרצל 12", "6100000 תל אביב"):
        assert part in text  # the PDF reads back as written: searchable, copyable
    for _output, image in rasters(label):
        for item in text_items(label, "recipient")[1:3]:
            assert_glyphs_drawn(image, label, item)


def test_arabic_is_joined_and_right_to_left_and_reads_back_in_logical_order() -> None:
    label = label_of(ARABIC)
    name = text_items(label, "recipient")[1].text
    # محمد joined: final dal, medial meem, medial hah, initial meem — seen right to left.
    assert name.endswith("\ufeaa\ufee4\ufea4\ufee3")
    assert not any("\u0621" <= c <= "\u064a" for c in name)  # no letter left unjoined
    text, _ = pdf_read(label)
    for part in ("محمد العلي", "شارع الملك فهد 45", "11564 الرياض"):
        assert part in text
    for _output, image in rasters(label):
        for item in text_items(label, "recipient")[1:3]:
            assert_glyphs_drawn(image, label, item)


def test_shaping_leaves_left_to_right_text_as_it_is_and_orders_mixed_lines() -> None:
    for text in ("Zofia Wójcik", "張偉", "สมชาย ใจดี", "Nguyễn Văn Đức"):
        assert visual(shape(text)) == text
    assert visual("דוד כהן") == "ןהכ דוד"
    assert visual("Flat 3, דוד כהן") == "Flat 3, ןהכ דוד"  # a left-to-right line keeps its start
    assert shape("لا") == "\ufefb"  # lam-alef: one ligature


@pytest.mark.parametrize("script", ["Hebrew", "Arabic"])
def test_the_fallback_fonts_draw_right_to_left_when_dejavu_is_not_first(request, script) -> None:
    """The chain's own Hebrew and Arabic fonts shape the same (DejaVu draws them by default)."""
    from picker.printing.font_chain import font_chain

    family = {"Hebrew": "Noto Sans Hebrew", "Arabic": "Noto Sans Arabic"}[script]
    need_script(request, script, family)
    recipient = HEBREW if script == "Hebrew" else ARABIC
    fonts = font_chain((family, "DejaVu Sans"))
    label = compose(load_layout(LABELS, "4x6"), data(recipient), fonts)
    name = text_items(label, "recipient")[1]
    assert [fonts.fonts[r.font].family for r in name.runs] == [family]
    text, _ = pdf_read(label)
    assert recipient.name in text
    png = Image.open(io.BytesIO(render_png(label)))
    assert_glyphs_drawn(png, label, name)


#: A recipient in each script, with a street and a city in it.
RECIPIENTS = {
    "CJK": Address("張偉", "北京市朝阳区建国路88号", "100022", "北京", "CN"),
    "Arabic": ARABIC,
    "Hebrew": HEBREW,
    "Thai": Address("สมชาย ใจดี", "123 ถนนสุขุมวิท แขวงคลองเตย", "10110", "กรุงเทพมหานคร", "TH"),
    "Vietnamese": Address(
        "Nguyễn Thị Hồng Nhung", "45 Đường Lê Lợi, Phường Bến Nghé", "700000", "Hồ Chí Minh", "VN"
    ),
}


@pytest.mark.parametrize("script", sorted(RECIPIENTS))
def test_a_recipient_in_each_script_is_drawn_in_pdf_png_and_zpl(request, script: str) -> None:
    need_script(request, script)
    recipient = RECIPIENTS[script]
    label = label_of(recipient)
    assert label.warnings == ()  # every character has a font, nothing cut
    lines = text_items(label, "recipient")[1:]
    fonts = {label.fonts.fonts[r.font].family for item in lines[:2] for r in item.runs}
    assert SCRIPT_FONTS[script] in fonts
    text, _ = pdf_read(label)
    for part in (recipient.name, recipient.street, f"{recipient.postal_code} {recipient.city}"):
        assert unicodedata.normalize("NFKC", part) in text
    for _output, image in rasters(label):
        for item in lines[:3]:
            assert_glyphs_drawn(image, label, item)
