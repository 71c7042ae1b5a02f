"""the outbox: every post copbot decides to send is a row until it is sent

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("channel_id", sa.String(length=255), nullable=False),
        sa.Column("team_id", sa.String(length=255), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=True),
        sa.Column("slot", sa.String(length=120), nullable=True),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("message_ref", sa.String(length=255), nullable=True),
        sa.Column("reason", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("outbox_posts", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_due", ["status", "not_before"], unique=False)
        batch_op.create_index(
            "uq_outbox_pending_update",
            ["platform", "channel_id", "slot"],
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_posts", schema=None) as batch_op:
        batch_op.drop_index("uq_outbox_pending_update", sqlite_where=sa.text("status = 'pending'"))
        batch_op.drop_index("ix_outbox_due")
    op.drop_table("outbox_posts")
