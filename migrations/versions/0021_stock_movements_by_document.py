"""the dock's ledger read by receipt: stock_movements by (document, product_id, bin_id, id);
receipt_lines by (product_id, id)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07

The receiving dock reads a receipt's own rows of the ledger on every keyed count, undo and
put-away (its last scan at a terminal, newest first; what it left of a product in the dock).
Without an index on ``document`` each of those read the product's whole dock history. A
put-away reads the product's receipt lines newest first: without (product_id, id) PostgreSQL
walks the primary key backwards past every newer line of other products (~40 ms a put-away on a
floor with 100,000 lines expected).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "ix_stock_movements_document_product_id_bin_id_id"
_LINES = "ix_receipt_lines_product_id_id"


def upgrade() -> None:
    op.create_index(
        op.f(_NAME), "stock_movements", ["document", "product_id", "bin_id", "id"], unique=False
    )
    op.create_index(op.f(_LINES), "receipt_lines", ["product_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f(_LINES), table_name="receipt_lines")
    op.drop_index(op.f(_NAME), table_name="stock_movements")
