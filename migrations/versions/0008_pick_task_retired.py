"""pick tasks retired when their order stops being picked (held, cancelled)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22

A nullable timestamp. Tasks of orders already held or cancelled with nothing picked are retired
by the upgrade, so a release reserves those orders afresh. Orders held with units picked are left
as they are: held at packing, their goods really are in a tote or a parcel; held by a shortage
before this release, the upgrade cannot tell whether their units went back (the ledger never
said), and a lead releases or cancels them as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("pick_tasks", sa.Column("retired_at", sa.DateTime(), nullable=True))
    op.execute(
        "UPDATE pick_tasks SET retired_at = updated_at WHERE order_id IN "
        "(SELECT id FROM orders WHERE status IN ('on_hold', 'cancelled')) "
        "AND order_id NOT IN (SELECT order_id FROM pick_tasks WHERE picked > 0)"
    )


def downgrade() -> None:
    op.drop_column("pick_tasks", "retired_at")
