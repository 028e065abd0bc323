"""a floor set up from a file: zones, bin roles, service cutoffs, retired set-up rows, sources

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04

`picker setup apply` describes a whole floor. What it needs the schema to hold:
- zones (code, name) and a role for every bin (pick face or reserve);
- per courier service: its cutoff times (local pickup times) and promised days; the courier's
  tracking link template and, for mod10 numbers, their length;
- packaging's heaviest load; an `active` flag on services, packaging and totes so that a row with
  history is retired, never deleted;
- where a change came from when no operator made it (a data feed: OS user and host), on order
  events and stock movements, and a log of every set-up applied.
Every existing service takes its courier's cutoff as its one cutoff; the courier's column goes
(a downgrade gives couriers 15:00 back).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _active() -> sa.Column[bool]:
    return sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "zones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        _active(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zones")),
        sa.UniqueConstraint("code", name=op.f("uq_zones_code")),
    )
    op.create_table(
        "setup_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_setup_log")),
    )
    with op.batch_alter_table("bins", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("role", sa.String(length=16), server_default="pick", nullable=False)
        )
        batch_op.create_check_constraint(
            op.f("ck_bins_role_known"), "role = 'pick' OR role = 'reserve'"
        )
    with op.batch_alter_table("couriers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tracking_url", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("tracking_length", sa.Integer(), nullable=True))
    with op.batch_alter_table("courier_services", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("cutoffs", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )
        batch_op.add_column(sa.Column("promised_days", sa.Integer(), nullable=True))
        batch_op.add_column(_active())
    with op.batch_alter_table("packaging_types", schema=None) as batch_op:
        batch_op.add_column(sa.Column("max_weight_g", sa.Integer(), nullable=True))
        batch_op.add_column(_active())
    with op.batch_alter_table("totes", schema=None) as batch_op:
        batch_op.add_column(_active())
    for table in ("order_events", "stock_movements"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("source", sa.String(length=64), nullable=True))
    # Every service had its courier's one cutoff: it keeps it, as "HH:MM".
    conn = op.get_bind()
    couriers = sa.table("couriers", sa.column("id", sa.Integer), sa.column("cutoff", sa.Time))
    services = sa.table(
        "courier_services", sa.column("courier_id", sa.Integer), sa.column("cutoffs", sa.JSON)
    )
    for courier_id, cutoff in conn.execute(sa.select(couriers.c.id, couriers.c.cutoff)).all():
        if cutoff is None:
            continue
        at = cutoff if not isinstance(cutoff, str) else None
        text = at.strftime("%H:%M") if at is not None else str(cutoff)[:5]
        conn.execute(
            services.update().where(services.c.courier_id == courier_id).values(cutoffs=[text])
        )
    # The courier's one cutoff now lives on its services.
    with op.batch_alter_table("couriers", schema=None) as batch_op:
        batch_op.drop_column("cutoff")


def downgrade() -> None:
    for table in ("stock_movements", "order_events"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("source")
    with op.batch_alter_table("totes", schema=None) as batch_op:
        batch_op.drop_column("active")
    with op.batch_alter_table("packaging_types", schema=None) as batch_op:
        batch_op.drop_column("active")
        batch_op.drop_column("max_weight_g")
    with op.batch_alter_table("courier_services", schema=None) as batch_op:
        batch_op.drop_column("active")
        batch_op.drop_column("promised_days")
        batch_op.drop_column("cutoffs")
    with op.batch_alter_table("couriers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("cutoff", sa.Time(), server_default=sa.text("'15:00:00'"), nullable=False)
        )
    with op.batch_alter_table("couriers", schema=None) as batch_op:
        batch_op.alter_column("cutoff", server_default=None)
        batch_op.drop_column("tracking_length")
        batch_op.drop_column("tracking_url")
    with op.batch_alter_table("bins", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_bins_role_known"), type_="check")
        batch_op.drop_column("role")
    op.drop_table("setup_log")
    op.drop_table("zones")
