"""Printed pick lists: the codes on paper scan back, lines in walking order, text as given."""

import pypdfium2

from picker.printing.pick_list import PickListLine, PickListOrder, render_pick_lists
from tests.printing.test_floor_sheet import _decode

LINES = [
    PickListLine("A-01-02-1", "SKU-1", "Mug [b]Nordic[/b]\x1b[31m", "4006381333931", 2),
    PickListLine("B-03-01-2", "SKU-2", "Żółta łyżka", None, 1),
]


def test_the_order_bin_and_product_barcodes_decode_at_203_dpi() -> None:
    pdf = render_pick_lists([PickListOrder("PO-0000042", "Post", "T-0042", LINES)], printed_at="x")
    assert set(_decode(pdf)) >= {"PO-0000042", "A-01-02-1", "B-03-01-2", "4006381333931"}


def test_text_is_printed_literally_and_control_characters_never_reach_the_pdf() -> None:
    pdf = render_pick_lists([PickListOrder("PO-0000042", "Post", None, LINES)], printed_at="x")
    text = pypdfium2.PdfDocument(pdf)[0].get_textpage().get_text_range()
    assert "Mug [b]Nordic[/b]" in text and "Żółta łyżka" in text and "\x1b" not in text
    assert text.index("A-01-02-1") < text.index("B-03-01-2")


def test_a_long_list_runs_over_pages_and_each_order_starts_a_page() -> None:
    many = [PickListLine(f"A-01-{i:02d}-1", f"SKU-{i}", "x", None, 1) for i in range(1, 25)]
    orders = [PickListOrder("PO-1", "Post", None, many), PickListOrder("PO-2", "Post", None, LINES)]
    pdf = pypdfium2.PdfDocument(render_pick_lists(orders, printed_at="x"))
    assert len(pdf) == 4
    assert "Pick list PO-2" in pdf[3].get_textpage().get_text_range()
