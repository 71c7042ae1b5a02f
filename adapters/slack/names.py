"""Members' display names from users.info, kept for an hour in memory (never stored).

One users.info call per member at a time, however many of their messages arrive together; the
names a message needs are asked for at once, not one after another. An answer waits for a name
Slack has not given yet only `NAME_WAIT` seconds: past that it is kept without the name (the
member is known by their id until their next message, which carries it), and the lookup still
finishes, for that next message."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from cachetools import TTLCache
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)
NAME_WAIT = 0.5  # seconds an answer or a button press waits for a name not yet known


def display_name(user: dict[str, Any]) -> str:
    """The name Slack shows for ``user``: display name, else real name, else username."""
    profile = user.get("profile") or {}
    for name in (profile.get("display_name"), profile.get("real_name"), user.get("real_name"), user.get("name")):
        if name and name.strip():
            return name.strip()
    return ""


class NameBook:
    """Looks names up lazily; a failed lookup gives "" (the core then uses the user id)."""

    def __init__(
        self,
        client: AsyncWebClient,
        ttl: float = 3600.0,
        size: int = 2000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self._known: TTLCache[str, str] = TTLCache(maxsize=size, ttl=ttl, timer=clock)
        self._asking: dict[str, asyncio.Task[str]] = {}

    async def names(self, user_ids: Iterable[str], wait: float | None = None) -> dict[str, str]:
        """The names Slack gives for ``user_ids``; with ``wait``, those known within that many
        seconds (the other lookups go on in the background)."""
        found: dict[str, str] = {}
        asking: dict[str, asyncio.Task[str]] = {}
        for user_id in dict.fromkeys(u for u in user_ids if u):
            if user_id in self._known:
                found[user_id] = self._known[user_id]
            else:
                asking[user_id] = self._asking_for(user_id)
        if asking:
            await asyncio.wait(asking.values(), timeout=wait)
            found.update({u: task.result() for u, task in asking.items() if task.done() and not task.cancelled()})
        return {user_id: name for user_id, name in found.items() if name}

    def _asking_for(self, user_id: str) -> asyncio.Task[str]:
        task = self._asking.get(user_id)
        if task is None:
            task = asyncio.create_task(self._look_up(user_id))
            self._asking[user_id] = task
            task.add_done_callback(lambda _: self._asking.pop(user_id, None))
        return task

    async def _look_up(self, user_id: str) -> str:
        try:
            response = await self.client.users_info(user=user_id)
            name = display_name(response.get("user") or {})
        except Exception as error:  # noqa: BLE001 - a name is a nicety: go on without it
            log.info("users.info for %s failed (%s)", user_id, type(error).__name__)
            return ""
        self._known[user_id] = name
        return name
