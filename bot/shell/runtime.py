"""The composition root: one database, the core, the outbox's delivery worker, and one sender
per platform.

Adapters call `Runtime.dispatch(event)`: the core decides and keeps what it will post, in one
database transaction; when that returns, the event is stored and can be acknowledged. The
delivery worker (`bot.courier.Courier`) sends the posts after. Scheduled and proactive posts
use `Runtime.post`, which keeps them the same way.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from bot.core import Copbot
from bot.courier import LEASE, Courier
from bot.delivery import Outbox, Pace, Sender
from bot.group_commit import GroupCommit
from bot.request_body import where
from bot.vocabulary.conversation import Event, Place, Post
from bot.vocabulary.errors import Unavailable
from bot.vocabulary.national_office import NationalOffice
from flows import announcements
from storage import channels, retention
from storage import outbox as outbox_store
from storage import schedule as schedule_store
from storage.db import Database, unreachable
from storage.delivery import DeliveryLog

Clock = Callable[[], datetime]
T = TypeVar("T")
log = logging.getLogger(__name__)
KEEP = retention.Keep()
DISPATCH_DEADLINE = 2.5  # seconds: Slack gives 3 s to acknowledge; past this the answer is a 5xx
ANNOUNCE_BATCH = 50  # due communities fetched at a time; each is its own transaction
ANNOUNCE_RETRY = timedelta(minutes=5)  # a community that failed is looked at again this much later
ANNOUNCE_TICK_SECONDS = 30.0  # a tick takes no new batch after this: it finishes, the next goes on


def utcnow() -> datetime:
    return datetime.now(UTC)


def _dropped(task: asyncio.Future[Any]) -> None:
    """Work given up on (`Runtime.in_time`): its end is read, so asyncio does not report it."""
    if not task.cancelled():
        task.exception()


class Runtime:
    def __init__(
        self,
        db: Database,
        clock: Clock = utcnow,
        *,
        outbox_lease: timedelta = LEASE,
        keep: retention.Keep = KEEP,
        dispatch_deadline: float | None = None,
        national_office: NationalOffice | None = None,
    ) -> None:
        self.db = db
        db.clock = clock  # the living records queued before each commit are due by this clock
        self.keep = keep
        self.clock = clock
        self.core = Copbot(db, clock, national_office)
        self.deliveries = DeliveryLog(db, clock)
        self.outboxes: dict[str, Outbox] = {}
        self.courier = Courier(db, clock, self.outboxes, outbox_lease)
        self._groups: GroupCommit[Event, list[Post]] = GroupCommit(self.core.handle_group)  # type: ignore[arg-type]
        self.dispatch_deadline = dispatch_deadline or DISPATCH_DEADLINE

    def connect(self, platform: str, sender: Sender, pace: Pace | None = None, **outbox_options: object) -> Outbox:
        """Register a platform's sender; returns its outbox."""
        outbox = Outbox(sender, self.deliveries, pace or Pace(), **outbox_options)  # type: ignore[arg-type]
        self.outboxes[platform] = outbox
        return outbox

    async def dispatch(self, event: Event) -> list[Post]:
        """Handle one incoming event: when this returns, its effect and its posts are stored.
        Events of one channel are applied in the order they arrived (in this process); those
        that arrive together share one transaction (`bot.group_commit`). Returns the posts
        (they go out through the delivery worker)."""
        try:
            async with asyncio.timeout(self.dispatch_deadline):
                posts = await self._groups.submit((event.place.platform, event.place.channel_id), event)
        except TimeoutError:
            # Too slow to answer inside the platform's deadline: say so (a 5xx) rather than hang
            # past it. The event may still be kept; its retry is then recognised and skipped.
            where = f"{event.place.platform}:{event.place.channel_id}"
            log.error("%s: an event took over %.1f s", where, self.dispatch_deadline)
            raise Unavailable("the database is too slow to answer in time") from None
        if posts:  # most answers post nothing: the delivery worker is not woken for them
            self.courier.kick()
        return posts

    async def in_time(self, work: Awaitable[T]) -> T:
        """``work`` is all that a request waits on before it is answered (a look-up in the
        database — is this thread one of copbot's posts? — a name, then `dispatch`), under one
        deadline, `dispatch_deadline`. Past it, or with the database out of reach, `Unavailable`:
        the platform gets a 5xx in time rather than no answer, and sends the request again. Work
        past the deadline is cancelled, not waited for (its clean-up over a slow database would
        hold the answer back); an event already in `dispatch` may still be kept, and its retry
        is then recognised and skipped."""
        task = asyncio.ensure_future(work)
        try:
            done, _ = await asyncio.wait({task}, timeout=self.dispatch_deadline)
        finally:
            if not task.done():
                task.cancel()
                task.add_done_callback(_dropped)
        if not done:
            log.error("a request took over %.1f s", self.dispatch_deadline)
            raise Unavailable("too slow to answer in time")
        try:
            return task.result()
        except Exception as error:
            if unreachable(error):
                raise Unavailable("the database did not answer") from error
            raise

    async def post(self, place: Place, posts: Sequence[Post]) -> None:
        """Keep posts for a conversation with no incoming message (scheduler, summaries)."""
        if posts:
            async with self.db.transaction() as session:
                await outbox_store.enqueue(session, place, posts, self.clock())
            self.courier.kick()

    async def removed(
        self, platform: str, reason: str, *, channel_id: str | None = None, team_id: str | None = None
    ) -> int:
        """copbot was removed from a channel, or from a whole workspace/team (an uninstall, a
        revoked token): mark those channels inactive and cancel their pending posts."""
        async with self.db.transaction() as session:
            gone = await channels.deactivate(
                session, platform, reason, self.clock(), channel_id=channel_id, team_id=team_id
            )
        if gone:
            log.warning("%s: %d channel(s) inactive: %s", platform, len(gone), reason)
        return len(gone)

    async def announce_due(self) -> int:
        """Make every scheduled announcement that is due (each once, across workers). The due
        communities come from one indexed query, a batch at a time; each is looked at in its own
        transaction (its schedule row locked: two workers never work one community at once), and
        its posts go to the outbox in that transaction. One community that fails is logged (its
        error's kind and place), looked at again a few minutes later, and the rest still post.
        A tick takes no new batch after ANNOUNCE_TICK_SECONDS (after the migration every
        community is looked at once: that is spread over ticks). Returns how many posts were kept."""
        kept, after, started = 0, None, time.monotonic()
        while time.monotonic() - started < ANNOUNCE_TICK_SECONDS:
            async with self.db.transaction() as session:
                batch = await schedule_store.due_batch(session, self.clock(), after, ANNOUNCE_BATCH)
            for _due_at, schedule_id in batch:
                try:
                    async with self.db.transaction() as session:
                        made = await announcements.community_due(session, schedule_id, self.clock())
                        for place, posts in made:
                            await outbox_store.enqueue(session, place, posts, self.clock())
                except Exception as error:  # noqa: BLE001 - one community's failure is not everyone's
                    log.error(
                        "announcements of schedule %d failed: %s at %s", schedule_id, type(error).__name__, where(error)
                    )
                    try:
                        async with self.db.transaction() as session:
                            await schedule_store.put_off(session, schedule_id, self.clock() + ANNOUNCE_RETRY)
                    except Exception as again:  # noqa: BLE001 - still due: the next tick tries it again
                        log.error("putting off schedule %d failed: %s", schedule_id, type(again).__name__)
                    continue
                if made:
                    kept += sum(len(posts) for _, posts in made)
                    self.courier.kick()
            if len(batch) < ANNOUNCE_BATCH:
                break
            after = batch[-1]
        return kept  # out of time: the next tick goes on with what is still due

    async def outbox_health(self) -> outbox_store.OutboxHealth:
        """Pending posts, the oldest one's age, the longest overdue, undeliverable ones (/healthz)."""
        async with self.db.reading() as session:
            return await outbox_store.health(session, self.clock())

    async def housekeeping(self) -> dict[str, int]:
        """Purge the operational rows that can no longer prevent a duplicate, and clear old
        undelivered posts' bodies (`storage.retention`); the counts are logged."""
        purged = await retention.purge(self.db, self.clock(), self.keep)
        if any(purged.values()):
            log.info("housekeeping: %s", ", ".join(f"{what} {n}" for what, n in purged.items()))
        return purged

    async def drain(self) -> None:
        """Deliver everything that is due now (tests, the terminal)."""
        await self.courier.drain()
