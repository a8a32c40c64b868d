"""combined reminders: a reminder round carried by one email that covers several proposals

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN, like 0008: nothing stored changes (no earlier row is carried).
    op.add_column("message", sa.Column("carried_by", sa.Integer(), nullable=True))
    op.create_index("ix_message_carried_by", "message", ["carried_by"])


def downgrade() -> None:
    op.drop_index("ix_message_carried_by", table_name="message")
    op.drop_column("message", "carried_by")
