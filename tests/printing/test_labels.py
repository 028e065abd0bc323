"""Courier labels: every layout's barcode reads back at 203 dpi from the PDF, the ZPL and the PNG;
scripts print, markup stays text, long text shrinks and wraps, broken layouts are named."""

from __future__ import annotations

import io
import os
import time
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp
from PIL import Image

from picker.domain.tracking import mod10_number, range_number, s10_number
from picker.printing.fonts import register_fonts
from picker.printing.labels import (
    Address,
    LabelData,
    LabelError,
    Text,
    clean,
    cod_text,
    compose,
    fit_block,
    largest_size,
    raster,
    render_pdf,
    render_png,
    render_zpl,
    routing_code,
)
from picker.printing.layouts import LayoutError, layout_names, load_layout
from picker.services.printjobs.labels import SAMPLE_RECIPIENT as VIETNAMESE
from tests.printing.zpl_raster import rasterize

LABELS = Path(__file__).resolve().parents[2] / "labels"
GOLDEN = Path(__file__).resolve().parent / "golden"
LAYOUTS = layout_names(LABELS)

SENDER = Address("Picker Demo Warehouse", "Magazynowa 1", "00-001", "Warszawa", "PL")
#: One tracking number of each demo courier's scheme.
TRACKING = {
    "s10": s10_number("EE", 12_345_678, "PL"),
    "mod10": mod10_number("73", 4_242_424),
    "range": range_number("CR", 500_123),
}


def data(recipient: Address = VIETNAMESE, tracking: str = TRACKING["s10"], **kw) -> LabelData:  # type: ignore[no-untyped-def]
    values = dict(
        sender=SENDER, recipient=recipient, courier="National Post", service="Priority parcel",
        tracking=tracking, parcel_no=1, parcel_count=2, weight_g=1250,
        order_number="PO-0012345", closed_on=date(2026, 11, 22),
        routing=routing_code(recipient.country, recipient.postal_code),
        cod_amount=Decimal("1250000"), cod_currency="VND",
    )  # fmt: skip
    values.update(kw)
    return LabelData(**values)  # type: ignore[arg-type]


def pdf_pages(pdf: bytes) -> list[tuple[Image.Image, str]]:
    doc = pypdfium2.PdfDocument(pdf)
    try:
        return [
            (page.render(scale=203 / 72).to_pil(), page.get_textpage().get_text_bounded())
            for page in doc
        ]
    finally:
        doc.close()


def decoded(image: Image.Image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(image.convert("L"))]


def test_the_shipped_layouts_are_the_generic_ones_and_one_per_demo_courier() -> None:
    assert {"4x6", "a6", "post-4x6", "swift-4x6", "city-a6"} <= set(LAYOUTS)
    sizes = {name: (load_layout(LABELS, name).width, load_layout(LABELS, name).height)
             for name in ("4x6", "a6")}  # fmt: skip
    assert sizes == {"4x6": (101.6, 152.4), "a6": (105.0, 148.0)}


@pytest.mark.parametrize("name", LAYOUTS)
@pytest.mark.parametrize("scheme", sorted(TRACKING))
def test_every_layout_and_output_reads_back_the_tracking_number(name: str, scheme: str) -> None:
    label = compose(load_layout(LABELS, name), data(tracking=TRACKING[scheme]))
    assert label.warnings == ()
    [(page, text)] = pdf_pages(render_pdf([label]))
    assert decoded(page) == [TRACKING[scheme]]
    assert TRACKING[scheme] in text  # the human-readable number under the bars
    [zpl_page] = rasterize(render_zpl([label]))
    assert decoded(zpl_page) == [TRACKING[scheme]]
    png = Image.open(io.BytesIO(render_png(label)))
    assert png.mode == "1" and png.info["dpi"] == pytest.approx((203, 203), abs=0.01)
    assert decoded(png) == [TRACKING[scheme]]


