"""Reading couriers' status files: CSV and JSON lines, times, statuses, bad lines by number."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from picker.domain.courier_events import (
    CourierStatus,
    EventFileRefused,
    EventProblem,
    RawEvent,
    courier_status,
    parse_time,
    read_events,
)

WARSAW = ZoneInfo("Europe/Warsaw")


def test_a_csv_file_is_read_line_by_line_with_line_numbers() -> None:
    data = ("\ufefftracking_no,status,at,location,detail\n"
            "rr123456785pl,Delivered,2026-11-23T14:05:00+01:00,Kraków,\"signed, J.\"\n"
            "\n"
            ",in_transit,2026-11-23T08:00:00Z,,\n").encode()  # fmt: skip
    first, second = read_events(data, local=WARSAW)
    at = datetime(2026, 11, 23, 13, 5, tzinfo=UTC)
    assert first == RawEvent(2, "RR123456785PL", "Delivered", at, "Kraków", "signed, J.")
    assert second == EventProblem(4, "", "no tracking number (tracking_no)")


def test_json_lines_carry_the_same_keys_and_bad_lines_are_named() -> None:
    data = b'{"tracking_no": "A1", "status": "exception", "at": "2026-11-23T08:00:00Z"}\n[1]\n'
    event, problem = read_events(data, local=WARSAW)
    assert isinstance(event, RawEvent) and event.location is None and event.line == 1
    assert str(problem) == "line 2: not a JSON object"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "no time"),
        ("2026-11-23", "is a date, not a time"),
        ("23/11/2026 14:05", "is not an ISO 8601 time"),
    ],
)
def test_a_time_that_is_not_a_moment_is_refused_in_words(text, words) -> None:
    with pytest.raises(ValueError, match=words):
        parse_time(text, WARSAW)


def test_a_time_without_offset_is_the_warehouses_local_time() -> None:
    assert parse_time("2026-07-01T12:00:00", WARSAW) == datetime(2026, 7, 1, 10, tzinfo=UTC)
    assert parse_time("2026-07-01T12:00:00Z", WARSAW) == datetime(2026, 7, 1, 12, tzinfo=UTC)


def test_ours_are_known_in_any_case_and_a_couriers_words_map_to_them() -> None:
    assert courier_status("Out-for-delivery", {}) is CourierStatus.OUT_FOR_DELIVERY
    assert courier_status(" RETURNED TO SENDER ", {}) is CourierStatus.RETURNED_TO_SENDER
    words = {"doręczono": "delivered", "zwrot_do_nadawcy": "returned_to_sender"}
    assert courier_status("Doręczono", words) is CourierStatus.DELIVERED
    assert courier_status("Zwrot do nadawcy", words) is CourierStatus.RETURNED_TO_SENDER
    assert courier_status("Zagubiono", words) is None


def test_a_file_that_cannot_be_read_at_all_is_refused_whole() -> None:
    with pytest.raises(EventFileRefused, match="not UTF-8"):
        read_events(b"tracking_no,status,at\n\xff\n", local=WARSAW)
    with pytest.raises(EventFileRefused, match="status, at missing"):
        list(read_events(b"tracking_no,state\nA,B\n", local=WARSAW))


def test_too_long_values_and_extra_fields_are_bad_lines_not_cut() -> None:
    long_place = "x" * 201
    data = (f"tracking_no,status,at,location,detail\n"
            f"A1,delivered,2026-11-23T08:00:00Z,{long_place},\n"
            f"A2,delivered,2026-11-23T08:00:00Z,,,extra\n").encode()  # fmt: skip
    one, two = read_events(data, local=WARSAW)
    assert str(one) == "line 2 A1: location is longer than 200 characters"
    assert str(two) == "line 3 A2: 6 fields, the header names 5"
