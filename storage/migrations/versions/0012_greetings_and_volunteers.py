"""members.greeted_at (the day's welcome names who joined that day, the founder too); several
lead volunteers may stand at once (one open lead turn per member, not per community)

Revision ID: 0012
Revises: 0011

Existing members count as greeted when they joined (the founder of each community too: their
community's welcome greeted them), so nobody is welcomed a second time.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

PROPOSED = sa.text("status = 'proposed'")


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("greeted_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE members SET greeted_at = joined_at")
    with op.batch_alter_table("lead_turns") as batch:
        batch.drop_index("uq_open_lead_turn", sqlite_where=PROPOSED, postgresql_where=PROPOSED)
        batch.create_index(
            "uq_open_lead_turn",
            ["community_id", "member_id"],
            unique=True,
            sqlite_where=PROPOSED,
            postgresql_where=PROPOSED,
        )


def downgrade() -> None:
    # Only the first of several standing volunteers stays proposed.
    op.execute(
        "UPDATE lead_turns SET status = 'superseded' WHERE status = 'proposed' AND id NOT IN "
        "(SELECT MIN(id) FROM lead_turns WHERE status = 'proposed' GROUP BY community_id)"
    )
    with op.batch_alter_table("lead_turns") as batch:
        batch.drop_index("uq_open_lead_turn", sqlite_where=PROPOSED, postgresql_where=PROPOSED)
        batch.create_index(
            "uq_open_lead_turn", ["community_id"], unique=True, sqlite_where=PROPOSED, postgresql_where=PROPOSED
        )
    with op.batch_alter_table("members") as batch:
        batch.drop_column("greeted_at")
