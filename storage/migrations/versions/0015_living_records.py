"""living records: each Slack channel's canvas id, or why the channel has none (told once)

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "living_records",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("channel_id", sa.String(length=255), nullable=False),
        sa.Column("canvas_id", sa.String(length=255), nullable=True),
        sa.Column("remade", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.Column("refused", sa.String(length=32), nullable=True),
        sa.Column("refused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("platform", "channel_id", name="uq_living_record"),
    )


def downgrade() -> None:
    op.drop_table("living_records")
