"""message: logical date, retry backoff and copy recipients (follow-up engine)

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("message") as batch_op:
        batch_op.add_column(sa.Column("logical_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("cc", sa.JSON(), nullable=False, server_default="[]"))
    day = "substr(created_at, 1, 10)" if op.get_bind().dialect.name == "sqlite" else "CAST(created_at AS DATE)"
    op.execute(f"UPDATE message SET logical_date = {day} WHERE logical_date IS NULL")


def downgrade() -> None:
    with op.batch_alter_table("message") as batch_op:
        batch_op.drop_column("cc")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("logical_date")
