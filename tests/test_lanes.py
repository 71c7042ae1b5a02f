"""Every post once and in order, whatever fails (issue 15): a worker holds whole lanes with a
lease and a fencing token. Each test is one way delivery used to break — a retry reordering a
channel, two workers sharing a channel, a slow send outliving its lease, a database error
stopping delivery, a poison row, a receipt waiting behind another channel — driven with an
injected clock, a sender that can be slow, fail or raise, and on PostgreSQL two workers whose
transactions are interleaved by hand."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, OperationalError

from bot.delivery import Pace
from bot.shell.runtime import Runtime
from bot.shell.scheduling import Scheduler
from bot.shell.web import build_app
from bot.vocabulary.conversation import Actor, CommandEvent, Place, Post
from bot.vocabulary.errors import DeliveryError
from storage import delivery as store_delivery
from storage import outbox as store
from storage.db import Database
from storage.models import OutboxLane, OutboxPost, UndeliveredPost
from storage.states import OutboxStatus
from tests.fakes.recording_sender import RecordingSender
from tests.support.app import client_for
from tests.support.room import Room, uid

C1, C2 = Place("slack", "C1"), Place("slack", "C2")
LEASE = timedelta(minutes=2)
README_TRIES = 5  # "given up after 5 tries" (README, "Delivery guarantee")


class Worker:
    """One `copbot serve` process's delivery side: its own engine on the shared database."""

    def __init__(self, url: str, clock, pace: Pace | None = None) -> None:  # type: ignore[no-untyped-def]
        self.db = Database(url.replace("+asyncpg", "").replace("+aiosqlite", ""))
        self.runtime = Runtime(self.db, clock, outbox_lease=LEASE)
        self.sender = RecordingSender()
        self.runtime.connect("slack", self.sender, pace or Pace(limits=()))
        self.courier = self.runtime.courier

    async def close(self) -> None:
        await self.db.dispose()


@pytest.fixture
async def workers(db, clock):  # type: ignore[no-untyped-def]
    made = [Worker(db.url, clock), Worker(db.url, clock)]
    yield made
    for worker in made:
        await worker.close()


async def statuses(db: Database) -> list[str]:
    async with db.transaction() as session:
        return list(await session.scalars(select(OutboxPost.status).order_by(OutboxPost.id)))


# -- 1. a retry holds back the rest of its lane, and only its lane ----------------------------


async def test_a_post_told_to_wait_holds_back_its_lane_and_only_its_lane(db, clock, workers):
    """Guards README "Delivery guarantee": "A post told to wait (Retry-After, a 5xx) holds back
    the posts behind it in its lane, and only those" (Retry-After) and "a longer one is the
    worker's to wait, with the lane". Proved: with storage/outbox.py starting a lane's first
    due post instead of its head (``start`` and ``claim_lanes`` skipping a head that waits), or
    taking the lane's newest post first, this test fails."""
    a = workers[0]
    a.sender.raises["post 1"] = [DeliveryError("ratelimited", retry_after=30)]
    await a.runtime.post(C1, [Post("post 1"), Post("post 2"), Post("post 3")])
    await a.runtime.post(C2, [Post("elsewhere")])
    await a.runtime.drain()
    assert a.sender.sent_texts() == ["elsewhere"]  # C1 waits behind its first post; C2 goes on
    clock.advance(seconds=29)
    await a.runtime.drain()
    assert a.sender.sent_texts("C1") == []
    clock.advance(seconds=2)
    await a.runtime.drain()
    assert a.sender.sent_texts("C1") == ["post 1", "post 2", "post 3"]  # in order, each once


# -- 2. two workers never share a lane -----------------------------------------------------------


async def test_two_workers_claiming_at_the_same_instant_never_share_a_channel(postgres_db, clock):
    """Guards README "Delivery guarantee": "A delivery worker [...] holds whole lanes, with a lease
    and a fencing token" (two claims interleaved by hand). Proved: without ``skip_locked`` and the
    lease condition in ``claim_lanes``, or without the token checks (``_fence`` and ``renew``) in
    storage/outbox.py, this test fails."""
    a, b = Worker(postgres_db.url, clock), Worker(postgres_db.url, clock)
    try:
        await _interleaved_claims(a, b, clock)
    finally:
        await a.close()
        await b.close()


