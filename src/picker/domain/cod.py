"""Cash on delivery settled: a courier's remittance file read, and the money rules.

A courier collects the cash of a COD parcel on the doorstep and pays it to us later, in a batch,
with a remittance file: CSV with the columns ``tracking_no, amount, currency, remitted_at,
reference`` (comma, semicolon or tab separated, UTF-8). Every value of every line must be readable
or the whole file is refused (:class:`RemittanceRefused`, nothing imported): a missing column, an
amount that is not an exact number of the currency's minor units, an unknown currency code, a
date that is not ISO 8601, an empty tracking number or reference.

Amounts are counted in the currency's minor units, as integers, so no sum is ever rounded. The
minor unit is Babel's (CLDR's) currency precision, the one intake rounds order amounts to: EUR 2
(12.34 EUR is 1234 cents), JPY 0, VND 0 (ISO 4217 gives the dong no minor unit either), KWD 3.
Where CLDR and ISO 4217 disagree (HUF: ISO 2, CLDR 0) CLDR wins, because the order's amount was
rounded so at intake. ``250000.00`` VND is read as 250,000 (an exact whole number); ``12.345``
EUR is refused (not a whole number of cents).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from babel.numbers import get_currency_precision, is_currency

#: The columns of a remittance file, in the order a courier is asked to write them.
COLUMNS = ("tracking_no", "amount", "currency", "remitted_at", "reference")
#: The widths of the stored values (``cod_remittances``), checked while reading.
MAX_TRACKING = 40
MAX_REFERENCE = 64
#: More than this in minor units is a typing slip, not a parcel's cash (and fits BIGINT).
MAX_MINOR = 10**15

_AMOUNT = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_CURRENCY = re.compile(r"[A-Z]{3}")
_SEPARATORS = (",", ";", "\t")


class RemittanceRefused(Exception):
    """A remittance file refused whole: nothing was imported; the message says why and where."""


class CodProblem(StrEnum):
    """Why a remittance line did not settle its parcel; the line is kept for the lead."""

    SHORT_PAID = "short_paid"
    OVER_PAID = "over_paid"
    CURRENCY = "currency"
    UNKNOWN = "unknown"
    OTHER_COURIER = "other_courier"
    VOIDED = "voided"
    NOT_COD = "not_cod"
    NOT_DELIVERED = "not_delivered"
    DUPLICATE = "duplicate"

    @property
    def words(self) -> str:
        return _PROBLEM_WORDS[self]


_PROBLEM_WORDS = {
    CodProblem.SHORT_PAID: "short-paid",
    CodProblem.OVER_PAID: "over-paid",
    CodProblem.CURRENCY: "other currency",
    CodProblem.UNKNOWN: "unknown tracking number",
    CodProblem.OTHER_COURIER: "another courier's parcel",
    CodProblem.VOIDED: "voided parcel",
    CodProblem.NOT_COD: "no cash on delivery",
    CodProblem.NOT_DELIVERED: "not delivered yet",
    CodProblem.DUPLICATE: "duplicate",
}


@dataclass(frozen=True)
class RemittanceLine:
    """One line of a remittance file, read and checked for form (not yet against the orders)."""

    line: int  # where the record starts in the file, 1-based
    tracking_no: str
    amount_minor: int
    currency: str
    remitted_at: datetime
    reference: str
    #: The how-many-th line of the file with this (reference, tracking number): 1, then 2 for
    #: the same payment written twice. Part of the line's import key, so the same file imported
    #: again finds every line already there, and a line twice in a file is kept twice.
    occurrence: int = 1


# --- money -----------------------------------------------------------------------------------


def precision(currency: str) -> int:
    """How many decimals the currency's minor unit has (EUR 2, JPY 0, VND 0, KWD 3)."""
    return int(get_currency_precision(currency))


def known_currency(code: str) -> bool:
    return bool(_CURRENCY.fullmatch(code)) and bool(is_currency(code))


