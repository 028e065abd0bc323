"""packing: who packs an order, its address confirmed, one open parcel per order, label numbers

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22

Plain ADD COLUMN (nullable) with the foreign keys written inline on SQLite, as 0004 and 0005 do.
Orders already in ``packing`` (the demo floor's, or an earlier release's) get their packer from
the packing event that put them there. The partial unique index holds each order to one open
parcel (SQLite and PostgreSQL both index with a WHERE).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FOREIGN_KEYS = {
    "packer_id": "fk_orders_packer_id_operators",
    "address_confirmed_by": "fk_orders_address_confirmed_by_operators",
}
PACKER_INDEX = "ix_orders_packer_id_status"
OPEN_PARCEL = "uq_parcels_one_open_per_order"


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column("orders", sa.Column("address_confirmed_at", sa.DateTime(), nullable=True))
    for column, fk in FOREIGN_KEYS.items():
        if sqlite:
            op.execute(
                f"ALTER TABLE orders ADD COLUMN {column} INTEGER "
                f"CONSTRAINT {fk} REFERENCES operators (id)"
            )
        else:
            op.add_column("orders", sa.Column(column, sa.Integer(), nullable=True))
            op.create_foreign_key(fk, "orders", "operators", [column], ["id"])
    op.execute(
        "UPDATE orders SET packer_id = (SELECT e.operator_id FROM order_events e "
        "WHERE e.order_id = orders.id AND e.to_status = 'packing' ORDER BY e.id DESC LIMIT 1) "
        "WHERE status = 'packing'"
    )
    op.create_index(PACKER_INDEX, "orders", ["packer_id", "status"], unique=False)
    op.add_column("parcels", sa.Column("label_no", sa.Integer(), nullable=True))
    op.create_index(
        OPEN_PARCEL,
        "parcels",
        ["order_id"],
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )


def downgrade() -> None:
    op.drop_index(OPEN_PARCEL, table_name="parcels")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("parcels", recreate="always") as batch:
            batch.drop_column("label_no")
    else:
        op.drop_column("parcels", "label_no")
    op.drop_index(PACKER_INDEX, table_name="orders")
    if op.get_bind().dialect.name != "sqlite":
        for column, fk in FOREIGN_KEYS.items():
            op.drop_constraint(fk, "orders", type_="foreignkey")
            op.drop_column("orders", column)
        op.drop_column("orders", "address_confirmed_at")
        return
    with op.batch_alter_table("orders", recreate="always") as batch:
        for column in FOREIGN_KEYS:
            batch.drop_column(column)
        batch.drop_column("address_confirmed_at")
