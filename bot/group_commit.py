"""Group commit: the events of one channel that arrive while the channel's previous group is
being applied wait together and are applied as the next group, in arrival order, in one
transaction (`bot.core.Copbot.handle_group`). A meeting's burst of answers costs one commit
per group rather than one per answer; each event is still acknowledged only once its group is
committed. Nothing is kept in memory between groups: a channel with no event in hand has no
entry here."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from bot.request_body import where

log = logging.getLogger(__name__)
E = TypeVar("E")
R = TypeVar("R")
MAX_GROUP = 64  # events applied in one transaction at most (SQLite's write lock is held meanwhile)


class GroupCommit(Generic[E, R]):
    """``await groups.submit(channel, event)`` → that event's result, once its group is applied
    (``apply`` returns one result per event, or the exception that event's caller gets)."""

    def __init__(
        self, apply: Callable[[list[E]], Awaitable[list[R | BaseException]]], max_group: int = MAX_GROUP
    ) -> None:
        self.apply = apply
        self.max_group = max_group
        self._waiting: dict[Hashable, list[tuple[E, asyncio.Future[R]]]] = {}
        self._appliers: dict[Hashable, asyncio.Task[None]] = {}

    def __len__(self) -> int:
        """Channels with events in hand."""
        return len(self._appliers)

    async def submit(self, key: Hashable, event: E) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, []).append((event, future))
        if key not in self._appliers:
            self._appliers[key] = asyncio.create_task(self._apply_groups(key))
        return await asyncio.shield(future)  # a caller that gives up does not cancel the group

    async def _apply_groups(self, key: Hashable) -> None:
        try:
            while self._waiting.get(key):
                group = self._waiting[key][: self.max_group]
                del self._waiting[key][: self.max_group]
                try:
                    results = await self.apply([event for event, _ in group])
                except Exception as error:  # noqa: BLE001 - every caller of the group hears of it
                    log.error("a group of %d events failed: %s at %s", len(group), type(error).__name__, where(error))
                    for _, future in group:
                        if not future.done():
                            future.set_exception(error)
                    continue
                for (_, future), result in zip(group, results, strict=True):
                    if future.done():
                        continue
                    if isinstance(result, BaseException):  # this event alone was not kept
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            # No await since the queue was last seen empty: no event can be waiting unseen.
            self._waiting.pop(key, None)
            self._appliers.pop(key, None)
