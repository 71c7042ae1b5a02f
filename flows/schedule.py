"""The quarterly rhythm in chat: co-chairs set the rule ("2nd Tuesday of Feb May Aug Nov 10:30"),
add, move or cancel a meeting, and set the time zone, the country of the public holidays and
how many working days ahead the agenda and the call for items go out; anyone sees the next four
meetings with the days copbot will post on.

A meeting is a day of the rule, or an extra one; a change (extra, moved, cancelled) is a row per
day (`storage.schedule`). Times are the community's local times, stored in UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import available_timezones

from sqlalchemy.ext.asyncio import AsyncSession

from bot.registry import Command, FlowRouter
from bot.vocabulary import dates, suggest
from bot.vocabulary.conversation import Post, Section
from bot.vocabulary.errors import UsageError
from bot.vocabulary.moments import stored_utc
from bot.vocabulary.text import number, or_list, shown
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
IN_THE_PAST = "{day} has already passed (today is {today}); please pick a day from today on."
ALREADY_ONE = "There is already a meeting on {day}. To change its time: `/cop schedule move {day} {day} 14:00`."
DAY_OFF_ADDED = "Noted: {day} is not a working day for us."
LINK_SET = "The joining link is set; reminders will carry it."
REVIEW_MONTH_SET = "Thank you — our yearly review survey will open in {month} each year."
REVIEW_MONTH_BAD = "Which month should the yearly review open in? “{said}” isn't a month: give its name, e.g. March."
LINK_BAD = "Please give the meeting's https:// link (at most 500 characters)."
SETTINGS = (
    "Time zone {zone} · public holidays of {country} · agenda {agenda} working days before · "
    "call for items {call} working days before{link}"
)
# One place for each form: its usage (help, README and refusals say the same) and a command that works.
FORMS: dict[str, tuple[str, str]] = {
    "quarterly": ("schedule quarterly <rule> <time>", "schedule quarterly 2nd Tuesday of Feb May Aug Nov 10:30"),
    "add": ("schedule add <date> [time]", "schedule add 19/03/2027 10:30"),
    "move": ("schedule move <date> [to] <new date> [time]", "schedule move 17/03/2027 to 18/03/2027 14:00"),
    "cancel": ("schedule cancel <date>", "schedule cancel 17/03/2027"),
    "settings": (
        "schedule settings [zone <zone>] [country <code>] [agenda <days, 3 to 5>] [call <days, 5 to 20>]",
        "schedule settings zone Europe/Dublin country IE agenda 5 call 10",
    ),
    "off": ("schedule off <date>", "schedule off 24/12/2026"),
    "link": ("schedule link <url>", "schedule link https://example.org/our-meeting"),
    "review": ("schedule review <month>", "schedule review March"),
}
USAGE = "Usage: /cop schedule | " + " | ".join(usage for usage, _ in FORMS.values())
# How many working days before a meeting each announcement may go out (the guide: 3 to 5 for the agenda).
DAYS_BEFORE = {"agenda": (range(3, 6), "the agenda"), "call": (range(5, 21), "the call for items")}
SETTING_EXAMPLES = {"zone": "zone Europe/Dublin", "country": "country IE", "agenda": "agenda 5", "call": "call 10"}
SETTING_NAMES = tuple(SETTING_EXAMPLES)
DAYS_NOT_ONE_NUMBER = (
    "{what} goes out on one day: give one number of working days before a meeting, from {low} to {high}, not “{value}”."
)
DAYS_OUT_OF_RANGE = "{what} goes out {low} to {high} working days before a meeting, so {value} can't be used."
SETTING_NEEDS_VALUE = "“{name}” needs a value after it."
UNKNOWN_ZONE = "I don't know the time zone “{zone}”.{near} Write it as Region/City, like Europe/Dublin."
UNKNOWN_FORM = "I don't know “schedule {form}”.{near} The forms are: {forms}. For example: `/cop {example}`"
TWO_DATES = "Please put “to” between the two days: `/cop schedule move {words}` could be read more than one way."
CHAIR_FORMS = {
    "review": "choose the month of the yearly review",
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


def rule_preview(rule: calendar.QuarterlyRule, schedule: MeetingSchedule, now: datetime, count: int = 4) -> list[str]:
    """The next ``count`` meetings ``rule`` would give from ``now``, in the community's zone and
    words, with a note on a day that is not a working day — saving nothing: what a group sees
    before it agrees a rule (`flows.kit`'s "choosing the schedule")."""
    today = calendar.local(now, schedule.zone).date()
    lines = []
    for day in calendar.rule_days(rule.rrule, today - timedelta(days=1), count + 1):
        starts_at = calendar.to_utc(day, rule.at, schedule.zone)
        if starts_at < now:
            continue
        why = calendar.why_not_working(day, schedule.country)
        lines.append(_when(starts_at, schedule.zone) + (f" — note: {why}" if why else ""))
    return lines[:count]


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

SHORT_USAGE = "schedule | schedule quarterly|add|move|cancel … | schedule settings|off|link …"
HELP = (
    "The next four meetings and when copbot posts for them. Co-chairs: "
    + " · ".join(usage for usage, _ in FORMS.values())
    + ". Dates like 19/03/2027 (day first), 2027-03-19 or 19 March 2027; a meeting added without a time "
    "starts at the usual time."
)


@router.verb("schedule", SHORT_USAGE, HELP, chair_forms=CHAIR_FORMS)
async def schedule(turn: Turn, cmd: Command) -> list[Post]:
    community = turn.require_community()
    settings = await store.schedule_of(turn.session, community.id, turn.now)
    form = cmd.args[0].lower() if cmd.args else ""
    rest = cmd.rest.split(None, 1)[1] if form and len(cmd.rest.split(None, 1)) > 1 else ""
    if form == "":
        return [await listing(turn.session, settings, turn.now)]
    if form not in FORMS:
        near = suggest.nearest(form, FORMS)
        hint = f" Did you mean `schedule {near[0]}`?" if near else ""
        forms = or_list([f"`{usage}`" for usage, _ in FORMS.values()])
        example = FORMS[near[0] if near else "add"][1]
        raise UsageError(UNKNOWN_FORM.format(form=shown(form[:30]), near=hint, forms=forms, example=example))
    words = list(cmd.args[1:])
    with _showing(form):
        if form == "quarterly":
            return await _set_rule(turn, settings, rest)
        if form == "add":
            return await _add(turn, settings, words)
        if form == "move":
            return await _move(turn, settings, words)
        if form == "cancel":
            return await _cancel(turn, settings, words)
        if form == "settings":
            return await _settings(turn, settings, words)
        if form == "off":
            day = calendar.parse_date(" ".join(words), _today(turn, settings))
            await store.add_day_off(turn.session, community.id, day)
            return [turn.private(DAY_OFF_ADDED.format(day=day.isoformat()))]
        if form == "review":
            return [turn.private(_set_review_month(settings, words))]
        if len(words) != 1 or not words[0].startswith("https://") or len(words[0]) > 500:
            raise UsageError(LINK_BAD)
        settings.join_link = words[0]
        return [turn.private(LINK_SET)]


def _set_review_month(settings: MeetingSchedule, words: list[str]) -> str:
    """The month the yearly review survey goes out (a name, or 1–12)."""
    said = " ".join(words).strip().lower()
    month = dates.MONTHS.get(said) or (number(said) if said.isdigit() else None)
    if month is None or not 1 <= month <= 12:
        raise UsageError(REVIEW_MONTH_BAD.format(said=shown(said[:30])))
    settings.review_month = month
    return REVIEW_MONTH_SET.format(month=dates.MONTH_NAMES[month - 1].capitalize())


@contextmanager
def _showing(form: str) -> Iterator[None]:
    """A refusal of ``form`` ends with a command of that form that works (unless it has one)."""
    try:
        yield
    except UsageError as error:
        said = str(error)
        if "`/cop " in said:
            raise
        raise UsageError(f"{said} For example: `/cop {FORMS[form][1]}`") from None


def _today(turn: Turn, settings: MeetingSchedule) -> date:
    return calendar.local(turn.now, settings.zone).date()


def _split_time(words: list[str]) -> tuple[list[str], str | None]:
    """The words of a day and, when the last word is written as a time (``10:30``, ``2pm``, or
    ``25:00``, refused as a time, not as a date), that time (an ``at`` before it is dropped)."""
    last = words[-1].lower() if words else ""
    if last and (dates.read_time(last) is not None or ":" in last or last.endswith(("am", "pm"))):
        day_words = words[:-1]
        if day_words and day_words[-1].lower() == "at":
            day_words = day_words[:-1]
        return day_words, words[-1]
    return words, None


async def _set_rule(turn: Turn, settings: MeetingSchedule, words: str) -> list[Post]:
    rule = calendar.parse_rule(words, usual=settings.at)
    settings.rule, settings.at, settings.updated_at = rule.rrule, rule.at.strftime("%H:%M"), turn.now
    confirm = Post(RULE_SET.format(rule_words=rule.words, at=settings.at))
    return [confirm, await listing(turn.session, settings, turn.now)]


def _not_past(turn: Turn, settings: MeetingSchedule, day: date) -> None:
    today = _today(turn, settings)
    if day < today:
        raise UsageError(IN_THE_PAST.format(day=day.isoformat(), today=today.isoformat()))


async def _add(turn: Turn, settings: MeetingSchedule, words: list[str]) -> list[Post]:
    day_words, at_words = _split_time(words)
    day = calendar.parse_date(" ".join(day_words), _today(turn, settings))
    at = calendar.parse_time(at_words) if at_words else _at(settings)  # the usual time
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


def _two_days(words: list[str], today: date) -> tuple[date, date]:
    """``<date> [to] <new date>``: with "to", the words either side; without, the one way of
    cutting the words in two whose halves both read as days (``17 March 18 March``)."""
    lowered = [w.lower() for w in words]
    if "to" in lowered:
        cut = lowered.index("to")
        return calendar.parse_date(" ".join(words[:cut]), today), calendar.parse_date(" ".join(words[cut + 1 :]), today)
    if len(words) < 2:
        raise UsageError(f"Usage: /cop {FORMS['move'][0]}.")
    readings = []
    for cut in range(1, len(words)):
        first = dates.read_day(" ".join(words[:cut]), today, month_alone=False)
        second = dates.read_day(" ".join(words[cut:]), today, month_alone=False)
        if first is not None and second is not None:
            readings.append((first, second))
    if len(readings) == 1:
        return readings[0]
    if readings:
        raise UsageError(TWO_DATES.format(words=shown(" ".join(words)[:80])))
    if len(words) == 2:  # say which of the two could not be read
        return calendar.parse_date(words[0], today), calendar.parse_date(words[1], today)
    raise UsageError(dates.UNREADABLE_DATE.format(text=shown(" ".join(words)[:40])))


async def _move(turn: Turn, settings: MeetingSchedule, words: list[str]) -> list[Post]:
    day_words, at_words = _split_time(words)
    day, new_day = _two_days(day_words, _today(turn, settings))
    new_at = calendar.parse_time(at_words) if at_words else None
    _not_past(turn, settings, new_day)
    meeting = await _meeting_on(turn, settings, day)
    if meeting is None:
        raise UsageError(NO_MEETING_ON.format(day=day.isoformat()))
    at = new_at or calendar.local(meeting.starts_at, settings.zone).time()
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


async def _cancel(turn: Turn, settings: MeetingSchedule, words: list[str]) -> list[Post]:
    day = calendar.parse_date(" ".join(words), _today(turn, settings))
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


async def _settings(turn: Turn, settings: MeetingSchedule, words: list[str]) -> list[Post]:
    if not words:
        raise UsageError(f"Usage: /cop {FORMS['settings'][0]}.")
    for at in range(0, len(words), 2):
        name = words[at].lower()
        if name not in SETTING_NAMES:
            raise UsageError(suggest.unknown_word(name, SETTING_NAMES, f"/cop {FORMS['settings'][1]}"))
        example = f" For example: `/cop schedule settings {SETTING_EXAMPLES[name]}`"
        if at + 1 == len(words):
            raise UsageError(SETTING_NEEDS_VALUE.format(name=name) + example)
        value = words[at + 1]
        if name == "zone":
            settings.zone = _zone(value)
        elif name == "country":
            try:
                calendar.holiday_name(date(2027, 1, 1), value.upper())  # refuses an unknown country
            except UsageError as error:
                raise UsageError(f"{error}{example}") from None
            settings.country = value.upper()
        else:
            setattr(settings, f"{name}_days", _days_before(name, value))
    settings.updated_at = turn.now
    link = f" · joining link {settings.join_link}" if settings.join_link else ""
    shown_settings = SETTINGS.format(
        zone=settings.zone, country=settings.country, agenda=settings.agenda_days, call=settings.call_days, link=link
    )
    return [turn.private(shown_settings)]


def _zone(value: str) -> str:
    """An IANA time zone, as the member wrote it or its nearest spelling's suggestion."""
    if value in available_timezones():
        calendar.zone(value)
        return value
    near = suggest.nearest(value, available_timezones(), n=1)
    hint = f" Did you mean {near[0]}?" if near else ""
    raise UsageError(
        UNKNOWN_ZONE.format(zone=shown(value[:40]), near=hint)
        + f" For example: `/cop schedule settings zone {near[0] if near else 'Europe/Dublin'}`"
    )


def _days_before(name: str, value: str) -> int:
    """How many working days before a meeting ``name`` goes out, within its range."""
    allowed, what = DAYS_BEFORE[name]
    low, high = allowed[0], allowed[-1]
    example = f" For example: `/cop schedule settings {name} {min(max(number(value) or high, low), high)}`"
    days = number(value)
    if days is None:
        said = DAYS_NOT_ONE_NUMBER.format(what=what.capitalize(), low=low, high=high, value=shown(value[:20]))
        raise UsageError(said + example)
    if days not in allowed:
        raise UsageError(DAYS_OUT_OF_RANGE.format(what=what.capitalize(), low=low, high=high, value=days) + example)
    return days
