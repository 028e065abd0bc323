"""A return's replacement goods (an exchange) carry "EXCHANGE RMA-…" on every shipped layout's
courier label, in the box a COD parcel's cash takes (an exchange is never cash on delivery), and
the RMA number after the order number."""

from __future__ import annotations

import pytest

from picker.printing.labels import Text, compose, render_pdf
from picker.printing.layouts import load_layout
from picker.services.printjobs.labels import EXCHANGE_MARK
from tests.printing.test_labels import LABELS, LAYOUTS, TRACKING, data, decoded, pdf_pages


@pytest.mark.parametrize("name", LAYOUTS)
def test_an_exchange_parcels_label_says_so_and_its_barcode_still_reads(name: str) -> None:
    layout = load_layout(LABELS, name)
    exchange = data(cod_amount=None, mark=EXCHANGE_MARK, reference="RMA-000012")
    composed = compose(layout, exchange)
    assert not composed.warnings
    texts = {i.block: i.text for i in composed.items if isinstance(i, Text)}
    assert (texts["cod"], texts["order"]) == ("EXCHANGE RMA-000012", "PO-0012345 / RMA-000012")
    [(image, text)] = pdf_pages(render_pdf([composed], invariant=True))
    assert "EXCHANGE RMA-000012" in " ".join(text.split())
    assert decoded(image) == [TRACKING["s10"]]
