"""The scheduler behind `copbot serve` (APScheduler 3, in the web server's event loop).

Jobs live in memory and are rebuilt from the database at start; a post a job makes is claimed
in the database first, so that with several workers it is sent once. Each job's last finished
run (a success or a logged failure) is kept, so `/healthz` can tell a stuck scheduler (`stale`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.request_body import where

log = logging.getLogger(__name__)
STOP_TICK_SECONDS = 5.0  # what a tick in hand gets to finish when copbot stops
# The announcements job runs every minute and a tick with nothing due takes milliseconds: no run
# finished in 5 minutes means it is stuck (a hung query, a lock held) or not running at all.
STALE_AFTER_SECONDS = 300.0
WATCHED_JOB = "announcements"


class Scheduler:
    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._running: set[asyncio.Task[None]] = set()
        self._monotonic = monotonic
        # Per job: when its last run finished (or, before the first, when it was added or the
        # scheduler started): the moment `stale` counts from.
        self.finished: dict[str, float] = {}
        self.scheduler = AsyncIOScheduler(
            job_defaults={"coalesce": True, "misfire_grace_time": 3600, "max_instances": 1},
            timezone="UTC",
        )

    def status(self) -> dict[str, object]:
        return {"running": self.scheduler.running, "jobs": len(self.scheduler.get_jobs())}

    def stale(self, now: float | None = None) -> str | None:
        """A short reason when the announcements job has not finished a run (a success or a
        logged failure) within STALE_AFTER_SECONDS, else None. ``now``: `time.monotonic()`
        seconds (the scheduler's own monotonic clock when not given)."""
        since = self.finished.get(WATCHED_JOB)
        if since is None:
            return None  # no such job here
        moment = self._monotonic() if now is None else now
        if moment - since > STALE_AFTER_SECONDS:
            return f"{WATCHED_JOB}: no run finished in {STALE_AFTER_SECONDS:.0f} s"
        return None

    def every(self, seconds: float, job: Callable[[], Awaitable[object]], name: str) -> None:
        """Run ``job`` every ``seconds`` (and once at start). It keeps nothing of its own: what it
        does is decided from the database, so every worker may run it."""

        async def tick() -> None:
            task = asyncio.current_task()
            if task is not None:
                self._running.add(task)
            try:
                await job()
            except asyncio.CancelledError:
                return  # shutting down: the next start picks up what was due
            except Exception as error:  # noqa: BLE001 - logged by kind and place; the next tick tries again
                log.error("%s failed: %s at %s", name, type(error).__name__, where(error))
                self.finished[name] = self._monotonic()
            else:
                self.finished[name] = self._monotonic()
            finally:
                if task is not None:
                    self._running.discard(task)

        self.finished[name] = self._monotonic()
        self.scheduler.add_job(
            tick, "interval", seconds=seconds, id=name, replace_existing=True, next_run_time=datetime.now(UTC)
        )

    async def lifecycle(self, _app: object) -> AsyncIterator[None]:
        """An aiohttp cleanup context: start inside the running loop, stop on shutdown."""
        started = self._monotonic()
        self.finished = {name: max(moment, started) for name, moment in self.finished.items()}
        self.scheduler.start()
        try:
            yield
        finally:
            self.scheduler.pause()  # no new tick; the one in hand finishes first (shutdown would cancel it)
            await self._finish_running()
            self.scheduler.shutdown(wait=False)

    async def _finish_running(self) -> None:
        """A tick in hand finishes (or is cancelled) before the database it uses is closed:
        closing it under a running tick left that tick waiting for ever."""
        if not self._running:
            return
        _, late = await asyncio.wait(set(self._running), timeout=STOP_TICK_SECONDS)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late)
