"""The database connection: URL handling, engine set-up for SQLite and PostgreSQL, migrations,
and one transaction per unit of work.

``DATABASE_URL`` unset → a SQLite file (the embedded default). The usual URL forms
(``sqlite:///path``, ``postgresql://user@host/db``, ``postgres://…``) are mapped to the async
drivers (aiosqlite, asyncpg).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from bot.vocabulary.errors import ConfigError
from storage import living_records, sqlite_connection
from storage.due import RhythmSession

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 0x0C0B_0001  # PostgreSQL advisory lock: one worker migrates at a time
SQLITE_BUSY_SECONDS = 30  # how long a SQLite writer waits for the write lock (here and in SQLite)


def default_sqlite_path() -> Path:
    """Where the embedded database lives when DATABASE_URL is unset."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "copbot" / "copbot.db"


def async_url(url: str | None) -> str:
    """Map a user's database URL to the async driver SQLAlchemy needs."""
    if not url:
        path = default_sqlite_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{path}"
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    try:
        parsed = make_url(url)
    except Exception as error:  # sqlalchemy raises ArgumentError with the URL in it
        raise ConfigError("DATABASE_URL is not a database URL (expected sqlite:///… or postgresql://…)") from error
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise ConfigError(f"DATABASE_URL: {backend} is not supported; use sqlite:///… or postgresql://…")


READ_ONLY = "copbot_read_only"  # an execution option: this transaction only reads
# PostgreSQL's "try the transaction again": a deadlock, or a serialisation failure.
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})


# What says the database did not answer (down, unreachable, too slow), as opposed to a bug.
UNREACHABLE = (OperationalError, InterfaceError, OSError, TimeoutError)


def unreachable(error: BaseException) -> bool:
    """The database did not answer (`UNREACHABLE`), as opposed to a bug. asyncpg says a cut
    connection with a plain `DBAPIError`: in the middle of a statement, one that invalidated
    the connection; while connecting, one with a SQLSTATE of class 08 (connection exception)
    or 57P (the server is shutting down or starting)."""
    if isinstance(error, UNREACHABLE):
        return True
    if not isinstance(error, DBAPIError):
        return False
    state = str(getattr(error.orig, "sqlstate", None) or "")
    return bool(error.connection_invalidated) or state.startswith(("08", "57P"))


def transient(error: BaseException) -> bool:
    """An error after which the same transaction, run again, may well go through: a deadlock
    or serialisation failure (PostgreSQL chose this transaction to undo), or a busy or
    briefly unreachable database."""
    if isinstance(error, OperationalError):
        return True
    return isinstance(error, DBAPIError) and getattr(error.orig, "sqlstate", None) in TRANSIENT_SQLSTATES


def _sqlite_serialised_writes(engine: AsyncEngine) -> None:
    """SQLite: take the write lock at BEGIN (BEGIN IMMEDIATE) and wait for it, so concurrent
    units of work queue up instead of failing with "database is locked" mid-transaction. A
    transaction that only reads (`Database.reading`) begins deferred and never waits for the
    lock. WAL with ``synchronous=NORMAL``: a commit is not flushed to disk at once, so a power
    cut or an operating-system crash may lose the last commits; a crash of copbot loses none."""

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_SECONDS * 1000}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")


class Database:
    """The engine and its sessions. ``async with db.transaction() as session`` is one unit of
    work: committed at the end, rolled back on any error.

    SQLite has one writer at a time. Its own wait for the lock (the busy handler) sleeps and
    polls, 1 to 100 ms at a time, so writers of this process queue on an asyncio lock instead
    and are handed the database the moment it is free; the busy handler is left to waits on
    other processes."""

    def __init__(self, url: str | None = None) -> None:
        self.url = async_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        # hide_parameters: SQL parameters (members' words) never reach a log line or an error.
        options: dict[str, object] = {"hide_parameters": True}
        if self.is_sqlite:
            options["connect_args"] = {"timeout": SQLITE_BUSY_SECONDS, "async_creator_fn": sqlite_connection.connect}
        else:
            options["pool_pre_ping"] = True  # a server restarted since: a fresh connection, not an error
        self.engine = create_async_engine(self.url, **options)
        if self.is_sqlite:
            _sqlite_serialised_writes(self.engine)
        # RhythmSession: a change to a community's rhythm marks its schedule for the scheduler.
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, sync_session_class=RhythmSession)
        reads_only = self.engine.execution_options(**{READ_ONLY: True})
        self.readers = async_sessionmaker(reads_only, expire_on_commit=False)
        self._writer = asyncio.Lock() if self.is_sqlite else None
        # What "now" is for the work done just before each commit (`storage.living_records`):
        # the composition root hands in its clock, so a test's clock is everyone's.
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work. Just before its commit, the living records of the communities it
        changed are queued to be drawn again (`storage.living_records`), in the same commit."""
        async with self._write_turn(), self.sessions() as session, session.begin():
            yield session
            await living_records.queue_changed(session, self.clock())

    @asynccontextmanager
    async def _write_turn(self) -> AsyncIterator[None]:
        """SQLite: this process's writers one after another (a wait as long as SQLite's own
        ends in TimeoutError, which callers treat as "the database did not answer")."""
        if self._writer is None:
            yield
            return
        async with asyncio.timeout(SQLITE_BUSY_SECONDS):
            await self._writer.acquire()
        try:
            yield
        finally:
            self._writer.release()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A unit of work that only reads: on SQLite it does not queue behind the writers."""
        async with self.readers() as session, session.begin():
            yield session

    async def migrate(self) -> None:
        """Bring the schema to the newest migration (safe to run from several workers)."""
        async with self.engine.begin() as conn:
            if not self.is_sqlite:
                await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            await conn.run_sync(_upgrade)

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def dispose(self) -> None:
        await self.engine.dispose()


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")
