"""The community's living record: what a channel's canvas shows (the next meeting, the open
actions, the roadmap, the last meeting's minutes), drawn from the database at the moment it is
sent, and what copbot says when a workspace will not have one.

The record is a list of parts, each made by one function of `PARTS` from what storage says:
a new part is one more function there. Member words stay plain
text here; the platform escapes them (`adapters.slack.canvas`).

    (no canvas) --first draw--> KEPT (canvas id in `living_records`) --each change--> KEPT (replaced)
    KEPT --deleted by someone--> made again once --deleted again--> REFUSED (co-chairs told once)
    (no canvas) --plan / permissions / a canvas already there--> REFUSED (co-chairs told once)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.vocabulary.conversation import Place, Post
from bot.vocabulary.dates import long_day
from bot.vocabulary.errors import RecordRefused
from bot.vocabulary.record import CommunityRecord, RecordPart
from flows import meeting_calendar as calendar
from flows import minutes
from flows.actions import action_line, roadmap_sections
from flows.agenda import when
from flows.schedule import upcoming
from storage import actions, channels, leads
from storage import community as communities
from storage import living_records as store
from storage import minutes as minutes_store
from storage.models import Community, MeetingSchedule

DEFAULT_ZONE = "Europe/Dublin"  # a community with no schedule yet (the schedule's own default)
TITLE = "Our living record — {community}"
NEXT_MEETING = "Our next meeting"
NO_MEETING = "No meeting is scheduled yet: a co-chair sets the rhythm with /cop schedule."
WHEN = "When: {when}"
JOIN = "Join: {link}"
TOPIC = "Lead topic: {topic}"
LEAD = "Led by: {name}"
OPEN_ACTIONS = "Open actions"
NO_ACTIONS = "No actions are open."
ROADMAP = "Our roadmap"
LAST_MEETING = "Our last meeting — {day}"
NO_ROADMAP = "No action is placed on the roadmap yet: /cop actions horizon <n> short, medium or long."
FOOTER = (
    "copbot keeps this canvas up to date from the channel (/cop actions, /cop roadmap, /cop schedule): "
    "what is typed here is replaced at the next change."
)

EVERYTHING_ELSE = "Everything else works as before: `/cop actions`, `/cop roadmap` and `/cop schedule` show the same."
TOLD = {
    RecordRefused.PLAN: (
        "A note for the co-chairs: this Slack workspace's plan (or copbot's permissions) doesn't allow channel "
        "canvases, so the channel's living record — next meeting, open actions, roadmap — isn't available here. "
    ),
    RecordRefused.EXISTS: (
        "A note for the co-chairs: this channel already has a canvas, and I won't write over it, so I'm not "
        "keeping our living record (next meeting, open actions, roadmap) there. "
    ),
    RecordRefused.DELETED: (
        "A note for the co-chairs: the channel's canvas with our living record was deleted again, so I've "
        "stopped keeping it. "
    ),
}


@dataclass(frozen=True)
class Drawing:
    """What to send: the record, and the canvas it replaces (None: make the channel's canvas)."""

    record: CommunityRecord
    canvas_id: str | None


@dataclass(frozen=True)
class Reading:
    """What every part is drawn from, read once."""

    session: AsyncSession
    community: Community
    schedule: MeetingSchedule | None
    now: datetime
    today: date


Part = Callable[[Reading], Awaitable[RecordPart | None]]


async def next_meeting(reading: Reading) -> RecordPart:
    schedule = reading.schedule
    coming = await upcoming(reading.session, schedule, reading.now, 1) if schedule is not None else []
    if schedule is None or not coming:
        return RecordPart(NEXT_MEETING, note=NO_MEETING)
    lines = [WHEN.format(when=when(schedule, coming[0].starts_at))]
    if schedule.join_link:
        lines.append(JOIN.format(link=schedule.join_link))
    if reading.community.next_topic:
        lines.append(TOPIC.format(topic=reading.community.next_topic))
    lead = await leads.confirmed_for_next(reading.session, reading.community.id, reading.today)
    if lead is not None and lead.name:
        lines.append(LEAD.format(name=lead.name))
    return RecordPart(NEXT_MEETING, tuple(lines))


async def open_actions(reading: Reading) -> RecordPart:
    views = await actions.open_list(reading.session, reading.community.id)
    lines = tuple(action_line(view, reading.today) for view in views)
    return RecordPart(OPEN_ACTIONS, lines, note="" if lines else NO_ACTIONS)


async def roadmap(reading: Reading) -> RecordPart:
    views = await actions.open_list(reading.session, reading.community.id)
    placed = [view for view in views if view.horizon is not None]  # the rest are in the open actions
    lines: list[str] = []
    for section in roadmap_sections(placed, reading.today):
        lines += [f"{section.heading}: {line}" for line in section.lines]
    return RecordPart(ROADMAP, tuple(lines), note="" if lines else NO_ROADMAP)


async def last_minutes(reading: Reading) -> RecordPart | None:
    """The minutes of the last meeting held (today's, once it began), as `/cop minutes` posts
    them: nothing before a community's first meeting."""
    meeting = await minutes_store.last_meeting(reading.session, reading.community.id, reading.today)
    if meeting is None:
        return None
    zone = reading.schedule.zone if reading.schedule is not None else DEFAULT_ZONE
    record = await minutes_store.meeting_record(reading.session, reading.community.id, meeting, zone)
    post = minutes.minutes_post(reading.community.name, record)
    lines = tuple(line for line in post.text.splitlines()[1:] if line.strip())  # after "Minutes — …"
    groups = tuple(section for section in post.sections)
    return RecordPart(LAST_MEETING.format(day=long_day(meeting.held_on)), lines, groups=groups)


# The record, in order.
PARTS: tuple[Part, ...] = (next_meeting, open_actions, roadmap, last_minutes)


async def drawing(session: AsyncSession, place: Place, now: datetime) -> Drawing | None:
    """The record of the community of ``place`` as it is now, or None when there is nothing to
    draw there (the channel left its community, is inactive, or refused a record)."""
    bound = await channels.binding_of(session, place)
    if bound is None or not bound[0].active:
        return None
    kept = await store.record_of(session, place)
    if kept is not None and kept.refused is not None:
        return None
    community = bound[1]
    schedule = await session.scalar(select(MeetingSchedule).where(MeetingSchedule.community_id == community.id))
    zone = schedule.zone if schedule is not None else DEFAULT_ZONE
    reading = Reading(session, community, schedule, now, calendar.local(now, zone).date())
    parts = [part for part in [await make(reading) for make in PARTS] if part is not None]
    record = CommunityRecord(TITLE.format(community=community.name), tuple(parts), FOOTER)
    return Drawing(record, kept.canvas_id if kept is not None else None)


async def refused(session: AsyncSession, place: Place, why: str, now: datetime) -> list[Post]:
    """The platform will not keep this channel's record: never ask again, and tell the
    co-chairs privately, once (the whole channel when it has no co-chairs yet)."""
    if not await store.refuse(session, place, why, now):
        return []
    text = TOLD.get(why, TOLD[RecordRefused.PLAN]) + EVERYTHING_ELSE
    bound = await channels.binding_of(session, place)
    if bound is None:
        return []
    chairs = [member for _, member in await communities.current_chairs(session, bound[1].id)]
    readers = [member.user_id for member in chairs if member.platform == place.platform and member.active]
    if not readers:
        return [Post(text)]
    return [Post(text, private_to=reader) for reader in readers]


async def deleted(session: AsyncSession, place: Place, now: datetime) -> list[Post]:
    """Someone deleted copbot's canvas: the first time it is made again (queued now); the
    second time copbot takes the hint and stops (`refused`)."""
    if await store.deleted(session, place):
        await store.wanted_by(session, place, now, now)
        return []
    return await refused(session, place, RecordRefused.DELETED, now)
