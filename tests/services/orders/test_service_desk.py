"""The service desk's card of an order on both databases: where it stands in the customer's
words, each parcel's tracking number, courier news and link (the configured template first)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from picker.config import CourierSettings, Settings
from picker.domain.courier_events import RawEvent
from picker.services.actors import Actor
from picker.services.errors import NotFound
from picker.services.floor.parcels import void_parcel
from picker.services.orders.service_desk import order_card
from picker.services.tracking.events import import_events
from picker.store.engine import Database
from tests.conftest import NOW
from tests.services.floor.test_handoff import packed
from tests.services.floor.test_packing import LEAD
from tests.services.floor.test_picking import clock
from tests.services.notify.test_outbox import ship


def test_a_shipped_order_reads_as_the_courier_last_said_with_its_links(
    floor: Database, settings: Settings
) -> None:
    number, [a, b] = packed(floor, settings, ("SKU-00001", 1), ("SKU-00002", 1), tote="T-0901",
                            parcels=2)  # fmt: skip
    ship(floor, settings, a, b)
    at = NOW + timedelta(days=1)
    import_events(floor, Actor("T00"), [
        RawEvent(1, a, "delivered", at, "Kraków", None),
        RawEvent(2, b, "out_for_delivery", at, "Kraków", None),
    ], settings=settings)  # fmt: skip
    configured = replace(
        settings, couriers={"POST": CourierSettings("https://t.example/{tracking}")}
    )
    card = order_card(floor, configured, number, now=at)
    assert card.status == "executed"
    assert card.words.startswith("1 of 2 parcels delivered; out for delivery with National Post")
    by_tracking = {p.tracking_no: p for p in card.parcels}
    assert by_tracking[a].courier_said == "delivered" and by_tracking[a].courier_said_at == at
    assert by_tracking[b].url == f"https://t.example/{b}"  # the configured template
    demo = order_card(floor, settings, number, now=at)  # else the courier's own (the demo's)
    assert demo.parcels[0].url == f"https://post.example.com/track?n={demo.parcels[0].tracking_no}"


def test_a_voided_parcel_has_no_link_and_an_unknown_order_is_said(
    floor: Database, settings: Settings
) -> None:
    number, [a] = packed(floor, settings, ("SKU-00001", 1), tote="T-0902")
    void_parcel(floor, LEAD, a, "box crushed", clock=clock)
    card = order_card(floor, settings, number, now=NOW)
    assert card.words == "Being packed"
    [voided] = card.parcels
    assert voided.status == "voided" and voided.url is None
    with pytest.raises(NotFound, match="There is no order PO-9999999"):
        order_card(floor, settings, "PO-9999999", now=NOW)
