"""The migrations make the schema the models describe (on SQLite and PostgreSQL), and migration
0014 carries the actions kept before it: numbered per community in the order they were made,
each filed under the meeting of its reflection."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from storage.db import Database, alembic_config
from storage.models import ActionItem, Base


async def test_the_migrations_make_the_schema_the_models_describe(db: Database):
    def differences(sync):  # type: ignore[no-untyped-def]
        found = compare_metadata(MigrationContext.configure(sync), Base.metadata)
        # The only difference either database may show: how a timezone-aware DateTime reads back.
        return [d for d in found if not (isinstance(d, list) and d and d[0][0] == "modify_type")]

    async with db.engine.connect() as conn:
        assert await conn.run_sync(differences) == []


async def test_migration_0014_numbers_the_actions_kept_before_it(sqlite_db: Database):
    async with sqlite_db.engine.begin() as conn:
        await conn.run_sync(lambda sync: command.downgrade(alembic_config(sync), "0013"))
        for statement in (
            "INSERT INTO communities (id, name, vote_budget, created_at) VALUES (1, 'North West', 3, '2026-11-01'), "
            "(2, 'South', 3, '2026-11-01')",
            "INSERT INTO meetings (id, community_id, held_on) VALUES (7, 1, '2026-11-26'), (8, 2, '2026-11-27')",
            "INSERT INTO reflections (id, community_id, meeting_id, topic, step, status, started_at) VALUES "
            "(1, 1, 7, 'Peer work', 6, 'ended', '2026-11-26'), (2, 2, 8, 'Hope', 6, 'ended', '2026-11-27')",
            "INSERT INTO reflection_answers (id, reflection_id, step, answer_key, text, created_at) VALUES "
            "(1, 1, 6, 'a', 'first', '2026-11-26'), (2, 2, 6, 'b', 'other', '2026-11-27'), "
            "(3, 1, 6, 'c', 'second', '2026-11-26')",
            "INSERT INTO action_items (id, community_id, answer_id, text, status, created_at) VALUES "
            "(1, 1, 1, 'first', 'open', '2026-11-26'), (2, 2, 2, 'other', 'open', '2026-11-27'), "
            "(3, 1, 3, 'second', 'open', '2026-11-26')",
        ):
            await conn.exec_driver_sql(statement)
        await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), "head"))
    async with sqlite_db.transaction() as session:
        rows = await session.execute(
            select(ActionItem.text, ActionItem.community_id, ActionItem.number, ActionItem.meeting_id).order_by(
                ActionItem.id
            )
        )
        assert [tuple(row) for row in rows.all()] == [("first", 1, 1, 7), ("other", 2, 1, 8), ("second", 1, 2, 7)]
