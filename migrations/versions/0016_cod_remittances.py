"""cash on delivery settled: the lines of couriers' COD remittance files

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05

One new table. It starts empty: cash collected before this revision is settled by importing the
couriers' remittance files (``picker cod import``) like any other.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PROBLEMS = (
    "short_paid", "over_paid", "currency", "unknown", "other_courier", "voided", "not_cod",
    "not_delivered", "duplicate",
)  # fmt: skip


def _one_of(column: str, values: Sequence[str]) -> str:
    return " OR ".join(f"{column} = '{v}'" for v in values)


def upgrade() -> None:
    op.create_table(
        "cod_remittances",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("courier_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("tracking_no", sa.String(length=40), nullable=False),
        sa.Column("occurrence", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("remitted_at", sa.DateTime(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("parcel_id", sa.Integer(), nullable=True),
        sa.Column("expected_minor", sa.BigInteger(), nullable=True),
        sa.Column("problem", sa.String(length=16), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("terminal_id", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_cod_remittances_amount_positive")),
        sa.CheckConstraint("length(currency) = 3", name=op.f("ck_cod_remittances_currency_code")),
        sa.CheckConstraint("occurrence > 0", name=op.f("ck_cod_remittances_occurrence_positive")),
        sa.CheckConstraint(
            "problem IS NULL OR " + _one_of("problem", PROBLEMS),
            name=op.f("ck_cod_remittances_problem_known"),
        ),
        sa.CheckConstraint(
            "problem IS NOT NULL OR order_id IS NOT NULL",
            name=op.f("ck_cod_remittances_settled_has_order"),
        ),
        sa.ForeignKeyConstraint(
            ["courier_id"], ["couriers.id"], name=op.f("fk_cod_remittances_courier_id_couriers")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_cod_remittances_operator_id_operators")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_cod_remittances_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["parcel_id"], ["parcels.id"], name=op.f("fk_cod_remittances_parcel_id_parcels")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cod_remittances")),
        sa.UniqueConstraint(
            "courier_id",
            "reference",
            "tracking_no",
            "occurrence",
            name=op.f("uq_cod_remittances_courier_id_reference_tracking_no_occurrence"),
        ),
    )
    op.create_index(
        op.f("ix_cod_remittances_order_id"), "cod_remittances", ["order_id"], unique=False
    )
    op.create_index(
        op.f("ix_cod_remittances_problem"), "cod_remittances", ["problem"], unique=False
    )
    op.create_index(
        "uq_cod_remittances_one_settlement_per_order",
        "cod_remittances",
        ["order_id"],
        unique=True,
        sqlite_where=sa.text("problem IS NULL"),
        postgresql_where=sa.text("problem IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_cod_remittances_one_settlement_per_order", table_name="cod_remittances")
    op.drop_index(op.f("ix_cod_remittances_problem"), table_name="cod_remittances")
    op.drop_index(op.f("ix_cod_remittances_order_id"), table_name="cod_remittances")
    op.drop_table("cod_remittances")
