"""Printed packing slips: the order code scans back, customer text is printed as data, long
orders run over pages with the header on each, and the same slip is the same bytes."""

import re

import pypdfium2
from reportlab.lib.pagesizes import A5
from reportlab.lib.units import mm

from picker.printing.packing_slip import PackingSlip, SlipLine, render_packing_slip
from tests.printing.test_floor_sheet import _decode

CONTROLS = ("\x1b", "\x07", "\u202e")  # the ones the tests feed in


def _slip(lines: list[SlipLine], **changes: object) -> PackingSlip:
    fields: dict = {
        "number": "PO-0000042",
        "placed_on": "2026-11-22",
        "sender": ("Picker Warehouse", "Magazynowa 1", "00-001 Warszawa"),
        "ship_to": ("Zofia Gęślą", "ul. Źródlana 5/7", "30-001 Kraków", "Poland"),
        "courier": "Swift Express",
        "lines": lines,
    }
    fields.update(changes)
    return PackingSlip(**fields)


LINES = [
    SlipLine("SKU-1", "Mug [b]Nordic[/b]\x1b[31m red\x07", 2),
    SlipLine("SKU-2", "Żółta łyżka", 1),
    SlipLine("SKU-3", "Ελληνικό τσάι\u202e", 3),
]


def _texts(pdf_bytes: bytes) -> list[str]:
    pdf = pypdfium2.PdfDocument(pdf_bytes)
    try:
        return [page.get_textpage().get_text_range() for page in pdf]
    finally:
        pdf.close()


def _text_outside_the_margins(pdf_bytes: bytes) -> list[str]:
    """Characters drawn closer than 8 mm to an edge of the page (the margin is 10 mm)."""
    (page_w, page_h), edge = A5, 8 * mm
    outside = []
    pdf = pypdfium2.PdfDocument(pdf_bytes)
    try:
        for page in pdf:
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


def test_the_order_barcode_decodes_at_203_dpi() -> None:
    pdf = render_packing_slip(_slip(LINES), printed_at="2026-11-23 08:00")
    assert _decode(pdf) == ["PO-0000042"]


def test_customer_text_is_printed_literally_and_control_characters_never_reach_the_pdf() -> None:
    slip = _slip(
        LINES,
        ship_to=("[i]Zofia[/i] \x1b[2J", "Ελλάδα"),
        note="Leave at the door [b]please[/b]\x1b[0m",
        gift_message="Wszystkiego najlepszego! \u202eΧρόνια πολλά\x07",
    )
    (text,) = _texts(render_packing_slip(slip, printed_at="x"))
    for literal in (
        "Mug [b]Nordic[/b]",
        "[31m red",
        "Żółta łyżka",
        "Ελληνικό τσάι",
        "[i]Zofia[/i]",
        "Ελλάδα",
        "Leave at the door [b]please[/b]",
        "Wszystkiego najlepszego!",
        "Χρόνια πολλά",
    ):
        assert literal in text
    assert not any(control in text for control in CONTROLS)
    assert text.index("SKU-1") < text.index("SKU-2") < text.index("SKU-3")
    assert "Total units: 6" in text


def test_a_long_order_runs_over_pages_with_the_header_on_each_and_every_line_once() -> None:
    lines = [SlipLine(f"SKU-{i:03d}", f"Product {i}", i % 3 + 1) for i in range(1, 61)]
    pdf = render_packing_slip(_slip(lines, note="Fragile"), printed_at="x")
    texts = _texts(pdf)
    pages = len(texts)
    assert pages >= 3
    for n, text in enumerate(texts, start=1):
        assert "Packing slip PO-0000042" in text
        assert f"page {n} of {pages}" in text
        if "SKU-" in text:  # the table's head is repeated above its rows
            assert text.index("Qty SKU Product") < text.index("SKU-")
    assert _text_outside_the_margins(pdf) == []
    assert _decode(pdf) == ["PO-0000042"] * pages
    everything = "\n".join(texts)
    assert sorted(re.findall(r"SKU-\d{3}", everything)) == [line.sku for line in lines]
    assert f"Total units: {sum(line.quantity for line in lines)}" in texts[-1]
    assert "Fragile" in texts[-1]


def test_note_and_gift_message_are_printed_only_when_given() -> None:
    (plain,) = _texts(render_packing_slip(_slip(LINES), printed_at="x"))
    assert "Note" not in plain and "Gift message" not in plain
    given = _slip(LINES, note="Call before delivery", gift_message="Happy birthday,\nlove, Ann")
    (text,) = _texts(render_packing_slip(given, printed_at="x"))
    assert "Note" in text and "Call before delivery" in text
    assert "Gift message" in text and "Happy birthday," in text and "love, Ann" in text
    assert text.index("Call before delivery") < text.index("Gift message")


def test_long_names_and_messages_stay_inside_the_page() -> None:
    long_name = "Extraordinarily long product name " * 10
    gift = "Unbreakable" * 40 + " and then many ordinary words " * 20
    slip = _slip([SlipLine("SKU-1", long_name, 1)], ship_to=("A" * 200,), gift_message=gift)
    pdf = render_packing_slip(slip, printed_at="x")
    assert _text_outside_the_margins(pdf) == []
    text = "".join(_texts(pdf))
    assert "Extraordinarily long product" in text and "…" in text
    assert text.replace("\r\n", "").count("Unbreakable") == 40


def test_the_same_slip_renders_byte_identical() -> None:
    slip = _slip(LINES, note="n", gift_message="g")
    assert render_packing_slip(slip, printed_at="x") == render_packing_slip(slip, printed_at="x")