@pytest.mark.parametrize("name", LAYOUTS)
def test_each_layout_renders_its_golden_pdf(name: str) -> None:
    """Byte-identical to the reviewed PDF in tests/printing/golden (regenerate after a reviewed
    layout change with PICKER_UPDATE_GOLDEN=1)."""
    pdf = render_pdf([compose(load_layout(LABELS, name), data())], invariant=True)
    golden = GOLDEN / f"{name}.pdf"
    if os.environ.get("PICKER_UPDATE_GOLDEN"):
        golden.write_bytes(pdf)
    assert golden.exists(), f"no golden PDF for {name}: run with PICKER_UPDATE_GOLDEN=1"
    assert pdf == golden.read_bytes()


@pytest.mark.parametrize(
    "recipient",
    [
        Address("Zofia Wójcik-Żółkiewska", "ul. Źródlana 15/3", "80-180", "Gdańsk", "PL"),
        Address("Jiří Dvořák", "Náměstí Míru 1247/12", "120 00", "Praha 2", "CZ"),
        Address(
            "Αικατερίνη Παπαδοπούλου", "Λεωφόρος Βασιλίσσης Σοφίας 45", "106 76", "Αθήνα", "GR"
        ),
        Address("Мирослава Шевченко", "вул. Хрещатик, 22", "01001", "Київ", "UA"),
        Address("Trần Văn Bình", "45 Lê Lợi", "700000", "Hồ Chí Minh", "VN"),
    ],
    ids=["polish", "czech", "greek", "cyrillic", "vietnamese"],
)
def test_names_and_addresses_in_every_script_print_as_written(recipient: Address) -> None:
    label = compose(load_layout(LABELS, "4x6"), data(recipient))
    assert label.warnings == ()  # no glyph missing, nothing cut
    [(_, text)] = pdf_pages(render_pdf([label]))
    flat = " ".join(text.split())
    for part in (recipient.name, recipient.street, recipient.city):
        assert part in flat


def test_markup_and_control_characters_are_printed_literally_or_dropped() -> None:
    name = "[bold]Bob[/] [@click=app.quit]x[/] \x1b[31mRed\x1b[0m \u202eevil\u202c ^XZ~JA <b>Jo</b>"
    label = compose(load_layout(LABELS, "4x6"), data(replace(VIETNAMESE, name=name)))
    drawn = " ".join(t.text for t in label.items if isinstance(t, Text) and t.block == "recipient")
    assert "[bold]Bob[/] [@click=app.quit]x[/]" in drawn
    assert "[31mRed[0m" in drawn and "\x1b" not in drawn  # ESC dropped, the rest is text
    assert "\u202e" not in drawn and "evil" in drawn  # no bidi override
    assert "^XZ~JA <b>Jo</b>" in drawn
    zpl = render_zpl([label]).decode()
    # Text travels as graphics: the name can never become a ZPL command.
    assert zpl.count("^XZ") == 1 and "~JA" not in zpl and "Bob" not in zpl
    [(_, text)] = pdf_pages(render_pdf([label]))
    assert "[bold]Bob[/]" in " ".join(text.split())


def test_long_text_shrinks_then_wraps_and_is_never_cut_silently() -> None:
    layout = load_layout(LABELS, "4x6")

    def recipient(label):  # type: ignore[no-untyped-def]
        texts = [t for t in label.items if isinstance(t, Text) and t.block == "recipient"]
        return {t.size for t in texts} - {6.0}, [t.text for t in texts[1:]]  # without caption

    short = Address("Jo Li", "1 A St", "00-100", "Łódź", "PL")
    sizes, _ = recipient(compose(layout, data(short)))
    assert sizes == {14.0}  # fits at the layout's size
    # A street a little too long for one line at 14 pt: set smaller, still one line, whole.
    longer = replace(short, street="ul. Księcia Janusza Pierwszego Starego 112")
    sizes, lines = recipient(compose(layout, data(longer)))
    assert max(sizes) < 14.0 and longer.street in lines
    # Too long even at the smallest size: wrapped over lines, every word kept, nothing cut.
    longest = replace(short, street="ul. " + " ".join(["Księcia Janusza Pierwszego"] * 3))
    label = compose(layout, data(longest))
    sizes, lines = recipient(label)
    assert label.warnings == () and not any(line.endswith("…") for line in lines)
    assert " ".join(lines[1:-2]) == longest.street  # the street's lines, between name and city
    # Far too much for the box: what fits is kept, the cut is marked and reported.
    huge = compose(layout, data(replace(VIETNAMESE, street="Đường " * 400)))
    assert any("recipient: too long" in w for w in huge.warnings)
    assert any(t.text.endswith("…") for t in huge.items if isinstance(t, Text))


