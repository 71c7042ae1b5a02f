"""SQLite connections whose statements run on the event loop's thread once a transaction holds
its lock.

aiosqlite runs every call on a thread of its own and hands the result back through the event
loop: four hand-overs for one SELECT (cursor, execute, fetch, close), each costing more than the
statement itself. copbot's statements are small and SQLite answers them from memory in
microseconds, so inside a transaction they run directly on the loop's thread. What can wait
still waits on aiosqlite's thread, where a wait never holds up the loop: connecting, and
``BEGIN`` — the one statement that waits for another process's write lock. Once ``BEGIN
IMMEDIATE`` has returned the write lock is held, and in WAL mode a read never waits for a
writer, so nothing after it waits for a lock.

Used through SQLAlchemy's aiosqlite dialect (``connect_args={"async_creator_fn": connect}``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

import aiosqlite

T = TypeVar("T")


class LoopSideConnection(aiosqlite.Connection):
    """An aiosqlite connection that runs calls inside an open transaction on the caller's thread."""

    async def _execute(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        connection = self._connection
        if self._running and connection is not None and connection.in_transaction:
            return fn(*args, **kwargs)
        return await super()._execute(fn, *args, **kwargs)


def connect(database: str, **kwargs: Any) -> LoopSideConnection:
    """What ``aiosqlite.connect`` does, with `LoopSideConnection` (the sqlite3 connection is
    used from two threads, one at a time: SQLAlchemy passes ``check_same_thread=False``)."""
    kwargs["check_same_thread"] = False

    def connector() -> sqlite3.Connection:
        return sqlite3.connect(database, **kwargs)

    connection = LoopSideConnection(connector, iter_chunk_size=64)
    connection._thread.daemon = True  # as SQLAlchemy does for aiosqlite's own: never holds up exit
    return connection
