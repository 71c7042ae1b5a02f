"""Sending one post (`bot.delivery.Outbox`): pace per channel, a short Retry-After slept, a few
transient retries, updates and thread replies found through the stored message ids; and a
burst of updates coalesced in the outbox before it is sent."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import select

from bot.delivery import Outbox, Pace
from bot.shell.runtime import Runtime
from bot.vocabulary.conversation import Place, Post, post_from_json
from bot.vocabulary.errors import DeliveryError
from storage.delivery import DeliveryLog
from storage.models import OutboxPost
from storage.states import OutboxStatus
from tests.fakes.recording_sender import RecordingSender

PLACE = Place("slack", "C1")


async def test_retry_after_is_honoured_then_delivered(sqlite_db, clock):
    sender, waits = RecordingSender(), []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    outbox = Outbox(sender, DeliveryLog(sqlite_db, clock), Pace(limits=()), sleep=sleep)
    sender.failures = [DeliveryError("ratelimited", retry_after=7), DeliveryError("HTTP 503")]
    assert await outbox.send_now(PLACE, Post("hello", key="k1")) == "m1"
    assert [s.post.text for s in sender.log] == ["hello"]
    assert waits[0] == 7 and len(waits) == 2
    assert await outbox.refs.ref_for(PLACE, "k1") == "m1"


async def test_a_long_retry_after_is_not_slept_but_raised_for_the_worker(sqlite_db, clock):
    sender, waits = RecordingSender(), []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    outbox = Outbox(sender, DeliveryLog(sqlite_db, clock), Pace(limits=(), max_retry_after=10), sleep=sleep)
    sender.failures = [DeliveryError("ratelimited", retry_after=30)]
    with pytest.raises(DeliveryError) as raised:
        await outbox.send_now(PLACE, Post("hello"))
    assert raised.value.retry_after == 30 and waits == [] and sender.log == []


async def test_a_retry_after_of_up_to_10_s_is_slept_and_a_longer_one_is_the_workers(sqlite_db, clock):
    """Guards README "Delivery guarantee": "`bot/delivery.py` sends one post. It [...] sleeps a
    Retry-After of up to 10 s; a longer one is the worker's to wait" — with the pace every
    platform gets by default. Proved: with ``Pace.max_retry_after`` at 5 or at 30 in
    bot/delivery.py, this test fails."""
    sender, waits = RecordingSender(), []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    outbox = Outbox(sender, DeliveryLog(sqlite_db, clock), Pace(limits=()), sleep=sleep)
    sender.failures = [DeliveryError("ratelimited", retry_after=10)]
    assert await outbox.send_now(PLACE, Post("ten seconds")) == "m1"
    assert waits == [10]  # slept here, then sent
    sender.failures = [DeliveryError("ratelimited", retry_after=10.5)]
    with pytest.raises(DeliveryError) as raised:
        await outbox.send_now(PLACE, Post("longer"))
    assert raised.value.retry_after == 10.5 and waits == [10]  # not slept: raised for the worker
    assert sender.sent_texts() == ["ten seconds"]


async def test_exhausted_retries_raise_and_a_permanent_failure_is_not_retried(sqlite_db, clock):
    sender = RecordingSender()

    async def sleep(_: float) -> None:
        return None

    outbox = Outbox(sender, DeliveryLog(sqlite_db, clock), Pace(limits=(), attempts=3), sleep=sleep)
    sender.failures = [DeliveryError("HTTP 502")] * 3 + [DeliveryError("channel_not_found", permanent=True)]
    with pytest.raises(DeliveryError, match="HTTP 502"):
        await outbox.send_now(PLACE, Post("x", key="k3"))
    with pytest.raises(DeliveryError, match="channel_not_found"):
        await outbox.send_now(PLACE, Post("y"))
    assert sender.failures == [] and sender.log == []


async def test_a_burst_of_updates_is_coalesced_in_the_outbox(db, clock):
    """Guards README "Delivery guarantee": "A burst of updates to one post is coalesced into one
    row" (the outbox rows are counted before anything is sent) and "A sent row keeps the message
    id, not the text". Proved: with ``_coalesced`` in storage/outbox.py answering False, or the
    content kept when a row is marked sent, or no message id recorded, this test fails."""
    runtime = Runtime(db, clock)
    sender = RecordingSender()
    runtime.connect("slack", sender, Pace(limits=()))
    await runtime.post(PLACE, [Post("tally 0", key="tally")])
    for n in range(1, 51):
        await runtime.post(PLACE, [Post(f"tally {n}", key="tally", replace=True)])
    async with db.transaction() as session:
        rows = list(await session.scalars(select(OutboxPost).order_by(OutboxPost.id)))
    assert len(rows) == 2  # the post, and one row for all fifty updates…
    assert [post_from_json(row.content).text for row in rows] == ["tally 0", "tally 50"]  # …with the latest
    await runtime.drain()
    updates = [s for s in sender.log if s.update]
    assert len(updates) == 1 and updates[-1].post.text == "tally 50"  # one row, the latest content
    [posted] = [s for s in sender.log if not s.update]
    assert posted.ref is not None  # the platform's id for the message
    async with db.transaction() as session:
        sent = list(await session.execute(select(OutboxPost.status, OutboxPost.message_ref, OutboxPost.content)))
    assert [tuple(row) for row in sent] == [(OutboxStatus.SENT, posted.ref, None)] * 2  # the id, not the text


async def test_pace_per_channel(sqlite_db, clock):
    """Guards README "Delivery guarantee": "It keeps each channel's pace". Proved: with
    ``Outbox._keep_pace`` in bot/delivery.py returning at once, this test fails."""
    sender = RecordingSender()
    outbox = Outbox(sender, DeliveryLog(sqlite_db, clock), Pace(limits=((1, 0.2),)))
    started = time.monotonic()
    for text in "abc":
        await outbox.send_now(PLACE, Post(text))
    assert time.monotonic() - started >= 0.3  # three posts at one per 0.2 s


async def test_a_channel_waiting_for_its_pace_holds_back_no_other_channel(sqlite_db, clock):
    """Guards README "Delivery guarantee": "It keeps each channel's pace" — each channel its own.
    Proved: with one limiter for every channel in ``Outbox._keep_pace``, this test fails."""
    sender = RecordingSender()
    outbox = Outbox(sender, DeliveryLog(sqlite_db, clock), Pace(limits=((1, 60.0),)))
    await outbox.send_now(PLACE, Post("first"))
    waiting = asyncio.create_task(outbox.send_now(PLACE, Post("a minute later")))
    await asyncio.wait_for(outbox.send_now(Place("slack", "C2"), Post("elsewhere")), 10)  # its own pace
    assert not waiting.done()
    assert [s.post.text for s in sender.log] == ["first", "elsewhere"]
    waiting.cancel()


async def test_the_pace_of_only_the_most_recent_channels_is_remembered(sqlite_db, clock):
    outbox = Outbox(RecordingSender(), DeliveryLog(sqlite_db, clock), Pace(limits=((100, 1.0),)))
    outbox.LIMITERS_KEPT = 5
    for n in range(20):
        await outbox.send_now(Place("slack", f"C{n}"), Post("hello"))
    assert list(outbox._limiters) == [("slack", f"C{n}") for n in range(15, 20)]


async def test_update_of_an_unknown_key_is_posted_and_thread_posts_find_their_parent(sqlite_db, clock):
    sender = RecordingSender()
    outbox = Outbox(sender, DeliveryLog(sqlite_db, clock), Pace(limits=()))
    await outbox.send_now(PLACE, Post("first", key="p", replace=True))
    await outbox.send_now(PLACE, Post("in thread", in_thread_of="p"))
    await outbox.send_now(PLACE, Post("orphan", in_thread_of="nope"))
    await outbox.send_now(PLACE, Post("first, changed", key="p", replace=True))
    assert [s.ref for s in sender.log][-1] == "m1"  # the update went to the first post
    assert [(s.post.text, s.thread_ref, s.update) for s in sender.log] == [
        ("first", None, False),
        ("in thread", "m1", False),
        ("orphan", None, False),
        ("first, changed", None, True),
    ]


async def test_the_overall_pace_holds_across_channels_and_private_posts(sqlite_db, clock):
    sender = RecordingSender()
    outbox = Outbox(sender, DeliveryLog(sqlite_db, clock), Pace(limits=(), overall=((2, 0.2),)))
    started = time.monotonic()
    for n in range(5):
        await outbox.send_now(Place("slack", f"C{n}"), Post("hello", private_to="U1" if n % 2 else None))
    assert time.monotonic() - started >= 0.2  # five posts at two per 0.2 s, whatever the channel
