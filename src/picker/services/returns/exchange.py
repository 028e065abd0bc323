"""An exchange: the replacement order a return closed as an exchange creates.

(Written by helper ``exchange``; this is the shape the returns desk calls.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from picker.config import Settings
from picker.services.actors import Actor


@dataclass(frozen=True)
class ExchangeMade:
    order_id: int
    number: str
    #: What the customer still owes (the replacement costs more than what came back), else 0.
    due: Decimal


def create_exchange(
    s: Session,
    actor: Actor,
    ret_id: int,
    items: Sequence[tuple[str, int]],
    *,
    settings: Settings,
    at: datetime,
) -> ExchangeMade:
    """Create the replacement order of return ``ret_id`` (``items``: SKU and quantity each),
    inside the caller's transaction."""
    raise NotImplementedError
