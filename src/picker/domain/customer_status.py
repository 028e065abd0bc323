"""Where an order stands, in the words a customer understands (the customer-service desk).

One function, :func:`customer_status`, turns an order's status, its hold reasons and what the
courier last said of each parcel into one short sentence an agent can read out on the phone:
"Being packed", "On its way with Swift Parcel since 3 Dec", "Delivered 4 Dec 14:12", "On hold:
we need your full address". Times are the warehouse's local time; the floor's own words
(statuses, hold reasons) never reach the customer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from picker.domain.courier_events import CourierStatus
from picker.domain.notify import customer_fixable, missing_address_parts
from picker.domain.statuses import OrderStatus, ParcelStatus


@dataclass(frozen=True)
class ParcelNews:
    """What is known of one parcel of the order: its courier, and the courier's last word."""

    courier: str
    """The courier's name, as the customer knows it ("Swift Parcel")."""
    status: ParcelStatus | str
    handed_over_at: datetime | None = None
    courier_status: CourierStatus | str | None = None
    courier_status_at: datetime | None = None
    returned_to_sender: bool = False


#: The address parts an incomplete address lacks, as a customer is asked for them.
_PARTS = {
    "name": "your name",
    "street": "your street",
    "city": "your town",
    "postal_code": "your postal code",
    "country": "your country",
}

_BEFORE_PACKING = {
    OrderStatus.UNHANDLED: "Received, being prepared",
    OrderStatus.ASSIGNED: "Being picked",
    OrderStatus.PICKING: "Being picked",
    OrderStatus.PICKED: "Being packed",
    OrderStatus.PACKING: "Being packed",
    OrderStatus.CANCELLED: "Cancelled",
    OrderStatus.RETURNED: "Returned to us",
}


def day(at: datetime, tz: tzinfo, now: datetime | None = None) -> str:
    """``3 Dec`` in the warehouse's time (``3 Dec 2025`` when not this year)."""
    local = at.astimezone(tz)
    text = f"{local.day} {local:%b}"
    if now is not None and now.astimezone(tz).year != local.year:
        text += f" {local.year}"
    return text


def moment(at: datetime, tz: tzinfo, now: datetime | None = None) -> str:
    """``4 Dec 14:12`` in the warehouse's time."""
    return f"{day(at, tz, now)} {at.astimezone(tz):%H:%M}"


def held_because(reasons: Sequence[str]) -> str:
    """Why an order is held, as the customer is told it: only what they can do something
    about is named (their address, their payment); the floor's own troubles (stock, a
    shipping method) are "we are checking your order"."""
    fixable = customer_fixable(reasons)
    if fixable:
        parts = missing_address_parts(fixable)
        if len(parts) == 1 and parts[0] in _PARTS:
            return f"On hold: we need {_PARTS[parts[0]]}"
        return "On hold: we need your full address"
    if any(r.startswith("not paid") for r in reasons):
        return "On hold: waiting for your payment"
    if any(r.startswith("short:") for r in reasons):
        return "On hold: an item is out of stock"
    return "On hold: we are checking your order"


def customer_status(
    status: OrderStatus | str,
    parcels: Sequence[ParcelNews] = (),
    *,
    hold_reasons: Sequence[str] = (),
    tz: tzinfo,
    now: datetime | None = None,
) -> str:
    """The order's state as one sentence for the customer (see the module's examples)."""
    status = OrderStatus(status)
    if status in _BEFORE_PACKING:
        return _BEFORE_PACKING[status]
    if status is OrderStatus.ON_HOLD:
        return held_because(hold_reasons)
    live = [p for p in parcels if ParcelStatus(p.status) is not ParcelStatus.VOIDED]
    if status is OrderStatus.PACKED:
        couriers = _couriers(live)
        return f"Packed, waiting for {couriers}" if couriers else "Packed, waiting for the courier"
    if status is OrderStatus.DELIVERED:
        times = [
            p.courier_status_at
            for p in live
            if _said(p) is CourierStatus.DELIVERED and p.courier_status_at is not None
        ]
        return f"Delivered {moment(max(times), tz, now)}" if times else "Delivered"
    return _travelling(live, tz, now)


def _said(p: ParcelNews) -> CourierStatus | None:
    return CourierStatus(p.courier_status) if p.courier_status else None


def _couriers(parcels: Sequence[ParcelNews]) -> str:
    return " and ".join(dict.fromkeys(p.courier for p in parcels))


def _travelling(parcels: Sequence[ParcelNews], tz: tzinfo, now: datetime | None) -> str:
    """Handed to the courier: the parcel furthest from the customer speaks for the order
    (coming back, then in trouble, then travelling), and how many are already there."""
    away = [p for p in parcels if ParcelStatus(p.status) is ParcelStatus.HANDED_OVER] or parcels
    if not away:
        return "On its way"
    back = [p for p in away if p.returned_to_sender or _said(p) is CourierStatus.RETURNED_TO_SENDER]
    if back:
        return f"Coming back to us: {_couriers(back)} is returning it"
    delivered = [p for p in away if _said(p) is CourierStatus.DELIVERED]
    rest = [p for p in away if p not in delivered]
    done = f"{len(delivered)} of {len(away)} parcels delivered; " if delivered else ""
    words = _journey(rest or away, tz, now)
    return done + (words[0].lower() + words[1:] if done else words)


def _journey(parcels: Sequence[ParcelNews], tz: tzinfo, now: datetime | None) -> str:
    for said, words in (
        (CourierStatus.EXCEPTION, "Delayed: {courier} reports a problem ({at})"),
        (CourierStatus.FAILED_ATTEMPT, "{courier} could not deliver {at}; they try again"),
        (CourierStatus.OUT_FOR_DELIVERY, "Out for delivery with {courier} since {at}"),
    ):
        hit = [(p.courier_status_at, p.courier) for p in parcels
               if _said(p) is said and p.courier_status_at is not None]  # fmt: skip
        if hit:
            at, courier = max(hit)
            return words.format(courier=courier, at=moment(at, tz, now))
    since = [p.handed_over_at for p in parcels if p.handed_over_at is not None]
    when = f" since {day(min(since), tz, now)}" if since else ""
    return f"On its way with {_couriers(parcels)}{when}"
