"""decision intake: candidates found in replies and publications, sources and their freshness

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # New tables and two empty columns: nothing stored changes.
    with op.batch_alter_table("body") as batch_op:
        batch_op.add_column(sa.Column("publication_system", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("publication_url", sa.String(length=500), nullable=True))
    op.create_table(
        "candidate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.String(length=100), nullable=False),
        sa.Column("body_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("point", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=60), nullable=True),
        sa.Column("meeting_date", sa.Date(), nullable=False),
        sa.Column("section", sa.Integer(), nullable=True),
        sa.Column("deciding_body", sa.String(length=200), nullable=True),
        sa.Column("liaison_name", sa.String(length=200), nullable=True),
        sa.Column("case_number", sa.String(length=60), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("source_ref", sa.String(length=500), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settled_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposal.id"], name=op.f("fk_candidate_proposal_id_proposal")
        ),
        sa.ForeignKeyConstraint(["body_id"], ["body.id"], name=op.f("fk_candidate_body_id_body")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_candidate")),
        sa.UniqueConstraint(
            "proposal_id",
            "body_id",
            "kind",
            "point",
            "source_ref",
            name=op.f("uq_candidate_proposal_id_body_id_kind_point_source_ref"),
        ),
    )
    op.create_index("ix_candidate_proposal_id", "candidate", ["proposal_id"])
    op.create_index("ix_candidate_state", "candidate", ["state"])
    op.create_table(
        "intake_source",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("body_id", sa.String(length=100), nullable=True),
        sa.Column("system", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column("last_ok_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_change_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_source")),
    )


def downgrade() -> None:
    op.drop_table("intake_source")
    op.drop_index("ix_candidate_state", table_name="candidate")
    op.drop_index("ix_candidate_proposal_id", table_name="candidate")
    op.drop_table("candidate")
    with op.batch_alter_table("body") as batch_op:
        batch_op.drop_column("publication_url")
        batch_op.drop_column("publication_system")
