"""a lead's choice for a recipient the label fonts cannot draw

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05

A label whose recipient has a character no label font can draw is refused at close; a lead
then chooses per order: transliterate it, or print it with blanks to write in by hand. The
choice is kept on the order (NULL: print as written, as before).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("label_text", sa.String(length=16), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_orders_label_text_known"),
            "label_text IS NULL OR label_text = 'transliterate' OR label_text = 'hand_write'",
        )


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_orders_label_text_known"), type_="check")
        batch_op.drop_column("label_text")
