"""Closing the loop between meetings: each open action with an owner and a due date is recalled
to its owner privately, two working days before the date and on the day (09:00 in the
community's zone; weekends, the country's public holidays and the community's days off are not
working days), with Done and Drop buttons; and once a week the co-chairs get the list of open
actions past their date (only when there is one).

The scheduler calls `actions_due` inside `flows.announcements.community_due`, in the same
transaction (the community's schedule row locked), so it shares its wake-up: the moments still
to come go into ``next_due_at``, and a new or re-dated action marks the community "look now"
(`storage.due`).

    open action, owner, due date ─▶ "before": 2 working days before, 09:00 ─┐  each claimed once
                                 └▶ "due": on the day, 09:00 (a day off:    ├▶ (action, kind, date)
                                     the working day before)                ┘  a new date: new ones
    Monday 09:00 (or the week's first working day) ─▶ overdue digest to each co-chair (claimed
                                                       once a week: announcements "overdue")

A reminder or digest may go out late, until LATE_UNTIL after its moment (the same working day);
one whose moment passed longer ago (copbot was down), or came before the action existed, is
skipped, never sent days late. A closed action, one without an owner (the group's, or its owner
used forget-me) or whose owner left gets none. An owner on a platform where the community has
no channel cannot be reached: the reminder is claimed and skipped, and the log says so (the
community's id and the platform only).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.vocabulary.conversation import Button, Post, Section
from bot.vocabulary.dates import short_day
from bot.vocabulary.moments import stored_utc
from bot.vocabulary.text import plural
from flows import meeting_calendar as calendar
from storage import action_reminders as store
from storage import community as communities
from storage import schedule as schedules
from storage.action_reminders import DatedAction
from storage.models import Community, MeetingSchedule

log = logging.getLogger(__name__)

BEFORE, ON_THE_DAY = "before", "due"  # ActionReminder.kind
WORKING_DAYS_AHEAD = 2
REMIND_AT = time(9, 0)  # local
LATE_UNTIL = timedelta(hours=10)  # until 19:00 local on the day; later it is skipped, not sent late
DIGEST = "overdue"  # Announcement.kind; its occurrence is the week's Monday

AHEAD = "A reminder: your action {n}, “{text}”, is due on {day} (in two working days)."
TODAY = "A reminder: your action {n}, “{text}”, is due today, {day}."
DAY_OFF = (
    "A reminder: your action {n}, “{text}”, is due on {day}, which is not a working day — "
    "so here it is on the working day before."
)
HOW = (
    "Done, or no longer needed? Tell me with Done or Drop. Need more time? "
    "`/cop actions due {n} <date>` gives it a new date. Thank you for closing the loop."
)
DONE_LABEL, DROP_LABEL = "Done", "Drop"
OVERDUE = "{count} in {community} {verb} past {their} due date. A kind word, or a new date, keeps the loop closed."
OVERDUE_HEADING = "Open actions past their due date"
OVERDUE_HOW = "`/cop actions done <n>` · `drop <n> [reason]` · `due <n> <date>` — `/cop actions` lists them all."
THE_GROUP = "the group"


@dataclass
class RemindersDue:
    """What one look at a community makes: private posts, each with the platform of the member
    it is for (it goes to a channel of the community there), and the moments later ones fall due."""

    posts: list[tuple[str, Post]] = field(default_factory=list)
    later: list[datetime] = field(default_factory=list)


def reminder_days(due_on: date, country: str, off: Collection[date]) -> list[tuple[str, date]]:
    """The days an action due on ``due_on`` is recalled: two working days before, and on the
    day (the working day before, when the date itself is not a working day)."""
    ahead = calendar.working_days_before(due_on, WORKING_DAYS_AHEAD, country, off)
    on_the_day = (
        due_on
        if calendar.is_working_day(due_on, country, off)
        else calendar.working_days_before(due_on, 1, country, off)
    )
    return [(BEFORE, ahead), (ON_THE_DAY, on_the_day)]


def digest_day(monday: date, country: str, off: Collection[date]) -> date | None:
    """The day of the week starting ``monday`` the overdue digest goes out: Monday, or the
    week's first working day after it; None when the whole working week is off."""
    for n in range(5):
        day = monday + timedelta(days=n)
        if calendar.is_working_day(day, country, off):
            return day
    return None


def reminder_day(day: date, today: date) -> str:
    """A date as a reminder says it: Friday 5 March (with the year when it is not this year's)."""
    words = f"{day:%A} {day.day} {day:%B}"
    return words if day.year == today.year else f"{words} {day.year}"


