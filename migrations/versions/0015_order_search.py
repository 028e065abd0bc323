"""search keys of orders, for ``picker order find``

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05

One new table, ``order_search_keys`` (kind, key, order_id): an order's shop number, e-mail,
phone (its last nine digits) and each word of its names, folded (see
``picker.domain.order_search``), so that finding an order by any of them is an index lookup on
(kind, key) and not a scan of a million orders. Intake writes an order's keys with the order;
this revision writes them for the orders already there, in batches of ids: a million orders
(5.4 million keys) took 95 s on SQLite and 168 s on PostgreSQL, measured on two busy cores.
The downgrade drops the table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from picker.domain.order_search import order_keys

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ("shop", "email", "phone", "name")
BATCH = 20_000


def upgrade() -> None:
    op.create_table(
        "order_search_keys",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=254), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            " OR ".join(f"kind = '{k}'" for k in KINDS),
            name=op.f("ck_order_search_keys_kind_known"),
        ),
        sa.CheckConstraint("length(key) > 0", name=op.f("ck_order_search_keys_key_not_empty")),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_search_keys_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("kind", "key", "order_id", name=op.f("pk_order_search_keys")),
    )
    op.create_index(
        op.f("ix_order_search_keys_order_id"), "order_search_keys", ["order_id"], unique=False
    )
    _backfill(op.get_bind())


def _backfill(conn: sa.Connection) -> None:
    """The keys of every order there is, a batch of ids at a time."""
    orders = sa.table(
        "orders",
        sa.column("id", sa.Integer),
        sa.column("shop_order_no", sa.String),
        sa.column("customer_name", sa.String),
        sa.column("ship_name", sa.String),
        sa.column("customer_email", sa.String),
        sa.column("ship_phone", sa.String),
    )
    keys = sa.table(
        "order_search_keys",
        sa.column("kind", sa.String),
        sa.column("key", sa.String),
        sa.column("order_id", sa.Integer),
    )
    after = 0
    while True:
        rows = conn.execute(
            sa.select(orders).where(orders.c.id > after).order_by(orders.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        found = [
            {"kind": kind, "key": key, "order_id": r.id}
            for r in rows
            for kind, key in order_keys(
                shop_order_no=r.shop_order_no,
                customer_name=r.customer_name,
                ship_name=r.ship_name,
                email=r.customer_email,
                phone=r.ship_phone,
            )
        ]
        if found:
            conn.execute(sa.insert(keys), found)
        after = rows[-1].id


def downgrade() -> None:
    op.drop_index(op.f("ix_order_search_keys_order_id"), table_name="order_search_keys")
    op.drop_table("order_search_keys")
