"""Storage: URLs mapped to async drivers, migrations, and unique constraints on both databases."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, inspect, select

from bot.vocabulary.errors import ConfigError
from storage.db import Database, async_url
from storage.delivery import claim_event
from storage.models import ProcessedEvent
from storage.upsert import insert_ignore

NOW = datetime(2026, 11, 26, tzinfo=UTC)


def test_usual_urls_map_to_async_drivers(tmp_path):
    assert async_url(f"sqlite:///{tmp_path}/a.db") == f"sqlite+aiosqlite:///{tmp_path}/a.db"
    assert async_url("postgresql://postgres@127.0.0.1/test") == "postgresql+asyncpg://postgres@127.0.0.1/test"
    assert async_url("postgres://u:p@db/x") == "postgresql+asyncpg://u:p@db/x"
    assert async_url("postgresql+asyncpg://u@db/x") == "postgresql+asyncpg://u@db/x"
    with pytest.raises(ConfigError):
        async_url("mysql://u@db/x")
    with pytest.raises(ConfigError):
        async_url("not a url at all")


def test_default_is_a_sqlite_file_in_the_user_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert async_url(None) == f"sqlite+aiosqlite:///{tmp_path}/copbot/copbot.db"


async def test_migrations_create_every_table_and_are_idempotent(db):
    await db.migrate()  # a second run (another worker, a restart) changes nothing
    async with db.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert {"communities", "members", "reflection_answers", "ballots", "processed_events", "alembic_version"} <= tables


async def test_concurrent_claims_of_one_event_let_exactly_one_through(db):
    async def claim() -> bool:
        async with db.transaction() as session:
            return await claim_event(session, "slack", "Ev1", NOW)

    results = await asyncio.gather(*(claim() for _ in range(10)))
    assert results.count(True) == 1
    async with db.transaction() as session:
        assert await session.scalar(select(func.count(ProcessedEvent.id))) == 1


async def test_two_workers_migrating_at_once(db):
    url = db.engine.url.render_as_string(hide_password=False)
    others = [Database(url), Database(url)]
    try:
        await asyncio.gather(*(o.migrate() for o in others))
    finally:
        for other in others:
            await other.dispose()


async def test_insert_ignore_reports_who_inserted(db):
    async with db.transaction() as session:
        first = await insert_ignore(
            session, ProcessedEvent, {"platform": "x", "event_id": "1", "seen_at": NOW}, ("platform", "event_id")
        )
        again = await insert_ignore(
            session, ProcessedEvent, {"platform": "x", "event_id": "1", "seen_at": NOW}, ("platform", "event_id")
        )
    assert (first, again) == (True, False)


async def test_a_sqlite_writer_waits_for_another_process_without_holding_up_the_loop(sqlite_db):
    # Statements run on the loop's thread only once BEGIN IMMEDIATE holds the write lock; the
    # wait for a lock another process holds happens on aiosqlite's thread.
    path = sqlite_db.url.split("///", 1)[1]
    other = sqlite3.connect(path, isolation_level=None)  # another process's connection
    other.execute("BEGIN IMMEDIATE")
    ticks = 0

    async def ticking() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def write() -> bool:
        async with sqlite_db.transaction() as session:
            return await claim_event(session, "slack", "Ev-waiting", NOW)

    ticker = asyncio.create_task(ticking())
    writer = asyncio.create_task(write())
    await asyncio.sleep(0.5)
    assert not writer.done()  # waiting for the lock …
    assert ticks >= 10  # … while the loop goes on
    other.execute("COMMIT")
    other.close()
    assert await asyncio.wait_for(writer, 10) is True
    ticker.cancel()


async def test_sqlite_writers_of_one_process_take_turns_without_busy_waits(sqlite_db):
    # One write transaction at a time in this process (they queue on a lock and are handed the
    # database when it is free), so none ever meets SQLite's lock and its sleeping busy handler.
    inside = most = 0

    async def claim(n: int) -> bool:
        nonlocal inside, most
        async with sqlite_db.transaction() as session:
            inside += 1
            most = max(most, inside)
            first = await claim_event(session, "slack", f"Ev{n}", NOW)
            await asyncio.sleep(0)  # hand the loop to the others mid-transaction
            inside -= 1
            return first

    assert all(await asyncio.gather(*(claim(n) for n in range(50))))
    assert most == 1
