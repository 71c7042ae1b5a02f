"""Storage: URLs mapped to async drivers, migrations, and unique constraints on both databases."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, text

from bot.core import Copbot
from bot.vocabulary.conversation import Actor, CommandEvent, Place
from bot.vocabulary.errors import ConfigError, Unavailable
from storage import db as storage_db
from storage.db import Database, alembic_config, async_url
from storage.delivery import claim_event
from storage.models import Base, ProcessedEvent
from storage.upsert import insert_ignore
from tests.support.databases import admin, postgres_url
from tests.support.waiting import WAIT_SECONDS, until

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


async def _schema(db: Database) -> tuple[set[str], str | None]:
    """The tables there are, and the migration the database is at."""
    async with db.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        version = await conn.scalar(text("SELECT version_num FROM alembic_version"))
    return tables, version


def _head() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


# One worker's start, as `copbot migrate` does it, in a process of its own. The first to reach
# the migration waits until the other is waiting for the lock or migrating too (a file each
# marks "I am migrating"), so the two really overlap, whichever starts first.
WORKER = """
import asyncio, sys
from pathlib import Path
from storage import db as storage_db

url, marks, me = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
real_upgrade = storage_db._upgrade

def overlapping_upgrade(connection):
    (marks / me).touch()
    waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
    for _ in range(3000):  # at most 30 s: then go on, and the test's assertions tell
        if len(list(marks.iterdir())) == 2 or connection.exec_driver_sql(waiting).scalar():
            break
        connection.exec_driver_sql("SELECT pg_sleep(0.01)")
    real_upgrade(connection)

storage_db._upgrade = overlapping_upgrade

async def main():
    db = storage_db.Database(url)
    try:
        await db.migrate()
    finally:
        await db.dispose()

asyncio.run(main())
"""


async def test_two_workers_migrating_a_fresh_postgresql_database_at_once(postgres_db, tmp_path):
    """Guards README "Configuration": "Several workers can start at once: on PostgreSQL the
    migration holds an advisory lock." Two worker processes migrate an empty database, made to
    overlap (see WORKER); both succeed and the schema is whole, at the newest migration.
    Proved: without the ``pg_advisory_xact_lock`` in ``Database.migrate`` one worker fails (a
    table created twice) and this test fails."""
    fresh = f"copbot_migrate_{os.getpid()}"
    await admin(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)')
    await admin(f'CREATE DATABASE "{fresh}"')
    marks = tmp_path / "migrating"
    marks.mkdir()
    root = str(Path(__file__).parent.parent)
    try:
        workers = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                WORKER,
                postgres_url(fresh),
                str(marks),
                name,
                cwd=root,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            for name in ("first", "second")
        ]
        outputs = [(await worker.communicate())[0].decode() for worker in workers]
        assert [worker.returncode for worker in workers] == [0, 0], outputs  # both started
        assert sorted(path.name for path in marks.iterdir()) == ["first", "second"]
        database = Database(postgres_url(fresh))
        try:
            tables, version = await _schema(database)
        finally:
            await database.dispose()
    finally:
        await admin(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)')
    assert tables == set(Base.metadata.tables) | {"alembic_version"}
    assert version == _head()


async def test_two_workers_migrating_a_fresh_sqlite_database_at_once(tmp_path):
    """README "Configuration": several workers can start at once (SQLite: BEGIN IMMEDIATE makes
    the second wait for the first's write lock). Both succeed on an empty file and the schema is whole."""
    url = f"sqlite:///{tmp_path}/fresh.db"
    workers = [Database(url), Database(url)]
    try:
        assert await asyncio.gather(*(w.migrate() for w in workers), return_exceptions=True) == [None, None]
        tables, version = await _schema(workers[0])
    finally:
        for worker in workers:
            await worker.dispose()
    assert tables == set(Base.metadata.tables) | {"alembic_version"}
    assert version == _head()


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
    try:
        # Had the wait for the lock run on the loop, the loop would stand still until SQLite
        # gave up, and the writer would be done (with an error) before the loop ticked again.
        await until(lambda: ticks >= 10, "the event loop going on while the writer waits")
        assert not writer.done()  # waiting for the lock …
        other.execute("COMMIT")
        other.close()
        assert await asyncio.wait_for(writer, WAIT_SECONDS) is True  # … and then it writes
    finally:
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


async def test_a_sqlite_writer_kept_waiting_too_long_hears_the_database_did_not_answer(sqlite_db, clock, monkeypatch):
    # This process's writers queue on a lock for as long as SQLite itself would wait; past that
    # the wait ends as "the database did not answer", and the platform is answered 5xx.
    monkeypatch.setattr(storage_db, "SQLITE_BUSY_SECONDS", 0.2)
    release = asyncio.Event()

    async def holding() -> None:
        async with sqlite_db.transaction():
            await release.wait()

    holder = asyncio.create_task(holding())
    while not sqlite_db._writer.locked():
        await asyncio.sleep(0)
    event = CommandEvent(Actor("U1", "Ann"), Place("slack", "C1"), "setup North West")
    with pytest.raises(Unavailable):  # (a wait without end would be a TimeoutError of wait_for)
        await asyncio.wait_for(Copbot(sqlite_db, clock).handle(event), 10)
    release.set()
    await holder
    async with sqlite_db.transaction() as session:  # free again, and nothing was half-kept
        assert await session.scalar(select(func.count()).select_from(ProcessedEvent)) == 0
