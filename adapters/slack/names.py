"""Members' display names from users.info, cached for an hour in memory (never stored)."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


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
        self.ttl = ttl
        self.size = size
        self.clock = clock
        self._cache: OrderedDict[str, tuple[float, str]] = OrderedDict()

    async def names(self, user_ids: Iterable[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for user_id in dict.fromkeys(u for u in user_ids if u):
            name = await self.name(user_id)
            if name:
                found[user_id] = name
        return found

    async def name(self, user_id: str) -> str:
        now = self.clock()
        cached = self._cache.get(user_id)
        if cached and now - cached[0] < self.ttl:
            self._cache.move_to_end(user_id)
            return cached[1]
        try:
            response = await self.client.users_info(user=user_id)
            name = display_name(response.get("user") or {})
        except Exception as error:  # noqa: BLE001 - a name is a nicety: go on without it
            log.info("users.info for %s failed (%s)", user_id, type(error).__name__)
            return cached[1] if cached else ""
        self._cache[user_id] = (now, name)
        self._cache.move_to_end(user_id)
        while len(self._cache) > self.size:
            self._cache.popitem(last=False)
        return name
