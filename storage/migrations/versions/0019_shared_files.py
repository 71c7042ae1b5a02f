"""shared files: a review chart served at an unguessable, expiring address (Teams cards show a
large image only from a URL)

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shared_files",
        sa.Column("token", sa.String(length=64), primary_key=True),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_shared_files_expires_at", "shared_files", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_shared_files_expires_at", table_name="shared_files")
    op.drop_table("shared_files")
