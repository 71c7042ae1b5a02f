"""reflections: when the steps last moved and by whom (another's typed `next` seconds later moves nothing)

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reflections") as batch:
        batch.add_column(sa.Column("moved_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("moved_by", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_reflections_moved_by", "members", ["moved_by"], ["id"], ondelete="SET NULL")


def downgrade() -> None:
    with op.batch_alter_table("reflections") as batch:
        batch.drop_constraint("fk_reflections_moved_by", type_="foreignkey")
        batch.drop_column("moved_by")
        batch.drop_column("moved_at")
