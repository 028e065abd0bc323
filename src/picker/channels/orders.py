"""Order import parsers: Shopify, WooCommerce and CSV exports → :class:`IncomingOrder` records.

Pure functions, no database: bytes in, records out. :func:`parse_orders` checks the whole file
first and raises :class:`FileRefused` (nothing yielded) when it is not UTF-8, not valid JSON / JSON
Lines / CSV, not orders, or a CSV lacks required columns. Then it yields, per record, either the
order or a :class:`RecordError` naming the field and the reason; one bad record never stops the
others. Customer text is kept exactly as sent (any script, markup, control characters), only
surrounding whitespace stripped: escaping is the display's job. Two characters no text column can
store are a record error instead: NUL (PostgreSQL refuses it) and an unpaired UTF-16 surrogate.

Record numbers: the 1-based position of the order in a JSON file, the line number in a JSON Lines
file, and for CSV the line of the order's first row (or of the offending row, for an error in a
line column). Field names follow the JSON path with 0-based indexes (``line_items[2].quantity``),
or the CSV column.

Money is ``Decimal`` (JSON numbers are read as Decimal, never float; strings such as Shopify's
``"199.00"`` are accepted), rounded ROUND_HALF_UP to the currency's minor units from Babel (JPY and
VND: whole units). An unknown currency code is a record error. Quantities must be whole numbers
(a JSON integer, or digits with an optional sign); zero, negative and huge values are kept as sent
for validation to judge (only a value of more than 4,000 digits is refused). Timestamps are ISO
8601; one without an offset is taken as UTC.

Paid and cash on delivery (``payment_state`` keeps the shop's own word):

- Shopify: ``financial_status`` ``paid`` or ``partially_refunded`` (goods still owed) is paid;
  ``pending``, ``authorized``, ``partially_paid`` are unpaid; ``refunded``, ``voided``, ``expired``
  or a set ``cancelled_at`` (state ``cancelled``) are dead: neither paid nor COD. COD: any of
  ``payment_gateway_names`` (or ``gateway``), lower-cased, is a COD gateway and the order is
  neither paid nor dead.
- WooCommerce: ``status`` ``processing`` / ``completed`` is paid; ``pending`` / ``on-hold`` unpaid;
  ``refunded``, ``cancelled``, ``failed``, ``trash`` dead. COD: ``payment_method`` (or its title) is
  a COD gateway and the order is not dead; a COD order is never paid (Woo moves COD orders to
  ``processing`` before any money is collected), so the courier collects ``total``.
- CSV: the ``payment`` column, ``paid``, ``cod`` or ``pending`` (any case).

CSV format: UTF-8 (a byte-order mark is allowed), comma-separated (a semicolon or tab is used
instead when the header line has no comma but one of those), a header row first; column names are
matched ignoring case and surrounding spaces, unknown columns are ignored. One row per order line;
the rows of one order are consecutive and share its ``order_number``; order columns are read from
the order's first row. A file missing a required column is refused whole. Amounts use a dot.

| column | required | meaning |
| --- | --- | --- |
| order_number | yes | the shop's order number (with the channel, the idempotency key) |
| placed_at | yes | when the order was placed, ISO 8601 (``2026-11-20T14:05:00+01:00``) |
| customer_name | no | the buyer; defaults to ship_name |
| email | no | the buyer's e-mail |
| ship_name | yes | recipient |
| ship_street | yes | street and number |
| ship_street2 | no | second address line |
| ship_postal_code | yes | postal code |
| ship_city | yes | city |
| ship_region | no | region, state or province |
| ship_country | yes | ISO 3166 alpha-2 country code (PL, VN, JP) |
| ship_phone | no | recipient's phone, for the courier |
| shipping_method | yes | shop shipping method code or title (mapped in config.toml) |
| currency | yes | ISO 4217 code (PLN, EUR, JPY) |
| total | no | order total to collect or paid; defaults to the sum of quantity × unit_price |
| payment | yes | ``paid``, ``cod`` (cash on delivery) or ``pending`` |
| sku | yes | the line's SKU |
| name | no | the line's product name as the shop shows it |
| quantity | yes | units, a whole number |
| unit_price | no | price of one unit; defaults to 0 |
| note | no | the customer's note |

A required column may still have an empty cell: an empty order_number, placed_at, currency,
payment or quantity is a record error; an empty address or shipping cell is read as empty and left
to validation (the order goes on hold with the reason).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache, lru_cache
from typing import Any, Literal, get_args, overload

from babel.numbers import get_currency_precision, is_currency

from picker.channels.files import FileRefused, Row, read_rows
from picker.config import DEFAULT_COD_GATEWAYS
from picker.domain.intake import Address, IncomingLine, IncomingOrder, RecordError

Format = Literal["shopify", "woocommerce", "csv"]
FORMATS: tuple[Format, ...] = get_args(Format)
DEFAULT_COD: tuple[str, ...] = DEFAULT_COD_GATEWAYS

CSV_REQUIRED = (
    "order_number", "placed_at", "ship_name", "ship_street", "ship_postal_code", "ship_city",
    "ship_country", "shipping_method", "currency", "payment", "sku", "quantity",
)  # fmt: skip
CSV_OPTIONAL = (
    "customer_name", "email", "ship_street2", "ship_region", "ship_phone", "total", "name",
    "unit_price", "note",
)  # fmt: skip
CSV_PAYMENTS = ("paid", "cod", "pending")

SHOPIFY_PAID = frozenset({"paid", "partially_refunded"})
SHOPIFY_DEAD = frozenset({"refunded", "voided", "expired", "cancelled"})
WOO_PAID = frozenset({"processing", "completed"})
WOO_DEAD = frozenset({"refunded", "cancelled", "failed", "trash"})

_BOM = b"\xef\xbb\xbf"
_MAX_DIGITS = 4000  # below Python's int/str conversion limit (4,300 digits)
_AMOUNT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_WHOLE = re.compile(r"[+-]?[0-9]+")
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")
#: Keys of which at least one marks a top-level JSON object as one order.
_ORDER_KEYS = frozenset(
    {"line_items", "id", "name", "number", "currency", "created_at", "date_created", "total"}
)
_NOT_ORDERS = 'not orders: expected an order object, a list of orders or {"orders": [...]}'


@dataclass
class ParsedFile:
    """A file that passed the whole-file checks: its records are read lazily, once."""

    format: Format
    total: int  # number of records (orders) in the file, for a progress bar
    records: Iterator[tuple[int, IncomingOrder | RecordError]]  # (record number, order or error)


def detect_format(data: bytes, file_name: str) -> Format:
    """The format of an export, by its content (a ``.csv`` name is taken at its word).

    Raises :class:`FileRefused` when the file cannot be read or its orders match no format.
    """
    if file_name.lower().endswith(".csv"):
        return "csv"
    text = _decode(data)
    if not text.lstrip().startswith(("{", "[")):
        return "csv"
    return _detect_json(_load_json(text))


def parse_orders(
    data: bytes,
    *,
    file_name: str,
    format: Format | None = None,
    channel: str | None = None,
    cod_gateways: Sequence[str] = DEFAULT_COD,
) -> ParsedFile:
    """Read an export of ``format`` (detected when None) into orders and per-record errors.

    ``channel`` defaults to the format name. ``cod_gateways`` are the payment gateway / method
    names (any case) that mean cash on delivery. Raises :class:`FileRefused`, before any record is
    read, when the file as a whole cannot be used.
    """
    if format is not None and format not in FORMATS:
        raise FileRefused(f"unknown format {format!r}: use one of {', '.join(FORMATS)}")
    text = _decode(data)
    items: Sequence[tuple[int, Any]] | None = None
    if format is None:
        if file_name.lower().endswith(".csv") or not text.lstrip().startswith(("{", "[")):
            format = "csv"
        else:
            items = _load_json(text)
            format = _detect_json(items)
    ctx = _Context(
        channel=channel or format,
        cod_gateways=frozenset(g.strip().lower() for g in cod_gateways),
    )
    if format == "csv":
        return _parse_csv(text, ctx)
    if items is None:
        items = _load_json(text)
    convert = _shopify_order if format == "shopify" else _woo_order
    return ParsedFile(format=format, total=len(items), records=_json_records(items, convert, ctx))


# --- whole-file reading --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    channel: str
    cod_gateways: frozenset[str]


def _decode(data: bytes) -> str:
    body = data[len(_BOM) :] if data.startswith(_BOM) else data
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start + len(data) - len(body)
        line = data.count(b"\n", 0, offset) + 1
        raise FileRefused(
            f"not UTF-8: byte 0x{data[offset]:02X} at offset {offset} (line {line}) cannot be "
            "decoded; save the file as UTF-8"
        ) from None


def _parse_int(digits: str) -> int | Decimal:
    try:
        return int(digits)
    except ValueError:  # beyond Python's digit limit: a Decimal, refused where it is used
        return Decimal(digits)


# One decoder for every record: ``json.loads`` with options builds a new one per call.
_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=Decimal)
_BIG_DECODER = json.JSONDecoder(parse_float=Decimal, parse_int=_parse_int, parse_constant=Decimal)


def _json_loads(text: str) -> Any:
    if text.startswith("\ufeff"):  # as json.loads says it
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError:
        raise
    except ValueError:  # an integer beyond the digit limit: again, the slow way
        return _BIG_DECODER.decode(text)


def _load_json(text: str) -> Sequence[tuple[int, Any]]:
    """(record number, order candidate) for a JSON document or a JSON Lines file."""
    try:
        document = _json_loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":  # more than one value: JSON Lines
            return _JsonLines(text)
        raise FileRefused(
            f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except RecursionError:
        raise FileRefused("not valid JSON: nested too deeply") from None
    if isinstance(document, list):
        return list(enumerate(document, start=1))
    if isinstance(document, dict):
        if "orders" in document:
            if not isinstance(document["orders"], list):
                raise FileRefused(f'{_NOT_ORDERS} ("orders" is not a list)')
            return list(enumerate(document["orders"], start=1))
        if isinstance(document.get("order"), dict):
            return [(1, document["order"])]
        if _ORDER_KEYS & document.keys():
            return [(1, document)]
    raise FileRefused(_NOT_ORDERS)


class _JsonLines(Sequence[tuple[int, Any]]):
    """The records of a JSON Lines file: every line is checked when the file is read, and
    decoded again when its record is wanted.

    Holding every decoded record of a large file instead costs far more than decoding twice:
    memory, and the garbage collector walking all of it again and again while it grows
    (measured: 100,000 Shopify orders read in 5.0 s holding them, 1.6 s this way).
    """

    def __init__(self, text: str) -> None:
        self._lines: list[tuple[int, str]] = []
        # Only "\n" ends a line: U+2028 and friends may stand unescaped inside JSON strings.
        for number, line in enumerate(text.split("\n"), start=1):
            if not line or line.isspace():
                continue
            try:
                _json_loads(line)
            except json.JSONDecodeError as exc:
                raise FileRefused(
                    f"not valid JSON Lines: line {number} is not valid JSON: {exc.msg} at column "
                    f"{exc.colno}"
                ) from None
            except RecursionError:
                raise FileRefused(
                    f"not valid JSON Lines: line {number} is nested too deeply"
                ) from None
            self._lines.append((number, line))

    def __len__(self) -> int:
        return len(self._lines)

    @overload
    def __getitem__(self, index: int) -> tuple[int, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[tuple[int, Any]]: ...
    def __getitem__(self, index: int | slice) -> tuple[int, Any] | list[tuple[int, Any]]:
        if isinstance(index, slice):
            return [(number, _json_loads(line)) for number, line in self._lines[index]]
        number, line = self._lines[index]
        return number, _json_loads(line)

    def __iter__(self) -> Iterator[tuple[int, Any]]:
        for number, line in self._lines:
            yield number, _json_loads(line)


def _detect_json(items: Sequence[tuple[int, Any]]) -> Format:
    for _, item in items:
        if not isinstance(item, dict):
            continue
        if "line_items" in item and ("total_price" in item or "financial_status" in item):
            return "shopify"
        if "number" in item and ("payment_method" in item or "date_created" in item):
            return "woocommerce"
    raise FileRefused(
        "cannot tell the format: the orders look neither like Shopify (line_items with "
        "total_price / financial_status) nor WooCommerce (number with payment_method / "
        "date_created); name it with --format"
    )


def _json_records(
    items: Sequence[tuple[int, Any]],
    convert: Callable[[Any, _Context], IncomingOrder],
    ctx: _Context,
) -> Iterator[tuple[int, IncomingOrder | RecordError]]:
    for number, item in items:
        result: IncomingOrder | RecordError
        try:
            result = convert(item, ctx)
        except RecordError as exc:
            result = exc
        yield number, result


# --- values ---------------------------------------------------------------------------------------


def _shown(value: object, limit: int = 40) -> str:
    """A value quoted for an error message: repr escapes control characters; long ones cut."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _kind(value: object) -> str:
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


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # an unpaired surrogate, from a JSON "\\ud800" escape
        return False
    return True


