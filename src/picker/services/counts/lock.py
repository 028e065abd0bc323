"""The count lock: a bin is not picked from, put away into or moved from/to while a count of it
is running, waiting for its recount, or waiting for a lead's approval."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from picker.store.models import COUNT_ACTIVE, COUNT_LOCKING, CountTask

#: The partial unique index's own predicate (one active count per bin), as literal text the
#: way the index spells it: SQLite uses a partial index only for a WHERE that names its terms
#: (a bound parameter would not), so both databases answer from that index alone.
ACTIVE = text("(" + " OR ".join(f"count_tasks.status = '{x}'" for x in COUNT_ACTIVE) + ")")


def lock_of(s: Session, bin_id: int) -> str | None:
    """The number of the count locking the bin (``CNT-000012``), or None: one lookup in the
    partial unique index of active counts."""
    row = s.execute(
        select(CountTask.number, CountTask.status).where(CountTask.bin_id == bin_id, ACTIVE)
    ).first()
    if row is None or row.status not in COUNT_LOCKING:
        return None
    return row.number


def locked_words(bin_code: str, number: str) -> str:
    """What a put-away, a move or a pick is told about a locked bin."""
    return f"{bin_code} is being counted ({number})"
