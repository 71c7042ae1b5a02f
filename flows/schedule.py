"""The quarterly rhythm in chat: co-chairs set the rule ("2nd Tuesday of Feb May Aug Nov 10:30"),
add, move or cancel a meeting, and set the time zone, the country of the public holidays and
how many working days ahead the agenda and the call for items go out; anyone sees the next four
meetings with the days copbot will post on.

A meeting is a day of the rule, or an extra one; a change (extra, moved, cancelled) is a row per
day (`storage.schedule`). Times are the community's local times, stored in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.registry import Command, FlowRouter
from bot.vocabulary.conversation import Post, Section
from bot.vocabulary.errors import UsageError
from bot.vocabulary.moments import stored_utc
from bot.vocabulary.text import number
from flows import meeting_calendar as calendar
from flows.turn import Turn
from storage import channels
from storage import schedule as store
from storage.models import MeetingSchedule

HEADING = "Our next meetings ({zone})"
NO_MEETINGS = (
    "No meetings are scheduled yet. A co-chair sets the rhythm with "
    "`/cop schedule quarterly 2nd Tuesday of Feb May Aug Nov 10:30`, "
    "or adds one with `/cop schedule add 2027-03-19 10:30`."
)
LINE = "{when} — call for items {call}, agenda {agenda}, reminders {eve} and {soon} on the day"
REMOVED = (
    "copbot is no longer in the {platform} channel {channel}{since} (removed, or the app uninstalled): "
    "nothing is posted there. Add copbot back there, or use this channel."
)
EXTRA_MARK = " (an extra meeting)"
NOT_WORKING = "Note: {day} is {why}. To move it to the next working day: `/cop schedule move {day} {next}`."
RULE_SET = "Thank you — we meet on the {rule_words}, at {at}."
ADDED = "Added a meeting on {when}."
MOVED = "Moved the meeting of {day} to {when}."
CANCELLED = "Cancelled the meeting of {day}."
NO_MEETING_ON = "There is no meeting on {day}. `/cop schedule` lists the next ones."
IN_THE_PAST = "{day} has already passed; please pick a day from today on."
ALREADY_ONE = "There is already a meeting on {day}."
DAY_OFF_ADDED = "Noted: {day} is not a working day for us."
LINK_SET = "The joining link is set; reminders will carry it."
LINK_BAD = "Please give the meeting's https:// link."
SETTINGS = (
    "Time zone {zone} · public holidays of {country} · agenda {agenda} working days before · "
    "call for items {call} working days before{link}"
)
SETTINGS_USAGE = "Usage: /cop schedule settings [zone Europe/Dublin] [country IE] [agenda 3-5] [call 5-20]"
USAGE = (
    "Usage: /cop schedule | schedule quarterly <rule> <time> | schedule add <date> <time> | "
    "schedule move <date> <new date> [time] | schedule cancel <date> | schedule settings … | "
    "schedule off <date> | schedule link <url>"
)
CHAIR_FORMS = {
    "quarterly": "set the meeting schedule",
    "add": "add a meeting",
    "move": "move a meeting",
    "cancel": "cancel a meeting",
    "settings": "change the schedule's settings",
    "off": "add a day off",
    "link": "set the joining link",
}


@dataclass(frozen=True)
class Planned:
    """One coming meeting: its start (UTC), its local day, whether it is an extra one, and the
    day it was planned for (``planned_on``, when moved): who the meeting is, whatever its start."""

    starts_at: datetime
    day: date
    extra: bool = False
    planned_on: date | None = None

    @property
    def occurrence(self) -> date:
        """The meeting's identity: the rule day it was planned on (kept when it is moved), or
        an extra meeting's day. Announcements are claimed once per occurrence."""
        return self.planned_on or self.day


def _at(schedule: MeetingSchedule) -> time:
    return time.fromisoformat(schedule.at)


async def upcoming(session: AsyncSession, schedule: MeetingSchedule, now: datetime, count: int = 4) -> list[Planned]:
    """The next ``count`` meetings from ``now``: the rule's days, less the moved and cancelled
    ones, plus the extra and moved ones. Needs no member's turn: the scheduler reads it too."""
    changes = await store.changes(session, schedule.community_id)
    by_day = {change.on: change for change in changes}
    today = calendar.local(now, schedule.zone).date()
    found: list[Planned] = []
    if schedule.rule:
        for day in calendar.rule_days(schedule.rule, today - timedelta(days=1), count + len(changes) + 2):
            change = by_day.get(day)
            if change is None or change.kind == store.EXTRA:
                found.append(Planned(calendar.to_utc(day, _at(schedule), schedule.zone), day))
    for change in changes:
        if change.kind in (store.EXTRA, store.MOVED) and change.starts_at is not None:
            moment = stored_utc(change.starts_at)
            day = calendar.local(moment, schedule.zone).date()
            found.append(Planned(moment, day, change.kind == store.EXTRA, change.on))
    unique = {(p.starts_at, p.day): p for p in found if p.starts_at >= now}
    return sorted(unique.values(), key=lambda p: p.starts_at)[:count]


