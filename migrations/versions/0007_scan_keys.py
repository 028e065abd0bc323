"""scan keys: each journaled scan keeps its terminal's key, so a scan sent again is recognised

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22

A nullable column (scans journaled before have none) and a unique partial index on it: it is
read when a terminal sends a scan again after its database came back, and it refuses a second
row with the same key (a first sending whose commit landed after the second's check). Plain DROP COLUMN on the
way down, not a batch: a batch would rebuild the table on SQLite and drop the triggers that keep
the journal append-only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_scan_journal_scan_key"


def upgrade() -> None:
    op.add_column("scan_journal", sa.Column("scan_key", sa.String(32), nullable=True))
    op.create_index(
        INDEX,
        "scan_journal",
        ["scan_key"],
        unique=True,
        sqlite_where=sa.text("scan_key IS NOT NULL"),
        postgresql_where=sa.text("scan_key IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="scan_journal")
    op.drop_column("scan_journal", "scan_key")
