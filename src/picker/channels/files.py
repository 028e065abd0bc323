"""Reading an export file whole: UTF-8 text, CSV rows, JSON and JSON Lines.

One CSV reader for every import (orders, products, stock); a file that cannot be read is
refused whole (:class:`FileRefused`), before any record is looked at.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any, overload


class FileRefused(Exception):
    """A whole file refused (not UTF-8, not JSON/CSV, missing columns): nothing was changed."""


Row = tuple[int, list[str]]  # (line number where the row starts, cells)

_SEPARATORS = (",", ";", "\t")


def separator(header: str) -> str:
    """Comma, or the semicolon or tab of a spreadsheet's local CSV: whichever splits the header
    line into the most columns (a comma wins a tie)."""
    return max(_SEPARATORS, key=lambda sep: (header.count(sep), sep == ","))


def read_rows(text: str) -> list[Row]:
    """The rows with any content, each with the line it starts on (a quoted value may span
    lines). A file the csv module cannot read is refused whole: :class:`FileRefused`."""
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=separator(text.partition("\n")[0]), strict=True
    )
    rows: list[Row] = []
    start = 1
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                rows.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise FileRefused(f"not a readable CSV file (line {reader.line_num}): {exc}") from None
    return rows


_BOM = b"\xef\xbb\xbf"
#: Keys of which at least one marks a top-level JSON object as one order.
_ORDER_KEYS = frozenset(
    {"line_items", "id", "name", "number", "currency", "created_at", "date_created", "total"}
)
_NOT_ORDERS = 'not orders: expected an order object, a list of orders or {"orders": [...]}'


def decode(data: bytes) -> str:
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


def json_loads(text: str) -> Any:
    if text.startswith("\ufeff"):  # as json.loads says it
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError:
        raise
    except ValueError:  # an integer beyond the digit limit: again, the slow way
        return _BIG_DECODER.decode(text)


def load_json(text: str) -> Sequence[tuple[int, Any]]:
    """(record number, order candidate) for a JSON document or a JSON Lines file."""
    try:
        document = json_loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":  # more than one value: JSON Lines
            return _JsonLines(text)
        raise FileRefused(
            f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except RecursionError:
        raise FileRefused("not valid JSON: nested too deeply") from None
    document = _unwrapped(document)
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


def _unwrapped(document: Any) -> Any:
    """What a ``{"data": …}`` envelope holds (the WordPress.com / Jetpack REST proxy wraps
    WooCommerce's answer so); anything else as it is."""
    if (
        isinstance(document, dict)
        and isinstance(document.get("data"), dict | list)
        and not _ORDER_KEYS & document.keys()
        and "orders" not in document
        and "order" not in document
    ):
        return document["data"]
    return document


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
                json_loads(line)
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
            return [(number, json_loads(line)) for number, line in self._lines[index]]
        number, line = self._lines[index]
        return number, json_loads(line)

    def __iter__(self) -> Iterator[tuple[int, Any]]:
        for number, line in self._lines:
            yield number, json_loads(line)
