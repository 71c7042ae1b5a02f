"""Work that copbot has acknowledged and not finished: "acknowledge now, work after", in one
place for Slack's listeners, the Teams endpoint and the outbox. A failure in it is logged by
kind and place only (what it was handling may quote a member), and `idle` waits for all of it
(a clean shutdown, and tests)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any

from bot.request_body import where
from bot.vocabulary.errors import Unavailable


class WorkInHand:
    """Background tasks plus work running inline after an acknowledgement, counted together."""

    def __init__(self, log: logging.Logger) -> None:
        self.log = log
        self._tasks: set[asyncio.Task[None]] = set()
        self._inline = 0

    @property
    def count(self) -> int:
        return len(self._tasks) + self._inline

    def start(self, work: Coroutine[Any, Any, None], what: str) -> asyncio.Task[None]:
        """Run ``work`` in the background; a failure is logged, never raised."""

        async def guarded() -> None:
            with self._logged(what):
                await work

        task = asyncio.create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @contextmanager
    def inline(self, what: str) -> Iterator[None]:
        """Count the block as work in hand; a failure in it is logged, never raised."""
        self._inline += 1
        try:
            with self._logged(what):
                yield
        finally:
            self._inline -= 1

    @contextmanager
    def _logged(self, what: str) -> Iterator[None]:
        try:
            yield
        except (asyncio.CancelledError, Unavailable):
            raise  # the platform must hear of it (a 5xx), not only the log
        except Exception as error:  # noqa: BLE001 - the log gets the kind and place, never the content
            self.log.error("%s failed: %s at %s", what, type(error).__name__, where(error))

    async def idle(self) -> None:
        """Wait until nothing is in hand (work started meanwhile is waited for too)."""
        while self.count:
            if self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)
            else:
                await asyncio.sleep(0.005)
