"""scheduler: each schedule's next_due_at (indexed), announcements claimed per meeting identity

Revision ID: 0010
Revises: 0009

`meeting_schedules.next_due_at` is set to "look now" for every existing schedule, so the first
tick looks at each community once and stores its real next moment. `announcements` gets
`occurrence` (the meeting's planned local day, kept when it moves) and its unique key moves
from the start to it; existing claims get the local day of their start, or the planned day of
the moved meeting they announced.
"""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

LOOK_NOW = datetime(2000, 1, 1, tzinfo=UTC)  # storage.due.LOOK_NOW, as it was when written


def _utc(moment: datetime | str) -> datetime:
    if isinstance(moment, str):  # SQLite hands back text
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _day(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _occurrences(connection: sa.Connection) -> list[dict[str, object]]:
    zones: dict[int, str] = dict(connection.execute(sa.text("SELECT community_id, zone FROM meeting_schedules")).all())
    moved = {
        (community_id, _utc(starts_at)): _day(on)
        for community_id, on, starts_at in connection.execute(
            sa.text("SELECT community_id, \"on\", starts_at FROM schedule_changes WHERE kind = 'moved'")
        ).all()
        if starts_at is not None
    }
    rows = []
    for row_id, community_id, due_for in connection.execute(
        sa.text("SELECT id, community_id, due_for FROM announcements")
    ).all():
        start = _utc(due_for)
        zone = ZoneInfo(zones.get(community_id) or "Europe/Dublin")
        day = moved.get((community_id, start)) or start.astimezone(zone).date()
        rows.append({"row_id": row_id, "occurrence": day})
    return rows


def upgrade() -> None:
    with op.batch_alter_table("meeting_schedules") as batch:
        batch.add_column(sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_meeting_schedules_next_due_at", ["next_due_at"])
    look_now = sa.text("UPDATE meeting_schedules SET next_due_at = :now").bindparams(
        sa.bindparam("now", type_=sa.DateTime(timezone=True))  # typed: SQLite keeps the app's text form
    )
    op.get_bind().execute(look_now, {"now": LOOK_NOW})

    with op.batch_alter_table("announcements") as batch:
        batch.add_column(sa.Column("occurrence", sa.Date(), nullable=True))
    rows = _occurrences(op.get_bind())
    if rows:
        backfill = sa.text("UPDATE announcements SET occurrence = :occurrence WHERE id = :row_id").bindparams(
            sa.bindparam("occurrence", type_=sa.Date())
        )
        op.get_bind().execute(backfill, rows)
    # Two claims of one kind for the same meeting (announced again after a move): keep the latest.
    op.execute(
        "DELETE FROM announcements WHERE EXISTS (SELECT 1 FROM announcements later "
        "WHERE later.community_id = announcements.community_id AND later.kind = announcements.kind "
        "AND later.occurrence = announcements.occurrence AND later.id > announcements.id)"
    )
    with op.batch_alter_table("announcements") as batch:
        batch.alter_column("occurrence", existing_type=sa.Date(), nullable=False)
        batch.drop_constraint("uq_announcement", type_="unique")
        batch.create_unique_constraint("uq_announcement", ["community_id", "kind", "occurrence"])


def downgrade() -> None:
    with op.batch_alter_table("announcements") as batch:
        batch.drop_constraint("uq_announcement", type_="unique")
        batch.create_unique_constraint("uq_announcement", ["community_id", "kind", "due_for"])
        batch.drop_column("occurrence")
    with op.batch_alter_table("meeting_schedules") as batch:
        batch.drop_index("ix_meeting_schedules_next_due_at")
        batch.drop_column("next_due_at")
