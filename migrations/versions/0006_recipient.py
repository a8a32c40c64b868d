"""proposal.diary_number; recipient: the body's own case number and a sending outside the service

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Both additions are empty for what is stored so far: nothing to back-fill.
    with op.batch_alter_table("proposal") as batch_op:
        batch_op.add_column(sa.Column("diary_number", sa.String(length=60), nullable=True))
    op.create_table(
        "recipient",
        sa.Column("proposal_id", sa.String(length=100), nullable=False),
        sa.Column("body_id", sa.String(length=100), nullable=False),
        sa.Column("case_number", sa.String(length=60), nullable=True),
        sa.Column("sent_outside_on", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposal.id"], name=op.f("fk_recipient_proposal_id_proposal")),
        sa.ForeignKeyConstraint(["body_id"], ["body.id"], name=op.f("fk_recipient_body_id_body")),
        sa.PrimaryKeyConstraint("proposal_id", "body_id", name=op.f("pk_recipient")),
    )


def downgrade() -> None:
    op.drop_table("recipient")
    with op.batch_alter_table("proposal") as batch_op:
        batch_op.drop_column("diary_number")
