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

The formats: :mod:`~picker.channels.shopify`, :mod:`~picker.channels.woocommerce` and
:mod:`~picker.channels.csv_orders` (whose docstring gives the CSV columns); the field readers
they share (money, quantities, timestamps): :mod:`~picker.channels.reading`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from picker.channels import csv_orders, shopify, woocommerce
from picker.channels.files import FileRefused, decode, load_json
from picker.channels.reading import FORMATS, Context, Format, ParsedFile
from picker.config import DEFAULT_COD_GATEWAYS
from picker.domain.intake import IncomingOrder, RecordError

DEFAULT_COD: tuple[str, ...] = DEFAULT_COD_GATEWAYS

__all__ = ["DEFAULT_COD", "FORMATS", "Format", "ParsedFile", "detect_format", "parse_orders"]


def detect_format(data: bytes, file_name: str) -> Format:
    """The format of an export, by its content (a ``.csv`` name is taken at its word).

    Raises :class:`FileRefused` when the file cannot be read or its orders match no format.
    """
    if file_name.lower().endswith(".csv"):
        return "csv"
    text = decode(data)
    _refuse_empty(text, file_name, None)
    if not text.lstrip().startswith(("{", "[")):
        return "csv"
    return _detect_json(load_json(text))


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
    text = decode(data)
    _refuse_empty(text, file_name, format)
    items: Sequence[tuple[int, Any]] | None = None
    if format is None:
        if file_name.lower().endswith(".csv") or not text.lstrip().startswith(("{", "[")):
            format = "csv"
        else:
            items = load_json(text)
            format = _detect_json(items)
    ctx = Context(
        channel=channel or format,
        cod_gateways=frozenset(g.strip().lower() for g in cod_gateways),
    )
    if format == "csv":
        return csv_orders.parse_csv(text, ctx)
    if items is None:
        items = load_json(text)
    convert = shopify.read_order if format == "shopify" else woocommerce.read_order
    return ParsedFile(format=format, total=len(items), records=_json_records(items, convert, ctx))


# --- whole-file reading --------------------------------------------------------------------------


def _refuse_empty(text: str, file_name: str, format: Format | None) -> None:
    """A file with nothing in it is refused as what it is, not as a CSV without a header
    (unless it was meant to be CSV)."""
    if text.strip() or format == "csv" or file_name.lower().endswith(".csv"):
        return
    what = "holds only white space" if text else "is empty"
    raise FileRefused(f"no orders: the file {what}; export the orders again")


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
    convert: Callable[[Any, Context], IncomingOrder],
    ctx: Context,
) -> Iterator[tuple[int, IncomingOrder | RecordError]]:
    for number, item in items:
        result: IncomingOrder | RecordError
        try:
            result = convert(item, ctx)
        except RecordError as exc:
            result = exc
        yield number, result
