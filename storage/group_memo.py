"""Lookups shared by the answers of one group (`bot.group_commit`): while one transaction keeps
a meeting's burst of answers, what answering never changes — the channel and its community,
which post a thread belongs to, the reflection, today's meeting — and what it only adds to —
the group's members, who is present — is read once for the group, not once per answer (what an
answer adds, a new member or a presence, is added to the memo too). The core opens the memo
for a run of answers and drops it before any other event (a command may change any of it) and
after an answer that failed (what it made was undone with it). Outside
a group there is no memo: every lookup reads."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")
MEMO = "copbot.group_memo"
ACTORS = "copbot.group_actors"


def open_memo(session: AsyncSession) -> None:
    session.info.setdefault(MEMO, {})


def drop_memo(session: AsyncSession) -> None:
    session.info.pop(MEMO, None)


def sharing(session: AsyncSession) -> bool:
    """Whether a memo is open (a lookup worth making once for the group may be made)."""
    return MEMO in session.info


def expect_actors(session: AsyncSession, user_ids: set[str]) -> None:
    """The members who sent the group's events: their rows are read together, once."""
    session.info[ACTORS] = frozenset(user_ids)


def group_actors(session: AsyncSession) -> frozenset[str] | None:
    """The group's members while a memo is open (None: no memo, every lookup reads)."""
    return session.info.get(ACTORS) if MEMO in session.info else None


def peek(session: AsyncSession, key: Hashable) -> Any:
    """What the open memo holds under ``key`` (None: nothing, or no memo)."""
    memo: dict[Hashable, Any] | None = session.info.get(MEMO)
    return memo.get(key) if memo is not None else None


async def remembered(session: AsyncSession, key: Hashable, look_up: Callable[[], Awaitable[T]]) -> T:
    """``look_up()``'s result, read once per memo (every time when no memo is open)."""
    memo: dict[Hashable, Any] | None = session.info.get(MEMO)
    if memo is None:
        return await look_up()
    if key not in memo:
        memo[key] = await look_up()
    return memo[key]
