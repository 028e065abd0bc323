"""Returns in the domain: conditions by scan, and what the customer gets back."""

from __future__ import annotations

from decimal import Decimal

import pytest

from picker.domain.returns import (
    CONDITION_COMMANDS,
    QUARANTINE,
    Condition,
    RefundLine,
    UnknownCondition,
    exchange_refund,
    is_rma_number,
    parse_condition,
    refund,
    rma_number,
    shipping_paid,
)


def test_each_condition_has_its_command_and_words_are_read_too() -> None:
    assert set(CONDITION_COMMANDS.values()) == set(Condition)
    assert parse_condition("CMD-DAMAGED") is Condition.DAMAGED
    assert parse_condition(" resell ") is Condition.RESELL
    assert parse_condition("defective") is Condition.DEFECT
    with pytest.raises(UnknownCondition, match="'shiny' is not a condition"):
        parse_condition("shiny")
    assert {Condition.DAMAGED, Condition.DEFECT, Condition.INCOMPLETE} == QUARANTINE


def test_rma_numbers() -> None:
    assert rma_number(12) == "RMA-000012" and rma_number(1234567) == "RMA-1234567"
    assert is_rma_number("rma-000012") and not is_rma_number("RMA-12")


LINES = [RefundLine(Decimal("10.00"), 2), RefundLine(Decimal("5.50"), 1)]


@pytest.mark.parametrize(
    ("policy", "full", "expected"),
    [
        ("never", True, (Decimal("25.50"), Decimal("0"))),
        ("full_return", False, (Decimal("25.50"), Decimal("0"))),
        ("full_return", True, (Decimal("30.49"), Decimal("4.99"))),
        ("always", False, (Decimal("30.49"), Decimal("4.99"))),
    ],
)
def test_the_refund_is_the_lines_prices_and_shipping_as_the_policy_says(
    policy: str, full: bool, expected: tuple[Decimal, Decimal]
) -> None:
    assert refund(LINES, shipping=Decimal("4.99"), policy=policy, full_return=full) == expected


def test_nothing_of_ours_back_refunds_no_shipping_even_always() -> None:
    assert refund([], shipping=Decimal("4.99"), policy="always", full_return=False) == (0, 0)


def test_shipping_paid_is_the_total_less_the_lines_never_below_zero() -> None:
    lines = [(Decimal("10.00"), 2), (Decimal("5.50"), 1)]
    assert shipping_paid(Decimal("30.49"), lines) == Decimal("4.99")
    assert shipping_paid(Decimal("20.00"), lines) == 0  # a discount, not negative shipping


def test_an_exchange_refunds_or_asks_for_the_difference() -> None:
    assert exchange_refund(Decimal("30"), Decimal("20")) == (Decimal("10"), 0)
    assert exchange_refund(Decimal("20"), Decimal("30")) == (0, Decimal("10"))
    assert exchange_refund(Decimal("20"), Decimal("20")) == (0, 0)
