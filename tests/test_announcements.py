"""What copbot posts by itself, with the clock moved on by hand (no sleeping): the call for
items, the agenda, the reminders and the next steps, each once, on the right working days and
local times; late ones within their window, missed ones skipped; two workers post each once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import func, select

from storage.models import Announcement, OutboxPost
from tests.room import Room
from tests.room import workers as two_workers

RULE = "schedule quarterly 3rd Wednesday of Mar Jun Sep Dec 10:30"  # next: Wed 16 Dec 2026, 10:30 Dublin


async def test_each_announcement_once_on_its_working_day_and_local_time(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", RULE)
    await room.cmd("Ann", "schedule link https://meet.example.org/cop")
    assert await room.at(datetime(2026, 12, 2, 8, 59, tzinfo=UTC)) == []
    posted = await room.at(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))  # 10 working days before
    assert len(posted) == 1 and "Our next meeting is on Wednesday 16 December 2026 at 10:30" in posted[0]
    assert "by Wednesday 9 December" in posted[0]
    assert await room.at(datetime(2026, 12, 2, 9, 5, tzinfo=UTC)) == []  # once

    agenda = await room.at(datetime(2026, 12, 9, 9, 0, tzinfo=UTC))
    assert len(agenda) == 1 and "Agenda — North West" in agenda[0] and "Join: https://meet.example.org/cop" in agenda[0]
    assert "1. Introductions" in agenda[0] and "4. Our Terms of Reference" in agenda[0]  # the first meeting's
    eve = await room.at(datetime(2026, 12, 15, 10, 30, tzinfo=UTC))
    assert len(eve) == 1 and "we meet tomorrow" in eve[0] and "https://meet.example.org/cop" in eve[0]
    soon = await room.at(datetime(2026, 12, 16, 10, 15, tzinfo=UTC))
    assert len(soon) == 1 and "We start in 15 minutes (10:30)" in soon[0]
    steps = await room.at(datetime(2026, 12, 16, 12, 30, tzinfo=UTC))
    assert len(steps) == 1 and "Our next meeting: Wednesday 17 March 2027 at 10:30" in steps[0]
    assert await room.at(datetime(2026, 12, 20, 9, 0, tzinfo=UTC)) == []
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Announcement)) == 5


async def test_a_summer_meeting_keeps_its_local_time(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "schedule quarterly 3rd Wednesday of Jun 10:30")
    clock.now = datetime(2027, 6, 1, 9, 0, tzinfo=UTC)
    posted = await room.at(datetime(2027, 6, 16, 9, 15, tzinfo=UTC))  # 10:15 Irish summer time
    assert any("We start in 15 minutes (10:30)" in text for text in posted)


async def test_after_a_long_downtime_a_late_agenda_goes_out_once_and_a_missed_reminder_never(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", RULE)
    posted = await room.at(datetime(2026, 12, 10, 12, 0, tzinfo=UTC))  # copbot was down since 26 Nov
    assert len(posted) == 1 and "Agenda — North West" in posted[0] and "later than planned" in posted[0]
    # down again over the meeting: the 15-minute reminder is never sent after the start
    posted = await room.at(datetime(2026, 12, 16, 11, 0, tzinfo=UTC))
    assert posted == []
    async with db.transaction() as session:
        skipped = set(await session.scalars(select(Announcement.kind).where(Announcement.skipped.is_(True))))
    assert skipped == {"call", "eve", "soon"}


async def test_a_moved_meeting_is_announced_for_its_new_day_only(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", RULE)
    await room.at(datetime(2026, 12, 9, 9, 0, tzinfo=UTC))  # call and agenda out
    await room.cmd("Ann", "schedule move 2026-12-16 2026-12-17")
    posted = await room.at(datetime(2026, 12, 15, 10, 30, tzinfo=UTC))
    assert not any("we meet tomorrow" in text for text in posted)  # no reminder for the 16th
    assert len(posted) == 1 and "Agenda — North West, Thursday 17 December 2026" in posted[0]  # the new date
    eve = await room.at(datetime(2026, 12, 16, 10, 30, tzinfo=UTC))
    assert len(eve) == 1 and "we meet tomorrow, Thursday 17 December 2026" in eve[0]


async def test_the_standing_agenda_after_the_first_meeting(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "support")  # today (26 Nov) is a meeting: the next is not the first
    await room.cmd("Ann", "close support")
    await room.cmd("Ann", "vote open 1")
    await room.cmd("Ben", "vote 2")
    await room.cmd("Ann", "close vote")
    await room.cmd("Ann", RULE)
    agenda = [t for t in await room.at(datetime(2026, 12, 9, 9, 0, tzinfo=UTC)) if "Agenda" in t]
    assert "2. Reflective practice on the lead topic: Peer Work in the community" in agenda[0]
    assert "1. Welcome, and the support round" in agenda[0] and "Introductions" not in agenda[0]


async def test_two_workers_post_each_of_many_due_announcements_once(postgres_db, clock):
    room = Room(postgres_db, clock)
    for n in range(50):
        room.place = type(room.place)("slack", f"C{n}", "T1")
        await room.cmd("Ann", f"setup Region {n}")
        await room.cmd("Ann", RULE)
    clock.now = datetime(2026, 12, 9, 9, 0, tzinfo=UTC)  # the call (late) and the agenda of 50 communities
    workers = two_workers(postgres_db, clock)
    try:
        made = await asyncio.gather(*(w.announce_due() for w in workers for _ in range(3)))
    finally:
        for worker in workers:
            await worker.db.dispose()
    assert sum(made) == 100  # each community's (late) call for items and its agenda, once each
    async with postgres_db.transaction() as session:
        keys = list(await session.scalars(select(OutboxPost.key).where(OutboxPost.key.like("meeting:%"))))
    assert len(keys) == len(set(keys)) == 100


async def test_a_restart_between_claim_and_send_posts_each_once(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", RULE)
    clock.now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    assert await room.runtime.announce_due() == 1  # claimed and in the outbox; the process dies before sending
    restarted = Room(db, clock)  # a new process on the same database
    assert await restarted.runtime.announce_due() == 0  # not claimed again
    await restarted.runtime.drain()
    calls = [p.plain_text() for p in restarted.sender.public() if "Our next meeting is on" in p.plain_text()]
    assert len(calls) == 1
    await restarted.runtime.drain()
    await room.runtime.drain()  # the old worker, back: nothing left to send
    assert len([p for p in room.sender.public() if "Our next meeting is on" in p.plain_text()]) == 0