async def _interleaved_claims(a: Worker, b: Worker, clock) -> None:  # type: ignore[no-untyped-def]
    await a.runtime.post(C1, [Post(f"post {n}") for n in range(1, 5)])
    now = clock()
    # A's claim is made and not yet committed when B claims: SKIP LOCKED hides the lane from B,
    # and no row of it can be taken on its own.
    async with a.db.transaction() as session_a:
        held_a = await store.claim_lanes(session_a, ["slack"], now, LEASE, "A", 10)
        async with b.db.transaction() as session_b:  # (waiting for A's lock would hang: fail loudly)
            assert await asyncio.wait_for(store.claim_lanes(session_b, ["slack"], now, LEASE, "B", 10), 10) == []
    assert [h.channel_id for h in held_a] == ["C1"]
    # Committed: the lease keeps it A's.
    async with b.db.transaction() as session_b:
        assert await store.claim_lanes(session_b, ["slack"], now, LEASE, "B", 10) == []
    # B claims first this time and A waits for nothing: the other order gives the same answer.
    clock.advance(minutes=3)
    async with b.db.transaction() as session_b:
        held_b = await store.claim_lanes(session_b, ["slack"], clock(), LEASE, "B", 10)
        async with a.db.transaction() as session_a:
            assert await asyncio.wait_for(store.claim_lanes(session_a, ["slack"], clock(), LEASE, "A", 10), 10) == []
    assert held_b[0].token == held_a[0].token + 1
    async with a.db.transaction() as session_a:  # A's late change is refused
        with pytest.raises(store.LaneLost):
            await store.start(session_a, held_a[0], clock(), LEASE)


async def test_two_workers_delivering_at_once_send_each_post_once_in_channel_order(db, clock, workers):
    """Guards README "Delivery guarantee": "each post goes out once and each channel's posts in
    order, across [...] several workers". Proved: with ``start`` in storage/outbox.py taking the
    lane's newest post first, or ``claim_lanes`` ignoring the lease, this test fails."""
    a, b = workers
    seen: list[tuple[str, str]] = []
    for worker in workers:
        worker.sender.log = _Shared(seen)  # type: ignore[assignment]
    for n in range(5):
        for place in (C1, C2, Place("slack", "C3")):
            await a.runtime.post(place, [Post(f"{place.channel_id} post {n}.{i}") for i in range(4)])
    await asyncio.gather(a.runtime.drain(), b.runtime.drain(), a.runtime.drain(), b.runtime.drain())
    for channel in ("C1", "C2", "C3"):
        texts = [text for where, text in seen if where == channel]
        assert texts == [f"{channel} post {n}.{i}" for n in range(5) for i in range(4)]
    assert set(await statuses(db)) == {OutboxStatus.SENT}


class _Shared(list):  # type: ignore[type-arg]
    """Two senders' logs in one list, in the order the posts went out."""

    def __init__(self, seen: list[tuple[str, str]]) -> None:
        super().__init__()
        self.seen = seen

    def append(self, sent) -> None:  # type: ignore[no-untyped-def, override]
        super().append(sent)
        self.seen.append((sent.place.channel_id, sent.post.text))


# -- 3. a slow send keeps its lane; a lost lane changes nothing ---------------------------------


async def test_a_slow_send_keeps_its_lane_while_its_lease_is_renewed(db, clock, workers):
    """Guards README "Delivery guarantee": "with a lease" and "each post goes out once [...]
    across [...] slow sends". Proved: with ``renew`` in storage/outbox.py not extending the lease,
    this test fails."""
    a, b = workers
    entered, release = a.sender.hold("slow post")
    await a.runtime.post(C1, [Post("slow post"), Post("next post")])
    assert await a.courier.deliver_due() == 1
    await asyncio.wait_for(entered.wait(), 10)
    for _ in range(3):  # six minutes of a slow send, the lease renewed as the heartbeat does
        clock.advance(seconds=100)
        await a.courier.renew_leases()
        clock.advance(seconds=20)
        assert await b.courier.deliver_due() == 0  # never B's: A still holds the lane
    release.set()
    await a.runtime.drain()
    await b.runtime.drain()
    assert a.sender.sent_texts() == ["slow post", "next post"] and b.sender.log == []
    assert a.sender.tries["slow post"] == 1


