"""The outbox's pure rules: which addresses a mail can go to, when a waiting mail is out of
date, and how long a retry waits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from picker.domain.notify import (
    NO_ADDRESS,
    NOT_AN_ADDRESS,
    backoff,
    check_mail_address,
    message_id,
    out_of_date,
)


@pytest.mark.parametrize(
    ("given", "sent_to"),
    [
        (" anna@example.com ", "anna@example.com"),
        ("x@bücher.de", "x@xn--bcher-kva.de"),
        ("x@BÜCHER.de", "x@xn--bcher-kva.de"),
        ("info@例え.テスト", "info@xn--r8jz45g.xn--zckzah"),
    ],
)
def test_an_address_is_sent_to_with_its_domain_in_ascii(given: str, sent_to: str) -> None:
    assert check_mail_address(given) == (sent_to, None)


@pytest.mark.parametrize("given", ["müller@example.de", "王小明@example.cn", "zoë@bücher.de"])
def test_non_ascii_before_the_at_is_refused_saying_so(given: str) -> None:
    assert check_mail_address(given) == (
        None,
        f"the address {given} has non-ASCII letters before the @, which this mail server "
        "setup cannot send",
    )


@pytest.mark.parametrize(
    "given",
    ["no-at-sign", "x@example.com\r\nBcc: all@example.com", "bad address\nBcc: x@y.z",
     "a@b@c.de", "x@bü..de", "x@-example.com", "x@" + "a" * 250 + ".de", "<x@y.z>"],
)  # fmt: skip
def test_what_is_no_address_is_refused(given: str) -> None:
    assert check_mail_address(given) == (None, NOT_AN_ADDRESS)


@pytest.mark.parametrize("given", [None, "", "   "])
def test_no_address_is_said_to_be_none(given: str | None) -> None:
    assert check_mail_address(given) == (None, NO_ADDRESS)


@pytest.mark.parametrize(
    ("event", "status", "reasons", "why"),
    [
        ("accepted", "packed", (), None),
        ("accepted", "on_hold", ("short: SKU-1",), None),
        ("accepted", "cancelled", (),
         "the order is cancelled now: the 'accepted' mail is out of date"),
        ("accepted", "executed", (),
         "the order is shipped now: the 'accepted' mail is out of date"),
        ("on_hold_customer", "on_hold", ("address incomplete: no street",), None),
        ("on_hold_customer", "unhandled", (),
         "the order is no longer on hold: the 'on_hold_customer' mail is out of date"),
        ("on_hold_customer", "on_hold", ("short: SKU-1",),
         "the order is no longer held for anything the customer can fix: the "
         "'on_hold_customer' mail is out of date"),
        ("on_hold_customer", "cancelled", ("address incomplete: no street",),
         "the order is cancelled now: the 'on_hold_customer' mail is out of date"),
        ("shipped", "delivered", (), None),
        ("cancelled", "cancelled", (), None),
    ],
)  # fmt: skip
def test_a_mail_is_out_of_date_once_the_order_moved_past_its_news(
    event: str, status: str, reasons: tuple[str, ...], why: str | None
) -> None:
    assert out_of_date(event, status, reasons) == why


def test_a_message_id_is_the_rows_own_down_to_the_microsecond_it_was_queued() -> None:
    at = datetime(2026, 11, 22, 9, 30, 0, 123456, tzinfo=UTC)
    one = message_id("7/shipped/email/3", "shop.example", row_id=12, created_at=at)
    assert one == message_id("7/shipped/email/3", "shop.example", row_id=12,
                             created_at=at.astimezone(timezone(timedelta(hours=1))))  # fmt: skip
    assert one.startswith("<") and one.endswith(".outbox@shop.example>")
    later = at + timedelta(microseconds=1)
    assert one != message_id("7/shipped/email/3", "shop.example", row_id=12, created_at=later)
    assert one != message_id("7/shipped/email/3", "shop.example", row_id=13, created_at=at)


def test_a_retry_waits_30_s_doubling_to_at_most_an_hour() -> None:
    waits = [backoff(n).total_seconds() for n in range(1, 10)]
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert backoff(8) == timedelta(hours=1) and backoff(1000) == timedelta(hours=1)
