"""message: committee messages without a body (weekly digest), one per proposal, kind and round

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("message") as batch_op:
        batch_op.alter_column("body_id", existing_type=sa.String(length=100), nullable=True)
    op.create_index(
        "uq_message_committee_round",
        "message",
        ["proposal_id", "kind", "round"],
        unique=True,
        sqlite_where=sa.text("body_id IS NULL"),
        postgresql_where=sa.text("body_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_message_committee_round", table_name="message")
    op.execute("DELETE FROM message WHERE body_id IS NULL")
    with op.batch_alter_table("message") as batch_op:
        batch_op.alter_column("body_id", existing_type=sa.String(length=100), nullable=False)
