"""What every shop format shares: the parse context and result, the field readers.

The field readers (text, money, quantities, timestamps, JSON objects) raise a record error
that names the field.

Money is ``Decimal`` (JSON numbers are read as Decimal, never float; strings such as Shopify's
``"199.00"`` are accepted), rounded ROUND_HALF_UP to the currency's minor units from Babel (JPY and
VND: whole units). An unknown currency code is a record error. Quantities must be whole numbers
(a JSON integer, or digits with an optional sign); zero, negative and huge values are kept as sent
for validation to judge (only a value of more than 4,000 digits is refused). Timestamps are ISO
8601; one without an offset is taken as UTC.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache, lru_cache
from typing import Any, Literal, get_args

from babel.numbers import get_currency_precision, is_currency

from picker.domain.intake import IncomingLine, IncomingOrder, RecordError

Format = Literal["shopify", "woocommerce", "csv"]
FORMATS: tuple[Format, ...] = get_args(Format)

_MAX_DIGITS = 4000  # below Python's int/str conversion limit (4,300 digits)
_AMOUNT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_WHOLE = re.compile(r"[+-]?[0-9]+")
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True)
class Context:
    channel: str
    cod_gateways: frozenset[str]


@dataclass
class ParsedFile:
    """A file that passed the whole-file checks: its records are read lazily, once."""

    format: Format
    total: int  # number of records (orders) in the file, for a progress bar
    records: Iterator[tuple[int, IncomingOrder | RecordError]]  # (record number, order or error)


def quoted(value: object, limit: int = 40) -> str:
    """A value quoted for an error message: repr escapes control characters; long ones cut."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def kind_of(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "text"
    return "a number"


def encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # an unpaired surrogate, from a JSON "\\ud800" escape
        return False
    return True


def storable(text: str, field: str) -> str:
    if "\x00" in text:
        raise RecordError(field, "contains a NUL character (0x00), which cannot be stored")
    if not text.isascii() and not encodable(text):
        raise RecordError(field, "contains an unpaired surrogate: not valid Unicode")
    return text


def read_text(value: Any, field: str) -> str:
    """Text as sent, surrounding whitespace stripped; a number is taken as written."""
    if value is None:
        return ""
    if isinstance(value, str):
        return storable(value.strip(), field)
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    raise RecordError(field, f"must be text, got {kind_of(value)}")


@cache
def minor_unit(code: str) -> Decimal | None:
    """A currency's minor unit (Decimal("0.01"), Decimal("1")…); None when Babel lacks it."""
    if not _CURRENCY_CODE.fullmatch(code) or not is_currency(code):
        return None
    return Decimal(1).scaleb(-get_currency_precision(code))


def read_currency(value: Any, field: str) -> tuple[str, Decimal]:
    code = read_text(value, field).upper()
    if not code:
        raise RecordError(field, "missing")
    quantum = minor_unit(code)
    if quantum is None:
        raise RecordError(field, f"{quoted(code)} is not a known ISO 4217 currency code")
    return code, quantum


