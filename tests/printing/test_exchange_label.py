"""A return's replacement goods (an exchange) carry "EXCHANGE · RMA-…" on every shipped layout's
courier label, in the box a COD parcel's cash takes (an exchange is never cash on delivery)."""

from __future__ import annotations

import pytest

from picker.printing.labels import Text, compose, render_pdf
from picker.printing.layouts import load_layout
from tests.printing.test_labels import LABELS, LAYOUTS, TRACKING, data, decoded, pdf_pages

MARK = "EXCHANGE · RMA-000012"


@pytest.mark.parametrize("name", LAYOUTS)
def test_an_exchange_parcels_label_says_so_and_its_barcode_still_reads(name: str) -> None:
    layout = load_layout(LABELS, name)
    composed = compose(layout, data(cod_amount=None, exchange="RMA-000012"))
    assert not composed.warnings
    marks = [i for i in composed.items if isinstance(i, Text) and i.block == "exchange"]
    assert [m.text for m in marks] == [MARK]
    [(image, text)] = pdf_pages(render_pdf([composed], invariant=True))
    assert MARK in " ".join(text.split())
    assert decoded(image) == [TRACKING["s10"]]


@pytest.mark.parametrize("name", LAYOUTS)
def test_a_parcel_of_no_exchange_has_no_mark(name: str) -> None:
    composed = compose(load_layout(LABELS, name), data(cod_amount=None))
    assert not [i for i in composed.items if isinstance(i, Text) and i.block == "exchange"]
