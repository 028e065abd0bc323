"""The order's state in a customer's words: what the service desk reads out on the phone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from picker.domain.customer_status import ParcelNews, customer_status, held_because

WARSAW = ZoneInfo("Europe/Warsaw")
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
HANDED = datetime(2026, 12, 3, 15, 30, tzinfo=UTC)


def sent(courier: str = "Swift Parcel", said: str | None = None, at: datetime | None = None,
         **kw: object) -> ParcelNews:  # fmt: skip
    return ParcelNews(courier, "handed_over", HANDED, said, at, **kw)  # type: ignore[arg-type]


def words(
    status: str, parcels: list[ParcelNews] | None = None, reasons: tuple[str, ...] = ()
) -> str:
    return customer_status(status, parcels or [], hold_reasons=reasons, tz=WARSAW, now=NOW)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("unhandled", "Received, being prepared"),
        ("assigned", "Being picked"),
        ("picking", "Being picked"),
        ("picked", "Being packed"),
        ("packing", "Being packed"),
        ("cancelled", "Cancelled"),
        ("returned", "Returned to us"),
    ],
)
def test_the_floor_s_statuses_become_plain_words(status: str, expected: str) -> None:
    assert words(status) == expected


@pytest.mark.parametrize(
    ("reasons", "expected"),
    [
        (("address incomplete: no street, no postal code",), "On hold: we need your full address"),
        (("address incomplete: no postal code",), "On hold: we need your postal code"),
        (("address: country 'XX' is not a two-letter code",), "On hold: we need your country"),
        (("not paid (pending)",), "On hold: waiting for your payment"),
        (("short: SKU-1",), "On hold: an item is out of stock"),
        # The floor's own reasons (and a lead's) are not read out to a customer.
        (("unknown shipping method: 'drone'", "wrong item, lead checks"),
         "On hold: we are checking your order"),
    ],
)  # fmt: skip
def test_a_hold_says_what_the_customer_can_do(reasons: tuple[str, ...], expected: str) -> None:
    assert words("on_hold", reasons=reasons) == expected
    assert held_because(reasons) == expected


def test_a_packed_order_waits_for_its_courier_and_a_voided_parcel_is_not_counted() -> None:
    parcels = [
        ParcelNews("Swift Parcel", "closed"),
        ParcelNews("National Post", "voided"),
    ]
    assert words("packed", parcels) == "Packed, waiting for Swift Parcel"


def test_a_shipped_order_is_on_its_way_since_the_local_day_it_left() -> None:
    late = datetime(2026, 12, 3, 23, 30, tzinfo=UTC)  # 4 Dec 00:30 in Warsaw
    parcel = ParcelNews("Swift Parcel", "handed_over", late)
    assert words("executed", [parcel]) == "On its way with Swift Parcel since 4 Dec"
    assert words("executed", [sent(said="in_transit", at=late)]) == (
        "On its way with Swift Parcel since 3 Dec"
    )


def test_the_courier_s_last_word_is_told_with_its_local_time() -> None:
    at = datetime(2026, 12, 4, 7, 5, tzinfo=UTC)
    assert words("executed", [sent(said="out_for_delivery", at=at)]) == (
        "Out for delivery with Swift Parcel since 4 Dec 08:05"
    )
    assert words("executed", [sent(said="failed_attempt", at=at)]) == (
        "Swift Parcel could not deliver 4 Dec 08:05; they try again"
    )
    assert words("executed", [sent(said="exception", at=at)]) == (
        "Delayed: Swift Parcel reports a problem (4 Dec 08:05)"
    )


def test_a_delivered_order_tells_when_its_last_parcel_arrived() -> None:
    first = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    last = datetime(2026, 12, 4, 13, 12, tzinfo=UTC)
    parcels = [sent(said="delivered", at=first), sent(said="delivered", at=last)]
    assert words("delivered", parcels) == "Delivered 4 Dec 14:12"
    assert words("delivered", []) == "Delivered"  # marked delivered with no courier event
    last_year = datetime(2025, 12, 30, 10, 0, tzinfo=UTC)
    assert words("delivered", [sent(said="delivered", at=last_year)]) == (
        "Delivered 30 Dec 2025 11:00"
    )


def test_a_partly_delivered_order_counts_its_parcels_and_tells_of_the_rest() -> None:
    at = datetime(2026, 12, 4, 13, 12, tzinfo=UTC)
    parcels = [sent(said="delivered", at=at), sent(said="in_transit", at=at)]
    assert words("executed", parcels) == (
        "1 of 2 parcels delivered; on its way with Swift Parcel since 3 Dec"
    )


def test_a_parcel_coming_back_is_told_before_anything_else() -> None:
    at = datetime(2026, 12, 4, 13, 12, tzinfo=UTC)
    parcels = [sent(said="delivered", at=at), sent("National Post", "returned_to_sender", at,
                                                   returned_to_sender=True)]  # fmt: skip
    assert words("executed", parcels) == "Coming back to us: National Post is returning it"
