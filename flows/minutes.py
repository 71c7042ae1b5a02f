"""The record of a meeting — the flipchart of that day, kept. `/cop meetings` lists the past
meetings (who led each, the topic reflected on, how many were there); `/cop minutes [date]` posts
one meeting's record in the channel (the last one held by default) and, where the platform takes
files, the same record as a Markdown file: Slack puts it in the post's thread, the terminal saves
it; in Teams the card carries the record.

Any member may read it: it is the community's own flipchart. Statements and answers shared
without a name stay without one, and forget-me has already deleted a forgotten member's words.
`minutes_markdown` renders a meeting's record as Markdown for other parts of copbot (the Slack
canvas shows the last meeting's)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.registry import Command, FlowRouter
from bot.vocabulary import dates
from bot.vocabulary.conversation import Attachment, Post, Section
from bot.vocabulary.dates import long_day, short_day
from flows import gibbs, meeting_calendar
from flows.turn import Turn
from storage import minutes as store
from storage import schedule as schedules
from storage.actions import ActionView
from storage.minutes import Lead, MeetingRecord, MeetingSummary, Shared
from storage.models import Community, Meeting, MeetingSchedule

# -- what members read (one place, to review and later translate) ---------------------------
NO_MEETINGS = (
    "No meeting has been held yet: a meeting's record starts with its first part (`/cop support` or "
    "`/cop reflect`). `/cop minutes` will post it then."
)
NO_MEETING_ON = "There was no meeting on {day}; `/cop meetings` lists them."
MEETINGS_HEADING = "Our past meetings — {community}"
MEETINGS_HOW_TO = "`/cop minutes <date>` posts a meeting's record (the flipchart of that day)."
MEETING_LINE = "{day} — led by {lead}; {topic}; {present}"
MINUTES_HEADING = "Minutes — {community}, {day}"
LED_BY = "Led by {lead}. {present}."
TOPIC_LINE = "Lead topic: {topic}"
THE_CO_CHAIRS = "the co-chairs"
A_FORMER_MEMBER = "a former member"
NO_TOPIC = "no topic recorded"
THERE = "{n} were there"
THERE_ONE = "1 was there"
NOBODY_COUNTED = "nobody was counted"
SUPPORT_HEADING = "Support round — “I will support myself today by …”"
WITHOUT_A_NAME = "Shared without a name"
PASSED = "{n} passed — passing is always fine."
REFLECTION_HEADING = "Reflective practice — {topic}"
STEP_HEADING = "Step {n} — {question} ({name})"
ACTIONS_HEADING = "Actions agreed"
ACTION_LINE = "{n}. {text} — {owner}{due} — {status}"
THE_GROUP = "the group"
STATUS_NOW = {"open": "open", "done": "done", "dropped": "dropped"}
NEXT_HEADING = "Next time"
NEXT_TOPIC = "Lead topic chosen: {topic}"
NEXT_LEAD = "Lead chosen: {lead}"
ITEMS_HEADING = "Agenda items taken"
NOTHING_ELSE = "Nothing else was recorded at this meeting."
FILE_NAME = "minutes-{slug}-{day}.md"
MEDIA_TYPE = "text/markdown"

router = FlowRouter("minutes")


def _lead(lead: Lead | None) -> str:
    if lead is None:
        return THE_CO_CHAIRS
    return lead.name or A_FORMER_MEMBER


def _present(n: int) -> str:
    if n == 0:
        return NOBODY_COUNTED
    return THERE_ONE if n == 1 else THERE.format(n=n)


# -- `/cop meetings` ------------------------------------------------------------------------


@router.verb(
    "meetings",
    "meetings",
    "Our past meetings, newest first: who led each, the topic reflected on and how many were there.",
)
async def meetings(turn: Turn, cmd: Command) -> list[Post]:
    community = turn.require_community()
    today = await _today(turn)
    found = await store.past_meetings(turn.session, community.id, max(today, turn.today))
    if not found:
        return [turn.private(NO_MEETINGS)]
    lines = tuple(_meeting_line(summary) for summary in found) + (MEETINGS_HOW_TO,)
    return [turn.private(MEETINGS_HEADING.format(community=community.name), sections=(Section("", lines),))]


def _meeting_line(summary: MeetingSummary) -> str:
    return MEETING_LINE.format(
        day=short_day(summary.meeting.held_on),
        lead=_lead(summary.lead),
        topic=summary.topic or NO_TOPIC,
        present=_present(summary.present),
    )


# -- `/cop minutes [date]` ------------------------------------------------------------------


@router.verb(
    "minutes",
    "minutes [date]",
    "Posts the record of a meeting in the channel (the last one held, or the one on that date): the support "
    "statements, the reflection step by step, the actions agreed and where they stand, the topic and lead "
    "chosen for next time; also as a Markdown file where the platform takes files.",
)
async def minutes(turn: Turn, cmd: Command) -> list[Post]:
    community = turn.require_community()
    schedule = await schedules.schedule_of(turn.session, community.id, turn.now)
    today = meeting_calendar.local(turn.now, schedule.zone).date()
    if cmd.rest.strip():
        day = day_asked(cmd.rest, today)
        meeting = await store.meeting_held_on(turn.session, community.id, day)
        if meeting is None:
            return [turn.private(NO_MEETING_ON.format(day=long_day(day)))]
    else:
        meeting = await store.last_meeting(turn.session, community.id, max(today, turn.today))
        if meeting is None:
            return [turn.private(NO_MEETINGS)]
    record = await store.meeting_record(turn.session, community.id, meeting, schedule.zone)
    return [minutes_post(community.name, record)]


def day_asked(words: str, today: date) -> date:
    """The day a member asks about, read by the one date reader. A date without its year
    ("16 December") is the last such day, not the next: minutes look back."""
    day = meeting_calendar.parse_date(words, today)
    phrase = " ".join(words.split())
    if day > today and dates.relative_day(phrase, today) is None:
        earlier = dates.calendar_day(phrase, today - relativedelta(years=1), month_alone=False)
        if earlier is not None and earlier <= today:
            return earlier
    return day


def minutes_post(community: str, record: MeetingRecord) -> Post:
    """The record as a channel post, with the same record as a Markdown file."""
    held_on = record.meeting.held_on
    text = MINUTES_HEADING.format(community=community, day=long_day(held_on))
    text += "\n" + LED_BY.format(lead=_lead(record.lead), present=_present(record.present).capitalize())
    if record.topic:
        text += "\n" + TOPIC_LINE.format(topic=record.topic)
    sections = minutes_sections(record)
    if not sections:
        sections = (Section("", (NOTHING_ELSE,)),)
    attachment = Attachment(file_name(community, held_on), MEDIA_TYPE, render_markdown(community, record))
    return Post(text, sections=sections, attachment=attachment)


def minutes_sections(record: MeetingRecord) -> tuple[Section, ...]:
    """The flipchart of the day, part by part, as plain-text sections (adapters escape them)."""
    sections: list[Section] = []
    if record.statements or record.passes:
        lines = [_shared_line(shared) for shared in record.statements]
        if record.passes:
            lines.append(PASSED.format(n=record.passes))
        sections.append(Section(SUPPORT_HEADING, tuple(lines)))
    for reflection in record.reflections:
        sections.append(Section(REFLECTION_HEADING.format(topic=reflection.topic)))
        for step in gibbs.STEPS:
            answers = reflection.answers.get(step.number, ())
            if answers:
                sections.append(Section(_step_heading(step), tuple(_shared_line(a) for a in answers)))
    if record.actions:
        sections.append(Section(ACTIONS_HEADING, tuple(_action_line(view) for view in record.actions)))
    next_time = _next_time(record)
    if next_time:
        sections.append(Section(NEXT_HEADING, next_time))
    if record.agenda_items:
        sections.append(Section(ITEMS_HEADING, record.agenda_items))
    return tuple(sections)


def _step_heading(step: gibbs.GibbsStep) -> str:
    return STEP_HEADING.format(n=step.number, question=step.question, name=step.name)


def _shared_line(shared: Shared) -> str:
    return f"{shared.author or WITHOUT_A_NAME}: {shared.text}"


def _action_parts(view: ActionView) -> dict[str, str]:
    return {
        "n": str(view.number),
        "text": view.text,
        "owner": view.owner or THE_GROUP,
        "due": f", due {short_day(view.due_on)}" if view.due_on else "",
        "status": STATUS_NOW.get(view.status, view.status),
    }


def _action_line(view: ActionView) -> str:
    return ACTION_LINE.format(**_action_parts(view))


def _next_time(record: MeetingRecord) -> tuple[str, ...]:
    lines = []
    if record.next_topic:
        lines.append(NEXT_TOPIC.format(topic=record.next_topic))
    if record.next_lead is not None:
        lines.append(NEXT_LEAD.format(lead=_lead(record.next_lead)))
    return tuple(lines)


# -- the same record as Markdown ------------------------------------------------------------

# Everything CommonMark (and GitHub's dialect: tables, strikethrough, math) could read as markup
# inside a line; and what starts a block at the start of one.
_INLINE = re.compile(r"([\\`*_{}\[\]<>#|~&$])")
_LINE_START = re.compile(r"^([-+=>])|^(\d+)([.)])(?=\s|$)")


def md_escape(text: str) -> str:
    """Member text as Markdown that shows exactly these words: a ``# heading``, a
    ``[link](x)``, ``<html>``, a list or a table typed by a member stays text. Line breaks are
    kept as hard breaks, so the text stays inside the list item it belongs to."""
    lines = [line.strip() for line in text.replace("\r", "\n").split("\n")]
    escaped = [_LINE_START.sub(_block_start, _INLINE.sub(r"\\\1", line)) for line in lines if line]
    return "  \n  ".join(escaped)


def _block_start(found: re.Match[str]) -> str:
    """``- a`` → ``\\- a``; ``1. b`` → ``1\\. b``: the line stays a line of text."""
    if found.group(1):
        return "\\" + found.group(1)
    return found.group(2) + "\\" + found.group(3)


def file_name(community: str, day: date) -> str:
    """``minutes-north-west-2026-12-16.md``: the community's name in plain ASCII."""
    return FILE_NAME.format(slug=slug(community), day=day.isoformat())


