"""The quarterly rhythm in chat (SQLite and PostgreSQL): the rule, extra, moved and cancelled
meetings, working days from the public holidays, DST, and bad input answered with nothing kept."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import func, select

from bot.vocabulary.errors import UsageError
from flows import meeting_calendar as calendar
from flows.schedule import upcoming
from storage import schedule as store
from storage.models import Announcement, Community, ScheduleChange
from tests.support.room import Room


def test_working_days_skip_weekends_and_irish_public_holidays():
    assert calendar.why_not_working(date(2027, 3, 17), "IE") == "Saint Patrick's Day"
    assert calendar.why_not_working(date(2027, 3, 29), "IE") == "Easter Monday"
    assert calendar.why_not_working(date(2027, 2, 1), "IE") == "Saint Brigid's Day"
    assert calendar.why_not_working(date(2027, 3, 20), "IE") == "a Saturday"
    # 3 working days before Fri 19 Mar 2027: Thu 18, (Wed 17 St Patrick's), Tue 16, Mon 15
    assert calendar.working_days_before(date(2027, 3, 19), 3, "IE") == date(2027, 3, 15)
    # 5 before Tue 30 Mar: Fri 26, Thu 25, Wed 24, Tue 23, Mon 22 (Easter Monday 29th skipped)
    assert calendar.working_days_before(date(2027, 3, 30), 5, "IE") == date(2027, 3, 22)
    # over Christmas: Mon 4 Jan 2027 ← Thu 31, Wed 30, Tue 29, Mon 28 Dec (25, 26 and the weekend off)
    assert calendar.working_days_before(date(2027, 1, 4), 4, "IE") == date(2026, 12, 28)
    assert calendar.next_working_day(date(2027, 3, 17), "IE") == date(2027, 3, 18)
    assert calendar.working_days_before(date(2027, 3, 19), 1, "IE", [date(2027, 3, 18)]) == date(2027, 3, 16)


def test_a_quarterly_rule_keeps_its_local_time_across_the_clock_changes():
    rule = calendar.parse_rule("2nd Tuesday of Feb May Aug Nov 10:30")
    assert rule.rrule == "FREQ=YEARLY;BYMONTH=2,5,8,11;BYDAY=+2TU"
    days = calendar.rule_days(rule.rrule, date(2026, 11, 26), 4)
    assert days == [date(2027, 2, 9), date(2027, 5, 11), date(2027, 8, 10), date(2027, 11, 9)]
    utc = [calendar.to_utc(day, rule.at, "Europe/Dublin") for day in days]
    assert [u.time() for u in utc] == [time(10, 30), time(9, 30), time(9, 30), time(10, 30)]  # winter, summer
    assert calendar.parse_rule("last Friday of march june september december 14:00").rrule.endswith("BYDAY=-1FR")


@pytest.mark.parametrize(
    "words",
    [
        "every so often",
        "2nd Tuesday of 10:30",
        "2nd Funday of Feb 10:30",
        "2nd Tuesday of Smarch 10:30",
        "2nd Tuesday of Feb 25:00",
        "2nd Tuesday of Feb 02:30",
    ],
)
def test_a_rule_that_cannot_be_read_gets_a_clear_answer(words):
    with pytest.raises(UsageError):
        calendar.parse_rule(words)


async def _changes(db) -> int:  # noqa: ANN001
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(ScheduleChange)))


async def test_co_chairs_set_add_move_and_cancel_and_anyone_sees_the_next_four(db, clock):
    room = Room(db, clock)  # the clock says 2026-11-26 10:00 UTC
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
    await room.cmd("Cara", "schedule")
    assert "No meetings are scheduled yet" in room.sender.public()[-1].plain_text()
    await room.cmd("Ann", "schedule quarterly 3rd Wednesday of Mar Jun Sep Dec 10:30")
    listing = room.sender.public()[-1].plain_text()
    assert "Wed 16 Dec 2026, 10:30 — call for items Wed 2 Dec, agenda Wed 9 Dec" in listing
    assert "Wed 17 Mar 2027, 10:30" in listing
    assert "2027-03-17 is Saint Patrick's Day" in listing and "schedule move 2027-03-17 2027-03-18" in listing

    await room.cmd("Ann", "schedule move 2027-03-17 2027-03-18")
    await room.cmd("Ben", "schedule add 2027-01-15 14:00")
    await room.cmd("Ben", "schedule cancel 2027-06-16")
    await room.cmd("Cara", "schedule")
    listing = room.sender.public()[-1].plain_text()
    assert "Thu 18 Mar 2027, 10:30" in listing and "Wed 17 Mar" not in listing.split("reminders Wed 17 Mar")[0]
    assert "Fri 15 Jan 2027, 14:00" in listing and "(an extra meeting)" in listing
    assert "Wed 16 Jun 2027" not in listing and "Wed 15 Sep 2027, 10:30" in listing
    assert "Saint Patrick's Day" not in listing

    async with db.transaction() as session:
        community = await session.scalar(select(Community))
        settings = await store.schedule_of(session, community.id, clock())
        coming = await upcoming(session, settings, clock())
    assert [m.starts_at for m in coming][:2] == [
        datetime(2026, 12, 16, 10, 30, tzinfo=UTC),
        datetime(2027, 1, 15, 14, 0, tzinfo=UTC),
    ]


@pytest.mark.parametrize(
    "who, command, answer",
    [
        ("Ann", "schedule add 2027-02-30 10:00", "There is no such day as 2027-02-30"),
        ("Ann", "schedule add 2026-11-01 10:00", "has already passed"),
        ("Ann", "schedule add 2027-03-19 2:30", "outside 02:00–03:00"),
        ("Ann", "schedule add sometime 10:30", "write it like 19/03/2027, 2027-03-19 or 19 March 2027"),
        ("Ann", "schedule quarterly whenever suits", "2nd Tuesday of Feb May Aug Nov 10:30"),
        ("Ann", "schedule move 2027-04-01 2027-04-02", "There is no meeting on 2027-04-01"),
        ("Ann", "schedule settings zone Mars/Olympus", "I don't know the time zone"),
        ("Ann", "schedule settings country XX", "public holidays"),
        ("Ann", "schedule settings agenda 9", "3 to 5 working days before a meeting, so 9 can't be used"),
        ("Ann", "schedule link http://insecure.example", "https://"),
        ("Cara", "schedule add 2027-03-19 10:30", "Only a co-chair can add a meeting"),
        ("Cara", "schedule quarterly 2nd Tuesday of Feb 10:30", "Only a co-chair can set the meeting schedule"),
    ],
)
async def test_bad_schedule_input_gets_a_clear_answer_and_nothing_is_kept(db, clock, who, command, answer):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
    await room.cmd(who, command)
    assert answer in room.said_to(who)
    assert await _changes(db) == 0
    async with db.transaction() as session:
        community = await session.scalar(select(Community))
        settings = await store.schedule_of(session, community.id, clock())
    assert (settings.rule, settings.zone, settings.country, settings.agenda_days, settings.join_link) == (
        None,
        "Europe/Dublin",
        "IE",
        5,
        None,
    )


async def test_purge_keeps_what_can_still_prevent_a_duplicate_and_agendas_for_two_years(db, clock):
    room = Room(db, clock)  # the clock says 2026-11-26 10:00 UTC
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))

    def at(day: date) -> datetime:
        return datetime.combine(day, time(10, 30), tzinfo=UTC)

    claims = [
        ("call", date(2026, 10, 1)),  # 56 days past: goes
        ("term-review", date(2026, 9, 1)),  # goes
        ("agenda", date(2026, 10, 1)),  # the record of when the agenda went out: kept 2 years
        ("agenda", date(2024, 10, 1)),  # more than 2 years: goes
        ("eve", date(2026, 11, 10)),  # 16 days past: kept
        ("call", date(2026, 9, 16)),  # its meeting was moved to January: kept
    ]
    async with db.transaction() as session:
        community = await session.scalar(select(Community))
        for kind, day in claims:
            await store.claim_announcement(session, community.id, kind, day, at(day), clock())
        await store.record_change(session, community.id, store.CANCELLED, date(2026, 10, 1), None, clock())  # goes
        await store.record_change(
            session, community.id, store.MOVED, date(2026, 10, 10), at(date(2026, 10, 12)), clock()
        )
        await store.record_change(session, community.id, store.MOVED, date(2026, 9, 16), at(date(2027, 1, 20)), clock())
        await store.record_change(
            session, community.id, store.EXTRA, date(2026, 11, 20), at(date(2026, 11, 20)), clock()
        )
    async with db.transaction() as session:
        counts = await store.purge(session, clock())
    assert counts == {"announcement claims": 2, "agenda claims": 1, "schedule changes": 2}
    async with db.transaction() as session:
        kept = {(kind, day) for kind, day in await session.execute(select(Announcement.kind, Announcement.occurrence))}
        changes = set(await session.scalars(select(ScheduleChange.on)))
    assert kept == {("agenda", date(2026, 10, 1)), ("eve", date(2026, 11, 10)), ("call", date(2026, 9, 16))}
    assert changes == {date(2026, 9, 16), date(2026, 11, 20)}
    clock.now = datetime(2028, 10, 2, tzinfo=UTC)  # two years on, with the January meeting long held
    async with db.transaction() as session:
        assert await store.purge(session, clock()) == {
            "announcement claims": 2,
            "agenda claims": 1,
            "schedule changes": 2,
        }
