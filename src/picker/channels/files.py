"""Reading CSV exports: one reader for every import (orders, products, stock)."""

from __future__ import annotations

import csv
import io


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