async def actions_due(
    session: AsyncSession, community: Community, schedule: MeetingSchedule, platforms: Collection[str], now: datetime
) -> RemindersDue:
    """The owners' reminders and the co-chairs' digest due now in this community (each claimed
    once), and when the next ones fall due. ``platforms``: where the community has a channel."""
    found = RemindersDue()
    dated = await store.dated_open(session, community.id)
    if not dated:
        return found
    off = await schedules.days_off(session, community.id)
    today = calendar.local(now, schedule.zone).date()
    reminded = [action for action in dated if action.owner_user and action.owner_active]
    told = await store.told(session, [action.id for action in reminded])
    for action in reminded:
        for kind, day in reminder_days(action.due_on, schedule.country, off):
            if (action.id, kind, action.due_on) in told:
                continue
            at = calendar.to_utc(day, REMIND_AT, schedule.zone)
            if at > now:
                if action.owner_platform in platforms:
                    found.later.append(at)
                continue
            if now - at > LATE_UNTIL or at < stored_utc(action.created_at):
                continue  # missed while copbot was down, or due before the action was agreed
            if not await store.claim_reminder(session, action.id, kind, action.due_on, now):
                continue  # another worker has it
            if action.owner_platform not in platforms:
                log.info(
                    "action reminder in community %d skipped: no channel on %s", community.id, action.owner_platform
                )
                continue
            assert action.owner_platform is not None and action.owner_user is not None
            found.posts.append((action.owner_platform, _reminder(action, kind, day, today)))
    await _overdue_digest(session, community, schedule, dated, off, platforms, now, found)
    return found


def _reminder(action: DatedAction, kind: str, day: date, today: date) -> Post:
    if kind == BEFORE:
        words = AHEAD
    else:
        words = TODAY if day == action.due_on else DAY_OFF
    text = words.format(n=action.number, text=action.text, day=reminder_day(action.due_on, today))
    return Post(
        f"{text}\n{HOW.format(n=action.number)}",
        buttons=(
            Button(DONE_LABEL, f"actions done {action.number}", "primary"),
            Button(DROP_LABEL, f"actions drop {action.number}"),
        ),
        key=f"action:{action.id}:{kind}:{action.due_on.isoformat()}",
        private_to=action.owner_user,
        direct=True,
    )


async def _overdue_digest(
    session: AsyncSession,
    community: Community,
    schedule: MeetingSchedule,
    dated: Sequence[DatedAction],
    off: Collection[date],
    platforms: Collection[str],
    now: datetime,
    found: RemindersDue,
) -> None:
    """This week's digest if it is due (and something is overdue), else when the next falls due."""
    today = calendar.local(now, schedule.zone).date()
    this_week = today - timedelta(days=today.weekday())
    weeks = (this_week, this_week + timedelta(days=7))
    claimed = await schedules.claims(session, community.id, weeks)
    for monday in weeks:
        day = digest_day(monday, schedule.country, off)
        if day is None or (DIGEST, monday) in claimed:
            continue
        overdue = [action for action in dated if action.due_on < day]
        if not overdue:
            continue  # nothing is late by then (a new date marks the community "look now")
        at = calendar.to_utc(day, REMIND_AT, schedule.zone)
        if at > now:
            found.later.append(at)
            return
        if now - at > LATE_UNTIL:
            continue
        if await schedules.claim_announcement(session, community.id, DIGEST, monday, at, now):
            found.posts += await _digest_posts(session, community, overdue, platforms, monday)


async def _digest_posts(
    session: AsyncSession, community: Community, overdue: Sequence[DatedAction], platforms: Collection[str], week: date
) -> list[tuple[str, Post]]:
    """The same private post for each current co-chair who is still a member and reachable."""
    one = len(overdue) == 1
    text = OVERDUE.format(
        count=plural(len(overdue), "open action"),
        community=community.name,
        verb="is" if one else "are",
        their="its" if one else "their",
    )
    lines = tuple(
        f"{action.number}. {action.text} — {action.owner or THE_GROUP}, due {short_day(action.due_on)}"
        for action in sorted(overdue, key=lambda action: action.number)
    )
    text += "\n" + OVERDUE_HOW
    section = Section(OVERDUE_HEADING, lines)
    posts = []
    for _, chair in await communities.current_chairs(session, community.id):
        if not chair.active:
            continue
        if chair.platform not in platforms:
            log.info("overdue digest in community %d: no channel on %s for a co-chair", community.id, chair.platform)
            continue
        post = Post(
            text,
            sections=(section,),
            key=f"overdue:{community.id}:{week.isoformat()}",
            direct=True,
            private_to=chair.user_id,
        )
        posts.append((chair.platform, post))
    return posts
