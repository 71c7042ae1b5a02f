"""Throwaway databases for one benchmark run: a SQLite file in a temporary folder, or a fresh
PostgreSQL database (created, then dropped WITH (FORCE) at the end, even on error)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from itertools import count

import asyncpg  # type: ignore[import-untyped]

POSTGRES = os.environ.get("COPBOT_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
_serial = count(1)


@asynccontextmanager
async def sqlite_url() -> AsyncIterator[str]:
    with tempfile.TemporaryDirectory(prefix="copbot-bench-") as folder:
        yield f"sqlite:///{folder}/copbot.db"


async def postgres_reachable() -> str | None:
    """None when PostgreSQL answers at POSTGRES, else why not (one line)."""
    try:
        conn = await asyncpg.connect(POSTGRES, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        return f"PostgreSQL not reachable at {POSTGRES} ({type(error).__name__})"
    await conn.close()
    return None


@asynccontextmanager
async def postgres_url() -> AsyncIterator[str]:
    """A new database next to POSTGRES's (same server and user), dropped afterwards."""
    base, _, _ = POSTGRES.rpartition("/")
    name = f"copbot_bench_{os.getpid()}_{next(_serial)}"
    conn = await asyncpg.connect(POSTGRES, timeout=5)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"{base}/{name}"
        finally:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def database_url(kind: str) -> AbstractAsyncContextManager[str]:
    """``async with database_url("sqlite" | "postgresql") as url``."""
    return sqlite_url() if kind == "sqlite" else postgres_url()
