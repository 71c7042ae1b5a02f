"""The scheduler behind `copbot serve` (APScheduler 3, in the web server's event loop).

Jobs live in memory and are rebuilt from the database at start; a post a job makes is claimed
in the database first, so that with several workers it is sent once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from apscheduler.schedulers.asyncio import AsyncIOScheduler


class Scheduler:
    def __init__(self) -> None:
        self.scheduler = AsyncIOScheduler(
            job_defaults={"coalesce": True, "misfire_grace_time": 3600, "max_instances": 1},
            timezone="UTC",
        )

    def status(self) -> dict[str, object]:
        return {"running": self.scheduler.running, "jobs": len(self.scheduler.get_jobs())}

    async def lifecycle(self, _app: object) -> AsyncIterator[None]:
        """An aiohttp cleanup context: start inside the running loop, stop on shutdown."""
        self.scheduler.start()
        try:
            yield
        finally:
            self.scheduler.shutdown(wait=False)
