"""stock you can trust: receipts, cycle counts, replenishment moves, case packs

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06

New tables: ``receipts`` and ``receipt_lines`` (inbound notices and what a dock received),
``count_tasks`` and ``count_lines`` (blind cycle counts, one active per bin), ``move_tasks``
(replenishment reserve → pick face, one active per product and face), ``product_packs`` (a
case's GTIN and how many units it holds). ``bins`` gain ``min_qty``/``max_qty`` (a pick face's
replenishment levels) and ``counted_at``; a bin may be ``receiving`` (the dock, never reserved
or picked); ``stock_movements.document`` names the receipt, count or move behind a change;
operators may have the ``receiver`` role.

Going back down drops all of it, takes the role from the operators who had it and turns
receiving bins into inactive reserve bins (their stock stays recorded, never reserved or picked).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROLES_BEFORE = ("picker", "packer", "lead", "service", "returns")
_ROLES_AFTER = (*_ROLES_BEFORE, "receiver")
_BIN_ROLES_BEFORE = ("pick", "reserve", "quarantine")
_BIN_ROLES_AFTER = (*_BIN_ROLES_BEFORE, "receiving")
_RECEIPT_STATUSES = ("expected", "open", "closed", "cancelled")
_COUNT_STATUSES = ("planned", "counting", "recount", "approval", "done", "rejected", "cancelled")
_COUNT_ACTIVE = ("planned", "counting", "recount", "approval")
_MOVE_STATUSES = ("planned", "moving", "done", "cancelled")
_MOVE_ACTIVE = ("planned", "moving")


def _one_of(column: str, values: Sequence[str]) -> str:
    return " OR ".join(f"{column} = '{v}'" for v in values)


def _roles_known(values: Sequence[str]) -> None:
    with op.batch_alter_table("operator_roles", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_operator_roles_role_known"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_operator_roles_role_known"), _one_of("role", values)
        )


def upgrade() -> None:
    _roles_known(_ROLES_AFTER)
    op.create_table(
        "count_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("bin_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("plan_reason", sa.String(length=64), nullable=True),
        sa.Column("planned_by", sa.Integer(), nullable=True),
        sa.Column("planned_at", sa.DateTime(), nullable=False),
        sa.Column("held_by_terminal", sa.String(length=16), nullable=True),
        sa.Column("held_by", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("first_counter", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            _one_of("status", _COUNT_STATUSES), name=op.f("ck_count_tasks_status_known")
        ),
        sa.CheckConstraint(
            "round >= 1 AND round <= 2", name=op.f("ck_count_tasks_round_one_or_two")
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_count_tasks_version_positive")),
        sa.ForeignKeyConstraint(["bin_id"], ["bins.id"], name=op.f("fk_count_tasks_bin_id_bins")),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["operators.id"], name=op.f("fk_count_tasks_decided_by_operators")
        ),
        sa.ForeignKeyConstraint(
            ["first_counter"], ["operators.id"], name=op.f("fk_count_tasks_first_counter_operators")
        ),
        sa.ForeignKeyConstraint(
            ["held_by"], ["operators.id"], name=op.f("fk_count_tasks_held_by_operators")
        ),
        sa.ForeignKeyConstraint(
            ["planned_by"], ["operators.id"], name=op.f("fk_count_tasks_planned_by_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_count_tasks")),
        sa.UniqueConstraint("number", name=op.f("uq_count_tasks_number")),
    )
    with op.batch_alter_table("count_tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_count_tasks_status"), ["status"], unique=False)
        batch_op.create_index(
            "uq_count_tasks_one_active_per_bin",
            ["bin_id"],
            unique=True,
            sqlite_where=sa.text(_one_of("status", _COUNT_ACTIVE)),
            postgresql_where=sa.text(_one_of("status", _COUNT_ACTIVE)),
        )

    op.create_table(
        "move_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("from_bin_id", sa.Integer(), nullable=False),
        sa.Column("to_bin_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("moved", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("held_by_terminal", sa.String(length=16), nullable=True),
        sa.Column("held_by", sa.Integer(), nullable=True),
        sa.Column("done_by", sa.Integer(), nullable=True),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            _one_of("status", _MOVE_STATUSES), name=op.f("ck_move_tasks_status_known")
        ),
        sa.CheckConstraint("from_bin_id <> to_bin_id", name=op.f("ck_move_tasks_bins_differ")),
        sa.CheckConstraint("moved >= 0", name=op.f("ck_move_tasks_moved_not_negative")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_move_tasks_quantity_positive")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_move_tasks_version_positive")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["operators.id"], name=op.f("fk_move_tasks_created_by_operators")
        ),
        sa.ForeignKeyConstraint(
            ["done_by"], ["operators.id"], name=op.f("fk_move_tasks_done_by_operators")
        ),
        sa.ForeignKeyConstraint(
            ["from_bin_id"], ["bins.id"], name=op.f("fk_move_tasks_from_bin_id_bins")
        ),
        sa.ForeignKeyConstraint(
            ["held_by"], ["operators.id"], name=op.f("fk_move_tasks_held_by_operators")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_move_tasks_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["to_bin_id"], ["bins.id"], name=op.f("fk_move_tasks_to_bin_id_bins")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_move_tasks")),
        sa.UniqueConstraint("number", name=op.f("uq_move_tasks_number")),
    )
    with op.batch_alter_table("move_tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_move_tasks_status"), ["status"], unique=False)
        batch_op.create_index(
            "uq_move_tasks_one_active_per_face",
            ["product_id", "to_bin_id"],
            unique=True,
            sqlite_where=sa.text(_one_of("status", _MOVE_ACTIVE)),
            postgresql_where=sa.text(_one_of("status", _MOVE_ACTIVE)),
        )

    op.create_table(
        "product_packs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("barcode", sa.String(length=64), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.CheckConstraint("length(barcode) > 0", name=op.f("ck_product_packs_barcode_not_empty")),
        sa.CheckConstraint("units > 1", name=op.f("ck_product_packs_units_more_than_one")),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_packs_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_packs")),
        sa.UniqueConstraint("barcode", name=op.f("uq_product_packs_barcode")),
    )
    with op.batch_alter_table("product_packs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_product_packs_product_id"), ["product_id"], unique=False
        )

    op.create_table(
        "receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=48), nullable=False),
        sa.Column("supplier", sa.String(length=100), nullable=True),
        sa.Column("expected_at", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("held_by_terminal", sa.String(length=16), nullable=True),
        sa.Column("held_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("opened_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            _one_of("status", _RECEIPT_STATUSES), name=op.f("ck_receipts_status_known")
        ),
        sa.CheckConstraint("length(reference) > 0", name=op.f("ck_receipts_reference_not_empty")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_receipts_version_positive")),
        sa.ForeignKeyConstraint(
            ["closed_by"], ["operators.id"], name=op.f("fk_receipts_closed_by_operators")
        ),
        sa.ForeignKeyConstraint(
            ["held_by"], ["operators.id"], name=op.f("fk_receipts_held_by_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipts")),
        sa.UniqueConstraint("reference", name=op.f("uq_receipts_reference")),
    )
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_receipts_status"), ["status"], unique=False)

    op.create_table(
        "count_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("expected", sa.Integer(), nullable=False),
        sa.Column("counted", sa.Integer(), nullable=False),
        sa.Column("counted_by", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("counted >= 0", name=op.f("ck_count_lines_counted_not_negative")),
        sa.CheckConstraint("expected >= 0", name=op.f("ck_count_lines_expected_not_negative")),
        sa.ForeignKeyConstraint(
            ["counted_by"], ["operators.id"], name=op.f("fk_count_lines_counted_by_operators")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_count_lines_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["count_tasks.id"],
            name=op.f("fk_count_lines_task_id_count_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_count_lines")),
        sa.UniqueConstraint(
            "task_id", "round", "product_id", name=op.f("uq_count_lines_task_id_round_product_id")
        ),
    )
    op.create_table(
        "receipt_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receipt_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("expected_qty", sa.Integer(), nullable=False),
        sa.Column("received_qty", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("lot", sa.String(length=40), nullable=True),
        sa.Column("expiry", sa.Date(), nullable=True),
        sa.Column("accepted_by", sa.Integer(), nullable=True),
        sa.Column("accepted_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "expected_qty >= 0", name=op.f("ck_receipt_lines_expected_not_negative")
        ),
        sa.CheckConstraint("length(sku) > 0", name=op.f("ck_receipt_lines_sku_not_empty")),
        sa.CheckConstraint(
            "received_qty >= 0", name=op.f("ck_receipt_lines_received_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["accepted_by"], ["operators.id"], name=op.f("fk_receipt_lines_accepted_by_operators")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_receipt_lines_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["receipt_id"],
            ["receipts.id"],
            name=op.f("fk_receipt_lines_receipt_id_receipts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipt_lines")),
        sa.UniqueConstraint(
            "receipt_id", "line_no", name=op.f("uq_receipt_lines_receipt_id_line_no")
        ),
    )
    with op.batch_alter_table("receipt_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_receipt_lines_product_id"), ["product_id"], unique=False
        )

    with op.batch_alter_table("bins", schema=None) as batch_op:
        batch_op.add_column(sa.Column("min_qty", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("max_qty", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("counted_at", sa.DateTime(), nullable=True))

    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("document", sa.String(length=48), nullable=True))

    with op.batch_alter_table("bins", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_bins_role_known"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_bins_role_known"), _one_of("role", _BIN_ROLES_AFTER)
        )
        batch_op.create_check_constraint(
            op.f("ck_bins_min_max_positive"), "min_qty >= 0 AND max_qty > 0"
        )
        batch_op.create_check_constraint(op.f("ck_bins_min_within_max"), "min_qty <= max_qty")


def downgrade() -> None:
    op.execute("DELETE FROM operator_roles WHERE role = 'receiver'")
    op.execute("UPDATE bins SET role = 'reserve', active = false WHERE role = 'receiving'")
    with op.batch_alter_table("bins", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_bins_min_within_max"), type_="check")
        batch_op.drop_constraint(op.f("ck_bins_min_max_positive"), type_="check")
        batch_op.drop_constraint(op.f("ck_bins_role_known"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_bins_role_known"), _one_of("role", _BIN_ROLES_BEFORE)
        )

    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.drop_column("document")

    with op.batch_alter_table("bins", schema=None) as batch_op:
        batch_op.drop_column("counted_at")
        batch_op.drop_column("max_qty")
        batch_op.drop_column("min_qty")

    with op.batch_alter_table("receipt_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_receipt_lines_product_id"))

    op.drop_table("receipt_lines")
    op.drop_table("count_lines")
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_receipts_status"))

    op.drop_table("receipts")
    with op.batch_alter_table("product_packs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_packs_product_id"))

    op.drop_table("product_packs")
    with op.batch_alter_table("move_tasks", schema=None) as batch_op:
        batch_op.drop_index("uq_move_tasks_one_active_per_face")
        batch_op.drop_index(batch_op.f("ix_move_tasks_status"))

    op.drop_table("move_tasks")
    with op.batch_alter_table("count_tasks", schema=None) as batch_op:
        batch_op.drop_index("uq_count_tasks_one_active_per_bin")
        batch_op.drop_index(batch_op.f("ix_count_tasks_status"))

    op.drop_table("count_tasks")
    _roles_known(_ROLES_BEFORE)
