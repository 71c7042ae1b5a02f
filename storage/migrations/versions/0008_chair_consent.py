"""co-chair terms get a review date apart from their end; nominations and their consent round

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chair_terms") as batch:
        batch.add_column(sa.Column("review_on", sa.Date(), nullable=True))
    op.execute("UPDATE chair_terms SET review_on = ends_on")  # existing terms: reviewed at their end, as before
    with op.batch_alter_table("chair_terms") as batch:
        batch.alter_column("review_on", existing_type=sa.Date(), nullable=False)
    op.create_table(
        "chair_nominations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("nominee_id", sa.Integer(), nullable=False),
        sa.Column("nominated_by", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["nominee_id"], ["members.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["nominated_by"], ["members.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "number", name="uq_chair_nomination_number"),
    )
    with op.batch_alter_table("chair_nominations") as batch:
        batch.create_index(
            "uq_open_chair_nomination",
            ["community_id", "nominee_id"],
            unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )
    op.create_table(
        "chair_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nomination_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("answer", sa.String(length=16), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["nomination_id"], ["chair_nominations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("nomination_id", "member_id", name="uq_chair_consent"),
    )


def downgrade() -> None:
    op.drop_table("chair_consents")
    with op.batch_alter_table("chair_nominations") as batch:
        batch.drop_index(
            "uq_open_chair_nomination",
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )
    op.drop_table("chair_nominations")
    with op.batch_alter_table("chair_terms") as batch:
        batch.drop_column("review_on")
