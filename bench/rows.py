"""Counting stored rows while a server writes them: the benchmark's "answers stored" comes from
the database, polled until every expected row is in (or a deadline passes).

The counter has its own plain engine: `storage.db.Database` begins every transaction with
BEGIN IMMEDIATE on SQLite (the write lock), which would make the poll compete with the server."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from storage.db import async_url

POLL_SECONDS = 0.01


class RowCounter:
    """``await counter.count(ReflectionAnswer)``; ``await counter.close()`` at the end."""

    def __init__(self, url: str) -> None:
        self.engine = create_async_engine(async_url(url), pool_size=1, max_overflow=0)

    async def count(self, model: Any, *where: Any) -> int:
        """Rows in ``model``'s table (matching ``where``); a locked SQLite file is asked again."""
        for _ in range(500):
            try:
                async with self.engine.connect() as conn:
                    query = select(func.count()).select_from(model)
                    return int(await conn.scalar(query.where(*where) if where else query) or 0)
            except OperationalError:
                await asyncio.sleep(POLL_SECONDS)
        raise RuntimeError("the database stayed locked")

    async def until(self, model: Any, expected: int, timeout: float) -> tuple[int, float]:
        """Poll until ``expected`` rows are in; returns (rows seen, the perf_counter time they
        were first seen). Gives up at ``timeout`` seconds with what is there."""
        deadline = time.perf_counter() + timeout
        while True:
            seen = await self.count(model)
            now = time.perf_counter()
            if seen >= expected or now > deadline:
                return seen, now
            await asyncio.sleep(POLL_SECONDS)

    async def close(self) -> None:
        await self.engine.dispose()
