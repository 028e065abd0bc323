"""Courier manifests: the pickup code scans back on every page, every parcel is listed once over
as many pages as it takes, the totals and signatures end the last page whole, stored text is
printed as data, and the same manifest is the same bytes."""

import re
import time

import pypdfium2
import pytest
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from picker.printing.barcodes import MODULE_203DPI_3, modules, symbol_width
from picker.printing.manifest import Manifest, ManifestLine, render_manifest
from tests.printing.test_floor_sheet import _decode

PICKUP = "PU-000042"
HEADINGS = "# Tracking number Order Parcel Weight (kg) COD"


def _lines(count: int) -> list[ManifestLine]:
    return [
        ManifestLine(
            tracking_no=f"SW{i:08d}PL",
            order_number=f"PO-{(i + 1) // 2:07d}",
            parcel_no=2 - i % 2,
            parcel_count=2,
            weight_g=None if i % 10 == 0 else 1_000 + i,
            cod="12,50 zł" if i % 5 == 0 else None,
        )
        for i in range(1, count + 1)
    ]


def _manifest(lines: list[ManifestLine], **changes: object) -> Manifest:
    fields: dict = {
        "pickup_number": PICKUP,
        "courier": "Swift Parcel (SWIFT)",
        "warehouse": ("Picker Warehouse", "Magazynowa 1", "00-001 Warszawa"),
        "closed_at": "2026-11-22 16:05",
        "lead": "Zofia Gęślą",
        "lines": lines,
        "cod_totals": ("1 234,50 zł", "5.000.000 ₫"),
    }
    fields.update(changes)
    return Manifest(**fields)


def _texts(pdf_bytes: bytes) -> list[str]:
    pdf = pypdfium2.PdfDocument(pdf_bytes)
    try:
        return [page.get_textpage().get_text_range() for page in pdf]
    finally:
        pdf.close()


def _text_outside_the_margins(pdf_bytes: bytes) -> list[str]:
    """Characters drawn closer than 8 mm to an edge of the page (the margin is 10 mm)."""
    (page_w, page_h), edge = A4, 8 * mm
    outside = []
    pdf = pypdfium2.PdfDocument(pdf_bytes)
    try:
        for page in pdf:
            assert (page.get_width(), page.get_height()) == pytest.approx(A4)
            textpage = page.get_textpage()
            for i in range(textpage.count_chars()):
                left, bottom, right, top = textpage.get_charbox(i)
                inside_x = edge <= left <= right <= page_w - edge
                inside_y = edge <= bottom <= top <= page_h - edge
                if not (inside_x and inside_y):
                    outside.append(textpage.get_text_range(i, 1))
    finally:
        pdf.close()
    return outside


def _text_overlapping_the_barcode(pdf_bytes: bytes) -> list[str]:
    """Characters drawn over the pickup barcode or its quiet zones (top right of each page)."""
    page_w, page_h = A4
    bars_left = page_w - 10 * mm - symbol_width(modules("code128", PICKUP), MODULE_203DPI_3)
    bars_bottom = page_h - 10 * mm - 13 * mm
    overlapping = []
    pdf = pypdfium2.PdfDocument(pdf_bytes)
    try:
        for page in pdf:
            textpage = page.get_textpage()
            for i in range(textpage.count_chars()):
                _, _, right, top = textpage.get_charbox(i)
                if right > bars_left and top > bars_bottom:
                    overlapping.append(textpage.get_text_range(i, 1))
    finally:
        pdf.close()
    return overlapping


def _tracking_numbers(text: str) -> list[str]:
    return re.findall(r"SW\d{8}PL", text)


def test_the_pickup_barcode_decodes_at_203_dpi_on_the_first_and_the_last_page() -> None:
    pdf = render_manifest(_manifest(_lines(120)))
    pages = len(_texts(pdf))
    assert pages >= 3
    # One barcode a page, in page order: the first and the last are among them.
    assert _decode(pdf) == [PICKUP] * pages
    (single,) = _texts(one := render_manifest(_manifest(_lines(3))))
    assert _decode(one) == [PICKUP]
    assert "page 1 of 1" in single


