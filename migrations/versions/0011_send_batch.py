"""shared sends: the batches of one send that several flow runs (on several workers) claim

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A new table: nothing stored changes.
    op.create_table(
        "send_batch",
        sa.Column("campaign", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("body_ids", sa.JSON(), nullable=False),
        sa.Column("claimed_by", sa.String(length=200), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("campaign", "position", name=op.f("pk_send_batch")),
    )


def downgrade() -> None:
    op.drop_table("send_batch")
