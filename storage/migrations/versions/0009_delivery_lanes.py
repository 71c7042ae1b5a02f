"""delivery lanes: a worker holds a channel's (or a member's private) lane with a lease and a
fencing token; posts count their faults; undelivered posts know their reader and may lose
their body; processed events are purged by age

Revision ID: 0009
Revises: 0008
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_lanes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("channel_id", sa.String(length=255), nullable=False),
        sa.Column("reader", sa.String(length=255), nullable=False),
        sa.Column("token", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=120), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "channel_id", "reader", name="uq_outbox_lane"),
    )
    with op.batch_alter_table("outbox_posts") as batch:
        batch.add_column(sa.Column("lane_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("faults", sa.Integer(), nullable=False, server_default="0"))
        batch.drop_column("lease_until")
        batch.create_foreign_key("fk_outbox_posts_lane", "outbox_lanes", ["lane_id"], ["id"])
        batch.create_index("ix_outbox_lane_head", ["lane_id", "status", "id"], unique=False)
    _lanes_for_waiting_posts()
    with op.batch_alter_table("undelivered_posts") as batch:
        batch.add_column(sa.Column("reader", sa.String(length=255), nullable=True))
        batch.alter_column("body", existing_type=sa.Text(), nullable=True)
    with op.batch_alter_table("processed_events") as batch:
        batch.create_index("ix_processed_event_seen", ["seen_at"], unique=False)


def _lanes_for_waiting_posts() -> None:
    """Posts still waiting from before lanes: each into its lane (a claim in hand is void: the
    workers that held one are gone, so it is pending again)."""
    conn = op.get_bind()
    posts = sa.table(
        "outbox_posts",
        sa.column("id", sa.Integer()),
        sa.column("platform", sa.String()),
        sa.column("channel_id", sa.String()),
        sa.column("private", sa.Boolean()),
        sa.column("content", sa.Text()),
        sa.column("status", sa.String()),
        sa.column("lane_id", sa.Integer()),
    )
    lanes = sa.table(
        "outbox_lanes",
        sa.column("id", sa.Integer()),
        sa.column("platform", sa.String()),
        sa.column("channel_id", sa.String()),
        sa.column("reader", sa.String()),
        sa.column("token", sa.Integer()),
    )
    waiting = conn.execute(
        sa.select(posts.c.id, posts.c.platform, posts.c.channel_id, posts.c.private, posts.c.content).where(
            posts.c.status.in_(("pending", "sending"))
        )
    ).all()
    known: dict[tuple[str, str, str], int] = {}
    for row_id, platform, channel_id, private, content in waiting:
        reader = ""
        if private and content:
            try:
                reader = str(json.loads(content).get("private_to") or "")
            except (ValueError, AttributeError):
                reader = ""
        key = (platform, channel_id, reader)
        if key not in known:
            conn.execute(sa.insert(lanes).values(platform=platform, channel_id=channel_id, reader=reader, token=0))
            known[key] = conn.execute(
                sa.select(lanes.c.id).where(
                    lanes.c.platform == platform, lanes.c.channel_id == channel_id, lanes.c.reader == reader
                )
            ).scalar_one()
        conn.execute(sa.update(posts).where(posts.c.id == row_id).values(lane_id=known[key], status="pending"))


def downgrade() -> None:
    with op.batch_alter_table("processed_events") as batch:
        batch.drop_index("ix_processed_event_seen")
    with op.batch_alter_table("undelivered_posts") as batch:
        batch.drop_column("reader")
    with op.batch_alter_table("outbox_posts") as batch:
        batch.drop_index("ix_outbox_lane_head")
        batch.drop_constraint("fk_outbox_posts_lane", type_="foreignkey")
        batch.drop_column("faults")
        batch.drop_column("lane_id")
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    op.drop_table("outbox_lanes")
