"""Where the tests' PostgreSQL is and how to reach it as its administrator: the test run's own
database is made from this (tests/conftest.py), and so are throwaway ones (a fresh, empty
database for the two-workers migration). And the SQLite schema migrated once per test run,
which every SQLite test (and every terminal script) starts from as a copy."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

POSTGRES_ADMIN_URL = os.environ.get("COPBOT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
CONNECT_SECONDS = 5


def postgres_url(database: str) -> str:
    """The URL of ``database`` on the tests' PostgreSQL server."""
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    return f"{base}/{database}"


async def admin_connect():  # noqa: ANN201 - asyncpg.Connection (asyncpg has no type hints)
    """A connection to the server's administration database."""
    import asyncpg

    return await asyncpg.connect(POSTGRES_ADMIN_URL.replace("postgresql://", "postgres://"), timeout=CONNECT_SECONDS)


async def admin(statement: str) -> None:
    """Run one statement (CREATE or DROP DATABASE) as the administrator."""
    conn = await admin_connect()
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


_sqlite_template: dict[str, Path] = {}


async def migrated_sqlite_file(target: Path) -> Path:
    """``target``: a copy of an SQLite database migrated once per test run (per worker)."""
    from storage.db import Database

    template = _sqlite_template.get("path")
    if template is None:
        template = Path(tempfile.mkdtemp(prefix="copbot-schema-")) / "copbot.db"
        made = Database(f"sqlite:///{template}")
        await made.migrate()
        await made.dispose()  # the last connection closed: the write-ahead log is folded in
        _sqlite_template["path"] = template
    shutil.copyfile(template, target)
    return target


def drop_sqlite_template() -> None:
    if "path" in _sqlite_template:
        shutil.rmtree(_sqlite_template["path"].parent, ignore_errors=True)
