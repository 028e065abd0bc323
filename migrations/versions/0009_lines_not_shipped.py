"""lines not shipped and the customer's locale on orders; products that do not ship

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04

A shop sends lines the floor must not ship (refunded, removed, gift cards, downloads): they are
recorded on the order, never picked. Every existing product ships, as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "lines_not_shipped", sa.JSON(), server_default=sa.text("'[]'"), nullable=False
            )
        )
        batch_op.add_column(sa.Column("customer_locale", sa.String(length=16), nullable=True))
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ships", sa.Boolean(), server_default=sa.text("true"), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_column("ships")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("customer_locale")
        batch_op.drop_column("lines_not_shipped")
