"""the returns desk: returns (RMAs), their expected lines and received units

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06

Three new tables (``returns``, ``return_lines``, ``return_units``); ``order_lines.returned_qty``
(units of a line received back, 0 for every line of before); ``orders.exchange_for_return_id``
(a replacement order's return); bins may be ``quarantine`` (returned goods never sold);
operators may have the ``returns`` role.

Going back down drops the tables and columns, takes the role from the operators who had it,
and turns quarantine bins into inactive reserve bins: their stock stays recorded but is never
reserved or picked (an inactive bin is not), so nothing quarantined becomes sellable.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROLES_BEFORE = ("picker", "packer", "lead", "service")
_ROLES_AFTER = (*_ROLES_BEFORE, "returns")
_BIN_ROLES_BEFORE = ("pick", "reserve")
_BIN_ROLES_AFTER = (*_BIN_ROLES_BEFORE, "quarantine")
_STATUSES = ("authorized", "open", "closed", "cancelled")
_CONDITIONS = ("resell", "damaged", "defect", "incomplete", "scrap", "foreign")
_ACTIVE = "status = 'authorized' OR status = 'open'"


def _one_of(column: str, values: Sequence[str]) -> str:
    return " OR ".join(f"{column} = '{v}'" for v in values)


def _roles_known(values: Sequence[str]) -> None:
    with op.batch_alter_table("operator_roles", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_operator_roles_role_known"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_operator_roles_role_known"), _one_of("role", values)
        )


def _bin_roles_known(values: Sequence[str]) -> None:
    with op.batch_alter_table("bins", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_bins_role_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_bins_role_known"), _one_of("role", values))


def upgrade() -> None:
    _roles_known(_ROLES_AFTER)
    _bin_roles_known(_BIN_ROLES_AFTER)
    op.create_table(
        "returns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("exchange", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("tracking_no", sa.String(length=40), nullable=True),
        sa.Column("courier_id", sa.Integer(), nullable=True),
        sa.Column("held_by_terminal", sa.String(length=16), nullable=True),
        sa.Column("held_by", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("refund_amount", sa.BigInteger(), nullable=True),
        sa.Column("refund_shipping", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("exchange_order_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("terminal_id", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(_one_of("status", _STATUSES), name=op.f("ck_returns_status_known")),
        sa.CheckConstraint("length(currency) = 3", name=op.f("ck_returns_currency_code")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_returns_version_positive")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_returns_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["courier_id"], ["couriers.id"], name=op.f("fk_returns_courier_id_couriers")
        ),
        sa.ForeignKeyConstraint(
            ["held_by"], ["operators.id"], name=op.f("fk_returns_held_by_operators")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["operators.id"], name=op.f("fk_returns_created_by_operators")
        ),
        sa.ForeignKeyConstraint(
            ["closed_by"], ["operators.id"], name=op.f("fk_returns_closed_by_operators")
        ),
        sa.ForeignKeyConstraint(
            ["exchange_order_id"], ["orders.id"], name=op.f("fk_returns_exchange_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_returns")),
        sa.UniqueConstraint("number", name=op.f("uq_returns_number")),
        sa.UniqueConstraint("tracking_no", name=op.f("uq_returns_tracking_no")),
    )
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_returns_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_returns_status"), ["status"], unique=False)
        batch_op.create_index(
            "uq_returns_one_active_per_order",
            ["order_id"],
            unique=True,
            sqlite_where=sa.text(_ACTIVE),
            postgresql_where=sa.text(_ACTIVE),
        )

    op.create_table(
        "return_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_return_lines_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["return_id"],
            ["returns.id"],
            name=op.f("fk_return_lines_return_id_returns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["order_lines.id"],
            name=op.f("fk_return_lines_order_line_id_order_lines"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_lines")),
        sa.UniqueConstraint(
            "return_id", "order_line_id", name=op.f("uq_return_lines_return_id_order_line_id")
        ),
    )

    op.create_table(
        "return_units",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=True),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("condition", sa.String(length=12), nullable=True),
        sa.Column("bin_id", sa.Integer(), nullable=True),
        sa.Column("stocked", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("terminal_id", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "condition IS NULL OR " + _one_of("condition", _CONDITIONS),
            name=op.f("ck_return_units_condition_known"),
        ),
        sa.ForeignKeyConstraint(
            ["return_id"],
            ["returns.id"],
            name=op.f("fk_return_units_return_id_returns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["order_lines.id"],
            name=op.f("fk_return_units_order_line_id_order_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_return_units_product_id_products")
        ),
        sa.ForeignKeyConstraint(["bin_id"], ["bins.id"], name=op.f("fk_return_units_bin_id_bins")),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_return_units_operator_id_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_units")),
    )
    with op.batch_alter_table("return_units", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_return_units_return_id"), ["return_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_return_units_order_line_id"), ["order_line_id"], unique=False
        )

    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("returned_qty", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.create_check_constraint(
            op.f("ck_order_lines_returned_qty_not_negative"), "returned_qty >= 0"
        )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("exchange_for_return_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_orders_exchange_for_return_id_returns"),
            "returns",
            ["exchange_for_return_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_orders_exchange_for_return_id_returns"), type_="foreignkey"
        )
        batch_op.drop_column("exchange_for_return_id")
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_order_lines_returned_qty_not_negative"), type_="check")
        batch_op.drop_column("returned_qty")
    with op.batch_alter_table("return_units", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_return_units_order_line_id"))
        batch_op.drop_index(batch_op.f("ix_return_units_return_id"))
    op.drop_table("return_units")
    op.drop_table("return_lines")
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_returns_one_active_per_order",
            sqlite_where=sa.text(_ACTIVE),
            postgresql_where=sa.text(_ACTIVE),
        )
        batch_op.drop_index(batch_op.f("ix_returns_status"))
        batch_op.drop_index(batch_op.f("ix_returns_order_id"))
    op.drop_table("returns")
    # Quarantined goods keep their stock rows but their bins go inactive: an inactive bin is never
    # reserved or picked from, so nothing damaged becomes sellable below 0019.
    op.execute("UPDATE bins SET role = 'reserve', active = false WHERE role = 'quarantine'")
    _bin_roles_known(_BIN_ROLES_BEFORE)
    op.execute("DELETE FROM operator_roles WHERE role = 'returns'")
    _roles_known(_ROLES_BEFORE)