def _day(day: date) -> str:
    return f"{day.strftime('%a')} {day.day} {day.strftime('%b')}"


def _when(moment: datetime, zone: str) -> str:
    at = calendar.local(moment, zone)
    return f"{_day(at.date())} {at.year}, {at.strftime('%H:%M')}"


async def listing(session: AsyncSession, schedule: MeetingSchedule, now: datetime) -> Post:
    """The next four meetings, each with the days copbot posts the call, the agenda and the
    reminders, and a word on any that falls on a day that is not a working day."""
    meetings = await upcoming(session, schedule, now)
    removed = tuple(await _removed_from(session, schedule))
    if not meetings:
        return Post(NO_MEETINGS, sections=(Section("", removed),) if removed else ())
    off = await store.days_off(session, schedule.community_id)
    lines, notes = [], []
    for meeting in meetings:
        local_start = calendar.local(meeting.starts_at, schedule.zone)
        day = local_start.date()
        call = calendar.working_days_before(day, schedule.call_days, schedule.country, off)
        agenda = calendar.working_days_before(day, schedule.agenda_days, schedule.country, off)
        soon = (local_start - timedelta(minutes=15)).strftime("%H:%M")
        line = LINE.format(
            when=_when(meeting.starts_at, schedule.zone),
            call=_day(call),
            agenda=_day(agenda),
            eve=_day(day - timedelta(days=1)),
            soon=soon,
        )
        lines.append(line + (EXTRA_MARK if meeting.extra else ""))
        why = calendar.why_not_working(day, schedule.country, off)
        if why:
            next_day = calendar.next_working_day(day, schedule.country, off)
            notes.append(NOT_WORKING.format(day=day.isoformat(), why=why, next=next_day.isoformat()))
    text = HEADING.format(zone=schedule.zone)
    notes += removed
    sections = (Section("", tuple(lines)),) + ((Section("", tuple(notes)),) if notes else ())
    return Post(text, sections=sections)


async def _removed_from(session: AsyncSession, schedule: MeetingSchedule) -> list[str]:
    """A word on each of the community's channels copbot was removed from."""
    notes = []
    for channel in await channels.inactive_channels(session, schedule.community_id):
        since = (
            calendar.local(stored_utc(channel.inactive_since), schedule.zone).date() if channel.inactive_since else None
        )
        notes.append(
            REMOVED.format(
                platform=channel.platform.capitalize(),
                channel=channel.channel_id[:40],
                since=f" since {since.isoformat()}" if since else "",
            )
        )
    return notes


router = FlowRouter("schedule")


@router.verb(
    "schedule",
    "schedule | schedule quarterly <rule> <time> | schedule add|move|cancel … | schedule settings …",
    "The next four meetings and when copbot posts for them; co-chairs set the quarterly rule, add, "
    "move or cancel a meeting, and set the time zone, holidays and how early the agenda goes out.",
    chair_forms=CHAIR_FORMS,
)
async def schedule(turn: Turn, cmd: Command) -> list[Post]:
    community = turn.require_community()
    settings = await store.schedule_of(turn.session, community.id, turn.now)
    form = cmd.args[0].lower() if cmd.args else ""
    rest = cmd.rest.split(None, 1)[1] if form else ""
    if form == "":
        return [await listing(turn.session, settings, turn.now)]
    if form == "quarterly":
        return await _set_rule(turn, settings, rest)
    if form == "add":
        return await _add(turn, settings, cmd.args[1:])
    if form == "move":
        return await _move(turn, settings, cmd.args[1:])
    if form == "cancel":
        return await _cancel(turn, settings, cmd.args[1:])
    if form == "settings":
        return await _settings(turn, settings, cmd.args[1:])
    if form == "off" and len(cmd.args) == 2:
        day = calendar.parse_date(cmd.args[1])
        await store.add_day_off(turn.session, community.id, day)
        return [turn.private(DAY_OFF_ADDED.format(day=day.isoformat()))]
    if form == "link" and len(cmd.args) == 2:
        if not cmd.args[1].startswith("https://") or len(cmd.args[1]) > 500:
            raise UsageError(LINK_BAD)
        settings.join_link = cmd.args[1]
        return [turn.private(LINK_SET)]
    raise UsageError(USAGE)


async def _set_rule(turn: Turn, settings: MeetingSchedule, words: str) -> list[Post]:
    rule = calendar.parse_rule(words)
    settings.rule, settings.at, settings.updated_at = rule.rrule, rule.at.strftime("%H:%M"), turn.now
    rule_words = " ".join(words.split()[:-1])
    confirm = Post(RULE_SET.format(rule_words=rule_words, at=settings.at))
    return [confirm, await listing(turn.session, settings, turn.now)]


