"""Tracking-number schemes: published check digits, every scheme's numbers, capacity, set-up."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from picker.domain.tracking import (
    WARN_AT,
    RangeExhausted,
    Scheme,
    TrackingError,
    is_valid_mod10,
    is_valid_s10,
    s10_check_digit,
    s10_number,
    usage_warning,
    warn_from,
)

POST = Scheme("s10", "EE", "PL")
SWIFT = Scheme("mod10", "73")
CITY = Scheme("range", "CR", range_start=500_000, range_end=999_999)
SCHEMES = [POST, SWIFT, CITY]


# --- check digits against published examples ------------------------------------------------


def test_s10_check_digit_matches_the_published_worked_example() -> None:
    # Wikipedia, "S10 (UPU standard)", check-digit section (after UPU S10): for 47312482,
    # S = 4*8 + 7*6 + 3*4 + 1*2 + 2*3 + 4*5 + 8*9 + 2*7 = 200, C = 11 - (200 mod 11) = 9.
    assert s10_check_digit("47312482") == 9
    scheme = Scheme("s10", "RR", "GB")
    assert scheme.is_valid("RR473124829GB")
    assert not scheme.is_valid("RR473124828GB")


def test_s10_check_digit_follows_the_published_rules_for_10_and_11() -> None:
    # Same source: "If C = 10, change to C = 0; if C = 11, change to C = 5".
    assert s10_check_digit("00000008") == 0  # S = 56, 56 mod 11 = 1, C = 10 -> 0
    assert s10_check_digit("00000000") == 5  # S = 0, C = 11 -> 5


@pytest.mark.parametrize(
    ("scheme", "index", "number"),
    [
        # GS1 Sweden, "Så beräknas kontrollsiffran": 730001100001 -> check digit 7.
        (Scheme("mod10", "7300011", width=5), 0, "7300011000017"),
        # GS1 India, "How to calculate the Check Digit": 890400021003 -> check digit 7.
        (Scheme("mod10", "8904000", width=5), 21002, "8904000210037"),
        # GS1 Hong Kong check digit calculator example: 629104150021 -> check digit 3.
        (Scheme("mod10", "6291041", width=5), 50020, "6291041500213"),
    ],
)
def test_mod10_check_digit_matches_published_gs1_examples(
    scheme: Scheme, index: int, number: str
) -> None:
    assert scheme.number(index) == number
    assert scheme.is_valid(number)
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert not scheme.is_valid(wrong) and not is_valid_mod10(wrong)


# --- each demo courier's sequence -----------------------------------------------------------


def test_each_scheme_starts_where_the_demo_floor_starts() -> None:
    assert POST.number(0) == "EE000000014PL" == s10_number("EE", 1, "PL")
    assert SWIFT.number(0) == "73000000000013"
    assert CITY.number(0) == "CR500000"
    assert CITY.number(1) == "CR500001"


def test_capacity_and_the_last_number_of_each_scheme() -> None:
    assert POST.capacity == 99_999_999
    assert POST.number(POST.capacity - 1) == "EE999999995PL"
    assert SWIFT.capacity == 10**11 - 1
    assert SWIFT.number(SWIFT.capacity - 1) == "73999999999999"
    assert CITY.capacity == 500_000
    assert CITY.number(CITY.capacity - 1) == "CR999999"
    assert Scheme("range", "X", range_start=7, range_end=7).capacity == 1


def test_the_last_number_of_each_length_a_scheme_gives() -> None:
    assert POST.last_of_each_length() == ("EE999999995PL",)
    assert SWIFT.last_of_each_length() == ("73999999999999",)
    assert CITY.last_of_each_length() == ("CR999999",)
    # A range written without leading zeros: its first numbers are shorter than its later ones.
    grows = Scheme("range", "1Z999AA1", range_start=1_000, range_end=12_345_678)
    assert grows.last_of_each_length() == (
        "1Z999AA19999", "1Z999AA199999", "1Z999AA1999999", "1Z999AA19999999", "1Z999AA112345678",
    )  # fmt: skip
    assert Scheme("range", "X", range_start=0, range_end=0).last_of_each_length() == ("X0",)


@pytest.mark.parametrize("scheme", SCHEMES, ids=lambda s: s.kind)
def test_no_number_beyond_capacity_and_the_refusal_names_the_range(scheme: Scheme) -> None:
    with pytest.raises(RangeExhausted, match=re.escape(scheme.span())) as refused:
        scheme.number(scheme.capacity)
    assert "ask the courier for a new range" in str(refused.value)
    with pytest.raises(TrackingError, match="0 or more"):
        scheme.number(-1)


def test_exhausted_refusal_names_the_courier_and_whom_to_ask() -> None:
    message = str(RangeExhausted.of(CITY, "CITY", "CityRun Couriers"))
    assert message == (
        "CITY tracking range CR500000 to CR999999 is used up (500,000 of 500,000): "
        "ask CityRun Couriers for a new range"
    )


@pytest.mark.parametrize("scheme", SCHEMES, ids=lambda s: s.kind)
@given(data=st.data())
def test_every_number_is_valid_and_matches_its_pattern(scheme: Scheme, data: st.DataObject) -> None:
    index = data.draw(
        st.one_of(
            st.integers(0, scheme.capacity - 1),
            st.sampled_from([0, 1, 9, 10, warn_from(scheme.capacity), scheme.capacity - 1]),
        )
    )
    number = scheme.number(index)
    assert scheme.is_valid(number)
    assert re.fullmatch(scheme.pattern(), number)
    assert re.match(scheme.pattern(), number)  # anchored: the router may use match or search
    assert not re.search(scheme.pattern(), f"X{number}")
    assert not re.search(scheme.pattern(), f"{number}9")


@given(index=st.integers(0, SWIFT.capacity - 1), position=st.integers(2, 12), by=st.integers(1, 9))
def test_a_mistyped_mod10_digit_is_caught_by_its_check_digit(
    index: int, position: int, by: int
) -> None:
    number = SWIFT.number(index)
    digit = (int(number[position]) + by) % 10
    mistyped = number[:position] + str(digit) + number[position + 1 :]
    assert re.fullmatch(SWIFT.pattern(), mistyped)  # the router still sees a parcel…
    assert not SWIFT.is_valid(mistyped)  # …whose check digit calls it a misread


@given(index=st.integers(0, POST.capacity - 1), by=st.integers(1, 9))
def test_an_s10_number_with_a_wrong_check_digit_is_not_valid(index: int, by: int) -> None:
    number = POST.number(index)
    wrong = number[:10] + str((int(number[10]) + by) % 10) + number[11:]
    assert re.fullmatch(POST.pattern(), wrong)
    assert not POST.is_valid(wrong) and not is_valid_s10(wrong)


def test_a_number_of_another_courier_or_outside_the_range_is_not_this_schemes() -> None:
    assert not POST.is_valid(s10_number("EE", 1, "DE"))  # another country's post
    assert not POST.is_valid(s10_number("RR", 1, "PL"))  # another service
    assert not SWIFT.is_valid(Scheme("mod10", "74").number(0))
    assert not SWIFT.is_valid(SWIFT.number(0)[:-2] + SWIFT.number(0)[-1])  # a digit short
    assert not CITY.is_valid("CR499999") and not CITY.is_valid("CR1000000")
    assert not CITY.is_valid("CR0500000")  # range numbers are written without leading zeros
    assert not CITY.is_valid("CR") and not CITY.is_valid("CR5OOOOO")
    assert not CITY.is_valid("CR５00000")  # full-width digits: no scanner sends them


def test_patterns_of_the_demo_couriers() -> None:
    assert POST.pattern() == r"^EE\d{9}PL$"
    assert SWIFT.pattern() == r"^73\d{12}$"
    assert CITY.pattern() == r"^CR\d{6}$"
    assert Scheme("range", "A.", range_start=5, range_end=1200).pattern() == r"^A\.\d{1,4}$"


# --- setting a scheme up --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scheme", "message"),
    [
        (Scheme("ups", "1Z"), "tracking scheme 'ups' is unknown"),
        (Scheme("s10", "ee", "PL"), "S10 service indicator 'ee' must be two capital letters"),
        (Scheme("s10", "EEE", "PL"), "S10 service indicator 'EEE'"),
        (Scheme("s10", "EE"), "S10 country None must be two capital letters"),
        (Scheme("s10", "EE", "POL"), "S10 country 'POL' must be two capital letters"),
        (Scheme("mod10", "7A"), "mod10 prefix '7A' must be digits"),
        (Scheme("mod10", "73", width=0), "mod10 serial width 0 must be 1 or more"),
        (Scheme("range", "CR", range_start=1), "needs both a range start and a range end"),
        (Scheme("range", "CR", range_end=9), "needs both a range start and a range end"),
        (Scheme("range", "CR", range_start=9, range_end=1), "range start 9 is after range end 1"),
        (Scheme("range", "CR", range_start=-1, range_end=1), "range start -1 must be 0 or more"),
    ],
)
def test_a_broken_scheme_is_refused_in_words(scheme: Scheme, message: str) -> None:
    with pytest.raises(TrackingError, match=re.escape(message)):
        scheme.validate()
    with pytest.raises(TrackingError, match=re.escape(message)):
        scheme.number(0)
    assert message in scheme.describe()


def test_good_schemes_validate_and_describe_their_range() -> None:
    for scheme in SCHEMES:
        scheme.validate()
    assert CITY.describe() == "range CR500000 to CR999999"
    assert Scheme("mod10", "").number(0) == "000000000017"  # no prefix is allowed


# --- the warning ----------------------------------------------------------------------------


def test_warning_starts_exactly_at_ninety_percent() -> None:
    assert WARN_AT == 0.9
    assert warn_from(500_000) == 450_000
    assert warn_from(10) == 9 and warn_from(11) == 10  # 9.9 numbers: the 10th reaches 90%
    assert usage_warning(449_999, 500_000, "CITY", "CityRun Couriers") is None
    assert usage_warning(450_000, 500_000, "CITY", "CityRun Couriers") == (
        "CITY tracking range 90% used (450,000 of 500,000): ask CityRun Couriers for a new range"
    )
    assert "99% used (499,999 of 500,000)" in (
        usage_warning(499_999, 500_000, "CITY", "CityRun Couriers") or ""
    )


# --- blocks a courier gives ----------------------------------------------------------------


def test_an_s10_block_numbers_from_its_first_serial_to_its_last() -> None:
    block = Scheme("s10", "RR", "PL", range_start=47312482, range_end=47312491)
    assert block.capacity == 10
    assert block.number(0) == "RR473124829PL"  # the published worked example's serial
    assert block.number(9)[2:10] == "47312491"
    with pytest.raises(RangeExhausted, match="RR473124829PL to RR"):
        block.number(10)


def test_a_mod10_block_and_length_give_numbers_of_that_length() -> None:
    block = Scheme("mod10", "7300011", range_start=1, range_end=99, width=5)
    assert block.number(0) == "7300011000017"
    assert block.capacity == 99


@pytest.mark.parametrize(
    ("scheme", "words"),
    [
        (Scheme("s10", "RR", "PL", range_start=0), "s10 serials run from 1 to 99999999"),
        (Scheme("s10", "RR", "PL", range_end=100_000_000), "s10 serials run from 1 to 99999999"),
        (Scheme("s10", "RR", "PL", range_start=9, range_end=3), "range start 9 is after"),
        (Scheme("mod10", "73", range_end=10**11), "mod10 serials run from 1 to 99999999999"),
    ],
)
def test_a_block_outside_its_scheme_is_refused_in_words(scheme: Scheme, words: str) -> None:
    with pytest.raises(TrackingError, match=words):
        scheme.validate()