def test_cash_on_delivery_is_boxed_in_the_destinations_money_and_absent_when_prepaid() -> None:
    assert cod_text(Decimal("1234.50"), "PLN", "PL") == "1\xa0234,50\xa0zł"
    assert cod_text(Decimal("1234.5"), "EUR", "DE") == "1.234,50\xa0€"
    assert cod_text(Decimal("1250000"), "VND", "VN") == "1.250.000\xa0₫"
    layout = load_layout(LABELS, "4x6")
    cod = [
        t.text for t in compose(layout, data()).items if isinstance(t, Text) and t.block == "cod"
    ]
    assert cod == ["COD", "1.250.000\xa0₫"]
    prepaid = compose(layout, data(cod_amount=None))
    assert not [t for t in prepaid.items if isinstance(t, Text) and t.block == "cod"]


def test_the_png_preview_is_the_label_at_203_dpi() -> None:
    layout = load_layout(LABELS, "4x6")
    image = raster(compose(layout, data()))
    assert image.size == (812, 1218)  # 4 x 6 in at 203 dpi


def test_clean_keeps_letters_and_drops_what_would_act_on_a_printer() -> None:
    assert clean("  Anna\tMaria \n Kowalska\x07 ") == "Anna Maria Kowalska"
    assert clean("Ta\u200bmara") == "Tamara"
    assert clean(None) == ""


# --- broken layouts are refused by file, key and problem ------------------------------------


def _write(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / f"{name}.toml").write_text(text, encoding="utf-8")
    return tmp_path