def test_a_long_manifest_runs_over_pages_with_headings_on_each_and_every_parcel_once() -> None:
    lines = _lines(120)
    texts = _texts(render_manifest(_manifest(lines)))
    pages = len(texts)
    assert pages >= 3
    for n, text in enumerate(texts, start=1):
        assert f"Courier manifest {PICKUP}" in text
        assert "Courier: Swift Parcel (SWIFT)" in text
        assert "Closed at 2026-11-22 16:05" in text and "Zofia Gęślą" in text
        assert f"page {n} of {pages}" in text
        assert len(re.findall(r"page \d+ of \d+", text)) == 1
        rows = _tracking_numbers(text)
        if rows:  # the column headings stand above the rows of every page
            assert text.count(HEADINGS) == 1
            assert text.index(HEADINGS) < text.index(rows[0])
    everything = "\n".join(texts)
    assert _tracking_numbers(everything) == [line.tracking_no for line in lines]
    # A row reads number, tracking number, order, parcel n/N, weight or a dash, COD if any.
    assert "1 SW00000001PL PO-0000001 1/2 1.00" in everything
    assert "10 SW00000010PL PO-0000005 2/2 — 12,50 zł" in everything
    assert "120 SW00000120PL PO-0000060 2/2 — 12,50 zł" in everything


def test_totals_and_signatures_are_on_the_last_page() -> None:
    lines = _lines(120)
    texts = _texts(render_manifest(_manifest(lines)))
    last = texts[-1]
    weighed = sum(line.weight_g for line in lines if line.weight_g is not None)
    assert weighed == 114_480  # 108 parcels weighed
    assert "Parcels: 120" in last
    assert "Total weight: 114.48 kg (12 not weighed)" in last
    assert "Cash on delivery: 1 234,50 zł" in last
    assert "\n5.000.000 ₫\r\n" in last  # each currency on its own line
    assert "Courier\r\n" in last and "Shift lead" in last
    assert last.count("Signature:") == 2 and "Date:" in last
    assert "Name: Zofia Gęślą" in last
    assert last.index("Parcels: 120") > last.index("SW00000120PL")
    assert last.index("5.000.000 ₫") < last.index("Signature:")
    for earlier in texts[:-1]:
        assert "Parcels:" not in earlier and "Signature:" not in earlier


def test_a_manifest_with_no_cash_to_collect_says_so() -> None:
    (text,) = _texts(render_manifest(_manifest(_lines(4), cod_totals=())))
    assert "Cash on delivery: none" in text
    assert "Total weight: 4.01 kg" in text and "not weighed" not in text


@pytest.mark.parametrize("count", range(20, 100, 3))
def test_the_totals_and_signatures_are_never_split_over_a_page_break(count: int) -> None:
    missing = [f"MISSING-{i}" for i in range(1, 4)]
    texts = _texts(render_manifest(_manifest(_lines(count), missing=missing)))
    ending = [
        f"Parcels: {count}", "Total weight:", "Cash on delivery:", "1 234,50 zł", "5.000.000 ₫",
        "Missing at pickup:", *missing, "Date:", "Name: Zofia Gęślą",
    ]  # fmt: skip
    last = texts[-1]
    for text in ending:
        assert text in last
    assert last.count("Signature:") == 2
    assert not any("Parcels:" in t or "Signature:" in t or "Missing" in t for t in texts[:-1])
    assert _tracking_numbers("".join(texts)) == [f"SW{i:08d}PL" for i in range(1, count + 1)]


def test_missing_parcels_are_listed_only_when_given() -> None:
    (plain,) = _texts(render_manifest(_manifest(_lines(5))))
    assert "Missing" not in plain
    missing = ["SW99999991PL", "SW99999992PL"]
    (text,) = _texts(render_manifest(_manifest(_lines(5), missing=missing)))
    assert "Missing at pickup:" in text
    assert text.index("Cash on delivery") < text.index("Missing at pickup:")
    assert text.index("Missing at pickup:") < text.index("SW99999991PL")
    assert text.index("SW99999992PL") < text.index("Signature:")
    assert text.count("SW99999991PL") == 1 and text.count("SW99999992PL") == 1


