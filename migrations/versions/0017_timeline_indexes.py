"""print jobs found by their order and by their pickup, for an order's timeline

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05

``picker order timeline`` lists an order's label jobs, reprints and packing slip (by
``order_id``) and the manifests of the pickups its parcels left on (by ``pickup_id``). Neither
column had an index: on a floor's history of millions of print jobs each lookup read them all.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_print_jobs_order_id"), "print_jobs", ["order_id"], unique=False)
    op.create_index(op.f("ix_print_jobs_pickup_id"), "print_jobs", ["pickup_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_print_jobs_pickup_id"), table_name="print_jobs")
    op.drop_index(op.f("ix_print_jobs_order_id"), table_name="print_jobs")
