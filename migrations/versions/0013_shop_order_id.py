"""the shop's own id of an order, for what Picker sends back to the shop

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06

A shop's API names an order by its internal id (Shopify ``id``, e.g. 450789469; WooCommerce
``id``), not by the number its customers see (``#1001``, kept in ``shop_order_no``). Orders
imported from now on keep it; those imported before have none (NULL), and no fulfilment can be
sent back for them: their shop message fails, saying so. CSV imports carry none either.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shop_order_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("shop_order_id")