def slug(community: str) -> str:
    """``north-west``: a community's name in plain ASCII, for a file's name."""
    plain = unicodedata.normalize("NFKD", community).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:40].strip("-") or "community"


def render_markdown(community: str, record: MeetingRecord) -> str:
    """The record as a Markdown document: member text escaped (`md_escape`), no author for
    what was shared without a name."""
    held_on = record.meeting.held_on
    out = [f"# {md_escape(MINUTES_HEADING.format(community=community, day=long_day(held_on)))}", ""]
    out.append(f"- **Led by:** {md_escape(_lead(record.lead))}")
    if record.topic:
        out.append(f"- **Lead topic:** {md_escape(record.topic)}")
    out.append(f"- **There:** {record.present}")
    out.append("")
    if record.statements or record.passes:
        out += ["## Support round", "", "*I will support myself today by …*", ""]
        out += [_md_shared(shared) for shared in record.statements]
        if record.passes:
            out += ["", PASSED.format(n=record.passes)]
        out.append("")
    for reflection in record.reflections:
        out += [f"## Reflective practice: {md_escape(reflection.topic)}", ""]
        for step in gibbs.STEPS:
            answers = reflection.answers.get(step.number, ())
            if answers:
                out += [f"### {md_escape(_step_heading(step))}", ""]
                out += [_md_shared(answer) for answer in answers]
                out.append("")
    if record.actions:
        out += [f"## {ACTIONS_HEADING}", ""]
        for view in record.actions:
            parts = {key: md_escape(value) for key, value in _action_parts(view).items()}
            out.append(f"- **{parts['n']}\\.** {parts['text']} — {parts['owner']}{parts['due']} — *{parts['status']}*")
        out.append("")
    next_time = _next_time(record)
    if next_time:
        out += [f"## {NEXT_HEADING}", ""]
        out += [f"- {md_escape(line)}" for line in next_time]
        out.append("")
    if record.agenda_items:
        out += [f"## {ITEMS_HEADING}", ""]
        out += [f"- {md_escape(item)}" for item in record.agenda_items]
        out.append("")
    if not (record.statements or record.passes or record.reflections or record.actions or next_time):
        out += [NOTHING_ELSE, ""]
    return "\n".join(out)


