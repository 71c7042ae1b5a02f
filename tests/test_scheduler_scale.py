"""The scheduler at scale (SQLite and PostgreSQL), with the clock moved by hand: a tick with
nothing due costs the same few SQL statements for 30 communities or 300; `next_due_at` is
stored after each look and set to "look now" by every change to a community's rhythm; one
community that raises is logged by kind and place, put off a few minutes, and the others post;
`Scheduler.stale` says when the announcements job has not finished a run in time."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

from alembic import command
from sqlalchemy import func, select, update

from bench.scheduler_tick import StatementCount, populate
from bot.shell.runtime import ANNOUNCE_RETRY
from bot.shell.scheduling import STALE_AFTER_SECONDS, Scheduler
from bot.vocabulary.conversation import Place
from bot.vocabulary.moments import stored_utc
from storage.db import alembic_config
from storage.due import LOOK_NOW
from storage.models import Announcement, Community, MeetingSchedule
from tests.support.room import Room

CALL_DUE = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # the call for 3rd Wednesday of Dec (16th), 10:30 Dublin
RULE = "schedule quarterly 3rd Wednesday of Mar Jun Sep Dec 10:30"


async def _next_due(db) -> list[datetime | None]:  # noqa: ANN001
    async with db.transaction() as session:
        found = await session.scalars(select(MeetingSchedule.next_due_at).order_by(MeetingSchedule.id))
        return [stored_utc(moment) if moment else None for moment in found]


async def test_a_tick_with_nothing_due_costs_the_same_few_statements_for_30_or_300_communities(db, clock):
    room = Room(db, clock)
    await populate(db, 30, clock())
    counter = StatementCount(db)
    assert await room.runtime.announce_due() == 0  # the first look at each (as after the migration)
    assert set(await _next_due(db)) == {CALL_DUE}  # each knows its next moment: the call for 16 Dec
    per_tick = []
    for more in (0, 270):
        await populate(db, more, clock(), next_due_at=CALL_DUE, first=30)
        before = counter.count
        assert await room.runtime.announce_due() == 0
        per_tick.append(counter.count - before)
    assert per_tick[0] == per_tick[1] <= 2  # one indexed query (and SQLite's BEGIN)


async def test_due_communities_are_found_and_each_posts_once_in_batches(db, clock):
    room = Room(db, clock)
    await populate(db, 120, clock())  # more than two batches of 50
    await room.runtime.announce_due()
    clock.now = CALL_DUE
    assert await room.runtime.announce_due() == 120
    assert await room.runtime.announce_due() == 0
    assert set(await _next_due(db)) == {datetime(2026, 12, 9, 9, 0, tzinfo=UTC)}  # the agenda's day


async def test_every_change_to_a_rhythm_marks_its_community_look_now(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
    await room.cmd("Ann", RULE)

    async def looked_at() -> None:
        await room.runtime.announce_due()
        assert (await _next_due(db))[0] not in (None, LOOK_NOW)

    for change in (
        lambda: room.cmd("Ann", "schedule move 2026-12-16 2026-12-17"),  # a schedule change, new
        lambda: room.cmd("Ann", "schedule move 2026-12-17 2026-12-18"),  # … and changed
        lambda: room.cmd("Ann", "schedule add 2027-01-15 14:00"),
        lambda: room.cmd("Ann", "schedule cancel 2027-01-15"),  # … and deleted
        lambda: room.cmd("Ann", "schedule off 2026-12-14"),  # a day off (a bulk insert)
        lambda: room.cmd("Ann", "schedule settings zone Europe/London"),  # the schedule's own fields
        lambda: room.cmd("Ann", "chairs set @Ann @Cara 6"),  # co-chair terms (a bulk update, new rows)
        lambda: room.runtime.removed("slack", "app_uninstalled", team_id="T1"),  # a channel deactivated
    ):
        await looked_at()
        await change()
        assert (await _next_due(db))[0] == LOOK_NOW, change
    await room.runtime.announce_due()
    assert (await _next_due(db))[0] is None  # copbot is in none of its channels: nothing to look at
    await room.cmd("Ann", "schedule")  # a word from the channel: copbot is back there
    assert (await _next_due(db))[0] == LOOK_NOW
    await looked_at()
    await room.cmd("Ben", "join")  # not a rhythm change: stays as it is
    await room.cmd("Ann", "agenda add Peer supervision")
    assert (await _next_due(db))[0] not in (None, LOOK_NOW)
    room.place = Place("slack", "C2", "T1")
    await room.cmd("Ann", "setup North West")  # another channel bound (a bulk insert)
    assert (await _next_due(db))[0] == LOOK_NOW


async def test_a_community_that_raises_is_logged_put_off_and_the_others_post(db, clock, caplog):
    room = Room(db, clock)
    for n in range(3):
        room.place = Place("slack", f"C{n}", "T1")
        await room.cmd("Ann", f"setup Region {n}")
        await room.cmd("Ann", RULE)
    async with db.transaction() as session:  # Region 1's schedule is broken (a bad row, a bug…)
        broken = await session.scalar(
            select(MeetingSchedule.id)
            .join(Community, Community.id == MeetingSchedule.community_id)
            .where(Community.name == "Region 1")
        )
        await session.execute(update(MeetingSchedule).where(MeetingSchedule.id == broken).values(zone="Mars/Olympus"))
    clock.now = CALL_DUE
    with caplog.at_level(logging.ERROR, logger="bot.shell.runtime"):
        assert await room.runtime.announce_due() == 2
    await room.runtime.drain()
    calls = {post.place.channel_id for post in room.sender.log if "Our next meeting is on" in post.post.plain_text()}
    assert calls == {"C0", "C2"}
    (record,) = [r for r in caplog.records if "failed" in r.getMessage()]
    assert record.getMessage().startswith(
        f"announcements of schedule {broken} failed: UsageError at meeting_calendar.py:"
    )
    assert "Mars" not in record.getMessage()  # its kind and place, never what was written
    async with db.transaction() as session:
        put_off = await session.scalar(select(MeetingSchedule.next_due_at).where(MeetingSchedule.id == broken))
        claims = await session.scalar(select(func.count()).select_from(Announcement))
    assert stored_utc(put_off) == CALL_DUE + ANNOUNCE_RETRY and claims == 2  # its claim was rolled back
    assert await room.runtime.announce_due() == 0  # not tried again every minute
    clock.now += ANNOUNCE_RETRY
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="bot.shell.runtime"):
        assert await room.runtime.announce_due() == 0
    assert len(caplog.records) == 1  # tried again, a few minutes on


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_the_scheduler_is_stale_when_the_announcements_job_has_not_finished_in_time():
    ticks = Monotonic()
    scheduler = Scheduler(monotonic=ticks)
    outcomes: list[Exception | None] = [None, RuntimeError("boom"), None]

    async def job() -> None:
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome

    scheduler.every(60, job, "announcements")
    tick = scheduler.scheduler.get_job("announcements").func
    assert scheduler.stale() is None  # just added: its first run is under way
    ticks.now += STALE_AFTER_SECONDS + 1
    assert "announcements" in (scheduler.stale() or "")
    await tick()
    assert scheduler.stale() is None
    ticks.now += STALE_AFTER_SECONDS - 1
    await tick()  # a failure logged is a run finished
    ticks.now += STALE_AFTER_SECONDS - 1
    assert scheduler.stale() is None
    ticks.now += 2
    assert scheduler.stale() == f"announcements: no run finished in {STALE_AFTER_SECONDS:.0f} s"
    assert scheduler.stale(now=ticks.now - 10) is None  # an explicit moment


async def test_the_migration_marks_every_schedule_look_now_and_keys_old_claims_on_their_meeting(sqlite_db):
    db = sqlite_db
    async with db.engine.begin() as conn:
        await conn.run_sync(lambda sync: command.downgrade(alembic_config(sync), "0009"))
        await conn.exec_driver_sql(
            "INSERT INTO communities (id, name, vote_budget, created_at) VALUES (1, 'A', 3, '2026-11-01')"
        )
        await conn.exec_driver_sql(
            "INSERT INTO meeting_schedules (community_id, rule, at, zone, country, agenda_days, call_days, updated_at) "
            "VALUES (1, NULL, '10:30', 'Europe/Dublin', 'IE', 5, 10, '2026-11-01')"
        )
        await conn.exec_driver_sql(  # the 16 Dec meeting moved to the 17th after its call went out
            'INSERT INTO schedule_changes (community_id, kind, "on", starts_at, created_at) '
            "VALUES (1, 'moved', '2026-12-16', '2026-12-17 10:30:00.000000', '2026-12-03')"
        )
        await conn.exec_driver_sql(
            "INSERT INTO announcements (community_id, kind, due_for, skipped, created_at) VALUES "
            "(1, 'call', '2026-12-16 10:30:00.000000', 0, '2026-12-02'), "  # for the meeting as planned
            "(1, 'call', '2026-12-17 10:30:00.000000', 0, '2026-12-03'), "  # made again after the move
            "(1, 'agenda', '2027-06-16 09:30:00.000000', 0, '2027-06-09')"  # summer: 10:30 in Dublin
        )
        await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), "head"))
    async with db.transaction() as session:
        assert await session.scalar(select(MeetingSchedule.next_due_at)) is not None
        assert stored_utc(await session.scalar(select(MeetingSchedule.next_due_at))) == LOOK_NOW
        claims = {
            (kind, day) for kind, day in await session.execute(select(Announcement.kind, Announcement.occurrence))
        }
    assert claims == {("call", date(2026, 12, 16)), ("agenda", date(2027, 6, 16))}
