"""stock movements name the pick task they belong to (picks, undos, shortages)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

SQLite adds the column with its foreign key in one plain ALTER TABLE (Alembic would want a batch,
which rebuilds the table and loses the triggers that keep the ledger append-only). Dropping it on
SQLite does need the rebuild, so the downgrade puts the triggers back.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK = "fk_stock_movements_pick_task_id_pick_tasks"
INDEX = "ix_stock_movements_pick_task_id"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE stock_movements ADD COLUMN pick_task_id INTEGER "
            f"CONSTRAINT {FK} REFERENCES pick_tasks (id)"
        )
    else:
        op.add_column("stock_movements", sa.Column("pick_task_id", sa.Integer(), nullable=True))
        op.create_foreign_key(FK, "stock_movements", "pick_tasks", ["pick_task_id"], ["id"])
    op.create_index(INDEX, "stock_movements", ["pick_task_id"], unique=False)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="stock_movements")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(FK, "stock_movements", type_="foreignkey")
        op.drop_column("stock_movements", "pick_task_id")
        return
    with op.batch_alter_table("stock_movements", recreate="always") as batch:
        batch.drop_column("pick_task_id")
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER IF NOT EXISTS stock_movements_no_{action.lower()} BEFORE {action} "
            "ON stock_movements BEGIN SELECT RAISE(ABORT, 'stock_movements is append-only'); END"
        )
