"""The outbox: pace per channel, 429 retry-after, transient retries, coalesced updates, and
undeliverable posts recorded instead of dropped."""

from __future__ import annotations

import asyncio
import time

from bot.delivery import Outbox, Pace
from bot.vocabulary.conversation import Place, Post
from bot.vocabulary.errors import DeliveryError
from storage.delivery import DeliveryLog
from tests.fakes.recording_sender import RecordingSender

PLACE = Place("slack", "C1")


class SlowSender(RecordingSender):
    """Takes a little time per call, like a real API."""

    async def update(self, place: Place, ref: str, post: Post) -> None:
        await asyncio.sleep(0.01)
        await super().update(place, ref, post)


async def test_retry_after_is_honoured_then_delivered(sqlite_db, clock):
    sender, waits = RecordingSender(), []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    outbox = Outbox(sender, DeliveryLog(sqlite_db, clock), Pace(limits=()), sleep=sleep)
    sender.failures = [DeliveryError("ratelimited", retry_after=7), DeliveryError("HTTP 503")]
    await outbox.deliver(PLACE, [Post("hello", key="k1")])
    assert [s.post.text for s in sender.log] == ["hello"]
    assert waits[0] == 7 and len(waits) == 2
    assert await outbox.refs.ref_for(PLACE, "k1") == "m1"


async def test_permanent_failure_is_recorded_not_dropped(sqlite_db, clock):
    sender = RecordingSender()
    log = DeliveryLog(sqlite_db, clock)
    outbox = Outbox(sender, log, Pace(limits=()))
    sender.failures = [DeliveryError("channel_not_found", permanent=True)]
    await outbox.deliver(PLACE, [Post("lost?", key="k2"), Post("next one")])
    undelivered = await log.undelivered()
    assert [(u.key, u.reason) for u in undelivered] == [("k2", "channel_not_found")]
    assert '"lost?"' in undelivered[0].body
    assert [s.post.text for s in sender.log] == ["next one"]  # the rest still goes out


async def test_exhausted_retries_are_recorded(sqlite_db, clock):
    sender = RecordingSender()
    log = DeliveryLog(sqlite_db, clock)

    async def sleep(_: float) -> None:
        return None

    outbox = Outbox(sender, log, Pace(limits=(), attempts=3), sleep=sleep)
    sender.failures = [DeliveryError("HTTP 502")] * 3
    await outbox.deliver(PLACE, [Post("x", key="k3")])
    assert [u.reason for u in await log.undelivered()] == ["HTTP 502"]


async def test_a_burst_of_updates_is_coalesced(sqlite_db, clock):
    sender = SlowSender()
    outbox = Outbox(sender, DeliveryLog(sqlite_db, clock), Pace(limits=()))
    await outbox.deliver(PLACE, [Post("tally 0", key="tally")])
    for n in range(1, 51):
        await outbox.deliver(PLACE, [Post(f"tally {n}", key="tally", replace=True)])
    await outbox.drain()
    updates = [s for s in sender.log if s.update]
    assert 1 <= len(updates) <= 5
    assert updates[-1].post.text == "tally 50"  # the latest content always wins


async def test_pace_per_channel(sqlite_db, clock):
    sender = RecordingSender()
    outbox = Outbox(sender, DeliveryLog(sqlite_db, clock), Pace(limits=((1, 0.2),)))
    started = time.monotonic()
    await outbox.deliver(PLACE, [Post("a"), Post("b"), Post("c")])
    assert time.monotonic() - started >= 0.3  # three posts at one per 0.2 s
    other = time.monotonic()
    await outbox.deliver(Place("slack", "C2"), [Post("elsewhere")])
    assert time.monotonic() - other < 0.15  # another channel has its own pace


async def test_update_of_an_unknown_key_is_posted_and_thread_posts_find_their_parent(sqlite_db, clock):
    sender = RecordingSender()
    outbox = Outbox(sender, DeliveryLog(sqlite_db, clock), Pace(limits=()))
    await outbox.deliver(PLACE, [Post("first", key="p", replace=True)])
    await outbox.drain()
    await outbox.deliver(PLACE, [Post("in thread", in_thread_of="p"), Post("orphan", in_thread_of="nope")])
    assert [(s.post.text, s.thread_ref, s.update) for s in sender.log] == [
        ("first", None, False),
        ("in thread", "m1", False),
        ("orphan", None, False),
    ]
