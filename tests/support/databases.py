"""Where the tests' PostgreSQL is and how to reach it as its administrator: the test run's own
database is made from this (tests/conftest.py), and so are throwaway ones (a fresh, empty
database for the two-workers migration)."""

from __future__ import annotations

import os

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
