"""Value types of the command line's arguments: whole numbers and dates."""

from __future__ import annotations

import argparse
from typing import Any


def count(text: str) -> int:
    """A whole number, 0 or more; ``_`` and ``,`` may group its digits."""
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def day(text: str) -> Any:
    """A date written YYYY-MM-DD."""
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None
