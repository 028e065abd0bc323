"""Is an order fit for the floor? Every reason it is not, not only the first."""

from __future__ import annotations

import re
from collections.abc import Mapping

from picker.domain.intake import IncomingOrder

#: A line asking for more than this is a typo or an attack, not an order.
MAX_LINE_QUANTITY = 10_000
_COUNTRY = re.compile(r"[A-Z]{2}")


def record_problems(order: IncomingOrder) -> tuple[list[str], set[int]]:
    """What is wrong in the record as sent (cannot change by fixing anything on our side)."""
    problems: list[str] = []
    bad: set[int] = set()
    if not order.lines:
        problems.append("no order lines")
    for i, line in enumerate(order.lines):
        quantity = line.quantity
        if quantity <= 0:
            problems.append(f"{_line(i, line.sku)}: quantity {quantity} is not positive")
            bad.add(i)
        elif quantity > MAX_LINE_QUANTITY:
            problems.append(
                f"{_line(i, line.sku)}: quantity {quantity} is more than {MAX_LINE_QUANTITY}"
            )
            bad.add(i)
        if not line.sku:
            problems.append(f"line {i + 1}: no SKU")
    return problems, bad


def _line(index: int, sku: str) -> str:
    return f"line {index + 1} ({sku or 'no SKU'})"


def fixable_reasons(
    *,
    skus: list[str],
    known_skus: Mapping[str, object],
    name: str,
    street: str,
    city: str,
    postal_code: str,
    country: str,
    shipping_known: bool,
    shipping_method: str,
    paid: bool,
    cod: bool,
    payment_state: str,
) -> list[str]:
    """Reasons an order cannot go to the floor that a lead can fix (checked again on release)."""
    reasons: list[str] = []
    unknown = sorted({s for s in skus if s and s not in known_skus})
    if unknown:
        reasons.append("unknown SKU: " + ", ".join(unknown))
    missing = [
        label
        for label, value in (
            ("name", name),
            ("street", street),
            ("city", city),
            ("postal code", postal_code),
            ("country", country),
        )
        if not value.strip()
    ]
    if missing:
        reasons.append("address incomplete: no " + ", no ".join(missing))
    elif not _COUNTRY.fullmatch(country):
        reasons.append(f"address: country {country!r} is not a two-letter code")
    if not shipping_known:
        reasons.append(f"unknown shipping method: {shipping_method!r}")
    if not paid and not cod:
        reasons.append(f"not paid ({payment_state or 'no payment'})")
    return reasons