async def test_a_worker_whose_lane_was_taken_changes_nothing(db, clock, workers, caplog):
    """Guards README "Delivery guarantee": "a fencing token" and "What may still go twice: a post
    the platform took just before [...] the worker lost its lane": only that post goes twice,
    and the worker that lost its lane changes nothing. Proved: with ``start`` in
    storage/outbox.py giving up a post whose outcome is unknown instead of sending it again
    (``row.faults >= 1`` in ``Courier._deliver``), this test fails."""
    a, b = workers
    entered, release = a.sender.hold("slow post")
    await a.runtime.post(C1, [Post("slow post"), Post("next post")])
    await a.courier.deliver_due()
    await asyncio.wait_for(entered.wait(), 10)
    clock.advance(minutes=3)  # A's process stalled: no heartbeat, the lease ran out
    await b.runtime.drain()  # B takes the lane; the post whose outcome is unknown goes again
    assert b.sender.sent_texts() == ["slow post", "next post"]
    with caplog.at_level(logging.WARNING, logger="bot.courier"):
        release.set()
        await a.runtime.drain()
    assert a.sender.sent_texts() == ["slow post"]  # A's send finished, and then A stopped
    assert "lost outbox lane" in caplog.text
    assert await statuses(db) == [OutboxStatus.SENT, OutboxStatus.SENT]  # nothing undone by A
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(UndeliveredPost)) == 0
        assert (await session.scalars(select(OutboxPost.faults).order_by(OutboxPost.id))).all() == [1, 0]


async def test_a_worker_whose_lane_was_taken_cannot_start_its_next_post(db, clock, workers):
    """Guards README "Delivery guarantee": "holds whole lanes, with a lease and a fencing token":
    A's send outlives its lease, B claims the lane and is in the middle of its next post when
    A's send returns; A's token is stale, so A neither records nor starts anything, and the
    next post is B's alone. Proved: with the token checks switched off (``_fence`` and ``renew``
    in storage/outbox.py ignoring the token), this test fails (A sends the next post too)."""
    a, b = workers
    a_entered, a_release = a.sender.hold("slow post")
    b_entered, b_release = b.sender.hold("next post")
    await a.runtime.post(C1, [Post("slow post"), Post("next post")])
    assert await a.courier.deliver_due() == 1
    await asyncio.wait_for(a_entered.wait(), 10)
    clock.advance(minutes=3)  # A stalled: its lease ran out
    assert await b.courier.deliver_due() == 1
    await asyncio.wait_for(b_entered.wait(), 10)  # B sent the slow post again, and is sending the next
    a_release.set()
    await a.runtime.drain()  # A's send returns, with the lane B's
    assert a.sender.sent_texts() == ["slow post"]
    b_release.set()
    await b.runtime.drain()
    assert b.sender.sent_texts() == ["slow post", "next post"]
    assert await statuses(db) == [OutboxStatus.SENT, OutboxStatus.SENT]


# -- 4. a database error does not stop delivery, and /healthz tells when it is stuck ------------


async def test_a_database_error_in_a_round_is_survived(db, clock, workers, monkeypatch, caplog):
    """Guards README "Delivery guarantee": "It survives any error" (a round's claim fails).
    Proved: with ``Courier.run`` catching nothing, this test fails."""
    a = workers[0]
    real_claim = store.claim_lanes
    failures = iter([OperationalError("SELECT", {}, ConnectionResetError("the database restarted"))])

    async def flaky_claim(*args, **kwargs):  # type: ignore[no-untyped-def]
        for error in failures:
            raise error
        return await real_claim(*args, **kwargs)

    monkeypatch.setattr(store, "claim_lanes", flaky_claim)
    await a.runtime.post(C1, [Post("hello")])
    with caplog.at_level(logging.ERROR, logger="bot.courier"):
        worker = asyncio.create_task(a.courier.run())
        try:
            await a.sender.wait_until(lambda: a.sender.sent_texts() == ["hello"])
        finally:
            a.courier.stop()
            await worker
    assert "delivery round failed: OperationalError" in caplog.text
    assert "the database restarted" not in caplog.text  # the kind, not the detail


