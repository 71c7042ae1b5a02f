"""The delivery worker: holds lanes of the outbox (`storage.outbox`) and sends their posts,
each once and in order, through its platform's `bot.delivery.Outbox`.

Every `copbot serve` process runs one; several share one database. A worker claims whole
lanes — a channel's posts, or one member's private posts in a channel — never single posts,
with a lease and a fencing token: no two workers hold one lane, and every change a worker
makes checks its token, so one whose lease ran out and whose lane was taken changes nothing.
Lanes are delivered concurrently (at most `MAX_LANES` per worker, each channel at its
platform's pace), so a private receipt never waits behind a channel's backlog. A lane stops at
its first post that must wait (a 429, a 5xx): the posts behind it wait too; other lanes go on.

Leases: a claim lasts `LEASE` (120 s) and is renewed every third of it while the lane is held,
so a slow send keeps its lane; a send is cut off after `SEND_DEADLINE` (60 s) and counts as a
failed attempt. The worker survives any exception: a failed round is logged by kind, and the
next one comes after a backoff. A send that raises something unforeseen is a fault; after
`MAX_FAULTS` the post is undeliverable and its lane moves on.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_random

from bot.delivery import Outbox
from bot.request_body import where
from bot.vocabulary.conversation import Place, post_from_json
from bot.vocabulary.errors import DeliveryError, RecordRefused
from bot.vocabulary.moments import stored_utc
from flows import living_record
from storage import channels, living_records
from storage import delivery as delivery_store
from storage import outbox as store
from storage.db import Database, transient
from storage.models import OutboxPost

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)
# How a send went, recorded in the transaction that starts the lane's next post; True when
# the lane goes on (sent, or given up), False when it waits behind this post.
Outcome = Callable[["AsyncSession"], Awaitable[bool]]

LEASE = timedelta(minutes=2)  # a claim's life; renewed every LEASE / 3 while the lane is held
SEND_DEADLINE = 60.0  # seconds one send (with its in-process retries and pace) may take
MAX_LANES = 16  # lanes one worker delivers at once
IDLE_WAKE_SECONDS = 1.0  # also picks up retries that came due and other workers' leftovers
GIVE_UP_AFTER = timedelta(hours=24)  # a post still not taken a day later is undeliverable
MAX_FAULTS = 5  # unforeseen failures (or unknown outcomes) before a post is undeliverable
BACKOFF_CAP = timedelta(minutes=5)
ROUND_BACKOFF_CAP = 30.0  # seconds between failed rounds, at most
RECORD_ATTEMPTS = 4  # a send's outcome is recorded this many times at most (deadlocks, blips) before the lease decides
STALE_AFTER = timedelta(minutes=2)  # /healthz: no round finished for this long means stuck


def worker_name() -> str:
    """Who holds a lane, as the database shows it: host, process and a per-worker suffix."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Courier:
    """One process's delivery worker over the shared outbox."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        outboxes: Mapping[str, Outbox],
        lease: timedelta = LEASE,
        *,
        max_lanes: int = MAX_LANES,
        send_deadline: float = SEND_DEADLINE,
    ) -> None:
        self.db = db
        self.lease = lease
        self.clock = clock
        self.outboxes = outboxes
        self.max_lanes = max_lanes
        self.send_deadline = send_deadline
        self.name = worker_name()
        self.last_round: datetime | None = None  # when a round last finished (for /healthz)
        self._started: datetime | None = None
        self._kick = asyncio.Event()
        self._stopping = False
        self._lanes: dict[int, asyncio.Task[None]] = {}  # lane id → its delivery, while held
        self._holds: dict[int, store.Hold] = {}
        # A claim and the start of its lanes are one step for this process: `drain` never sees
        # a lane claimed here and not yet in `_lanes`.
        self._claiming = asyncio.Lock()
        self._passing = asyncio.Lock()
        self._passes_started = self._passes_done = 0

    # -- the loop ----------------------------------------------------------------------------

    def kick(self) -> None:
        """New rows are waiting (or a lane was freed): look now rather than at the next wake-up."""
        self._kick.set()

    async def run(self) -> None:
        """Deliver until `stop`. A round that fails is logged by kind and tried again after a
        backoff; nothing but cancellation ends this loop."""
        self._started = self.clock()
        backoff = 1.0
        while not self._stopping:
            self._kick.clear()
            try:
                await self.deliver_due()
                backoff = 1.0
            except Exception as error:  # noqa: BLE001 - survive anything; the log says its kind and place
                log.error(
                    "delivery round failed: %s at %s; next round in %.0f s", type(error).__name__, where(error), backoff
                )
                await self._pause(backoff)
                backoff = min(backoff * 2, ROUND_BACKOFF_CAP)
                continue
            if not self._stopping:
                await self._pause(IDLE_WAKE_SECONDS)
        try:
            await self._lanes_done()
        except asyncio.CancelledError:  # stopping took too long: a send cut off goes again later
            for task in self._lanes.values():
                task.cancel()
            raise

    async def _pause(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._kick.wait(), seconds)
        except TimeoutError:
            pass

    def stop(self) -> None:
        """Take no new lanes; each lane in hand finishes its post and is released."""
        self._stopping = True
        self._kick.set()

    async def drain(self) -> None:
        """Deliver everything due now, then return (tests, the terminal). Drains asked for at
        the same time share one pass: each waits for a pass that began after it was asked."""
        target = self._passes_started + 1
        async with self._passing:
            if self._passes_done >= target:
                return
            self._passes_started += 1
            this_pass = self._passes_started
            await self._drain_pass()
            self._passes_done = this_pass

    async def _drain_pass(self) -> None:
        while True:
            claimed = await self.deliver_due()
            busy = bool(self._lanes)
            await self._lanes_done()
            if not claimed and not busy:
                return

    async def _lanes_done(self) -> None:
        while self._lanes:
            await asyncio.gather(*list(self._lanes.values()), return_exceptions=True)

    async def deliver_due(self) -> int:
        """One round: claim as many due lanes as there are free places and start delivering
        them; returns how many were claimed. Raises what the claim raised."""
        async with self._claiming:
            return await self._claim_and_start()

    async def _claim_and_start(self) -> int:
        free = self.max_lanes - len(self._lanes)
        if not self.outboxes or self._stopping or free <= 0:
            self.last_round = self.clock()
            return 0
        async with self.db.transaction() as session:
            holds = await store.claim_lanes(session, list(self.outboxes), self.clock(), self.lease, self.name, free)
        for hold in holds:
            task = asyncio.create_task(self._deliver_lane(hold))
            self._lanes[hold.lane_id], self._holds[hold.lane_id] = task, hold
            task.add_done_callback(functools.partial(self._lane_freed, hold.lane_id))
        self.last_round = self.clock()
        return len(holds)

    def _lane_freed(self, lane_id: int, _task: object) -> None:
        self._lanes.pop(lane_id, None)
        self._holds.pop(lane_id, None)
        self.kick()

    def stale(self, now: datetime) -> str | None:
        """Why delivery looks stuck (/healthz), or None: no round finished for `STALE_AFTER`."""
        since = self.last_round or self._started
        if since is not None and now - since > STALE_AFTER:
            return f"no delivery round finished for {int((now - since).total_seconds())} s"
        return None

    # -- one lane ----------------------------------------------------------------------------

    async def _deliver_lane(self, hold: store.Hold) -> None:
        """Send the lane's posts in order until it is empty, its head must wait, or the worker
        stops; then release it. How a send went and the start of the next post are one
        transaction. A lost lane is left alone: its new holder goes on."""
        heartbeat = asyncio.create_task(self._keep_lease(hold))
        try:
            outcome: Outcome | None = None
            while True:
                row = await self._record_and_start(hold, outcome)
                if row is None:
                    return
                outcome = await self._deliver(hold, row)
        except store.LaneLost:
            log.warning("lost outbox lane %d to another worker (its lease ran out): changed nothing", hold.lane_id)
        except Exception as error:  # noqa: BLE001 - the lease runs out and another round takes the lane
            log.error("outbox lane %d failed: %s at %s", hold.lane_id, type(error).__name__, where(error))
        finally:
            heartbeat.cancel()

    async def _record_and_start(self, hold: store.Hold, outcome: Outcome | None) -> OutboxPost | None:
        """Record how the last send went and start the next post (None: the lane is released),
        in one transaction, run again after a deadlock or a blip: the outcome of a send is
        never dropped for a reason that passes."""
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(RECORD_ATTEMPTS),
            wait=wait_random(0.05, 0.3),
            retry=retry_if_exception(transient),
            reraise=True,
        ):
            with attempt:
                async with self.db.transaction() as session:
                    go_on = await outcome(session) if outcome is not None else True
                    row = None
                    if go_on and not self._stopping:
                        row = await store.start(session, hold, self.clock(), self.lease)
                    if row is None:
                        await store.release(session, hold)
                return row
        raise AssertionError("unreachable")

    async def _keep_lease(self, hold: store.Hold) -> None:
        """Renew the lease every third of it while the lane is held (a slow send keeps its lane)."""
        every = max(self.lease.total_seconds() / 3, 0.05)
        while True:
            await asyncio.sleep(every)
            try:
                await self.renew(hold)
            except store.LaneLost:
                return
            except Exception as error:  # noqa: BLE001 - try again at the next beat
                log.warning("renewing outbox lane %d failed: %s", hold.lane_id, type(error).__name__)

    async def renew(self, hold: store.Hold) -> None:
        """Extend ``hold``'s lease from now (raises `LaneLost` if it was taken)."""
        async with self.db.transaction() as session:
            await store.renew(session, hold, self.clock() + self.lease)

    def held(self) -> list[int]:
        """The lanes this worker is delivering now."""
        return list(self._lanes)

    async def renew_leases(self) -> None:
        """Renew every lane in hand now (what each lane's heartbeat does every third of a lease)."""
        for hold in list(self._holds.values()):
            try:
                await self.renew(hold)
            except store.LaneLost:
                pass

    async def _deliver(self, hold: store.Hold, row: OutboxPost) -> Outcome:
        """Send one post; returns how to record it (in the transaction that starts the next)."""
        place = Place(row.platform, row.channel_id, row.team_id)
        if row.content is None:  # nothing left to send (an old row): nothing to retry either
            return self._give_up(hold, row, place, "no content left to send")
        if row.faults >= MAX_FAULTS:
            return self._give_up(hold, row, place, f"failed {row.faults} times without an answer")
        if hold.reader == store.RECORD_LANE:
            return await self._keep_record(hold, row, place)
        try:
            post = post_from_json(row.content)
            async with asyncio.timeout(self.send_deadline):
                ref = await self.outboxes[row.platform].send_now(place, post)
        except DeliveryError as error:
            return self._failed(hold, row, place, error)
        except TimeoutError:
            return self._failed(hold, row, place, DeliveryError(f"no answer within {self.send_deadline:.0f} s"))
        except Exception as error:  # noqa: BLE001 - a render bug, a renamed field: a fault, not a crash
            return self._fault(hold, row, place, error)

        async def sent(session: AsyncSession) -> bool:
            await store.sent(session, hold, row.id, ref, self.clock())
            return True

        return sent

    async def _keep_record(self, hold: store.Hold, row: OutboxPost, place: Place) -> Outcome:
        """The channel's living record (`flows.living_record`): drawn from the database now —
        so however many changes were queued, the one call shows the latest — then made or
        replaced. A refusal is recorded and said once; a failure is retried like any post."""
        outbox = self.outboxes[row.platform]
        now = self.clock()
        drawing = None
        if outbox.keeps_records:
            async with self.db.reading() as session:
                drawing = await living_record.drawing(session, place, now)
        if drawing is None:  # no record there (any more): nothing to send
            return self._record_done(hold, row, place, None)
        try:
            async with asyncio.timeout(self.send_deadline):
                canvas_id = await outbox.keep_record(place, drawing.canvas_id, drawing.record)
        except RecordRefused as refusal:
            log.warning("%s:%s keeps no living record: %s", row.platform, row.channel_id, refusal.reason)
            return self._record_done(hold, row, place, None, refusal.why)
        except DeliveryError as error:
            return self._failed(hold, row, place, error)
        except TimeoutError:
            return self._failed(hold, row, place, DeliveryError(f"no answer within {self.send_deadline:.0f} s"))
        except Exception as error:  # noqa: BLE001 - a render bug: a fault, not a crash
            return self._fault(hold, row, place, error)
        return self._record_done(hold, row, place, canvas_id)

    def _record_done(
        self, hold: store.Hold, row: OutboxPost, place: Place, canvas_id: str | None, refused: str | None = None
    ) -> Outcome:
        """The record's row is done: its canvas kept, or (``refused``) never asked for again,
        the co-chairs told once, or (deleted the first time) a new canvas queued."""
        now = self.clock()

        async def done(session: AsyncSession) -> bool:
            await store.sent(session, hold, row.id, canvas_id, now)
            if canvas_id is not None:
                await living_records.drawn(session, place, canvas_id, now)
            if refused is not None:
                if refused == RecordRefused.DELETED:
                    told = await living_record.deleted(session, place, now)
                else:
                    told = await living_record.refused(session, place, refused, now)
                if told:
                    await store.enqueue(session, place, told, now)
                    self.kick()
            return True

        return done

    def _failed(self, hold: store.Hold, row: OutboxPost, place: Place, error: DeliveryError) -> Outcome:
        now = self.clock()
        if error.permanent or now - stored_utc(row.created_at) > GIVE_UP_AFTER:
            return self._give_up(hold, row, place, error.reason, gone=error.gone)
        wait = timedelta(seconds=error.retry_after) if error.retry_after else timedelta(seconds=2**row.attempts)
        wait = min(wait, BACKOFF_CAP)
        log.info("outbox row %d: %s; trying again in %d s", row.id, error.reason, int(wait.total_seconds()))

        async def later(session: AsyncSession) -> bool:
            await store.retry_later(session, hold, row.id, now + wait, error.reason)
            return False  # the lane waits behind this post

        return later

    def _fault(self, hold: store.Hold, row: OutboxPost, place: Place, error: Exception) -> Outcome:
        """Something nobody foresaw: logged by kind and place, counted; given up at the limit."""
        log.error("outbox row %d: sending raised %s at %s", row.id, type(error).__name__, where(error))
        if row.faults + 1 >= MAX_FAULTS:
            return self._give_up(hold, row, place, f"failed {row.faults + 1} times: {type(error).__name__}")
        now = self.clock()
        wait = min(timedelta(seconds=2 ** (row.faults + 2)), BACKOFF_CAP)

        async def later(session: AsyncSession) -> bool:
            await store.retry_later(session, hold, row.id, now + wait, type(error).__name__, fault=True)
            return False

        return later

    def _give_up(self, hold: store.Hold, row: OutboxPost, place: Place, reason: str, gone: bool = False) -> Outcome:
        """Undeliverable: kept for the co-chairs (never silently dropped); a channel that is
        gone is marked inactive and its pending posts cancelled. The lane goes on."""
        now = self.clock()
        log.warning("outbox row %d to %s:%s not delivered: %s", row.id, row.platform, row.channel_id, reason)

        async def given_up(session: AsyncSession) -> bool:
            await store.undeliverable(session, hold, row.id, reason)
            reader = hold.reader or None
            await delivery_store.record_undelivered(session, place, reader, row.key, row.content, reason, now)
            if gone and not row.private:
                if await channels.deactivate(session, row.platform, reason, now, channel_id=row.channel_id):
                    log.warning("%s:%s is inactive: %s", row.platform, row.channel_id, reason)
            return True

        return given_up
