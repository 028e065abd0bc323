"""print queue: back-off, claims, reprint journal and document titles on print jobs

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

Plain ADD COLUMN (nullable), the foreign key to operators written inline on SQLite as 0004 does.
Jobs queued before this revision are due at once (next_attempt_at = created_at). The due-jobs
index (status, printer, next_attempt_at) replaces (status, printer), of which it is an extension.
print_jobs has no append-only triggers, so the SQLite downgrade may rebuild the table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK = "fk_print_jobs_requested_by_operators"
OLD_INDEX = "ix_print_jobs_status_printer"
DUE_INDEX = "ix_print_jobs_status_printer_next_attempt_at"
COLUMNS = ("title", "next_attempt_at", "claimed_at", "claimed_by", "reason")


def upgrade() -> None:
    op.add_column("print_jobs", sa.Column("title", sa.String(length=100), nullable=True))
    op.add_column("print_jobs", sa.Column("next_attempt_at", sa.DateTime(), nullable=True))
    op.add_column("print_jobs", sa.Column("claimed_at", sa.DateTime(), nullable=True))
    op.add_column("print_jobs", sa.Column("claimed_by", sa.String(length=64), nullable=True))
    op.add_column("print_jobs", sa.Column("reason", sa.Text(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE print_jobs ADD COLUMN requested_by INTEGER "
            f"CONSTRAINT {FK} REFERENCES operators (id)"
        )
    else:
        op.add_column("print_jobs", sa.Column("requested_by", sa.Integer(), nullable=True))
        op.create_foreign_key(FK, "print_jobs", "operators", ["requested_by"], ["id"])
    op.execute("UPDATE print_jobs SET next_attempt_at = created_at WHERE next_attempt_at IS NULL")
    op.drop_index(OLD_INDEX, table_name="print_jobs")
    op.create_index(DUE_INDEX, "print_jobs", ["status", "printer", "next_attempt_at"], unique=False)


def downgrade() -> None:
    op.drop_index(DUE_INDEX, table_name="print_jobs")
    op.create_index(OLD_INDEX, "print_jobs", ["status", "printer"], unique=False)
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(FK, "print_jobs", type_="foreignkey")
        op.drop_column("print_jobs", "requested_by")
        for column in reversed(COLUMNS):
            op.drop_column("print_jobs", column)
        return
    with op.batch_alter_table("print_jobs", recreate="always") as batch:
        batch.drop_column("requested_by")
        for column in reversed(COLUMNS):
            batch.drop_column(column)