async def test_healthz_is_503_while_delivery_is_stuck_and_200_again_after(sqlite_db, clock, monkeypatch, env_clean):
    runtime = Runtime(sqlite_db, clock)
    runtime.connect("slack", RecordingSender(), Pace(limits=()))
    real_claim = store.claim_lanes
    broken = [True]

    async def claim(*args, **kwargs):  # type: ignore[no-untyped-def]
        if broken[0]:
            raise OperationalError("SELECT", {}, ConnectionResetError())
        return await real_claim(*args, **kwargs)

    monkeypatch.setattr(store, "claim_lanes", claim)
    async with client_for(build_app(runtime, {})) as client:
        assert (await client.get("/healthz")).status == 200
        clock.advance(minutes=3)
        response = await client.get("/healthz")
        body = await response.json()
        assert response.status == 503
        assert any("no delivery round finished for 180 s" in p for p in body["problems"])
        broken[0] = False
        runtime.courier.kick()
        await runtime.drain()
        assert (await client.get("/healthz")).status == 200
        # A post due for more than 10 minutes and not sent: here, a platform nobody delivers.
        await runtime.post(Place("teams", "19:abc"), [Post("never taken")])
        clock.advance(minutes=11)
        await runtime.drain()
        body = await (await client.get("/healthz")).json()
        assert body["problems"] == ["a post has been due for 660 s and is not sent"]
        assert body["outbox"]["oldest_due_seconds"] == 660.0


async def test_healthz_is_503_when_the_scheduler_has_not_finished_a_tick(sqlite_db, clock, env_clean):
    runtime = Runtime(sqlite_db, clock)
    hung = asyncio.Event()

    async def stuck_tick() -> int:  # a tick waiting on a lock nobody releases
        await hung.wait()
        return 0

    runtime.announce_due = stuck_tick  # type: ignore[method-assign]
    seconds = [1000.0]
    app = build_app(runtime, {}, scheduler=Scheduler(monotonic=lambda: seconds[0]))
    async with client_for(app) as client:
        assert (await client.get("/healthz")).status == 200
        seconds[0] += 301
        response = await client.get("/healthz")
        assert response.status == 503
        assert (await response.json())["problems"] == ["announcements: no run finished in 300 s"]
        hung.set()


# -- 5. poison rows ---------------------------------------------------------------------------


async def test_a_post_that_raises_is_retried_then_undeliverable_and_its_lane_moves_on(db, clock, workers):
    """Guards README "Delivery guarantee": "A post that keeps failing in an unforeseen way [...]
    is given up after 5 tries, and its lane moves on" (the 5 is the README's, not `MAX_FAULTS`).
    Proved: with ``MAX_FAULTS`` at 6 in bot/courier.py, or ``Courier._deliver`` catching only
    `DeliveryError` and timeouts (an unforeseen error then ends the lane's task), this test fails."""
    a = workers[0]
    a.sender.raises["poison"] = [ValueError("a render bug")] * 10
    await a.runtime.post(C1, [Post("poison"), Post("after")])
    for _ in range(README_TRIES + 2):
        await a.runtime.drain()
        clock.advance(minutes=10)
    assert a.sender.tries["poison"] == README_TRIES
    assert a.sender.sent_texts() == ["after"]
    assert await statuses(db) == [OutboxStatus.UNDELIVERABLE, OutboxStatus.SENT]
    async with db.transaction() as session:
        kept = (await session.scalars(select(UndeliveredPost))).one()
    assert kept.reason == "failed 5 times: ValueError" and '"poison"' in (kept.body or "")


async def test_a_row_that_cannot_be_read_is_a_fault_not_a_crash(db, clock, workers):
    a = workers[0]
    await a.runtime.post(C1, [Post("first"), Post("second")])
    async with db.transaction() as session:  # an upgrade renamed a field of the kept post
        first = await session.scalar(select(OutboxPost).order_by(OutboxPost.id))
        first.content = '{"txt": "first"}'
    for _ in range(README_TRIES + 1):
        await a.runtime.drain()
        clock.advance(minutes=10)
    assert a.sender.sent_texts() == ["second"]
    assert await statuses(db) == [OutboxStatus.UNDELIVERABLE, OutboxStatus.SENT]


