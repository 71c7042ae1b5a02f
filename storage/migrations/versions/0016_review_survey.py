"""the annual review survey: who responded kept apart from what was answered (random ids, no
times, WITHOUT ROWID on SQLite); the month each community's survey goes out

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("meeting_schedules") as batch:
        batch.add_column(sa.Column("review_month", sa.Integer(), nullable=True))
    op.create_table(
        "review_surveys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("community_id", sa.Integer(), sa.ForeignKey("communities.id", ondelete="CASCADE"), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("reminded", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.Column("responses", sa.Integer(), nullable=True),
        sa.UniqueConstraint("community_id", "year", name="uq_review_survey_year"),
    )
    op.create_table(
        "review_responders",
        sa.Column("survey_id", sa.Integer(), sa.ForeignKey("review_surveys.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("member_id", sa.Integer(), sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("next_question", sa.Integer(), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "review_answers",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("survey_id", sa.Integer(), sa.ForeignKey("review_surveys.id", ondelete="CASCADE"), nullable=False),
        sa.Column("question", sa.String(length=16), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_review_answers_survey_id", "review_answers", ["survey_id"])


def downgrade() -> None:
    op.drop_index("ix_review_answers_survey_id", table_name="review_answers")
    op.drop_table("review_answers")
    op.drop_table("review_responders")
    op.drop_table("review_surveys")
    with op.batch_alter_table("meeting_schedules") as batch:
        batch.drop_column("review_month")
