"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, a settable clock, and a
guard that fails any test trying to reach beyond this machine."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from storage.db import Database
from tests.fakes.bot_connector import FakeBotConnector
from tests.support.clock import Clock
from tests.support.databases import (
    POSTGRES_ADMIN_URL,
    admin,
    admin_connect,
    drop_sqlite_template,
    migrated_sqlite_file,
    postgres_url,
)
from tests.support.serve import kill_leftovers
from tests.support.teams_channel import LOCAL, TeamsChannel, start_client
from tests.support.waiting import PATIENT_SECONDS

POSTGRES_TEST_DB = f"copbot_test_{os.getpid()}"  # one per test run: parallel runs never collide
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# Hypothesis under CI: the same examples on every run (derandomized), and a failure prints the
# blob that replays it (`@reproduce_failure`): a red CI log is enough to reproduce it here.
settings.register_profile("ci", derandomize=True, print_blob=True)
if IN_CI:
    settings.load_profile("ci")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(autouse=True)
def no_leftover_servers() -> Iterator[None]:
    """A `copbot serve` process a failed test left running is killed with it, not left to
    load the machine for the rest of the run."""
    yield
    kill_leftovers()


@pytest.fixture(autouse=True)
def patient_dispatch(monkeypatch: pytest.MonkeyPatch) -> None:
    """In production an event the database cannot keep within 2.5 s gets a 5xx (Slack waits 3 s).
    Here the machine may be loaded many times over: a test that is not about that deadline
    must not turn on how busy the CPU is (tests/test_faults.py sets it where it is the point)."""
    monkeypatch.setattr("bot.shell.runtime.DISPATCH_DEADLINE", PATIENT_SECONDS)


@pytest.fixture(autouse=True)
def logger_levels() -> Iterator[None]:
    """Every logger's level as it was before the test: a test that quiets or opens a logger
    (``setup_logging``, ``quiet_third_parties``) must not decide what the tests after it see."""
    manager = logging.Logger.manager
    before = {name: logger.level for name, logger in manager.loggerDict.items() if isinstance(logger, logging.Logger)}
    root_level = logging.root.level
    yield
    for name, logger in list(manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and logger.level != before.get(name, logging.NOTSET):
            logger.setLevel(before.get(name, logging.NOTSET))
    if logging.root.level != root_level:
        logging.root.setLevel(root_level)


@pytest.fixture(autouse=True)
def no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """A test that touches anything but this machine fails."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else str(address)
        if isinstance(host, str) and not (
            host.startswith("127.") or host in {"localhost", "::1"} or host.startswith("/")
        ):
            if self.family in (socket.AF_INET, socket.AF_INET6):
                raise RuntimeError(f"test tried to reach {host}: tests never leave this machine")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


_postgres_checked: dict[str, str | None] = {}


async def _prepare_postgres() -> str | None:
    """Create the test database once; None if no PostgreSQL server answers here (nothing
    listens, or it is starting or stopping). A server that answers but refuses — a wrong
    user, no right to create a database — is a misconfiguration, not an absence: its error
    fails the PostgreSQL tests instead of skipping them quietly."""
    if "url" in _postgres_checked:
        return _postgres_checked["url"]
    import asyncpg

    url = None
    try:
        conn = await admin_connect()
        try:
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", POSTGRES_TEST_DB)
            if not exists:
                await conn.execute(f'CREATE DATABASE "{POSTGRES_TEST_DB}"')
        finally:
            await conn.close()
        url = postgres_url(POSTGRES_TEST_DB)
    except (TimeoutError, OSError, asyncpg.CannotConnectNowError) as error:  # nobody answers: "not here"
        _postgres_checked["error"] = f"{type(error).__name__}: {error}"
    except Exception as error:  # noqa: BLE001 - it answered and refused: say so in every PostgreSQL test
        _postgres_checked["refused"] = f"{type(error).__name__}: {error}"
    _postgres_checked["url"] = url
    return url


async def _fresh_postgres() -> Database:
    url = await _prepare_postgres()
    if "refused" in _postgres_checked:
        pytest.fail(f"PostgreSQL at {POSTGRES_ADMIN_URL} refused the tests: {_postgres_checked['refused']}")
    if url is None:
        reason = f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL} ({_postgres_checked.get('error')})"
        if IN_CI:
            pytest.fail(reason + " — under CI=true the PostgreSQL tests must run")
        pytest.skip(reason)
    db = Database(url)
    if not _postgres_checked.get("migrated"):  # the first test of the run: the schema, from the migrations
        async with db.engine.begin() as conn:
            await conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            await conn.exec_driver_sql("CREATE SCHEMA public")
        await db.migrate()
        _postgres_checked["migrated"] = "yes"
        return db
    async with db.engine.begin() as conn:  # every later test: the same schema, emptied
        tables = (
            await conn.exec_driver_sql(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )
        ).scalars()
        names = ", ".join(f'"{name}"' for name in tables)
        await conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    return db


async def _fresh_sqlite(folder: Path) -> Database:
    """A migrated SQLite database in ``folder``: a copy of one migrated once per test run."""
    return Database(f"sqlite:///{await migrated_sqlite_file(folder / 'copbot.db')}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Drop this run's PostgreSQL test database and its SQLite schema copy."""
    drop_sqlite_template()
    if not _postgres_checked.get("url"):
        return
    try:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{POSTGRES_TEST_DB}" WITH (FORCE)'))
    except Exception:  # noqa: BLE001 - a leftover test database is harmless
        pass


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated, empty database: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        database = await _fresh_sqlite(tmp_path)
    else:
        database = await _fresh_postgres()
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def postgres_db() -> AsyncIterator[Database]:
    """PostgreSQL only, for what only PostgreSQL does (several processes on one outbox)."""
    database = await _fresh_postgres()
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    """SQLite only, for tests of adapters where the database is not the point."""
    database = await _fresh_sqlite(tmp_path)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def env_clean(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith(("SLACK_", "Microsoft", "MICROSOFT", "DATABASE_URL")):
            monkeypatch.delenv(name, raising=False)
    yield


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotConnector]:
    """A local fake Bot Connector (the Teams side)."""
    connector = await FakeBotConnector().start()
    yield connector
    await connector.close()


@pytest.fixture
async def channel(
    sqlite_db: Database, clock: Clock, fake: FakeBotConnector, env_clean: None
) -> AsyncIterator[TeamsChannel]:
    """A Teams channel on the real app in local mode, talking to ``fake``."""
    client = await start_client(sqlite_db, clock, LOCAL)
    yield TeamsChannel(client, fake)
    await client.close()
