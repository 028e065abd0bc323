"""scan journal: the screen a scan was made on and what it was read as

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

Plain ADD/DROP COLUMN, not a batch: a batch would rebuild the table on SQLite and drop the
triggers that keep the journal append-only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "scan_journal",
        sa.Column("screen", sa.String(length=24), server_default="", nullable=False),
    )
    op.add_column(
        "scan_journal",
        sa.Column("fields", sa.JSON(), server_default=sa.text("'{}'"), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("scan_journal", "fields")
    op.drop_column("scan_journal", "screen")
