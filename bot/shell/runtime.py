"""The composition root: one database, the core, and one outbox per platform.

Adapters call `Runtime.dispatch(event)`: the core decides (in one database transaction) and the
platform's outbox delivers the posts. Scheduled and proactive posts use `Runtime.post`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from bot.core import Copbot
from bot.delivery import Outbox, Pace, Sender
from bot.vocabulary.conversation import Event, Place, Post
from storage.db import Database
from storage.delivery import DeliveryLog

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Runtime:
    def __init__(self, db: Database, clock: Clock = utcnow) -> None:
        self.db = db
        self.clock = clock
        self.core = Copbot(db, clock)
        self.deliveries = DeliveryLog(db, clock)
        self.outboxes: dict[str, Outbox] = {}

    def connect(self, platform: str, sender: Sender, pace: Pace | None = None, **outbox_options: object) -> Outbox:
        """Register a platform's sender; returns its outbox."""
        outbox = Outbox(sender, self.deliveries, pace or Pace(), **outbox_options)  # type: ignore[arg-type]
        self.outboxes[platform] = outbox
        return outbox

    async def dispatch(self, event: Event) -> list[Post]:
        """Handle one incoming event and deliver what the core answers. Returns the posts."""
        posts = await self.core.handle(event)
        await self.post(event.place, posts)
        return posts

    async def post(self, place: Place, posts: Sequence[Post]) -> None:
        """Deliver posts to a conversation with no incoming message (scheduler, summaries)."""
        if posts:
            await self.outboxes[place.platform].deliver(place, posts)

    async def drain(self) -> None:
        """Wait for every outbox's queued updates (tests, shutdown)."""
        for outbox in self.outboxes.values():
            await outbox.drain()