async def test_a_post_whose_worker_keeps_dying_is_given_up(db, clock, workers):
    """Guards README "Delivery guarantee": "A post [...] whose sends kept ending with the worker
    gone, is given up after 5 tries, and its lane moves on". Proved: with ``MAX_FAULTS`` at 6 in
    bot/courier.py, or ``start`` in storage/outbox.py not counting a send whose outcome is
    unknown as a fault, this test fails."""
    a = workers[0]
    await a.runtime.post(C1, [Post("kills the worker"), Post("after")])
    for _ in range(README_TRIES):  # each time: claimed, started, and the process dies mid-send
        async with a.db.transaction() as session:
            (hold,) = await store.claim_lanes(session, ["slack"], clock(), LEASE, "doomed", 1)
        async with a.db.transaction() as session:
            assert await store.start(session, hold, clock(), LEASE) is not None
        clock.advance(minutes=3)
    await a.runtime.drain()
    assert a.sender.sent_texts() == ["after"]
    async with db.transaction() as session:
        kept = (await session.scalars(select(UndeliveredPost))).one()
    assert kept.reason == "failed 5 times without an answer"


# -- 6. a private post never waits behind another channel -----------------------------------------


async def test_a_private_receipt_goes_out_while_another_channel_is_stuck_in_a_slow_send(db, clock, workers):
    """Guards README "Delivery guarantee": "a member's private receipt never waits behind another
    channel's backlog" (its first post held in a slow send). Proved: with ``MAX_LANES`` at 1 in
    bot/courier.py, this test fails."""
    a = workers[0]
    entered, release = a.sender.hold("C1 post 0")
    await a.runtime.post(C1, [Post(f"C1 post {n}") for n in range(12)])
    worker = asyncio.create_task(a.courier.run())
    try:
        await asyncio.wait_for(entered.wait(), 10)
        await a.runtime.post(C2, [Post("kept ✓", private_to="U7", receipt=True)])
        await a.sender.wait_until(lambda: "kept ✓" in a.sender.sent_texts())
        assert a.sender.sent_texts("C1") == []  # C1's first post is still on its way
        release.set()
        await a.sender.wait_until(lambda: len(a.sender.sent_texts("C1")) == 12)
    finally:
        a.courier.stop()
        await worker


async def test_a_receipt_overtakes_a_channel_backlog_sent_at_its_pace(sqlite_db, clock):
    a = Worker(sqlite_db.url, clock, Pace(limits=((1, 0.2),)))  # five posts a second per channel
    try:
        await a.runtime.post(C1, [Post(f"C1 post {n}") for n in range(50)])
        worker = asyncio.create_task(a.courier.run())
        try:
            await a.sender.wait_until(lambda: len(a.sender.sent_texts("C1")) >= 1)
            await a.runtime.post(C2, [Post("kept ✓", private_to="U7", receipt=True)])
            await a.sender.wait_until(lambda: "kept ✓" in a.sender.sent_texts())
            assert len(a.sender.sent_texts("C1")) <= 6  # well inside a second of C1's pace
        finally:
            a.courier.stop()
            await worker
    finally:
        await a.close()


async def test_each_members_private_posts_are_a_lane_of_their_own(db, clock, workers):
    """Guards README "Delivery guarantee": "Each channel's posts form a lane, and so do each
    member's private posts in a channel". Proved: with ``enqueue`` in storage/outbox.py putting
    every post of a channel in one lane (reader ""), this test fails."""
    a = workers[0]
    a.sender.raises["for Ann"] = [DeliveryError("ratelimited", retry_after=30)]
    await a.runtime.post(C1, [Post("for Ann", private_to="U-ann"), Post("for Ann again", private_to="U-ann")])
    await a.runtime.post(C1, [Post("for Ben", private_to="U-ben"), Post("channel post")])
    await a.runtime.drain()
    assert set(a.sender.sent_texts()) == {"for Ben", "channel post"}  # Ann's lane waits, alone
    clock.advance(minutes=1)
    await a.runtime.drain()
    assert [t for t in a.sender.sent_texts() if "Ann" in t] == ["for Ann", "for Ann again"]
    async with db.transaction() as session:
        lanes = (await session.scalars(select(OutboxLane.reader).order_by(OutboxLane.reader))).all()
    assert lanes == ["", "U-ann", "U-ben"]


# -- 9. what is kept, and for how long ----------------------------------------------------------


