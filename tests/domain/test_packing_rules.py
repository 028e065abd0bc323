"""Packing rules: the line a scan verifies, keyed weights, the weight check, what a close needs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from picker.domain.packing import (
    MAX_PARCEL_G,
    CheckLine,
    ParcelState,
    check_count,
    match_line,
    missing_for_close,
    parse_weight,
    weight_problem,
)
from picker.domain.picking import WrongScan


def line(line_id: int, sku: str, quantity: int, verified: int = 0) -> CheckLine:
    return CheckLine(
        line_id, line_id, line_id, sku, f"{sku} name", frozenset({f"400000000000{line_id}"}),
        quantity, verified, 0, 100, False,
    )  # fmt: skip


def test_a_scan_verifies_its_products_first_line_with_units_left() -> None:
    lines = [line(1, "MUG", 1, verified=1), line(2, "CUP", 2), line(3, "MUG", 2)]
    assert match_line(lines, ["MUG"], "MUG", "PO-1").line_id == 3
    assert match_line(lines, ["4000000000002"], "4000000000002", "PO-1").line_id == 2


def test_an_item_not_in_the_order_and_one_too_many_are_refused_by_name() -> None:
    lines = [line(1, "MUG", 2, verified=2)]
    with pytest.raises(WrongScan, match="5901234123457 is not in PO-1"):
        match_line(lines, ["5901234123457"], "5901234123457", "PO-1")
    with pytest.raises(WrongScan, match="MUG: all 2 are verified already"):
        match_line(lines, ["MUG"], "MUG", "PO-1")


def test_a_count_is_one_up_to_what_is_left() -> None:
    mug = line(1, "MUG", 5, verified=2)
    check_count(mug, 3)
    with pytest.raises(WrongScan, match="Only 3 of MUG left to verify; 4 is too many"):
        check_count(mug, 4)
    with pytest.raises(WrongScan, match="1 or more"):
        check_count(mug, 0)


@pytest.mark.parametrize(
    ("keyed", "grams"),
    [("1250", 1250), ("1250 g", 1250), ("1250G", 1250), ("1.25 kg", 1250), ("1,25kg", 1250),
     ("1.25", 1250), ("2kg", 2000), (" 80 ", 80), ("0.0804 kg", 80)],
)  # fmt: skip
def test_weights_are_keyed_in_grams_or_kilograms(keyed: str, grams: int) -> None:
    assert parse_weight(keyed) == grams


@pytest.mark.parametrize(
    ("keyed", "problem"),
    [("", "is not a weight"), ("abc", "is not a weight"), ("12 lb", "is not a weight"),
     ("-5", "is not a weight"), ("0", "weighs something"), ("0.0001 kg", "weighs something"),
     ("250000", "more than a parcel may weigh")],
)  # fmt: skip
def test_a_weight_that_cannot_be_is_refused_in_words(keyed: str, problem: str) -> None:
    with pytest.raises(WrongScan, match=problem):
        parse_weight(keyed)


@given(st.text(max_size=20))
def test_any_keyed_text_gives_a_weight_in_range_or_a_refusal(text: str) -> None:
    try:
        grams = parse_weight(text)
    except WrongScan:
        return
    assert 1 <= grams <= MAX_PARCEL_G


def test_a_parcel_may_be_lighter_only_within_the_tolerance() -> None:
    assert weight_problem(900, 1000, 10.0, 30) is None  # 10% of 1000 = 100 allowed
    assert "too light" in (weight_problem(899, 1000, 10.0, 30) or "")
    assert weight_problem(170, 200, 10.0, 30) is None  # the 30 g floor beats 10% of 200
    assert weight_problem(169, 200, 10.0, 30) is not None
    assert weight_problem(5000, 1000, 10.0, 30) is None  # heavier is not refused (padding)


def test_what_a_parcel_still_needs_is_said_in_order() -> None:
    assert missing_for_close(ParcelState(0, None, None), False) == [
        "scan the items for it",
        "scan the box",
        "key the weight",
        "confirm the address",
    ]
    assert missing_for_close(ParcelState(2, "BOX-M", 900), True) == []
