"""proposal as a campaign: state, stored content, closing; a recipient row for every body it went to

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs (SQLite and PostgreSQL both have them): a batch copy of the table would have
    # to drop the old one, which the decisions' foreign keys forbid once anything is stored.
    op.add_column("proposal", sa.Column("state", sa.String(length=20), nullable=False, server_default="draft"))
    op.add_column("proposal", sa.Column("content", sa.JSON(), nullable=True))
    op.add_column(
        "proposal", sa.Column("recipients_chosen", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("proposal", sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("proposal", sa.Column("close_reason", sa.Text(), nullable=True))
    # What an earlier release stored: a proposal that has any message is under way. Its content is
    # filled in from data/ by the next sync (init, run, send), which every earlier release did too.
    # So is one taken over from outside the service (sent-outside) or with any cell past not_sent.
    op.execute(
        "UPDATE proposal SET state = 'sent' WHERE EXISTS "
        "(SELECT 1 FROM message WHERE message.proposal_id = proposal.id AND message.body_id IS NOT NULL) "
        "OR EXISTS (SELECT 1 FROM recipient r WHERE r.proposal_id = proposal.id AND r.sent_outside_on IS NOT NULL) "
        "OR EXISTS (SELECT 1 FROM decision d WHERE d.proposal_id = proposal.id AND d.status <> 'not_sent')"
    )
    # Every body with a matrix cell was a recipient: give each its row (case number and
    # sent-outside date stay as they are where a row exists).
    op.execute(
        "INSERT INTO recipient (proposal_id, body_id, updated_at) "
        "SELECT DISTINCT d.proposal_id, d.body_id, CURRENT_TIMESTAMP FROM decision d "
        "WHERE NOT EXISTS (SELECT 1 FROM recipient r "
        "WHERE r.proposal_id = d.proposal_id AND r.body_id = d.body_id)"
    )


def downgrade() -> None:
    # DROP COLUMN (SQLite 3.35+, PostgreSQL), not a batch copy: see upgrade().
    for column in ("close_reason", "closed_at", "recipients_chosen", "content", "state"):
        op.drop_column("proposal", column)