def rounded(amount: Decimal, quantum: Decimal, field: str) -> Decimal:
    if not amount.is_finite():
        raise RecordError(field, f"{quoted(str(amount))} is not an amount")
    try:
        return amount.quantize(quantum, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise RecordError(field, "amount is too large") from None


def read_money(value: Any, field: str, quantum: Decimal, *, required: bool) -> Decimal:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise RecordError(field, "missing")
        return rounded(Decimal(0), quantum, field)
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise RecordError(field, f"must be an amount such as 19.99, got {kind_of(value)}")
    if isinstance(value, str):
        if not _AMOUNT.fullmatch(value.strip()):
            hint = " (use a dot for decimals)" if "," in value else ""
            raise RecordError(field, f"{quoted(value)} is not an amount{hint}")
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            raise RecordError(field, "amount is too large") from None
    else:
        amount = Decimal(value)
    return rounded(amount, quantum, field)


def read_quantity(value: Any, field: str) -> int:
    """A whole number, kept as sent (zero, negative, huge): validation judges it."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise RecordError(field, "missing")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _WHOLE.fullmatch(value.strip()):
        if len(value.strip().lstrip("+-")) > _MAX_DIGITS:
            raise RecordError(field, f"has more than {_MAX_DIGITS} digits")
        return int(value.strip())
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        if value.adjusted() >= _MAX_DIGITS:
            raise RecordError(field, f"has more than {_MAX_DIGITS} digits")
        return int(value)
    if isinstance(value, dict | list | bool):
        shown = kind_of(value)
    else:
        shown = quoted(value if isinstance(value, str) else str(value))
    raise RecordError(field, f"must be a whole number, got {shown}")


def read_timestamp(value: Any, field: str) -> datetime:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise RecordError(field, "missing")
    if not isinstance(value, str):
        raise RecordError(field, f"must be an ISO 8601 date and time, got {kind_of(value)}")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise RecordError(
            field, f"{quoted(value)} is not an ISO 8601 date and time (2026-11-20T14:05:00+01:00)"
        ) from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:  # stored in UTC: a moment at either end of the calendar may have no UTC time
        moment.astimezone(UTC)
    except OverflowError:
        raise RecordError(
            field, f"{quoted(value)} is out of range: it has no date and time in UTC"
        ) from None
    return moment


def joined(*parts: str) -> str:
    return " ".join(p for p in parts if p)


class JsonObject:
    """A JSON object read field by field; every error names the field's path."""

    def __init__(self, raw: Any, path: str) -> None:
        if not isinstance(raw, dict):
            raise RecordError(path, f"must be an object, got {kind_of(raw)}")
        self.raw: dict[str, Any] = raw
        self.path = path

    @classmethod
    def record(cls, raw: Any) -> JsonObject:
        if not isinstance(raw, dict):
            raise RecordError("", f"not an order: expected a JSON object, got {kind_of(raw)}")
        return cls(raw, "")

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def get(self, key: str) -> Any:
        return self.raw.get(key)

    def text(self, key: str) -> str:
        value = self.raw.get(key)
        if type(value) is str:  # the common cases, without building the field's path
            text = value.strip()
            if "\x00" not in text and (text.isascii() or encodable(text)):
                return text
        elif value is None:
            return ""
        return read_text(value, self.at(key))

    def obj(self, key: str) -> JsonObject | None:
        value = self.raw.get(key)
        return None if value is None else JsonObject(value, self.at(key))

    def items(self, key: str) -> list[Any]:
        value = self.raw.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise RecordError(self.at(key), f"must be a list, got {kind_of(value)}")
        return value

    def money(self, key: str, quantum: Decimal, *, required: bool = False) -> Decimal:
        value = self.raw.get(key)
        if type(value) is str:  # the common case, without building the field's path
            amount = parse_amount(value, quantum)
            if amount is not None:
                return amount
        return read_money(value, self.at(key), quantum, required=required)

    def quantity(self, key: str) -> int:
        value = self.raw.get(key)
        if type(value) is int:  # the common case, without building the field's path
            return value
        return read_quantity(value, self.at(key))


@lru_cache(maxsize=4096)  # a shop's prices and totals repeat
def parse_amount(text: str, quantum: Decimal) -> Decimal | None:
    """An amount written as text, rounded to ``quantum``; None when it is missing or not an
    amount (:func:`read_money` says why, naming the field)."""
    try:
        return read_money(text, "", quantum, required=True)
    except RecordError:
        return None


def read_lines(
    o: JsonObject, quantum: Decimal, read: Callable[[JsonObject, Decimal], IncomingLine]
) -> tuple[IncomingLine, ...]:
    if o.get("line_items") is None:
        raise RecordError("line_items", "missing")
    items = o.items("line_items")
    if not items:
        raise RecordError("line_items", "is empty: an order needs at least one line")
    return tuple(
        read(JsonObject(item, f"line_items[{i}]"), quantum) for i, item in enumerate(items)
    )


def first_item(o: JsonObject, key: str) -> JsonObject | None:
    items = o.items(key)
    return JsonObject(items[0], f"{key}[0]") if items else None
