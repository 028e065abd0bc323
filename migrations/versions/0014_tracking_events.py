"""courier tracking events, and each parcel's courier state

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05

A new table of the events couriers report for our parcels (``picker tracking import``), each
stored once: the same parcel, status and courier's time is one event however often its file is
imported. Parcels gain their courier state (the latest event by the courier's time) and a flag
for a parcel coming back to us. Parcels that left before this revision have no courier state
(NULL) until an event arrives for them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = (
    "in_transit", "out_for_delivery", "delivered", "failed_attempt", "exception",
    "returned_to_sender",
)  # fmt: skip


def _one_of(column: str, values: Sequence[str], *, nullable: bool = False) -> str:
    condition = " OR ".join(f"{column} = '{v}'" for v in values)
    return f"{column} IS NULL OR {condition}" if nullable else condition


def upgrade() -> None:
    op.create_table(
        "tracking_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("parcel_id", sa.Integer(), nullable=False),
        sa.Column("courier_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("raw_status", sa.String(length=100), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            _one_of("status", STATUSES), name=op.f("ck_tracking_events_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["courier_id"], ["couriers.id"], name=op.f("fk_tracking_events_courier_id_couriers")
        ),
        sa.ForeignKeyConstraint(
            ["parcel_id"], ["parcels.id"], name=op.f("fk_tracking_events_parcel_id_parcels")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_events")),
        sa.UniqueConstraint(
            "parcel_id", "status", "at", name=op.f("uq_tracking_events_parcel_id_status_at")
        ),
    )
    with op.batch_alter_table("parcels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("courier_status", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("courier_status_at", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "returned_to_sender", sa.Boolean(), server_default=sa.text("false"), nullable=False
            )
        )
        batch_op.create_check_constraint(
            op.f("ck_parcels_courier_status_known"),
            _one_of("courier_status", STATUSES, nullable=True),
        )


def downgrade() -> None:
    with op.batch_alter_table("parcels", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_parcels_courier_status_known"), type_="check")
        batch_op.drop_column("returned_to_sender")
        batch_op.drop_column("courier_status_at")
        batch_op.drop_column("courier_status")
    op.drop_table("tracking_events")
