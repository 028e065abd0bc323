"""The remittance file reader and the COD money rules (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from picker.domain.cod import (
    CodProblem,
    RemittanceLine,
    RemittanceRefused,
    format_minor,
    from_minor,
    judge,
    read_remittance,
    to_minor,
)

HEADER = "tracking_no,amount,currency,remitted_at,reference\n"


def read(text: str) -> list[RemittanceLine]:
    return read_remittance(text.encode(), "remit.csv")


def test_amounts_are_counted_in_each_currencys_minor_units() -> None:
    assert to_minor(Decimal("1234"), "JPY") == 1234
    assert to_minor(Decimal("250000"), "VND") == 250000  # CLDR and ISO 4217: no minor unit
    assert to_minor(Decimal("12.34"), "EUR") == 1234
    assert to_minor(Decimal("1.234"), "KWD") == 1234
    with pytest.raises(ValueError):
        to_minor(Decimal("12.345"), "EUR")
    with pytest.raises(ValueError):
        to_minor(Decimal("0.5"), "JPY")
    assert from_minor(1234, "EUR") == Decimal("12.34")
    assert [format_minor(n, c) for n, c in ((1234, "EUR"), (5, "EUR"), (250000, "VND"),
            (1234, "JPY"))] == ["12.34", "0.05", "250000", "1234"]  # fmt: skip


def test_a_file_is_read_line_by_line_with_exact_amounts_and_utc_times() -> None:
    lines = read(
        "\ufeffTracking_No;Amount;Currency;Remitted_At;Reference\n"  # a spreadsheet's CSV
        "ee123456785pl;1234;jpy;2026-11-25;R-1\n"
        "\n"
        "EE123456799PL;250000.00;VND;2026-11-25T10:00:00+07:00;R-1\n"
        "EE123456802PL;12.3;EUR;2026-11-25T10:00:00Z;R-1\n"
    )
    assert [(x.line, x.tracking_no, x.amount_minor, x.currency, x.remitted_at) for x in lines] == [
        (2, "EE123456785PL", 1234, "JPY", datetime(2026, 11, 25, tzinfo=UTC)),
        (4, "EE123456799PL", 250000, "VND", datetime(2026, 11, 25, 3, tzinfo=UTC)),
        (5, "EE123456802PL", 1230, "EUR", datetime(2026, 11, 25, 10, tzinfo=UTC)),
    ]


def test_the_same_reference_and_tracking_number_twice_are_numbered() -> None:
    lines = read(HEADER + "EE1,1,EUR,2026-11-25,R-1\nEE1,1,EUR,2026-11-25,R-2\n"
                 "EE1,1,EUR,2026-11-25,R-1\n")  # fmt: skip
    assert [(x.reference, x.occurrence) for x in lines] == [("R-1", 1), ("R-2", 1), ("R-1", 2)]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "remit.csv is empty: the first line must name the columns"),
        ("tracking,amount,currency,remitted_at,reference\n", "has no column tracking_no"),
        (HEADER.rstrip() + ",amount\n", "names the column amount more than once"),
        (HEADER + "EE1,12.345,EUR,2026-11-25,R\n", "remit.csv:2: amount: '12.345' is not exact "
         "in EUR (2 decimals)"),
        (HEADER + "EE1,1234.5,JPY,2026-11-25,R\n", "amount: '1234.5' is not exact in JPY "
         "(no decimals)"),
        (HEADER + "EE1,\"1,234\",JPY,2026-11-25,R\n", "amount: '1,234' is not an amount"),
        (HEADER + "EE1,-5,JPY,2026-11-25,R\n", "amount: '-5' is not an amount"),
        (HEADER + "EE1,0,JPY,2026-11-25,R\n", "amount: '0' must be more than zero"),
        (HEADER + "EE1,,JPY,2026-11-25,R\n", "remit.csv:2: amount: missing"),
        (HEADER + "EE1,5,YEN,2026-11-25,R\n", "currency: 'YEN' is not a known ISO 4217"),
        (HEADER + "EE1,5,JPY,yesterday,R\n", "remitted_at: 'yesterday' is not an ISO 8601 date"),
        (HEADER + "EE1,5,JPY,2026-11-31,R\n", "remitted_at: '2026-11-31' is not an ISO 8601"),
        (HEADER + ",5,JPY,2026-11-25,R\n", "remit.csv:2: tracking_no: missing"),
        (HEADER + "EE1,5,JPY,0001-01-01T00:00+01:00,R\n", "remitted_at: '0001-01-01T00:00+01:00' "
         "is out of range"),
        (HEADER + "ß" * 21 + ",5,JPY,2026-11-25,R\n", "tracking_no: longer than 40 characters"),
        (HEADER + "EE\x1b[2J,5,JPY,2026-11-25,R\n", "tracking_no: 'EE\\x1b[2J' has control"),
        (HEADER + "EE1,5,JPY,2026-11-25,R,extra\n", "remit.csv:2: the line has 6 fields and "
         "the header 5"),
        (HEADER + 'EE1,5,JPY,2026-11-25,"R\n', "not a readable CSV file"),
    ],
)  # fmt: skip
def test_a_file_that_cannot_be_read_whole_is_refused_in_words(text: str, words: str) -> None:
    with pytest.raises(RemittanceRefused) as refused:
        read(text)
    assert words in str(refused.value)


def test_a_file_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(RemittanceRefused, match="not UTF-8 text"):
        read_remittance(HEADER.encode() + b"EE1,5,JPY,2026-11-25,R\xe9f\n", "remit.csv")


def test_a_line_settles_only_the_exact_amount_in_the_orders_currency() -> None:
    [line] = read(HEADER + "EE1,12.34,EUR,2026-11-25,R\n")
    assert judge(line, "EUR", 1234) is None
    assert judge(line, "EUR", 1235) is CodProblem.SHORT_PAID
    assert judge(line, "EUR", 1233) is CodProblem.OVER_PAID
    assert judge(line, "PLN", 1234) is CodProblem.CURRENCY