def _storable(text: str, field: str) -> str:
    if "\x00" in text:
        raise RecordError(field, "contains a NUL character (0x00), which cannot be stored")
    if not text.isascii() and not _encodable(text):
        raise RecordError(field, "contains an unpaired surrogate: not valid Unicode")
    return text


def _text(value: Any, field: str) -> str:
    """Text as sent, surrounding whitespace stripped; a number is taken as written."""
    if value is None:
        return ""
    if isinstance(value, str):
        return _storable(value.strip(), field)
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    raise RecordError(field, f"must be text, got {_kind(value)}")


@cache
def _minor_unit(code: str) -> Decimal | None:
    """A currency's minor unit (Decimal("0.01"), Decimal("1")…); None when Babel lacks it."""
    if not _CURRENCY_CODE.fullmatch(code) or not is_currency(code):
        return None
    return Decimal(1).scaleb(-get_currency_precision(code))


def _currency(value: Any, field: str) -> tuple[str, Decimal]:
    code = _text(value, field).upper()
    if not code:
        raise RecordError(field, "missing")
    quantum = _minor_unit(code)
    if quantum is None:
        raise RecordError(field, f"{_shown(code)} is not a known ISO 4217 currency code")
    return code, quantum


def _round(amount: Decimal, quantum: Decimal, field: str) -> Decimal:
    if not amount.is_finite():
        raise RecordError(field, f"{_shown(str(amount))} is not an amount")
    try:
        return amount.quantize(quantum, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise RecordError(field, "amount is too large") from None


def _money(value: Any, field: str, quantum: Decimal, *, required: bool) -> Decimal:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise RecordError(field, "missing")
        return _round(Decimal(0), quantum, field)
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise RecordError(field, f"must be an amount such as 19.99, got {_kind(value)}")
    if isinstance(value, str):
        if not _AMOUNT.fullmatch(value.strip()):
            hint = " (use a dot for decimals)" if "," in value else ""
            raise RecordError(field, f"{_shown(value)} is not an amount{hint}")
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            raise RecordError(field, "amount is too large") from None
    else:
        amount = Decimal(value)
    return _round(amount, quantum, field)


def _quantity(value: Any, field: str) -> int:
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
        shown = _kind(value)
    else:
        shown = _shown(value if isinstance(value, str) else str(value))
    raise RecordError(field, f"must be a whole number, got {shown}")


def _timestamp(value: Any, field: str) -> datetime:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise RecordError(field, "missing")
    if not isinstance(value, str):
        raise RecordError(field, f"must be an ISO 8601 date and time, got {_kind(value)}")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise RecordError(
            field, f"{_shown(value)} is not an ISO 8601 date and time (2026-11-20T14:05:00+01:00)"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


class _Obj:
    """A JSON object read field by field; every error names the field's path."""

    def __init__(self, raw: Any, path: str) -> None:
        if not isinstance(raw, dict):
            raise RecordError(path, f"must be an object, got {_kind(raw)}")
        self.raw: dict[str, Any] = raw
        self.path = path

    @classmethod
    def record(cls, raw: Any) -> _Obj:
        if not isinstance(raw, dict):
            raise RecordError("", f"not an order: expected a JSON object, got {_kind(raw)}")
        return cls(raw, "")

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def get(self, key: str) -> Any:
        return self.raw.get(key)

    def text(self, key: str) -> str:
        value = self.raw.get(key)
        if type(value) is str:  # the common cases, without building the field's path
            text = value.strip()
            if "\x00" not in text and (text.isascii() or _encodable(text)):
                return text
        elif value is None:
            return ""
        return _text(value, self.at(key))

    def obj(self, key: str) -> _Obj | None:
        value = self.raw.get(key)
        return None if value is None else _Obj(value, self.at(key))

    def items(self, key: str) -> list[Any]:
        value = self.raw.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise RecordError(self.at(key), f"must be a list, got {_kind(value)}")
        return value

    def money(self, key: str, quantum: Decimal, *, required: bool = False) -> Decimal:
        value = self.raw.get(key)
        if type(value) is str:  # the common case, without building the field's path
            amount = _amount(value, quantum)
            if amount is not None:
                return amount
        return _money(value, self.at(key), quantum, required=required)

    def quantity(self, key: str) -> int:
        value = self.raw.get(key)
        if type(value) is int:  # the common case, without building the field's path
            return value
        return _quantity(value, self.at(key))


@lru_cache(maxsize=4096)  # a shop's prices and totals repeat
def _amount(text: str, quantum: Decimal) -> Decimal | None:
    """An amount written as text, rounded to ``quantum``; None when it is missing or not an
    amount (:func:`_money` says why, naming the field)."""
    try:
        return _money(text, "", quantum, required=True)
    except RecordError:
        return None


def _lines(
    o: _Obj, quantum: Decimal, read: Callable[[_Obj, Decimal], IncomingLine]
) -> tuple[IncomingLine, ...]:
    if o.get("line_items") is None:
        raise RecordError("line_items", "missing")
    items = o.items("line_items")
    if not items:
        raise RecordError("line_items", "is empty: an order needs at least one line")
    return tuple(read(_Obj(item, f"line_items[{i}]"), quantum) for i, item in enumerate(items))


def _first(o: _Obj, key: str) -> _Obj | None:
    items = o.items(key)
    return _Obj(items[0], f"{key}[0]") if items else None


# --- Shopify --------------------------------------------------------------------------------------


def _shopify_order(raw: Any, ctx: _Context) -> IncomingOrder:
    o = _Obj.record(raw)
    number = o.text("name").removeprefix("#").strip() or o.text("id")
    if not number:
        raise RecordError("name", "missing: the order has neither a name nor an id")
    currency, quantum = _currency(o.get("currency"), "currency")
    placed_at = _timestamp(o.get("created_at"), "created_at")
    total = o.money("total_price", quantum, required=True)
    lines = _lines(o, quantum, _shopify_line)

    ship = _shopify_address(o.obj("shipping_address"), fallback_phone=o.text("phone"))
    customer = o.obj("customer")
    billing = o.obj("billing_address")
    customer_name = (
        (_join(customer.text("first_name"), customer.text("last_name")) if customer else "")
        or (_shopify_address(billing, fallback_phone="").name if billing else "")
        or ship.name
    )
    email = (
        o.text("email") or o.text("contact_email") or (customer.text("email") if customer else "")
    )
    shipping = _first(o, "shipping_lines")

    state = o.text("financial_status")
    if o.get("cancelled_at"):
        state = "cancelled"
    gateways = _gateways(o)
    paid = state.lower() in SHOPIFY_PAID
    dead = state.lower() in SHOPIFY_DEAD
    cod = not paid and not dead and any(g.lower() in ctx.cod_gateways for g in gateways)
    return IncomingOrder(
        channel=ctx.channel,
        shop_order_no=number,
        customer_name=customer_name,
        customer_email=email,
        ship=ship,
        shipping_code=shipping.text("code") if shipping else "",
        shipping_title=shipping.text("title") if shipping else "",
        currency=currency,
        total=total,
        cod=cod,
        paid=paid,
        payment_state=state,
        placed_at=placed_at,
        note=o.text("note"),
        lines=lines,
    )


def _gateways(o: _Obj) -> list[str]:
    """payment_gateway_names (a single text accepted), else the older single ``gateway``."""
    names = o.get("payment_gateway_names")
    if names is None:
        return [o.text("gateway")]
    if isinstance(names, str):
        return [o.text("payment_gateway_names")]
    return [
        _text(name, f"payment_gateway_names[{i}]")
        for i, name in enumerate(o.items("payment_gateway_names"))
    ]


def _shopify_address(a: _Obj | None, *, fallback_phone: str) -> Address:
    if a is None:
        return Address(phone=fallback_phone)
    return Address(
        name=a.text("name") or _join(a.text("first_name"), a.text("last_name")),
        street=a.text("address1"),
        street2=a.text("address2"),
        postal_code=a.text("zip"),
        city=a.text("city"),
        region=a.text("province") or a.text("province_code"),
        country=a.text("country_code").upper(),
        phone=a.text("phone") or fallback_phone,
    )


def _shopify_line(item: _Obj, quantum: Decimal) -> IncomingLine:
    return IncomingLine(
        sku=item.text("sku"),
        name=item.text("name") or item.text("title"),
        quantity=item.quantity("quantity"),
        unit_price=item.money("price", quantum),
    )


# --- WooCommerce ----------------------------------------------------------------------------------


def _woo_order(raw: Any, ctx: _Context) -> IncomingOrder:
    o = _Obj.record(raw)
    number = o.text("number") or o.text("id")
    if not number:
        raise RecordError("number", "missing: the order has neither a number nor an id")
    currency, quantum = _currency(o.get("currency"), "currency")
    date_key = "date_created_gmt" if o.text("date_created_gmt") else "date_created"
    placed_at = _timestamp(o.get(date_key), date_key)
    total = o.money("total", quantum, required=True)
    lines = _lines(o, quantum, _woo_line)

    billing = o.obj("billing")
    shipping_to = o.obj("shipping")
    billing_name = _join(billing.text("first_name"), billing.text("last_name")) if billing else ""
    ship = _woo_address(shipping_to)
    ship = replace(
        ship,
        name=ship.name or billing_name,
        phone=ship.phone or (billing.text("phone") if billing else ""),
    )
    shipping = _first(o, "shipping_lines")

    state = o.text("status")
    methods = (o.text("payment_method").lower(), o.text("payment_method_title").lower())
    dead = state.lower() in WOO_DEAD
    cod = not dead and any(m and m in ctx.cod_gateways for m in methods)
    paid = not cod and state.lower() in WOO_PAID
    return IncomingOrder(
        channel=ctx.channel,
        shop_order_no=number,
        customer_name=billing_name or ship.name,
        customer_email=billing.text("email") if billing else "",
        ship=ship,
        shipping_code=shipping.text("method_id") if shipping else "",
        shipping_title=shipping.text("method_title") if shipping else "",
        currency=currency,
        total=total,
        cod=cod,
        paid=paid,
        payment_state=state,
        placed_at=placed_at,
        note=o.text("customer_note"),
        lines=lines,
    )


def _woo_address(a: _Obj | None) -> Address:
    if a is None:
        return Address()
    return Address(
        name=_join(a.text("first_name"), a.text("last_name")),
        street=a.text("address_1"),
        street2=a.text("address_2"),
        postal_code=a.text("postcode"),
        city=a.text("city"),
        region=a.text("state"),
        country=a.text("country").upper(),
        phone=a.text("phone"),
    )


def _woo_line(item: _Obj, quantum: Decimal) -> IncomingLine:
    return IncomingLine(
        sku=item.text("sku"),
        name=item.text("name"),
        quantity=item.quantity("quantity"),
        unit_price=item.money("price", quantum),
    )


# --- CSV ------------------------------------------------------------------------------------------


class _AtLine(Exception):
    """A record error found on a later row of a CSV order: reported at that row's line."""

    def __init__(self, line: int, error: RecordError) -> None:
        super().__init__(str(error))
        self.line = line
        self.error = error


def _blank(cells: list[str]) -> bool:
    return all(not c.strip() for c in cells)


def _parse_csv(text: str, ctx: _Context) -> ParsedFile:
    rows = read_rows(text)
    if not rows:
        raise FileRefused("empty: a CSV file needs a header row naming its columns")
    header = [name.strip().lower() for name in rows[0][1]]
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            raise FileRefused(f"CSV header names the column {name!r} twice")
        seen.add(name)
    missing = [name for name in CSV_REQUIRED if name not in seen]
    if missing:
        raise FileRefused(
            f"CSV is missing required column{'s' if len(missing) > 1 else ''}: "
            f"{', '.join(missing)} (the first row must be the header)"
        )
    columns = {name: i for i, name in enumerate(header) if name}
    groups: list[list[Row]] = []
    previous = ""
    for row in rows[1:]:
        key = _cell(columns, row[1], "order_number")
        if groups and key and key == previous:
            groups[-1].append(row)
        else:
            groups.append([row])
        previous = key
    return ParsedFile(
        format="csv", total=len(groups), records=_csv_records(groups, columns, len(header), ctx)
    )


def _cell(columns: dict[str, int], cells: list[str], name: str) -> str:
    index = columns.get(name)
    return cells[index].strip() if index is not None and index < len(cells) else ""


def _csv_records(
    groups: list[list[Row]], columns: dict[str, int], width: int, ctx: _Context
) -> Iterator[tuple[int, IncomingOrder | RecordError]]:
    first_seen: dict[str, int] = {}
    for group in groups:
        line = group[0][0]
        result: IncomingOrder | RecordError
        try:
            result = _csv_order(group, columns, width, first_seen, ctx)
        except _AtLine as exc:
            line, result = exc.line, exc.error
        except RecordError as exc:
            result = exc
        yield line, result


def _csv_order(
    group: list[Row],
    columns: dict[str, int],
    width: int,
    first_seen: dict[str, int],
    ctx: _Context,
) -> IncomingOrder:
    first_line, first = group[0]

    def cell(name: str, cells: list[str] | None = None) -> str:
        return _storable(_cell(columns, first if cells is None else cells, name), name)

    number = cell("order_number")
    if not number:
        raise RecordError("order_number", "missing")
    if number in first_seen:
        raise RecordError(
            "order_number",
            f"order {_shown(number)} already began on line {first_seen[number]}: the rows of "
            "one order must be consecutive",
        )
    first_seen[number] = first_line
    placed_at = _timestamp(cell("placed_at"), "placed_at")
    currency, quantum = _currency(cell("currency"), "currency")
    payment = cell("payment").lower()
    if payment not in CSV_PAYMENTS:
        got = f", got {_shown(cell('payment'))}" if payment else ""
        raise RecordError("payment", f"must be paid, cod or pending{got}")

    lines: list[IncomingLine] = []
    for line, cells in group:
        try:
            extra = cells[width:]
            if not _blank(extra):
                raise RecordError("", f"row has {len(cells)} cells but the header names {width}")
            lines.append(
                IncomingLine(
                    sku=cell("sku", cells),
                    name=cell("name", cells),
                    quantity=_quantity(cell("quantity", cells), "quantity"),
                    unit_price=_money(
                        cell("unit_price", cells), "unit_price", quantum, required=False
                    ),
                )
            )
        except RecordError as exc:
            if line == first_line:
                raise
            raise _AtLine(line, exc) from None

    if cell("total"):
        total = _money(cell("total"), "total", quantum, required=True)
    else:
        amount = sum((ln.unit_price * ln.quantity for ln in lines), Decimal(0))
        total = _round(amount, quantum, "total")
    ship = Address(
        name=cell("ship_name"),
        street=cell("ship_street"),
        street2=cell("ship_street2"),
        postal_code=cell("ship_postal_code"),
        city=cell("ship_city"),
        region=cell("ship_region"),
        country=cell("ship_country").upper(),
        phone=cell("ship_phone"),
    )
    method = cell("shipping_method")
    return IncomingOrder(
        channel=ctx.channel,
        shop_order_no=number,
        customer_name=cell("customer_name") or ship.name,
        customer_email=cell("email"),
        ship=ship,
        shipping_code=method,
        shipping_title=method,
        currency=currency,
        total=total,
        cod=payment == "cod",
        paid=payment == "paid",
        payment_state=payment,
        placed_at=placed_at,
        note=cell("note"),
        lines=tuple(lines),
    )