BASE = (LABELS / "4x6.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (BASE.replace("size = 14\n", "size = 14\nsise = 3\n", 1),
         r"blocks\.recipient\.sise: is not a known setting"),
        (BASE.replace("box = [3, 26, 95.6, 41]", "box = [3, 26, 120, 41]"),
         r"blocks\.recipient\.box: reaches past the label's edge"),
        (BASE.replace("box = [3, 26, 95.6, 41]", "box = [3, 26, 95.6]"),
         r"blocks\.recipient\.box: must be \[x, y, width, height\]"),
        (BASE.replace("[blocks.cod]", "[blocks.coupon]"), r"blocks\.coupon: is not a block"),
        (BASE.replace("width_mm = 101.6", "width_mm = -1"), r"width_mm: must be more than 0"),
        (BASE.replace("module_dots = 3", "module_dots = 1"), r"barcode\.module_dots: must be"),
        (BASE.replace("size = 14\nmin_size = 9", "size = 14\nmin_size = 3"),
         r"blocks\.recipient\.min_size: must be 5 pt or more"),
        (BASE + "\n[blocks.recipient\n", r"not valid TOML"),
        (BASE.replace("text_size = 11", 'text_size = "11"'), r"barcode\.text_size: must be 0"),
        (BASE.replace("text_size = 11", "text_size = 3"), r"barcode\.text_size: must be 0"),
        (BASE.replace("box = [3, 101, 95.6, 37]", "box = [3, 101, 95.6, 12]"),
         r"barcode\.box: leaves .* mm for the bars"),
        (BASE.replace("size = 14\n", "size = 1e9\n", 1),
         r"blocks\.recipient\.size: must be at most 144 pt, not 1e\+09"),
        (BASE.replace("size = 14\n", "size = 200000\n", 1),
         r"blocks\.recipient\.size: must be at most 144 pt, not 200000"),
        (BASE.replace("size = 14\n", "size = nan\n", 1),
         r"blocks\.recipient\.size: must be a number, not nan"),
        (BASE.replace("module_dots = 3", "module_dots = 200000"),
         r"barcode\.module_dots: must be at most 10 dots, not 200000"),
        (BASE.replace("text_size = 11", "text_size = 1e9"),
         r"barcode\.text_size: must be at most 144 pt"),
        (BASE.replace("frame_mm = 0.6", "frame_mm = 1e9", 1),
         r"blocks\.recipient\.frame_mm: must be a line width of 0 to 10 mm"),
        (BASE.replace("width_mm = 101.6", "width_mm = 1e9"),
         r"width_mm: must be at most 600 mm, not 1e\+09"),
        (BASE.replace('caption = "TO"', 'caption = "' + "T" * 500 + '"'),
         r"blocks\.recipient\.caption: must be at most 20 characters"),
        (BASE.replace("box = [3, 101, 95.6, 37]", "box = [3, 101, 30, 37]"),
         r"barcode\.box: is 30 mm wide, too narrow for a tracking number's barcode: "
         r"EE123456785PL needs 44\.0 mm with its quiet zones even at 2 dots a bar"),
    ],
    ids=["unknown-key", "off-the-label", "box-shape", "unknown-block", "negative-size",
         "thin-bars", "tiny-text", "bad-toml", "text-size-text", "text-size-tiny",
         "no-room-for-bars", "size-1e9", "size-200000", "size-nan", "module-200000",
         "text-size-1e9", "frame-1e9", "label-1e9", "long-caption", "narrow-barcode"],
)  # fmt: skip
def test_a_broken_layout_names_file_key_and_problem(tmp_path: Path, text: str, message: str):
    directory = _write(tmp_path, "mine", text)
    with pytest.raises(LayoutError, match=message) as caught:
        load_layout(directory, "mine")
    assert str(tmp_path / "mine.toml") in str(caught.value)


def test_a_layout_extends_another_and_a_circle_or_a_missing_base_is_named(tmp_path: Path):
    _write(tmp_path, "base", BASE)
    _write(tmp_path, "mine", 'extends = "base"\n[blocks.routing]\nsize = 30\n')
    mine = load_layout(tmp_path, "mine")
    assert mine.blocks["routing"].size == 30 and mine.blocks["recipient"].size == 14
    _write(tmp_path, "a", 'extends = "b"\n')
    _write(tmp_path, "b", 'extends = "a"\n')
    with pytest.raises(LayoutError, match="in a circle"):
        load_layout(tmp_path, "a")
    _write(tmp_path, "orphan", 'extends = "nowhere"\n')
    with pytest.raises(LayoutError, match=r"no layout 'nowhere'.*there are: a, b, base"):
        load_layout(tmp_path, "orphan")
    missing = BASE.split("[blocks.cod]")[0] + "[barcode]" + BASE.split("[barcode]")[1]
    _write(tmp_path, "nocod", missing)
    with pytest.raises(LayoutError, match="blocks: missing cod"):
        load_layout(tmp_path, "nocod")


def test_labels_written_by_several_threads_at_once_are_each_whole() -> None:
    """A close renders its label off the event loop, and the print worker may render at the
    same moment: every PDF must carry its own text and barcode."""
    from concurrent.futures import ThreadPoolExecutor

    layout = load_layout(LABELS, "4x6")
    people = [
        Address(name, "ul. Długa 5", "00-238", "Warszawa", "PL")
        for name in ("Zofia Wójcik", "Jiří Dvořák", "Αικατερίνη Π.", "Мирослава Ш.", "Trần Văn")
    ]
    jobs = [(people[i % 5], s10_number("EE", 1000 + i, "PL")) for i in range(40)]

    def one(job: tuple[Address, str]) -> bytes:
        recipient, tracking = job
        return render_pdf([compose(layout, data(recipient, tracking))])

    with ThreadPoolExecutor(max_workers=4) as pool:
        pdfs = list(pool.map(one, jobs))
    for (recipient, tracking), pdf in zip(jobs, pdfs, strict=True):
        [(page, text)] = pdf_pages(pdf)
        assert recipient.name in " ".join(text.split())
        assert decoded(page) == [tracking]


