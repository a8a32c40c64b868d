"""proposal: which point names the NGO liaison (the duty description's point)

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every proposal stored so far names its liaison in point 1 (the only value the code accepted).
    with op.batch_alter_table("proposal") as batch_op:
        batch_op.add_column(sa.Column("duties_point", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("proposal") as batch_op:
        batch_op.drop_column("duties_point")