@pytest.mark.parametrize("count", range(20, 44, 3))
def test_a_missing_list_longer_than_a_page_keeps_every_number_and_the_blocks_whole(
    count: int,
) -> None:
    missing = [f"MS{i:04d}" for i in range(1, 901 + 7 * count)]
    pdf = render_manifest(_manifest(_lines(count), missing=missing))
    texts = _texts(pdf)
    assert len(texts) >= 3
    assert re.findall(r"MS\d{4}", "".join(texts)) == missing
    totals = ("Parcels:", "Total weight:", "Cash on delivery:", "1 234,50 zł", "5.000.000 ₫")
    (with_totals,) = [t for t in texts if "Parcels:" in t]
    assert all(text in with_totals for text in totals)
    signatures = ("Shift lead", "Name: Zofia Gęślą", "Date:")
    assert all(text in texts[-1] for text in signatures)
    assert texts[-1].count("Signature:") == 2
    assert _text_outside_the_margins(pdf) == []


def test_stored_text_is_printed_literally_and_control_characters_never_reach_the_pdf() -> None:
    lines = [
        ManifestLine("[b]SW1[/b]\x1b[31m", "PO-<i>7</i>\x07", 1, 1, 500, "9,99 zł\u202e"),
        ManifestLine("SW2\r\nX", "PO-8", 1, 1, None, None),
    ]
    manifest = _manifest(
        lines,
        courier="[bold]Swift[/bold]\x1b[2J",
        lead="Ann\x00a",
        missing=["SW3\x1b]0;pwned\x07"],
        cod_totals=("9,99 zł\u202e",),
    )
    (text,) = _texts(render_manifest(manifest))
    for literal in (
        r"[b]SW1[/b]\x1b[31m",
        r"PO-<i>7</i>\x07",
        r"9,99 zł\u202e",
        r"SW2\r\nX",
        r"[bold]Swift[/bold]\x1b[2J",
        r"Ann\x00a",
        r"SW3\x1b]0;pwned\x07",
    ):
        assert literal in text
    assert all(c.isprintable() or c in "\r\n" for c in text)


def test_nothing_is_drawn_within_8_mm_of_the_page_edge() -> None:
    long = "W" * 120
    lines = [
        *_lines(60),
        ManifestLine(long, long, 123_456, 654_321, 987_654_321, "9" * 80 + " zł"),
    ]
    manifest = _manifest(
        lines,
        courier=long,
        lead=long,
        closed_at=long,
        warehouse=tuple(long for _ in range(12)),
        cod_totals=(long, "1 234,50 zł"),
        missing=[long, *(f"SW7{i:07d}PL" for i in range(60))],
    )
    pdf = render_manifest(manifest)
    assert _text_outside_the_margins(pdf) == []
    texts = _texts(pdf)
    assert "WWW…" in "".join(texts)  # shortened, not run over
    # The header's text is shortened before the barcode's quiet zone, so the code still scans.
    assert _text_overlapping_the_barcode(pdf) == []
    assert _decode(pdf) == [PICKUP] * len(texts)


def test_a_pickup_number_that_cannot_be_a_barcode_is_refused() -> None:
    for number in ("", "PU-żółw", "PU-" + "9" * 80):
        with pytest.raises(ValueError):
            render_manifest(_manifest(_lines(1), pickup_number=number))


def test_the_same_manifest_renders_byte_identical() -> None:
    manifest = _manifest(_lines(50), missing=["SW99999991PL"])
    assert render_manifest(manifest) == render_manifest(manifest)


def test_500_lines_render_and_the_time_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    manifest = _manifest(_lines(500))
    render_manifest(manifest)  # the fonts' subsets are made once per process
    start = time.perf_counter()
    pdf = render_manifest(manifest)
    elapsed = time.perf_counter() - start
    with capsys.disabled():
        print(f"\n500-line manifest: {elapsed * 1000:.0f} ms")
    texts = _texts(pdf)
    assert len(_tracking_numbers("".join(texts))) == 500
    assert "Parcels: 500" in texts[-1]
