"""The count lock: a bin is not picked from, put away into or moved from/to while a count of it
is running, waiting for its recount, or waiting for a lead's approval.

On PostgreSQL the check and the stock change it guards are made atomic by the bin's row:
:func:`hold_bin` (``SELECT … FROM bins WHERE id = :bin FOR UPDATE``) is taken by a count as it
starts (before it records the expected stock) and by every path that brings stock into a bin
(put-away, a move, the returns desk, ``stock set``) before it asks :func:`lock_of`. Paths that
only change an existing stock row of the bin (a pick, its undo, a put-back) are serialised by
that row instead: a count locks the bin's stock rows before it reads them."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from picker.store.models import COUNT_ACTIVE, COUNT_LOCKING, Bin, CountTask

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


def hold_bin(s: Session, *bin_ids: int) -> None:
    """Lock the bins' rows until commit (in id order, so two paths never wait on each other in
    a circle): a count starting and a stock change checking the count lock take turns.

    ``FOR NO KEY UPDATE`` on PostgreSQL, not ``FOR UPDATE``: a pick holding the bin's stock row
    writes a ledger row whose foreign key takes ``KEY SHARE`` on the bin; ``FOR UPDATE`` would
    wait for it while it waits for the count's stock rows — a deadlock (seen in the race test
    of a count and picks). Two holders still exclude each other."""
    if bin_ids:
        s.execute(
            select(Bin.id).where(Bin.id.in_(sorted(set(bin_ids)))).order_by(Bin.id)
            .with_for_update(key_share=True)
        ).all()  # fmt: skip


def locked_words(bin_code: str, number: str) -> str:
    """What a put-away, a move or a pick is told about a locked bin."""
    return f"{bin_code} is being counted ({number})"
