"""Couriers' tracking events on both databases: each once, bad lines skipped by name, parcels'
courier state by the courier's time, orders delivered after their last parcel, the mail."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from picker.config import CourierSettings
from picker.services.actors import Actor
from picker.services.floor import handoff
from picker.services.floor.parcels import void_parcel
from picker.services.tracking.events import import_events, read_file
from picker.store.engine import Database
from picker.store.models import Order, OrderEvent, OutboxMessage, Parcel, TrackingEvent
from tests.services.floor.test_handoff import packed
from tests.services.floor.test_packing import LEAD
from tests.services.floor.test_picking import clock, status

FEED = Actor("T05", source="courier-feed@test")
#: The couriers' times: the day after the handoff (clock() is 2026-11-22 09:35 UTC).
DAY = datetime(2026, 11, 23, tzinfo=UTC)


def shipped(db: Database, settings, *lines, tote: str, parcels: int = 1):  # type: ignore[no-untyped-def]
    """A new order packed into ``parcels`` parcels and handed to POST on a closed pickup:
    (order number, tracking numbers)."""
    number, tracking = packed(db, settings, *lines, tote=tote, parcels=parcels)
    pickup = handoff.open_pickup(db, LEAD, "POST", clock=clock)
    for t in tracking:
        handoff.hand_over_parcel(db, LEAD, pickup.id, t, clock=clock)
    handoff.close_pickup(db, LEAD, settings, pickup.id, clock=clock)
    assert status(db, number) == "executed"
    return number, tracking


def csv(*rows: str) -> bytes:
    return ("tracking_no,status,at,location,detail\n" + "\n".join(rows) + "\n").encode()


def run(db: Database, settings, data: bytes, **kw):  # type: ignore[no-untyped-def]
    return import_events(db, FEED, read_file(data, settings), settings=settings,
                         clock=lambda: DAY + timedelta(days=1), **kw)  # fmt: skip


def parcel(db: Database, tracking: str):  # type: ignore[no-untyped-def]
    with db.read() as s:
        return s.execute(
            select(
                Parcel.courier_status, Parcel.courier_status_at, Parcel.returned_to_sender
            ).where(Parcel.tracking_no == tracking)
        ).one()


def count(db: Database, model) -> int:  # type: ignore[no-untyped-def]
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_the_same_file_imported_twice_stores_each_event_once(floor, settings) -> None:
    _, [t] = shipped(floor, settings, ("SKU-00001", 1), tote="T-0901")
    data = csv(f"{t},in_transit,2026-11-23T08:00:00+01:00,Warszawa,sorted",
               f"{t},out_for_delivery,2026-11-23T09:15:00Z,Kraków,")  # fmt: skip
    first = run(floor, settings, data)
    assert (first.counts["imported"], first.skipped) == (2, 0)
    again = run(floor, settings, data)
    assert (again.counts["imported"], again.counts["already_imported"], again.skipped) == (0, 2, 0)
    assert count(floor, TrackingEvent) == 2
    assert parcel(floor, t)[:2] == ("out_for_delivery", DAY + timedelta(hours=9, minutes=15))
    with floor.read() as s:
        e = s.scalar(select(TrackingEvent).where(TrackingEvent.status == "in_transit"))
        assert (e.at, e.location, e.detail, e.raw_status, e.source) == (
            DAY + timedelta(hours=7),
            "Warszawa",
            "sorted",
            "in_transit",
            "courier-feed@test",
        )


def test_bad_lines_are_named_by_number_and_tracking_and_write_nothing(floor, settings) -> None:
    _, [good] = shipped(floor, settings, ("SKU-00001", 1), tote="T-0901")
    _, [void] = packed(floor, settings, ("SKU-00001", 1), tote="T-0902")
    void_parcel(floor, Actor("T01"), void, "label smudged", clock=clock)
    data = csv(
        f"{good},in_transit,2026-11-23T08:00:00Z,,",
        "XX000000000XX,delivered,2026-11-23T09:00:00Z,,",
        f"{good},teleported,2026-11-23T09:00:00Z,,",
        f"{void},in_transit,2026-11-23T09:00:00Z,,",
        f"{good},delivered,yesterday,,",
        f"{good},delivered,2026-11-23T12:00:00Z,,",
    )
    report = run(floor, settings, data)
    assert [str(p) for p in report.problems] == [
        "line 3 XX000000000XX: no parcel of ours has this tracking number",
        f"line 4 {good}: unknown status 'teleported' (a courier's own word maps to ours in "
        "[couriers.POST.statuses])",
        f"line 5 {void}: the parcel was voided (its label is not in use)",
        f"line 6 {good}: 'yesterday' is not an ISO 8601 time (2026-11-23T14:05:00+01:00)",
    ]
    assert (report.counts["imported"], report.skipped) == (2, 4)
    with floor.read() as s:
        assert sorted(s.scalars(select(TrackingEvent.status))) == ["delivered", "in_transit"]
        assert s.scalar(select(Parcel.courier_status).where(Parcel.tracking_no == void)) is None


def test_a_two_parcel_order_is_delivered_only_after_its_last_parcel(floor, settings) -> None:
    number, [one, two] = shipped(floor, settings, ("SKU-00001", 1), ("SKU-00002", 1),
                                 tote="T-0901", parcels=2)  # fmt: skip
    first = run(floor, settings, csv(f"{one},delivered,2026-11-23T10:00:00Z,,"))
    assert first.delivered == [] and status(floor, number) == "executed"
    second = run(floor, settings, csv(f"{two},delivered,2026-11-23T15:30:00+01:00,,"))
    assert second.delivered == [number] and status(floor, number) == "delivered"
    with floor.read() as s:
        event = s.execute(
            select(OrderEvent).join(Order, Order.id == OrderEvent.order_id)
            .where(Order.number == number, OrderEvent.to_status == "delivered")
        ).scalar_one()  # fmt: skip
        assert event.from_status == "executed" and event.source == "courier-feed@test"
        assert event.reason == f"parcel 2 ({two}) delivered by POST at 2026-11-23 14:30 UTC"
    again = run(floor, settings, csv(f"{two},delivered,2026-11-23T15:30:00+01:00,,"))
    assert again.delivered == [] and again.counts["already_imported"] == 1


def test_the_delivered_mail_is_queued_once_with_the_order_and_the_couriers_time(
    floor, settings
) -> None:
    number, [t] = shipped(floor, settings, ("SKU-00001", 1), tote="T-0901")
    data = csv(f"{t},delivered,2026-11-23T10:00:00Z,,")
    run(floor, settings, data)
    run(floor, settings, data)
    with floor.read() as s:
        mails = s.execute(
            select(OutboxMessage.status, OutboxMessage.detail, OutboxMessage.parcels,
                   OutboxMessage.recipient)
            .join(Order, Order.id == OutboxMessage.order_id)
            .where(Order.number == number, OutboxMessage.event == "delivered")
        ).all()  # fmt: skip
        parcel_id = s.scalar(select(Parcel.id).where(Parcel.tracking_no == t))
    assert len(mails) == 1
    assert mails[0].status == "queued" and mails[0].recipient == "huong@example.vn"
    assert mails[0].detail == {"delivered_at": "2026-11-23T10:00:00+00:00"}
    assert mails[0].parcels == [parcel_id]


def test_a_switched_off_delivered_event_is_recorded_skipped(floor, settings) -> None:
    number, [t] = shipped(floor, settings, ("SKU-00001", 1), tote="T-0901")
    off = replace(settings, notify=replace(settings.notify, events={
        **settings.notify.events, "delivered": False}))  # fmt: skip
    run(floor, off, csv(f"{t},delivered,2026-11-23T10:00:00Z,,"))
    assert status(floor, number) == "delivered"
    with floor.read() as s:
        assert s.scalar(select(OutboxMessage.status).where(
            OutboxMessage.event == "delivered")) == "skipped"  # fmt: skip


def test_events_out_of_order_leave_the_latest_by_the_couriers_time(floor, settings) -> None:
    number, [t] = shipped(floor, settings, ("SKU-00001", 1), tote="T-0901")
    run(floor, settings, csv(f"{t},delivered,2026-11-23T16:00:00Z,,",
                             f"{t},out_for_delivery,2026-11-23T09:00:00Z,,"))  # fmt: skip
    assert parcel(floor, t)[:2] == ("delivered", DAY + timedelta(hours=16))
    run(floor, settings, csv(f"{t},in_transit,2026-11-22T20:00:00Z,,"))  # an old one, late
    assert parcel(floor, t)[:2] == ("delivered", DAY + timedelta(hours=16))
    assert status(floor, number) == "delivered" and count(floor, TrackingEvent) == 3


def test_returned_to_sender_marks_the_parcel_coming_back_and_delivers_nothing(
    floor, settings
) -> None:
    number, [t] = shipped(floor, settings, ("SKU-00001", 1), tote="T-0901")
    data = csv(f"{t},failed_attempt,2026-11-23T10:00:00Z,,",
               f"{t},RETURNED TO SENDER,2026-11-25T10:00:00Z,,")  # fmt: skip
    report = run(floor, settings, data)
    assert report.returning == [t]
    assert parcel(floor, t) == ("returned_to_sender", DAY + timedelta(days=2, hours=10), True)
    assert status(floor, number) == "executed"


def test_a_couriers_own_words_map_through_its_statuses_and_other_couriers_are_skipped(
    floor, settings
) -> None:
    number, [t] = shipped(floor, settings, ("SKU-00001", 1), tote="T-0901")
    mapped = replace(settings, couriers={"POST": CourierSettings(
        statuses={"doręczono": "delivered"})})  # fmt: skip
    data = csv(f"{t},Doręczono,2026-11-23T10:00:00+01:00,Gdańsk,")
    refused = run(floor, mapped, data, courier="SWIFT")
    assert [str(p) for p in refused.problems] == [f"line 2 {t}: a parcel of POST, not of SWIFT"]
    report = run(floor, mapped, data, courier="post")
    assert report.counts["imported"] == 1 and status(floor, number) == "delivered"
    with floor.read() as s:
        assert s.scalar(select(TrackingEvent.raw_status)) == "Doręczono"


def test_json_lines_and_a_time_without_offset_read_in_the_warehouses_zone(floor, settings) -> None:
    _, [t] = shipped(floor, settings, ("SKU-00001", 1), tote="T-0901")
    data = (f'{{"tracking_no": "{t}", "status": "in_transit", "at": "2026-11-23T10:00:00"}}\n'
            "\n"
            "not json\n").encode()  # fmt: skip
    report = run(floor, settings, data)
    assert [str(p) for p in report.problems] == ["line 3: not a JSON object (Expecting value)"]
    # Europe/Warsaw in November: UTC+1.
    assert parcel(floor, t)[:2] == ("in_transit", DAY + timedelta(hours=9))


def test_two_imports_of_one_file_at_once_store_each_event_and_deliver_once(floor, settings) -> None:
    from tests.services.floor.test_picking import _race

    number, [one, two] = shipped(floor, settings, ("SKU-00001", 1), ("SKU-00002", 1),
                                 tote="T-0901", parcels=2)  # fmt: skip
    data = csv(f"{one},in_transit,2026-11-23T08:00:00Z,,",
               f"{one},delivered,2026-11-23T10:00:00Z,,",
               f"{two},delivered,2026-11-23T11:00:00Z,,")  # fmt: skip
    results = _race(lambda: run(floor, settings, data), lambda: run(floor, settings, data))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert count(floor, TrackingEvent) == 3 and status(floor, number) == "delivered"
    with floor.read() as s:
        delivered = s.scalar(select(func.count()).select_from(OrderEvent)
                             .where(OrderEvent.to_status == "delivered"))  # fmt: skip
        mails = s.scalar(select(func.count()).select_from(OutboxMessage)
                         .where(OutboxMessage.event == "delivered"))  # fmt: skip
    assert (delivered, mails) == (1, 1)
    assert sorted(len(r.delivered) for r in results) == [0, 1]  # type: ignore[union-attr]


def test_the_delivered_mail_tells_the_day_the_courier_delivered(floor, settings) -> None:
    from picker.services.notify.compose import letter_for, render_mail

    number, [t] = shipped(floor, settings, ("SKU-00001", 1), tote="T-0901")
    run(floor, settings, csv(f"{t},delivered,2026-11-25T10:00:00Z,,"))
    with floor.read() as s:
        letter = letter_for(s, number, "delivered", settings, at=DAY + timedelta(days=9))
    mail = render_mail(letter, settings)
    assert mail.subject == f"Your order 0901 was delivered [{number}]"
    assert "delivered your order 0901 on November 25, 2026" in mail.text and t in mail.text
