"""The delivery worker: takes due posts from the outbox (`storage.outbox`) and sends each once
through its platform's `bot.delivery.Outbox` (pace, Retry-After, retries).

Every `copbot serve` process runs one; several share one database safely, because a row is
claimed before it is sent (PostgreSQL: ``FOR UPDATE SKIP LOCKED`` with a lease; a worker that
dies mid-send loses its claim when the lease runs out). Rows of one channel go out in order;
private posts (Slack ephemeral, Teams 1:1) go in lanes of their own, so a member's receipt never
waits behind the channel's posts. A post a platform refuses for good is recorded as
undeliverable; one it could not take right now is tried again later, with backoff.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from bot.delivery import Outbox
from bot.vocabulary.conversation import Place, post_from_json
from bot.vocabulary.errors import DeliveryError
from bot.work_in_hand import WorkInHand
from storage import channels
from storage import outbox as store
from storage.db import Database
from storage.models import OutboxPost

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)  # longer than any one send with its in-process retries
IDLE_WAKE_SECONDS = 1.0  # also picks up retries that came due and other workers' leftovers
GIVE_UP_AFTER = timedelta(hours=24)  # a post still not taken a day later is undeliverable
BACKOFF_CAP = timedelta(minutes=5)


class Courier:
    """One process's delivery worker over the shared outbox."""

    def __init__(
        self, db: Database, clock: Callable[[], datetime], outboxes: Mapping[str, Outbox], lease: timedelta = LEASE
    ) -> None:
        self.db = db
        self.lease = lease
        self.clock = clock
        self.outboxes = outboxes
        self._kick = asyncio.Event()
        self._stopping = False
        self._work = WorkInHand(log)
        self._round = asyncio.Lock()  # one round at a time in a process: a channel's order holds

    def kick(self) -> None:
        """New rows are waiting: look now rather than at the next wake-up."""
        self._kick.set()

    async def run(self) -> None:
        """Deliver until `stop`; between rounds, sleep until kicked (or a second passes)."""
        while not self._stopping:
            self._kick.clear()
            sent = await self.deliver_due()
            if sent == 0 and not self._stopping:
                try:
                    await asyncio.wait_for(self._kick.wait(), IDLE_WAKE_SECONDS)
                except TimeoutError:
                    pass

    def stop(self) -> None:
        """Take no new rows; what is in hand finishes, what is pending stays for the next start."""
        self._stopping = True
        self._kick.set()

    async def drain(self) -> None:
        """Deliver everything due now, then return (tests, the terminal)."""
        while await self.deliver_due():
            pass
        await self._work.idle()

    async def deliver_due(self) -> int:
        """One round: claim the due rows, send them lane by lane; returns how many were claimed."""
        if not self.outboxes:
            return 0
        async with self._round:
            return await self._round_unlocked()

    async def _round_unlocked(self) -> int:
        async with self.db.transaction() as session:
            rows = await store.claim(session, list(self.outboxes), self.clock(), self.lease)
            claimed = [(row.id, _lane(row), row) for row in rows]
        if not claimed:
            return 0
        lanes: dict[tuple[str, ...], list[OutboxPost]] = {}
        for _, lane, row in claimed:
            lanes.setdefault(lane, []).append(row)
        await asyncio.gather(*(self._deliver_lane(lane_rows) for lane_rows in lanes.values()))
        return len(claimed)

    async def _deliver_lane(self, rows: list[OutboxPost]) -> None:
        for index, row in enumerate(rows):
            if self._stopping:  # leave the rest for the next worker, untouched
                async with self.db.transaction() as session:
                    await store.release(session, [r.id for r in rows[index:]])
                return
            with self._work.inline(f"delivering outbox row {row.id}"):
                if index:  # the rows still waiting in this lane stay this worker's
                    async with self.db.transaction() as session:
                        await store.renew(session, [r.id for r in rows[index:]], self.clock() + self.lease)
                await self._deliver(row)

    async def _deliver(self, row: OutboxPost) -> None:
        place = Place(row.platform, row.channel_id, row.team_id)
        outbox = self.outboxes[row.platform]
        if row.content is None:  # sent by a worker that died before it could say so
            async with self.db.transaction() as session:
                await store.undeliverable(session, row.id, "no content left to send")
            return
        post = post_from_json(row.content)
        try:
            ref = await outbox.send_now(place, post)
        except DeliveryError as error:
            await self._failed(row, place, post, error)
            return
        async with self.db.transaction() as session:
            await store.sent(session, row.id, ref, self.clock())

    async def _failed(self, row: OutboxPost, place: Place, post: object, error: DeliveryError) -> None:
        now = self.clock()
        first_tried = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=now.tzinfo)
        if error.permanent or now - first_tried > GIVE_UP_AFTER:
            await self.outboxes[row.platform].give_up(place, post, error.reason)  # type: ignore[arg-type]
            async with self.db.transaction() as session:
                await store.undeliverable(session, row.id, error.reason)
                if error.gone and not row.private:
                    gone = await channels.deactivate(
                        session, row.platform, error.reason, now, channel_id=row.channel_id
                    )
                    if gone:
                        log.warning("%s:%s is inactive: %s", row.platform, row.channel_id, error.reason)
            return
        wait = timedelta(seconds=error.retry_after) if error.retry_after else timedelta(seconds=2**row.attempts)
        log.info("outbox row %d: %s; trying again in %ds", row.id, error.reason, int(wait.total_seconds()))
        async with self.db.transaction() as session:
            await store.retry_later(session, row.id, now + min(wait, BACKOFF_CAP), error.reason)


def _lane(row: OutboxPost) -> tuple[str, ...]:
    """Rows of one lane go out in order: a channel's posts, or one private post each."""
    if row.private and row.content:
        reader = post_from_json(row.content).private_to or ""
        return (row.platform, row.channel_id, "private", reader)
    return (row.platform, row.channel_id)
