"""decision: the revision people see (1 for a point's first recording), apart from the lock counter

The ``version`` column is the optimistic lock and is bumped by sending and reminding too, so a
point's first recording was reported as "versio 3". ``revision`` counts the recordings only; the
rows stored so far get the number of their ``decision_recorded`` events.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decision") as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE decision SET revision = (SELECT COUNT(*) FROM event WHERE event.kind = 'decision_recorded' "
        "AND event.proposal_id = decision.proposal_id AND event.body_id = decision.body_id "
        "AND event.point_number = decision.point_number)"
    )


def downgrade() -> None:
    with op.batch_alter_table("decision") as batch_op:
        batch_op.drop_column("revision")
