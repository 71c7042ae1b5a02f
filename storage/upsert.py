"""Adding rows: `added` (insert and get the id back), `insert_ignore` and `inserted_row`
(`INSERT … ON CONFLICT DO NOTHING` for SQLite and PostgreSQL alike)."""

from __future__ import annotations

import functools
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

Row = TypeVar("Row")


async def added(session: AsyncSession, row: Row) -> Row:
    """Insert ``row`` now (so it has its id); a unique clash raises IntegrityError here."""
    session.add(row)
    await session.flush()
    return row


async def insert_ignore(
    session: AsyncSession,
    model: type[Any],
    values: Mapping[str, Any],
    conflict_columns: Sequence[str],
) -> bool:
    """Insert one row unless a row with the same ``conflict_columns`` exists.
    Returns True when this call inserted it (so only one of two racing callers gets True)."""
    statement = _insert_ignore(_dialect(session), model.__table__, tuple(conflict_columns))
    inserted = (await session.execute(statement, dict(values))).scalar_one_or_none()
    return inserted is not None


async def inserted_row(
    session: AsyncSession, model: type[Row], values: Mapping[str, Any], conflict_columns: Sequence[str]
) -> Row | None:
    """`insert_ignore` that returns the new row itself (None when it existed already), in one
    statement (``INSERT … ON CONFLICT DO NOTHING RETURNING *``)."""
    statement = _inserted_row(_dialect(session), cast(Hashable, model), tuple(conflict_columns))
    return (await session.scalars(statement, [dict(values)])).one_or_none()


def insert_for(session: AsyncSession) -> Any:
    """The dialect's ``insert`` (the one with ``on_conflict_do_nothing``) for ``session``."""
    return _insert(_dialect(session))


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def _insert(dialect: str) -> Any:
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


@functools.cache
def _inserted_row(dialect: str, model: type[Any], conflict_columns: tuple[str, ...]) -> Any:
    return _insert(dialect)(model).on_conflict_do_nothing(index_elements=list(conflict_columns)).returning(model)


@functools.cache
def _insert_ignore(dialect: str, table: Table, conflict_columns: tuple[str, ...]) -> Any:
    """The statement, built once (the values come as parameters): every answer and every
    event claim runs one, and building it costs more than running it."""
    return _insert(dialect)(table).on_conflict_do_nothing(index_elements=list(conflict_columns)).returning(table.c.id)
