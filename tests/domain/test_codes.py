import pytest

from picker.domain.ean import is_valid_gtin, with_check_digit
from picker.domain.pickpath import (
    BadBinCode,
    BinAddress,
    parse_bin_code,
    pick_sequence,
    walking_order,
)
from picker.domain.tracking import (
    TrackingError,
    is_valid_mod10,
    is_valid_s10,
    mod10_number,
    s10_number,
)


def test_ean13_check_digit_of_a_known_code() -> None:
    assert with_check_digit("400638133393") == "4006381333931"
    assert is_valid_gtin("4006381333931")
    assert not is_valid_gtin("4006381333935")
    assert not is_valid_gtin("40063813339")


def test_upu_s10_check_digit_of_a_published_example() -> None:
    # The UPU S10 standard's worked example: serial 47312482 has check digit 9.
    assert s10_number("RR", 47312482, "GB") == "RR473124829GB"
    assert is_valid_s10("RR473124829GB")
    assert not is_valid_s10("RR473124828GB")


def test_s10_refuses_a_serial_out_of_range() -> None:
    with pytest.raises(TrackingError, match="out of range"):
        s10_number("EE", 100_000_000, "PL")


def test_mod10_numbers_carry_a_checked_digit() -> None:
    number = mod10_number("73", 42)
    assert number.startswith("7300000000042") and len(number) == 14
    assert is_valid_mod10(number)
    assert not is_valid_mod10(number[:-1] + str((int(number[-1]) + 1) % 10))


def test_walk_goes_up_odd_aisles_and_down_even_ones() -> None:
    bins = [BinAddress("A", aisle, bay, 1) for aisle in (1, 2) for bay in (1, 2, 3)]
    assert [b.code for b in walking_order(bins)] == [
        "A-01-01-1", "A-01-02-1", "A-01-03-1", "A-02-03-1", "A-02-02-1", "A-02-01-1",
    ]  # fmt: skip


def test_pick_sequence_sorts_like_the_walk_for_every_bin() -> None:
    bins = [
        BinAddress(z, a, b, lv)
        for z in ("A", "B", "AA") for a in (1, 2, 3, 12) for b in (1, 2, 9, 40) for lv in (1, 3)
    ]  # fmt: skip
    assert sorted(bins, key=pick_sequence) == walking_order(bins)
    assert pick_sequence(BinAddress("ZZ", 99, 1, 99)) < 2**31


def test_bin_codes_parse_into_their_parts_or_are_refused() -> None:
    assert parse_bin_code("C-04-06-3") == BinAddress("C", 4, 6, 3)
    for bad in ("C-04-06", "4-04-06-3", "C-x4-06-3", "C-04-06-3-1", "C-100-01-1", "ABC-01-01-1"):
        with pytest.raises(BadBinCode):
            parse_bin_code(bad)
