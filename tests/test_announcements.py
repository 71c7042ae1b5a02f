"""What copbot posts by itself, with the clock moved on by hand (no sleeping): the call for
items, the agenda, the reminders and the next steps, each once, on the right working days and
local times; late ones within their window, missed ones skipped; two workers post each once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time

import pytest
from sqlalchemy import func, select

from flows import meeting_calendar as calendar
from flows.announcements import KINDS
from flows.schedule import Planned
from storage.models import Announcement, MeetingSchedule, OutboxPost
from tests.support.room import Room
from tests.support.room import workers as two_workers

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
    assert "The meeting has moved" in posted[0] and "later than planned" not in posted[0]
    eve = await room.at(datetime(2026, 12, 16, 10, 30, tzinfo=UTC))
    assert len(eve) == 1 and "we meet tomorrow, Thursday 17 December 2026" in eve[0]
    assert "has moved" not in eve[0]  # the first reminder for this meeting
    async with db.transaction() as session:  # one claim per kind for the meeting, moved or not
        assert await session.scalar(select(func.count()).select_from(Announcement)) == 3


async def test_a_meeting_moved_to_another_time_gets_what_named_the_time_again_saying_so(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", RULE)
    for moment in (datetime(2026, 12, 2, 9, 0, tzinfo=UTC), datetime(2026, 12, 9, 9, 0, tzinfo=UTC)):
        assert len(await room.at(moment)) == 1  # the call, the agenda
    assert len(await room.at(datetime(2026, 12, 15, 10, 30, tzinfo=UTC))) == 1  # the eve, for 10:30
    clock.now = datetime(2026, 12, 15, 11, 0, tzinfo=UTC)
    await room.cmd("Ann", "schedule move 2026-12-16 2026-12-16 14:00")
    again = await room.at(datetime(2026, 12, 15, 11, 1, tzinfo=UTC))
    assert len(again) == 1 and "Agenda — North West, Wednesday 16 December 2026 at 14:00" in again[0]
    assert "The meeting has moved" in again[0]  # the call's window has passed: not again
    assert await room.at(datetime(2026, 12, 15, 13, 59, tzinfo=UTC)) == []
    eve = await room.at(datetime(2026, 12, 15, 14, 0, tzinfo=UTC))  # the day before, at the new time
    assert len(eve) == 1 and "we meet tomorrow, Wednesday 16 December 2026 at 14:00" in eve[0]
    assert "The meeting has moved" in eve[0]
    soon = await room.at(datetime(2026, 12, 16, 13, 45, tzinfo=UTC))
    assert len(soon) == 1 and "We start in 15 minutes (14:00)." in soon[0] and "moved" not in soon[0]
    assert len(await room.at(datetime(2026, 12, 16, 16, 0, tzinfo=UTC))) == 1  # next steps, once
    assert await room.at(datetime(2026, 12, 17, 9, 0, tzinfo=UTC)) == []
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Announcement)) == 5


async def test_a_meeting_moved_and_moved_back_is_not_announced_again(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", RULE)
    assert len(await room.at(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))) == 1  # the call
    await room.cmd("Ann", "schedule move 2026-12-16 2026-12-17")
    await room.cmd("Ann", "schedule move 2026-12-17 2026-12-16")
    assert await room.at(datetime(2026, 12, 3, 9, 0, tzinfo=UTC)) == []  # nothing it said changed
    agenda = await room.at(datetime(2026, 12, 9, 9, 0, tzinfo=UTC))
    assert len(agenda) == 1 and "Wednesday 16 December 2026 at 10:30" in agenda[0] and "moved" not in agenda[0]


async def test_an_extra_meeting_moved_keeps_what_was_announced_for_it(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "schedule add 2027-01-15 14:00")
    call = await room.at(datetime(2027, 1, 4, 12, 0, tzinfo=UTC))  # late: due 31 Dec (1 Jan is a holiday)
    assert len(call) == 1 and "Friday 15 January 2027 at 14:00" in call[0]
    await room.cmd("Ann", "schedule move 2027-01-15 2027-01-22")
    assert await room.at(datetime(2027, 1, 4, 12, 1, tzinfo=UTC)) == []  # its new call is due on 8 Jan
    again = await room.at(datetime(2027, 1, 8, 9, 0, tzinfo=UTC))
    assert len(again) == 1 and "Friday 22 January 2027 at 14:00" in again[0] and "The meeting has moved" in again[0]


@pytest.mark.parametrize(
    "meeting, eve",
    [  # Europe/Dublin: summer time from 01:00 UTC on 28 Mar 2027 to 01:00 UTC on 31 Oct 2027
        (datetime(2027, 3, 29, 9, 30, tzinfo=UTC), datetime(2027, 3, 28, 9, 30, tzinfo=UTC)),  # Mon after spring
        (datetime(2027, 3, 28, 9, 30, tzinfo=UTC), datetime(2027, 3, 27, 10, 30, tzinfo=UTC)),  # on the change day
        (datetime(2027, 11, 1, 10, 30, tzinfo=UTC), datetime(2027, 10, 31, 10, 30, tzinfo=UTC)),  # Mon after autumn
        (datetime(2027, 10, 31, 10, 30, tzinfo=UTC), datetime(2027, 10, 30, 9, 30, tzinfo=UTC)),  # on the change day
    ],
)
def test_the_eve_reminder_is_the_day_before_at_the_meetings_local_time_across_clock_changes(meeting, eve):
    schedule = MeetingSchedule(zone="Europe/Dublin", country="IE", agenda_days=5, call_days=10)
    day = calendar.local(meeting, "Europe/Dublin").date()
    (kind,) = [kind for kind in KINDS if kind.name == "eve"]
    due = kind.due(schedule, Planned(meeting, day), [])
    assert due == eve
    assert (
        calendar.local(due, "Europe/Dublin").time() == calendar.local(meeting, "Europe/Dublin").time() == time(10, 30)
    )


async def test_the_eve_of_a_meeting_on_the_day_the_clocks_go_forward_is_at_its_local_time(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "schedule add 2027-03-28 10:30")  # a Sunday: Irish summer time begins at 01:00 UTC
    await room.at(datetime(2027, 3, 26, 9, 0, tzinfo=UTC))  # its call and agenda, late
    assert not any("we meet tomorrow" in text for text in await room.at(datetime(2027, 3, 27, 9, 30, tzinfo=UTC)))
    eve = await room.at(datetime(2027, 3, 27, 10, 30, tzinfo=UTC))  # 10:30 in Dublin on Saturday
    assert len(eve) == 1 and "we meet tomorrow, Sunday 28 March 2027 at 10:30" in eve[0]


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
