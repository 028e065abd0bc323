"""The label's font fallback chain: DejaVu shipped, further families found through fontconfig,
each character drawn with the first font that has it — alike in the PDF, the PNG and ZPL."""

from __future__ import annotations

import io
import shutil

import pypdfium2
import pytest
from PIL import Image

from picker.printing.font_chain import Run, font_chain
from picker.printing.labels import Address, compose, dots, render_pdf, render_png, render_zpl
from picker.printing.layouts import load_layout
from tests.printing.scripts import assert_glyphs_drawn, chain, need_script, same, text_items
from tests.printing.test_labels import LABELS, data
from tests.printing.zpl_raster import rasterize

ZHANG = Address("張偉", "北京市朝阳区建国路88号", "100022", "北京", "CN")


def test_dejavu_is_always_first_and_a_family_not_installed_is_named() -> None:
    built = font_chain.__wrapped__(("Noto Sans Nowhere",))  # type: ignore[attr-defined]
    assert built.families == ("DejaVu Sans",)
    why = (
        "not installed (fontconfig does not know it)"
        if shutil.which("fc-match")
        else "fontconfig (fc-match) is not installed, so no system font is found"
    )
    assert built.missing == (f"Noto Sans Nowhere: {why}",)


def test_without_fontconfig_the_shipped_font_still_draws_and_the_reason_is_given(
    monkeypatch,
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    built = font_chain.__wrapped__(("DejaVu Sans", "Noto Sans Thai"))  # type: ignore[attr-defined]
    assert built.families == ("DejaVu Sans",)
    assert built.missing == (
        "Noto Sans Thai: fontconfig (fc-match) is not installed, so no system font is found",
    )
    label = compose(load_layout(LABELS, "4x6"), data(), built)
    assert label.warnings == ()  # Vietnamese is DejaVu's


def test_each_character_is_drawn_with_the_first_font_that_has_it(request) -> None:
    need_script(request, "CJK")
    fonts = chain()
    cjk = fonts.families.index("Noto Sans CJK SC")
    # The space after 張偉 stays with the CJK font (a word is not split); Latin is DejaVu's.
    assert fonts.runs("張偉 Li", False) == (Run(cjk, "張偉 "), Run(0, "Li"))
    assert fonts.runs("Zofia Wójcik", True) == (Run(0, "Zofia Wójcik"),)
    assert fonts.undrawable("張偉 Li") == []


def test_a_cjk_recipient_is_drawn_alike_in_pdf_png_and_zpl(request) -> None:
    need_script(request, "CJK")
    label = compose(load_layout(LABELS, "4x6"), data(ZHANG), chain())
    assert label.warnings == ()
    name = text_items(label, "recipient")[1]  # after the caption
    assert name.text == "張偉"
    pdf = render_pdf([label])
    doc = pypdfium2.PdfDocument(pdf)
    try:
        page = doc[0]
        text = " ".join(page.get_textpage().get_text_range().split())
        pdf_image = page.render(scale=203 / 72).to_pil().convert("1")
    finally:
        doc.close()
    assert "張偉" in text and "北京市朝阳区建国路88号" in text
    png = Image.open(io.BytesIO(render_png(label)))
    [zpl] = rasterize(render_zpl([label]))
    for image in (pdf_image, png, zpl):
        for item in text_items(label, "recipient")[1:]:
            assert_glyphs_drawn(image, label, item)
    # The preview shows what the thermal printer prints: the same font, the same dots (inside
    # the box's frame, which the printer draws itself).
    box = label.layout.blocks["recipient"].box
    region = (dots(box.x + 1), dots(box.y + 1), dots(box.x + box.w - 1), dots(box.y + box.h - 1))
    assert same(png.crop(region), zpl.convert("1").crop(region))


def test_fonts_are_a_list_of_family_names_in_the_config(tmp_path) -> None:
    from picker.config import ConfigError, load_settings

    config = tmp_path / "config.toml"
    config.write_text('[labels]\nfonts = ["DejaVu Sans", "Noto Sans Thai"]\n', encoding="utf-8")
    assert load_settings(config, environ={}).labels.fonts == ("DejaVu Sans", "Noto Sans Thai")
    config.write_text("[labels]\nfonts = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[labels\] fonts: must be a list of font family"):
        load_settings(config, environ={})
