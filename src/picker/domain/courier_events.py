"""Courier tracking events: a courier's status file read into events, with no I/O.

A courier reports what happened to our parcels in a file: CSV with the header
``tracking_no,status,at,location,detail``, or JSON lines, one object per line with the same
keys. The status is one of :class:`CourierStatus`, or the courier's own word for one, mapped in
``[couriers.CODE.statuses]`` of config.toml (any case). The time is ISO 8601 with its offset
(``2026-11-23T14:05:00+01:00``, or ``…Z``); a time written without one is read in the
warehouse's time zone (``[warehouse] timezone``), as a courier of the same country writes its
local time. Every line that cannot be read is an :class:`EventProblem` naming its line number
and tracking number; the rest of the file is still read.

Here: (this module, pure) the file's lines → :class:`RawEvent` or :class:`EventProblem`, and
a status word → :class:`CourierStatus`. The service (:mod:`picker.services.tracking`) looks up
the parcels and stores the events.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from enum import StrEnum


class CourierStatus(StrEnum):
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    FAILED_ATTEMPT = "failed_attempt"
    EXCEPTION = "exception"
    RETURNED_TO_SENDER = "returned_to_sender"


#: Where the parcel's journey ends: nothing more is expected of the courier.
FINAL = frozenset({CourierStatus.DELIVERED, CourierStatus.RETURNED_TO_SENDER})
#: How a parcel's state reads to a person (``order show``, the stale list).
WORDS: dict[CourierStatus, str] = {
    CourierStatus.IN_TRANSIT: "in transit",
    CourierStatus.OUT_FOR_DELIVERY: "out for delivery",
    CourierStatus.DELIVERED: "delivered",
    CourierStatus.FAILED_ATTEMPT: "failed attempt",
    CourierStatus.EXCEPTION: "exception",
    CourierStatus.RETURNED_TO_SENDER: "returned to sender",
}
#: Of two events at the same moment, the later step of the journey is the parcel's state.
RANK: dict[CourierStatus, int] = {s: i for i, s in enumerate(CourierStatus)}
RANK[CourierStatus.DELIVERED] = len(RANK)

COLUMNS = ("tracking_no", "status", "at", "location", "detail")
#: Longest values stored (the columns' widths); a longer one is a bad line, not cut.
LENGTHS = {"tracking_no": 40, "status": 100, "location": 200, "detail": 2000}


class EventFileRefused(ValueError):
    """The file as a whole cannot be read (not UTF-8 text, no CSV header): nothing imported."""


@dataclass(frozen=True, slots=True)
class RawEvent:
    """One line of a status file, read: its status still the courier's word."""

    line: int
    tracking_no: str
    raw_status: str
    at: datetime  # aware, UTC
    location: str | None
    detail: str | None


@dataclass(frozen=True, slots=True)
class EventProblem:
    """A line skipped, and why."""

    line: int
    tracking_no: str
    reason: str

    def __str__(self) -> str:
        tracking = f" {self.tracking_no}" if self.tracking_no else ""
        return f"line {self.line}{tracking}: {self.reason}"


def normalise_word(word: str) -> str:
    """A status word as it is compared: trimmed, any case, spaces and hyphens as ``_``."""
    return "_".join(word.strip().lower().replace("-", " ").split())


def courier_status(word: str, own_words: Mapping[str, str]) -> CourierStatus | None:
    """The status ``word`` names: one of ours (``Delivered``, ``out-for-delivery`` too), else
    the courier's own word as ``own_words`` (normalised word → our status) maps it; None
    when it is neither."""
    key = normalise_word(word)
    try:
        return CourierStatus(key)
    except ValueError:
        pass
    mapped = own_words.get(key)
    return CourierStatus(mapped) if mapped is not None else None


def parse_time(text: str, local: tzinfo) -> datetime:
    """An ISO 8601 time, to UTC; without an offset, read in ``local``. ValueError in words."""
    value = text.strip()
    if not value:
        raise ValueError("no time (at)")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):  # a date alone: the moment is not known
        raise ValueError(f"{value!r} is a date, not a time (write 2026-11-23T14:05:00+01:00)")
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 time (2026-11-23T14:05:00+01:00)") from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=local)
    return at.astimezone(UTC)


def read_events(data: bytes, *, local: tzinfo) -> Iterator[RawEvent | EventProblem]:
    """Each line of a status file, read (CSV or JSON lines, told apart by the first
    character). Raises :class:`EventFileRefused` when the file cannot be read at all."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EventFileRefused(
            f"not UTF-8 text (byte {exc.start + 1}); save the file as UTF-8"
        ) from None
    if text.lstrip()[:1] == "{":
        return _json_lines(text, local)
    return _csv_lines(text, local)


def _json_lines(text: str, local: tzinfo) -> Iterator[RawEvent | EventProblem]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield EventProblem(number, "", f"not a JSON object ({exc.msg})")
            continue
        if not isinstance(record, dict):
            yield EventProblem(number, "", "not a JSON object")
            continue
        yield _event(number, record, local)


def _csv_lines(text: str, local: tzinfo) -> Iterator[RawEvent | EventProblem]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    names = [normalise_word(h) for h in header or ()]
    missing = [c for c in COLUMNS[:3] if c not in names]
    if missing:
        raise EventFileRefused(
            f"the first line must name the columns {','.join(COLUMNS)} "
            f"({', '.join(missing)} missing)"
        )
    for row in reader:
        number = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(names):
            yield EventProblem(number, row[names.index("tracking_no")].strip()
                               if len(row) > names.index("tracking_no") else "",
                               f"{len(row)} fields, the header names {len(names)}")  # fmt: skip
            continue
        yield _event(number, dict(zip(names, row, strict=False)), local)


def _event(number: int, record: Mapping[str, object], local: tzinfo) -> RawEvent | EventProblem:
    def text(key: str) -> str | None:
        value = record.get(key)
        if value is None:
            return None
        return value.strip() if isinstance(value, str) else str(value)

    tracking = (text("tracking_no") or "").upper()
    shown = tracking if tracking.isprintable() and len(tracking) <= 40 else repr(tracking[:40])
    if not tracking:
        return EventProblem(number, "", "no tracking number (tracking_no)")
    for key, limit in LENGTHS.items():
        value = text(key)
        if value is not None and len(value) > limit:
            return EventProblem(number, shown, f"{key} is longer than {limit} characters")
    if not tracking.isprintable():
        return EventProblem(number, shown, "the tracking number has control characters")
    status = text("status") or ""
    if not status:
        return EventProblem(number, shown, "no status")
    try:
        at = parse_time(text("at") or "", local)
    except ValueError as exc:
        return EventProblem(number, shown, str(exc))
    return RawEvent(number, tracking, status, at, text("location") or None, text("detail") or None)
