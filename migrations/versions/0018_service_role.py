"""the customer-service role

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05

Operators may have the ``service`` role (the customer-service desk: finds orders, tells the
customer where they stand, changes nothing). Only the CHECK on ``operator_roles.role`` changes.
Going back down takes the role from the operators who had it (an operator with no other role is
left with none and cannot log in until a lead gives them one).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BEFORE = ("picker", "packer", "lead")
_AFTER = (*_BEFORE, "service")


def _one_of(values: Sequence[str]) -> str:
    return " OR ".join(f"role = '{v}'" for v in values)


def _roles_known(values: Sequence[str]) -> None:
    with op.batch_alter_table("operator_roles", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_operator_roles_role_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_operator_roles_role_known"), _one_of(values))


def upgrade() -> None:
    _roles_known(_AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM operator_roles WHERE role = 'service'")
    _roles_known(_BEFORE)
