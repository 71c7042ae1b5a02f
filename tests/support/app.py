"""The real application (`bot.shell.web.build_app`) behind an aiohttp test client on
127.0.0.1, and reading what it stored (a count, or some columns of every row): the two things
most end-to-end tests need."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from storage.db import Database


def client_for(app: web.Application) -> TestClient:
    """A test client for ``app`` served on 127.0.0.1 (``async with`` starts and stops it)."""
    return TestClient(TestServer(app, host="127.0.0.1"))


async def count_rows(db: Database, model: Any, *where: Any) -> int:
    """How many rows of ``model`` (matching ``where``, if given) the database holds."""
    query = select(func.count()).select_from(model)
    if where:
        query = query.where(*where)
    async with db.transaction() as session:
        return int(await session.scalar(query) or 0)


async def rows(db: Database, *columns: Any) -> list[tuple[Any, ...]]:
    """The values of ``columns`` in every row of their table, in the order they were stored."""
    table = columns[0].class_
    async with db.transaction() as session:
        found = await session.execute(select(*columns).order_by(*table.__mapper__.primary_key))
        return [tuple(row) for row in found.all()]