def _md_shared(shared: Shared) -> str:
    who = f"**{md_escape(shared.author)}:**" if shared.author else f"*{WITHOUT_A_NAME}:*"
    return f"- {who} {md_escape(shared.text)}"


# -- for other parts of copbot --------------------------------------------------------------


async def minutes_markdown(session: AsyncSession, community_id: int, meeting: Meeting) -> str:
    """A meeting's record as Markdown (what `/cop minutes` attaches): for the Slack canvas and
    anything else that shows the last meeting's minutes. Reads only."""
    community = await session.get(Community, community_id)
    name = community.name if community is not None else ""
    zone = await session.scalar(select(MeetingSchedule.zone).where(MeetingSchedule.community_id == community_id))
    record = await store.meeting_record(session, community_id, meeting, zone or "Europe/Dublin")
    return render_markdown(name, record)


async def last_meeting(session: AsyncSession, community_id: int, until: date) -> Meeting | None:
    """The community's latest meeting held on ``until`` or before (`storage.minutes.last_meeting`)."""
    return await store.last_meeting(session, community_id, until)


async def _today(turn: Turn) -> date:
    schedule = await schedules.schedule_of(turn.session, turn.require_community().id, turn.now)
    return meeting_calendar.local(turn.now, schedule.zone).date()
