"""post numbers: the terminal numbers its posts from a counter in the database, so a number is
never given twice (before, every `copbot chat` started again at #1)

Revision ID: 0011
Revises: 0010

Each channel that already has numbered posts starts after the highest number it gave (from the
posts' recorded message ids), so no old number is given again.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

NUMBERED = ("console",)  # the platforms whose message ids are numbers copbot gave


def upgrade() -> None:
    numbers = op.create_table(
        "post_numbers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("channel_id", sa.String(length=255), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "channel_id", name="uq_post_number"),
    )
    conn = op.get_bind()
    highest: dict[tuple[str, str], int] = {}
    for table, column in (("post_refs", "ref"), ("outbox_posts", "message_ref")):
        refs = sa.table(
            table, sa.column("platform", sa.String()), sa.column("channel_id", sa.String()), sa.column(column)
        )
        rows = conn.execute(
            sa.select(refs.c.platform, refs.c.channel_id, refs.c[column]).where(refs.c.platform.in_(NUMBERED))
        )
        for platform, channel_id, ref in rows:
            if isinstance(ref, str) and ref.isascii() and ref.isdigit() and len(ref) < 10:
                key = (platform, channel_id)
                highest[key] = max(highest.get(key, 0), int(ref))
    if highest:
        op.bulk_insert(
            numbers, [{"platform": p, "channel_id": c, "last": last} for (p, c), last in sorted(highest.items())]
        )


def downgrade() -> None:
    op.drop_table("post_numbers")
