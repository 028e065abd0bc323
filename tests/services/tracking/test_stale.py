"""Stale parcels and late orders on both databases."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select, update

from picker.config import CourierSettings
from picker.services.tracking.stale import late_orders, stale_count, stale_parcels
from picker.store.models import Courier, CourierService
from tests.services.floor.test_picking import clock
from tests.services.tracking.test_events import DAY, csv, run, shipped

HANDED = clock()  # when shipped() hands the parcels over


def test_a_parcel_quiet_longer_than_its_couriers_days_is_stale_until_news_comes(
    floor, settings
) -> None:
    number, [t] = shipped(floor, settings, ("SKU-00001", 1), tote="T-0901")
    assert stale_parcels(floor, settings, now=HANDED + timedelta(days=2)) == []
    later = HANDED + timedelta(days=3, hours=1)
    [p] = stale_parcels(floor, settings, now=later)
    assert (p.tracking_no, p.order, p.courier, p.last_status, p.quiet_days) == (
        t,
        number,
        "POST",
        None,
        3,
    )
    assert stale_count(floor, settings, now=later) == 1
    assert stale_parcels(floor, settings, now=later, days=5) == []
    assert stale_parcels(floor, settings, now=later, courier="SWIFT") == []
    patient = replace(settings, couriers={"POST": CourierSettings(stale_days=7)})
    assert stale_count(floor, patient, now=later) == 0
    run(floor, settings, csv(f"{t},in_transit,2026-11-24T10:00:00Z,,"))
    assert stale_parcels(floor, settings, now=later) == []  # news a day ago
    [p] = stale_parcels(floor, settings, now=DAY + timedelta(days=5))
    assert (p.last_status, p.last_words, p.quiet_days) == ("in_transit", "in transit", 3)


def test_a_delivered_parcel_is_never_stale(floor, settings) -> None:
    _, [t] = shipped(floor, settings, ("SKU-00001", 1), tote="T-0901")
    run(floor, settings, csv(f"{t},delivered,2026-11-23T10:00:00Z,,"))
    assert stale_count(floor, settings, now=HANDED + timedelta(days=30)) == 0


def test_an_order_delivered_after_its_promised_days_is_late(floor, settings) -> None:
    with floor.transaction() as s:
        post = s.scalar(select(Courier.id).where(Courier.code == "POST"))
        s.execute(update(CourierService).where(CourierService.courier_id == post)
                  .values(promised_days=2))  # fmt: skip
    quick, [a] = shipped(floor, settings, ("SKU-00001", 1), tote="T-0901")
    slow, [b] = shipped(floor, settings, ("SKU-00001", 1), tote="T-0902")
    run(floor, settings, csv(f"{a},delivered,2026-11-24T20:00:00+01:00,,",  # 2 days: on time
                             f"{b},delivered,2026-11-25T08:00:00+01:00,,"))  # fmt: skip
    [late] = late_orders(floor, settings, now=DAY + timedelta(days=3))
    assert (late.order, late.courier, late.promised_days, late.took_days) == (slow, "POST", 2, 3)
    assert late_orders(floor, settings, now=DAY + timedelta(days=3), courier="SWIFT") == []
    assert quick != slow