async def test_housekeeping_purges_what_can_no_longer_prevent_a_duplicate(db, clock, workers):
    a = workers[0]
    a.sender.raises["refused"] = [DeliveryError("channel_not_found", permanent=True)]
    await a.runtime.post(C1, [Post("old and sent"), Post("refused", private_to="U-ann")])
    await a.runtime.drain()
    async with db.transaction() as session:
        await store_delivery.claim_event(session, "slack", "Ev-old", clock())
    clock.advance(days=2)
    await a.runtime.post(C1, [Post("recent")])
    async with db.transaction() as session:
        await store_delivery.claim_event(session, "slack", "Ev-recent", clock())
    counts = await a.runtime.housekeeping()
    assert (counts["processed events"], counts["outbox posts"], counts["undelivered bodies"]) == (0, 1, 0)
    assert await statuses(db) == [OutboxStatus.UNDELIVERABLE, OutboxStatus.PENDING]  # the sent one went
    clock.advance(days=6)  # Ev-old is 8 days old: no platform resends it now
    counts = await a.runtime.housekeeping()
    assert counts["processed events"] == 1
    async with db.transaction() as session:
        assert await store_delivery.claim_event(session, "slack", "Ev-recent", clock()) is False  # still a duplicate
    clock.advance(days=23)  # the refused post is 31 days old: its text goes, then its row
    counts = await a.runtime.housekeeping()
    assert counts["undelivered bodies"] == 1 and counts["outbox posts"] == 1
    async with db.transaction() as session:
        kept = (await session.scalars(select(UndeliveredPost))).one()
    assert kept.body is None and kept.reason == "channel_not_found"


