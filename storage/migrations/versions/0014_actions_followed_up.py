"""action items: numbered per community, done or dropped (who, when, why), horizon and resources
for the roadmap, the meeting they were agreed at, added outside step 6; reminders claimed once

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("action_items") as batch:
        batch.add_column(sa.Column("number", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("meeting_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_action_items_meeting", "meetings", ["meeting_id"], ["id"], ondelete="SET NULL")
        batch.add_column(sa.Column("horizon", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("resources", sa.Text(), nullable=True))
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("closed_by", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_action_items_closed_by", "members", ["closed_by"], ["id"], ondelete="SET NULL")
        batch.add_column(sa.Column("close_reason", sa.Text(), nullable=True))
        batch.alter_column("answer_id", existing_type=sa.Integer(), nullable=True)
    # Number the actions kept so far, per community in the order they were made, and file each
    # under the meeting of its reflection.
    op.execute(
        "UPDATE action_items SET number = (SELECT COUNT(*) FROM action_items AS earlier "
        "WHERE earlier.community_id = action_items.community_id AND earlier.id <= action_items.id)"
    )
    op.execute(
        "UPDATE action_items SET meeting_id = (SELECT reflections.meeting_id FROM reflection_answers "
        "JOIN reflections ON reflections.id = reflection_answers.reflection_id "
        "WHERE reflection_answers.id = action_items.answer_id)"
    )
    with op.batch_alter_table("action_items") as batch:
        batch.alter_column("number", existing_type=sa.Integer(), nullable=False)
        batch.create_unique_constraint("uq_action_number", ["community_id", "number"])
    op.create_table(
        "action_reminders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("action_id", sa.Integer(), sa.ForeignKey("action_items.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("action_id", "kind", "due_on", name="uq_action_reminder"),
    )


def downgrade() -> None:
    op.drop_table("action_reminders")
    op.execute("DELETE FROM action_items WHERE answer_id IS NULL")
    with op.batch_alter_table("action_items") as batch:
        batch.drop_constraint("uq_action_number", type_="unique")
        batch.drop_constraint("fk_action_items_closed_by", type_="foreignkey")
        batch.drop_constraint("fk_action_items_meeting", type_="foreignkey")
        batch.alter_column("answer_id", existing_type=sa.Integer(), nullable=False)
        for column in ("close_reason", "closed_by", "closed_at", "resources", "horizon", "meeting_id", "number"):
            batch.drop_column(column)