def test_every_problem_of_a_layout_is_named_at_once(tmp_path: Path) -> None:
    broken = (
        BASE.replace("size = 14\n", "size = 1e9\n", 1)
        .replace("module_dots = 3", "module_dots = 200000")
        .replace("box = [3, 101, 95.6, 37]", "box = [3, 101, 30, 37]")
    )
    with pytest.raises(LayoutError) as caught:
        load_layout(_write(tmp_path, "mine", broken), "mine")
    assert [p.split(":")[0] for p in caught.value.problems] == [
        "blocks.recipient.size", "barcode.module_dots", "barcode.box",
    ]  # fmt: skip
    assert str(caught.value).count(str(tmp_path / "mine.toml")) == 1


def stepped(paragraphs, width_mm, height_mm, size=14.0, min_size=9.0):  # type: ignore[no-untyped-def]
    """The fitter as it was: every half point down from the size (slow, plainly right)."""
    from functools import partial

    from picker.printing.fonts import wrap
    from picker.printing.labels import LEADING, PT_PER_MM, _width_pt

    width, height = width_mm * PT_PER_MM, height_mm * PT_PER_MM
    s = size
    while s >= min_size - 1e-9:
        if len(paragraphs) * s * LEADING <= height + 1e-6 and all(
            _width_pt(t, s, b) <= width for t, b in paragraphs
        ):
            return s, list(paragraphs), True
        s -= 0.5
    s = size
    while s >= 5.0 - 1e-9:
        lines = [(ln, b) for t, b in paragraphs
                 for ln in wrap(t, width, partial(_width_pt, size=s, bold=b))]  # fmt: skip
        if len(lines) * s * LEADING <= height + 1e-6:
            return s, lines, True
        s -= 0.5
    return None


def test_text_is_fitted_by_a_bounded_search_whatever_size_is_asked() -> None:
    street = [("ul. Księcia Janusza Pierwszego Starego 112", False), ("00-100 Łódź", False)]
    calls: list[float] = []

    def fits(size: float) -> bool:
        calls.append(size)
        return size <= 11.5

    assert largest_size(1e9, 5.0, fits) == 11.5
    assert len(calls) < 40  # a binary search, not two billion steps down from 1e9
    assert largest_size(14.0, 5.0, lambda s: s <= 3) is None
    assert largest_size(14.0, 9.0, lambda s: True) == 14.0
    # The block fitter finds what stepping down half a point at a time finds.
    register_fonts()
    for width, height in ((40.0, 20.0), (60.0, 12.0), (90.0, 20.0), (25.0, 30.0), (15.0, 9.0)):
        expected = stepped(street, width, height)
        got = fit_block(street, width, height, 14.0, 9.0)
        assert got == expected if expected is not None else got[2] is False
    started = time.monotonic()
    size, _, whole = fit_block(street, 90.0, 40.0, 1e9, 9.0)
    assert time.monotonic() - started < 1.0 and whole and size < 100


def test_a_tracking_number_too_long_for_the_barcode_box_is_refused_in_words() -> None:
    layout = load_layout(LABELS, "4x6")
    narrow = replace(layout, barcode=replace(layout.barcode, box=replace(layout.barcode.box, w=50)))
    compose(narrow, data())  # the usual number fits at 2 dots a bar
    with pytest.raises(LabelError) as caught:
        compose(narrow, data(tracking="ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    assert str(caught.value).startswith(
        "the barcode box is 50 mm wide; tracking number ABCDEFGHIJKLMNOPQRSTUVWXYZ needs"
    )