async def test_forget_me_deletes_a_members_undelivered_posts_and_clears_their_channels(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben")
    room.sender.raises["only Ben sees this"] = [DeliveryError("user_not_found", permanent=True)]
    room.sender.raises["the channel sees this"] = [DeliveryError("not_in_channel", permanent=True)]
    await room.runtime.post(room.place, [Post("only Ben sees this", private_to=uid("Ben"))])
    await room.runtime.post(room.place, [Post("the channel sees this")])
    await room.runtime.drain()
    assert len(await room.runtime.deliveries.undelivered()) == 2
    await room.cmd("Ben", "forget-me confirm")
    (left,) = await room.runtime.deliveries.undelivered()
    assert left.reader is None and left.body is None and left.reason == "not_in_channel"
    assert "undelivered posts: 1" in room.said_to("Ben")


# -- 10. nothing in memory grows with every channel ---------------------------------------------


async def test_nothing_is_kept_per_channel_once_its_events_are_handled(db, clock):
    room = Room(db, clock)
    await room.setup("Ann")
    for n in range(30):
        place = Place("slack", f"C-extra-{n}")
        await room.runtime.dispatch(CommandEvent(Actor(uid("Ann"), "Ann"), place, "help"))
    assert len(room.runtime._groups) == 0
    await asyncio.gather(*(room.runtime.dispatch(CommandEvent(Actor(uid("Ann"), "Ann"), C2, "help")) for _ in range(5)))
    assert len(room.runtime._groups) == 0


# -- 11. a post being added and a worker starting its lane at the same instant --------------------


async def test_a_post_added_while_a_worker_starts_its_lane_is_no_deadlock(postgres_db, clock):
    # A group of events updates a waiting post of the lane (the welcome of the day, say), then
    # adds a post to the same lane; meanwhile a worker fences the lane and waits for that post.
    # The fence is FOR NO KEY UPDATE, which the adding side's FOR KEY SHARE does not wait for:
    # with FOR UPDATE this interleaving was a deadlock, and PostgreSQL undid one of the two.
    a, b = Worker(postgres_db.url, clock), Worker(postgres_db.url, clock)
    try:
        await a.runtime.post(C1, [Post("Welcome, Ann!", key="welcome", replace=True)])
        async with a.db.transaction() as session:
            (hold,) = await store.claim_lanes(session, ["slack"], clock(), LEASE, "worker", 10)
        async with a.db.transaction() as adding:
            await store.enqueue(adding, C1, [Post("Welcome, Ann and Ben!", key="welcome", replace=True)], clock())

            async def start() -> OutboxPost | None:
                async with b.db.transaction() as starting:
                    return await store.start(starting, hold, clock(), LEASE)

            worker = asyncio.create_task(start())
            await _until_waiting_for_a_lock(a.db)
            assert not worker.done()  # the worker waits for the updated post …
            lane = await asyncio.wait_for(store.lane_of(adding, "slack", "C1", ""), 10)  # … and this does not
            assert lane == hold.lane_id
            await store.enqueue(adding, C1, [Post("Another post")], clock())
        started = await asyncio.wait_for(worker, 10)
        assert started is not None and "Ann and Ben" in started.content  # the latest update goes out
    finally:
        await a.close()
        await b.close()


async def _until_waiting_for_a_lock(db: Database) -> None:
    for _ in range(500):
        async with db.reading() as session:
            waiting = await session.scalar(
                select(func.count())
                .select_from(text("pg_stat_activity"))
                .where(text("wait_event_type = 'Lock' AND datname = current_database()"))
            )
        if waiting:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("nobody waited for a lock")


async def test_a_sends_outcome_is_recorded_again_after_a_deadlock(db, clock, workers, monkeypatch):
    """Guards README "Delivery guarantee": "each post goes out once": a deadlock while recording a
    send is not a reason to send it again. Proved: with ``RECORD_ATTEMPTS`` at 1 in
    bot/courier.py, this test fails."""
    a = workers[0]
    real_sent = store.sent
    deadlocks = [DBAPIError("UPDATE", {}, _Deadlock())]

    async def sent_once_undone(*args, **kwargs):  # type: ignore[no-untyped-def]
        if deadlocks:
            raise deadlocks.pop()
        return await real_sent(*args, **kwargs)

    monkeypatch.setattr(store, "sent", sent_once_undone)
    await a.runtime.post(C1, [Post("post 1"), Post("post 2")])
    await a.runtime.drain()
    assert a.sender.sent_texts() == ["post 1", "post 2"]  # each once: post 1 is not sent again
    assert await statuses(a.db) == [OutboxStatus.SENT] * 2
    assert not deadlocks


class _Deadlock(Exception):
    sqlstate = "40P01"  # what PostgreSQL says when it undid this transaction to end a deadlock


# -- 12. the rest of README "Delivery guarantee", one promise a test ------------------------------


async def test_a_worker_delivers_up_to_16_lanes_at_once(db, clock, workers):
    """Guards README "Delivery guarantee": "`bot/courier.py` is the worker: up to 16 lanes at
    once". Twenty channels, each with a post held in its send: sixteen are in their sends
    together, the worker claims no more until one is done, and then every post goes out.
    Proved: with ``MAX_LANES`` at 1 or at 17 in bot/courier.py, this test fails."""
    a = workers[0]
    places = [Place("slack", f"C{n:02d}") for n in range(20)]
    held = {place.channel_id: a.sender.hold(f"{place.channel_id} post") for place in places}
    for place in places:
        await a.runtime.post(place, [Post(f"{place.channel_id} post")])
    assert await a.courier.deliver_due() == 16
    first = [held[place.channel_id] for place in places[:16]]  # the oldest heads are claimed first
    await asyncio.wait_for(asyncio.gather(*(entered.wait() for entered, _ in first)), 10)  # all at once
    assert len(a.courier.held()) == 16
    assert await a.courier.deliver_due() == 0  # no place left for the other four
    for _, release in held.values():
        release.set()
    await a.runtime.drain()
    assert sorted(a.sender.sent_texts()) == sorted(f"{place.channel_id} post" for place in places)


async def test_a_post_failing_with_a_5xx_holds_back_its_lane_and_only_its_lane(db, clock):
    """Guards README "Delivery guarantee": "A post told to wait (Retry-After, a 5xx) holds back
    the posts behind it in its lane, and only those" (a 5xx, after the send's own retries).
    While it waits, posts written later to another channel and to a member privately in the
    same channel go out; the channel's own posts wait, then go in order. Proved: with
    storage/outbox.py starting a lane's first due post instead of its head, or ``claim_lanes``
    taking no lane while any post waits, or every post of a channel in one lane, this test
    fails."""
    a = Worker(db.url, clock, Pace(limits=(), attempts=1))  # one try per send: the 5xx goes to the worker
    try:
        a.sender.raises["post 1"] = [DeliveryError("slack: HTTP 503 service_unavailable")]
        await a.runtime.post(C1, [Post("post 1"), Post("post 2")])
        await a.runtime.drain()
        assert a.sender.sent_texts() == [] and a.sender.tries["post 1"] == 1
        await a.runtime.post(C1, [Post("post 3"), Post("for Ann", private_to="U-ann")])
        await a.runtime.post(C2, [Post("elsewhere")])
        await a.runtime.drain()
        assert sorted(a.sender.sent_texts()) == ["elsewhere", "for Ann"]  # C1's channel lane waits
        clock.advance(minutes=1)
        await a.runtime.drain()
        assert [t for t in a.sender.sent_texts("C1") if t.startswith("post")] == ["post 1", "post 2", "post 3"]
    finally:
        await a.close()


async def test_a_post_refused_for_good_or_not_taken_for_24_hours_is_undeliverable(db, clock):
    """Guards README "Delivery guarantee": "A post refused for good, or not taken for 24 hours,
    is recorded as undeliverable" (and its lane moves on). A 5xx every time: still waiting at
    23 h 59 min, undeliverable after 24 h; a refusal for good: at its first try. Proved: with
    ``GIVE_UP_AFTER`` at 48 hours in bot/courier.py, or `DeliveryError.permanent` ignored in
    ``Courier._failed``, this test fails."""
    a = Worker(db.url, clock, Pace(limits=(), attempts=1))
    try:
        a.sender.raises["stubborn"] = [DeliveryError("slack: HTTP 500 internal_error")] * 100
        a.sender.raises["refused"] = [DeliveryError("slack: channel_not_found", permanent=True)]
        await a.runtime.post(C1, [Post("stubborn"), Post("after stubborn")])
        await a.runtime.post(C2, [Post("refused"), Post("after refused")])
        await a.runtime.drain()
        assert a.sender.sent_texts() == ["after refused"] and a.sender.tries["refused"] == 1
        for _ in range(23):  # a day of 5xx, the worker trying again each hour
            clock.advance(hours=1)
            await a.runtime.drain()
        clock.advance(minutes=59)
        await a.runtime.drain()
        assert a.sender.sent_texts("C1") == []  # 23 h 59 min: still waiting, not given up
        tries = a.sender.tries["stubborn"]
        clock.advance(minutes=6)  # past 24 h, and its next try (at most 5 min after the last) is due
        await a.runtime.drain()
        assert a.sender.tries["stubborn"] == tries + 1  # tried once more, then given up
        assert a.sender.sent_texts("C1") == ["after stubborn"]  # the lane moves on
        async with db.transaction() as session:
            kept = list(await session.execute(select(UndeliveredPost.channel_id, UndeliveredPost.reason)))
        assert sorted(tuple(row) for row in kept) == [
            ("C1", "slack: HTTP 500 internal_error"),
            ("C2", "slack: channel_not_found"),
        ]
        assert (await statuses(db)).count(OutboxStatus.UNDELIVERABLE) == 2
    finally:
        await a.close()


async def test_only_the_post_whose_sending_was_not_recorded_may_go_twice(db, clock, workers, monkeypatch):
    """Guards README "Delivery guarantee": "What may still go twice: a post the platform took just
    before [...] the database failed [...], before the worker could record it as sent" — and
    nothing else: the database stops answering just after the platform took post 2; once a
    lease later it answers again, post 2 goes again (the platform may have it twice) and every
    other post exactly once, in order. Proved: with a post whose outcome is unknown given up
    instead of sent again (``row.faults >= 1`` in ``Courier._deliver``), or ``claim_lanes``
    ignoring the lease, or ``start`` taking the lane's newest post first, this test fails."""
    a = workers[0]
    real_sent = store.sent
    down = [False]

    async def sent(session: Any, hold: store.Hold, post_id: int, ref: str | None, now: datetime) -> None:
        if down[0] or ref == "m2":  # the platform took post 2 (its id m2): the database is gone
            down[0] = True
            raise OperationalError("UPDATE", {}, ConnectionResetError("the database stopped answering"))
        return await real_sent(session, hold, post_id, ref, now)

    monkeypatch.setattr(store, "sent", sent)
    await a.runtime.post(C1, [Post(f"post {n}") for n in range(1, 5)])
    await a.runtime.drain()  # post 1 recorded; post 2 taken, not recorded; the lane's task ends
    assert a.sender.sent_texts() == ["post 1", "post 2"]
    down[0] = False
    await a.runtime.drain()
    assert a.sender.sent_texts() == ["post 1", "post 2"]  # its lease still holds the lane
    clock.advance(minutes=3)
    await a.runtime.drain()
    assert a.sender.sent_texts() == ["post 1", "post 2", "post 2", "post 3", "post 4"]
    assert await statuses(db) == [OutboxStatus.SENT] * 4
