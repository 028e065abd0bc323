"""Orders in our own CSV format, one row per order line.

Each order becomes an :class:`~picker.domain.intake.IncomingOrder` record, or a record error
naming the line and the column.

Format: UTF-8 (a byte-order mark is allowed), comma-separated (a semicolon or tab is used
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

Payment: the ``payment`` column, ``paid``, ``cod`` or ``pending`` (any case).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from picker.channels.files import FileRefused, Row, read_rows
from picker.channels.reading import (
    Context,
    ParsedFile,
    quoted,
    read_currency,
    read_money,
    read_quantity,
    read_timestamp,
    rounded,
    storable,
)
from picker.domain.intake import Address, IncomingLine, IncomingOrder, RecordError

CSV_REQUIRED = (
    "order_number", "placed_at", "ship_name", "ship_street", "ship_postal_code", "ship_city",
    "ship_country", "shipping_method", "currency", "payment", "sku", "quantity",
)  # fmt: skip
CSV_OPTIONAL = (
    "customer_name", "email", "ship_street2", "ship_region", "ship_phone", "total", "name",
    "unit_price", "note",
)  # fmt: skip
CSV_PAYMENTS = ("paid", "cod", "pending")


class _AtLine(Exception):
    """A record error found on a later row of a CSV order: reported at that row's line."""

    def __init__(self, line: int, error: RecordError) -> None:
        super().__init__(str(error))
        self.line = line
        self.error = error


def _blank(cells: list[str]) -> bool:
    return all(not c.strip() for c in cells)


def parse_csv(text: str, ctx: Context) -> ParsedFile:
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
    groups: list[list[Row]], columns: dict[str, int], width: int, ctx: Context
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
    ctx: Context,
) -> IncomingOrder:
    first_line, first = group[0]

    def cell(name: str, cells: list[str] | None = None) -> str:
        return storable(_cell(columns, first if cells is None else cells, name), name)

    number = cell("order_number")
    if not number:
        raise RecordError("order_number", "missing")
    if number in first_seen:
        raise RecordError(
            "order_number",
            f"order {quoted(number)} already began on line {first_seen[number]}: the rows of "
            "one order must be consecutive",
        )
    first_seen[number] = first_line
    placed_at = read_timestamp(cell("placed_at"), "placed_at")
    currency, quantum = read_currency(cell("currency"), "currency")
    payment = cell("payment").lower()
    if payment not in CSV_PAYMENTS:
        got = f", got {quoted(cell('payment'))}" if payment else ""
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
                    quantity=read_quantity(cell("quantity", cells), "quantity"),
                    unit_price=read_money(
                        cell("unit_price", cells), "unit_price", quantum, required=False
                    ),
                )
            )
        except RecordError as exc:
            if line == first_line:
                raise
            raise _AtLine(line, exc) from None

    if cell("total"):
        total = read_money(cell("total"), "total", quantum, required=True)
    else:
        amount = sum((ln.unit_price * ln.quantity for ln in lines), Decimal(0))
        total = rounded(amount, quantum, "total")
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