def to_minor(amount: Decimal, currency: str) -> int:
    """An exact amount as a count of the currency's minor units: 12.34 EUR → 1234, 1234 JPY →
    1234. ``ValueError`` when it is not a whole number of them (12.345 EUR)."""
    scaled = amount.scaleb(precision(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} {currency} is not a whole number of its minor units")
    return int(scaled)


def from_minor(minor: int, currency: str) -> Decimal:
    """Minor units back to an amount: 1234 EUR cents → Decimal("12.34")."""
    return Decimal(minor).scaleb(-precision(currency))


def format_minor(minor: int, currency: str) -> str:
    """Minor units written as an exact amount, every decimal shown: "12.34", "250000", "1234"."""
    digits = precision(currency)
    return format(Decimal(minor).scaleb(-digits), f".{digits}f")


def judge(line: RemittanceLine, currency: str, expected_minor: int) -> CodProblem | None:
    """What is wrong with paying ``line`` for an order owing ``expected_minor`` in ``currency``
    (None: it settles the order exactly)."""
    if line.currency != currency:
        return CodProblem.CURRENCY
    if line.amount_minor < expected_minor:
        return CodProblem.SHORT_PAID
    if line.amount_minor > expected_minor:
        return CodProblem.OVER_PAID
    return None


# --- the file --------------------------------------------------------------------------------


def read_remittance(data: bytes, file_name: str) -> list[RemittanceLine]:
    """Every line of a remittance file, or :class:`RemittanceRefused` naming the first thing
    that cannot be read (its line and column)."""
    rows = _rows(_text(data, file_name), file_name)
    if not rows:
        raise RemittanceRefused(f"{file_name} is empty: the first line must name the columns")
    header = [h.strip().lower() for h in rows[0][1]]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise RemittanceRefused(
            f"{file_name} has no column {', '.join(missing)}: the first line must name the "
            f"columns {', '.join(COLUMNS)}"
        )
    twice = [c for c in COLUMNS if header.count(c) > 1]
    if twice:
        raise RemittanceRefused(f"{file_name} names the column {', '.join(twice)} more than once")
    where = {c: header.index(c) for c in COLUMNS}
    seen: dict[tuple[str, str], int] = {}
    lines = []
    for number, cells in rows[1:]:
        if len(cells) != len(header):
            raise RemittanceRefused(
                f"{file_name}:{number}: the line has {len(cells)} fields and the header "
                f"{len(header)} (a value with the separator in it must be in double quotes)"
            )
        try:
            line = _line(number, {c: cells[i].strip() for c, i in where.items()})
        except ValueError as exc:
            raise RemittanceRefused(f"{file_name}:{number}: {exc}") from None
        key = (line.reference, line.tracking_no)
        seen[key] = seen.get(key, 0) + 1
        lines.append(replace(line, occurrence=seen[key]))
    return lines


def _text(data: bytes, file_name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise RemittanceRefused(
            f"{file_name} is not UTF-8 text (line {line}): save it as CSV UTF-8 and import again"
        ) from None


def _rows(text: str, file_name: str) -> list[tuple[int, list[str]]]:
    """The rows with any content, each with the line it starts on."""
    first = text.partition("\n")[0]
    sep = max(_SEPARATORS, key=lambda s: (first.count(s), s == ","))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    rows = []
    start = 1
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                rows.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise RemittanceRefused(
            f"{file_name} is not a readable CSV file (line {reader.line_num}): {exc}"
        ) from None
    return rows


def _line(number: int, cells: dict[str, str]) -> RemittanceLine:
    tracking = _code(cells["tracking_no"].upper(), "tracking_no", MAX_TRACKING)
    reference = _code(cells["reference"], "reference", MAX_REFERENCE)
    currency = cells["currency"].upper()
    if not currency:
        raise ValueError("currency: missing")
    if not known_currency(currency):
        raise ValueError(f"currency: {currency[:8]!r} is not a known ISO 4217 currency code")
    return RemittanceLine(
        number, tracking, _amount(cells["amount"], currency), currency,
        _moment(cells["remitted_at"]), reference,
    )  # fmt: skip


def _code(text: str, column: str, limit: int) -> str:
    if not text:
        raise ValueError(f"{column}: missing")
    if not text.isprintable():
        raise ValueError(f"{column}: {text[:limit]!r} has control characters")
    if len(text) > limit:
        raise ValueError(f"{column}: longer than {limit} characters")
    return text


def _amount(text: str, currency: str) -> int:
    """An amount as written (digits, an optional decimal point) in minor units."""
    shown = repr(text[:24])
    if not text:
        raise ValueError("amount: missing")
    if not _AMOUNT.fullmatch(text):
        raise ValueError(
            f"amount: {shown} is not an amount (digits with an optional decimal point, "
            "no sign, no thousands separator)"
        )
    try:
        minor = to_minor(Decimal(text), currency)
    except (ValueError, InvalidOperation):
        digits = precision(currency)
        unit = f"{digits} decimal{'s' if digits != 1 else ''}" if digits else "no decimals"
        raise ValueError(f"amount: {shown} is not exact in {currency} ({unit})") from None
    if not 0 < minor <= MAX_MINOR:
        raise ValueError(f"amount: {shown} must be more than zero and at most {MAX_MINOR:,}")
    return minor


def _moment(text: str) -> datetime:
    """An ISO 8601 date (midnight UTC) or time; one without an offset is taken as UTC."""
    if not text:
        raise ValueError("remitted_at: missing")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"remitted_at: {text[:32]!r} is not an ISO 8601 date or time (2026-11-25 or "
            "2026-11-25T14:30:00+01:00)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before the first representable moment
        raise ValueError(f"remitted_at: {text[:32]!r} is out of range") from None
