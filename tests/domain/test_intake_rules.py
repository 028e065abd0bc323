"""Validation and reservation planning: pure rules, no database."""

from datetime import UTC, datetime
from decimal import Decimal

from picker.domain.intake import Address, IncomingLine, IncomingOrder
from picker.domain.reservation import BinStock, Need, plan_reservation
from picker.domain.validation import fixable_reasons, record_problems


def _order(*lines: tuple[str, int]) -> IncomingOrder:
    return IncomingOrder(
        channel="shop", shop_order_no="1", customer_name="A", customer_email="",
        ship=Address("A", "S 1", "", "00-001", "W", "", "PL", ""), shipping_code="x",
        shipping_title="", currency="PLN", total=Decimal(1), cod=False, paid=True,
        payment_state="paid", placed_at=datetime(2026, 11, 22, tzinfo=UTC),
        lines=tuple(IncomingLine(sku, "n", q, Decimal(1)) for sku, q in lines),
    )  # fmt: skip


def test_problems_in_the_record_name_the_line_and_mark_it_unstorable() -> None:
    problems, bad = record_problems(_order(("A", 1), ("B", 0), ("", 2), ("C", 10_001)))
    assert problems == [
        "line 2 (B): quantity 0 is not positive",
        "line 3: no SKU",
        "line 4 (C): quantity 10001 is more than 10000",
    ]
    assert bad == {1, 3}
    assert record_problems(_order()) == (["no order lines"], set())


def test_every_fixable_reason_is_listed_together() -> None:
    reasons = fixable_reasons(
        skus=["A", "Z", "Y", "Z"], known_skus={"A": 1}, name="", street="S", city="",
        postal_code="1", country="PL", shipping_known=False, shipping_method="teleport",
        paid=False, cod=False, payment_state="refunded",
    )  # fmt: skip
    assert reasons == [
        "unknown SKU: Y, Z",
        "address incomplete: no name, no city",
        "unknown shipping method: 'teleport'",
        "not paid (refunded)",
    ]


def test_a_country_must_be_two_capital_letters_and_cod_counts_as_payment() -> None:
    reasons = fixable_reasons(
        skus=["A"], known_skus={"A": 1}, name="N", street="S", city="C", postal_code="1",
        country="Poland", shipping_known=True, shipping_method="x", paid=False, cod=True,
        payment_state="pending",
    )  # fmt: skip
    assert reasons == ["address: country 'Poland' is not a two-letter code"]


def test_one_bin_with_enough_wins_over_a_split_even_later_in_the_walk() -> None:
    stock = {1: [BinStock(10, 100, 1, 2), BinStock(11, 101, 2, 1), BinStock(12, 102, 3, 5)]}
    plan = plan_reservation([Need(1, 1, "A", 4)], stock)
    assert [(t.bin_id, t.quantity) for t in plan.takes] == [(102, 4)]


def test_a_split_uses_the_fewest_bins_and_comes_back_in_walking_order() -> None:
    stock = {1: [BinStock(10, 100, 1, 2), BinStock(11, 101, 2, 3), BinStock(12, 102, 3, 6)]}
    plan = plan_reservation([Need(1, 1, "A", 8)], stock)
    assert [(t.bin_id, t.quantity) for t in plan.takes] == [(101, 2), (102, 6)]


def test_two_lines_of_one_product_share_what_there_is_and_short_is_all_or_nothing() -> None:
    stock = {1: [BinStock(10, 100, 1, 3)], 2: [BinStock(20, 200, 5, 9)]}
    ok = plan_reservation([Need(1, 1, "A", 2), Need(2, 1, "A", 1), Need(3, 2, "B", 1)], stock)
    assert ok.complete and sum(t.quantity for t in ok.takes if t.stock_id == 10) == 3
    short = plan_reservation([Need(1, 1, "A", 2), Need(2, 1, "A", 2), Need(3, 2, "B", 1)], stock)
    assert short.short == ("A",) and short.takes == ()