def _not_past(turn: Turn, settings: MeetingSchedule, day: date) -> None:
    if day < calendar.local(turn.now, settings.zone).date():
        raise UsageError(IN_THE_PAST.format(day=day.isoformat()))


async def _add(turn: Turn, settings: MeetingSchedule, args: tuple[str, ...]) -> list[Post]:
    if len(args) != 2:
        raise UsageError("Usage: /cop schedule add <date> <time>, e.g. 2027-03-19 10:30")
    day, at = calendar.parse_date(args[0]), calendar.parse_time(args[1])
    _not_past(turn, settings, day)
    if await _meeting_on(turn, settings, day) is not None:
        raise UsageError(ALREADY_ONE.format(day=day.isoformat()))
    starts_at = calendar.to_utc(day, at, settings.zone)
    await store.record_change(turn.session, settings.community_id, store.EXTRA, day, starts_at, turn.now)
    return [Post(ADDED.format(when=_when(starts_at, settings.zone))), await listing(turn.session, settings, turn.now)]


async def _meeting_on(turn: Turn, settings: MeetingSchedule, day: date) -> Planned | None:
    for meeting in await upcoming(turn.session, settings, turn.now, count=40):
        if meeting.day == day:
            return meeting
    return None


async def _move(turn: Turn, settings: MeetingSchedule, args: tuple[str, ...]) -> list[Post]:
    if len(args) not in (2, 3):
        raise UsageError("Usage: /cop schedule move <date> <new date> [time]")
    day, new_day = calendar.parse_date(args[0]), calendar.parse_date(args[1])
    _not_past(turn, settings, new_day)
    meeting = await _meeting_on(turn, settings, day)
    if meeting is None:
        raise UsageError(NO_MEETING_ON.format(day=day.isoformat()))
    at = calendar.parse_time(args[2]) if len(args) == 3 else calendar.local(meeting.starts_at, settings.zone).time()
    starts_at = calendar.to_utc(new_day, at, settings.zone)
    original = await _planned_day(turn, settings, meeting)
    kind = store.EXTRA if meeting.extra else store.MOVED
    if kind == store.EXTRA:
        change = await store.change_on(turn.session, settings.community_id, original)
        if change is not None:
            await store.drop_change(turn.session, change)
        if new_day != original:  # what was announced for it stays said: it is the same meeting
            await store.move_claims(turn.session, settings.community_id, original, new_day)
        original = new_day
    await store.record_change(turn.session, settings.community_id, kind, original, starts_at, turn.now)
    moved = Post(MOVED.format(day=day.isoformat(), when=_when(starts_at, settings.zone)))
    return [moved, await listing(turn.session, settings, turn.now)]


async def _planned_day(turn: Turn, settings: MeetingSchedule, meeting: Planned) -> date:
    """The day a meeting is known by in the changes: a moved one keeps its original day."""
    for change in await store.changes(turn.session, settings.community_id):
        if change.starts_at is not None and stored_utc(change.starts_at) == meeting.starts_at:
            return change.on
    return meeting.day


async def _cancel(turn: Turn, settings: MeetingSchedule, args: tuple[str, ...]) -> list[Post]:
    if len(args) != 1:
        raise UsageError("Usage: /cop schedule cancel <date>")
    day = calendar.parse_date(args[0])
    meeting = await _meeting_on(turn, settings, day)
    if meeting is None:
        raise UsageError(NO_MEETING_ON.format(day=day.isoformat()))
    original = await _planned_day(turn, settings, meeting)
    if meeting.extra:
        change = await store.change_on(turn.session, settings.community_id, original)
        if change is not None:
            await store.drop_change(turn.session, change)
    else:
        await store.record_change(turn.session, settings.community_id, store.CANCELLED, original, None, turn.now)
    return [Post(CANCELLED.format(day=day.isoformat())), await listing(turn.session, settings, turn.now)]


async def _settings(turn: Turn, settings: MeetingSchedule, args: tuple[str, ...]) -> list[Post]:
    if len(args) % 2:
        raise UsageError(SETTINGS_USAGE)
    for name, value in zip(args[::2], args[1::2], strict=True):
        name = name.lower()
        if name == "zone":
            calendar.zone(value)
            settings.zone = value
        elif name == "country":
            calendar.holiday_name(date(2027, 1, 1), value.upper())  # refuses an unknown country
            settings.country = value.upper()
        elif name == "agenda" and (number(value) or 0) in range(3, 6):
            settings.agenda_days = number(value) or 5
        elif name == "call" and (number(value) or 0) in range(5, 21):
            settings.call_days = number(value) or 10
        else:
            raise UsageError(SETTINGS_USAGE)
    settings.updated_at = turn.now
    link = f" · joining link {settings.join_link}" if settings.join_link else ""
    shown = SETTINGS.format(
        zone=settings.zone, country=settings.country, agenda=settings.agenda_days, call=settings.call_days, link=link
    )
    return [turn.private(shown)]
