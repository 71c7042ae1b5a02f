"""The agenda, on the guide's templates: the standard one of every meeting after the first
(support round, reflective practice on the lead topic, the next session's topic and lead, the
items members placed, next steps) and the first-meeting agenda. `agenda_lines` fills either;
the scheduler posts it, `/cop agenda` shows the draft, and `/cop meeting` shows today's in
order with where the meeting is now: today's lead topic (the reflection's, once one is held,
else the one chosen last time), the parts done, the one open."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.registry import Command, FlowRouter
from bot.vocabulary.conversation import Post, Section
from bot.vocabulary.text import plural
from flows import meeting_calendar as calendar
from flows.actions import action_line, closed_line
from flows.schedule import Planned, upcoming
from flows.turn import Turn
from storage import actions, agenda_items, leads, meeting_day, reflections, support_rounds, votes
from storage import schedule as schedules
from storage.models import Community, MeetingSchedule, Member, SupportRound, TopicVote
from storage.states import RoundStatus, VoteStatus

AGENDA = "Agenda — {community}, {when}{link}"
HEADING = "Our meeting, in order — {community}"
FIRST_HEADING = "Our first meeting, in order — {community}"
TODAYS_LEAD = "\nLed today by {name}, with the co-chairs."
NO_TOPIC = "to be chosen"
NO_DATE = "to be set"
SUPPORT = "the support round: “I will support myself today by …”"
NEXT_STEPS = "Next steps: the actions recap ({actions}), and the date of the next meeting: {next}"
OPEN_NOW = " — open now"
AT_STEP = " — now at step {step} of 6"
DONE = " — done"
VOTE_OPEN = " — the vote is open"
VOTE_TIED = " — the vote ended in a tie: a co-chair picks the topic"
VOTE_DONE = " — done: our next lead topic is {title}"
VOTE_NO_WINNER = " — done: nobody voted, so no new lead topic was chosen"
VOTE_CANCELLED = " — the vote was cancelled: nothing was decided"
NEXT_LEAD = " — next lead: {name}"
OPEN_ACTIONS = "Open actions (owner, due date)"
CLOSED_SINCE = "Closed since our last meeting"
CLOSED_EVER = "Closed so far"
MORE_ACTIONS = "… and {n} more: `/cop actions` lists them all"
REPORT_LINES = 12  # actions listed in each part of the report back; the rest are counted


@dataclass(frozen=True)
class Part:
    """One part of the agenda: ``kind`` says which flow runs it (support, reflection, vote,
    next) so `/cop meeting` can say where it is; ``hint`` is the command that starts it."""

    kind: str
    text: str
    hint: str = ""


@dataclass(frozen=True)
class Filling:
    """What fills a template in: the lead topic and lead chosen last time, the accepted items,
    the open actions and the date of the meeting after this one."""

    topic: str | None
    lead: str | None
    items: tuple[str, ...]
    actions: int
    next_meeting: str | None


def agenda_parts(first: bool, filling: Filling) -> list[Part]:
    """The parts of one meeting, in the guide's order."""
    topic = filling.topic or NO_TOPIC
    led_by = f", led by {filling.lead}" if filling.lead else ""
    if first:
        parts = [
            Part("support", f"Introductions, and {SUPPORT}", "/cop support"),
            Part("", "What a Community of Practice is"),
            Part("reflection", f"A reflective-practice session (topic: {topic}{led_by})", "/cop reflect"),
            Part("", "Our Terms of Reference", "/cop tor"),
            Part("", "Breakout groups: starting our vision"),
            Part("vote", "Choosing the topic and the chair of our next meeting", "/cop vote, /cop lead"),
        ]
    else:
        parts = [
            Part("support", f"Welcome, and {SUPPORT}", "/cop support"),
            Part(
                "reflection",
                f"Reflective practice on the lead topic: {topic}{led_by}, in Gibbs' six steps",
                "/cop reflect",
            ),
            Part("vote", "Next session: vote on the lead topic, and choose who leads it", "/cop vote, /cop lead"),
        ]
    parts += [Part("item", item) for item in filling.items]
    actions = plural(filling.actions, "action") + " open" if filling.actions else "no actions open"
    parts.append(Part("next", NEXT_STEPS.format(actions=actions, next=filling.next_meeting or NO_DATE)))
    return parts


def agenda_lines(parts: list[Part], status: dict[str, str] | None = None, hints: bool = False) -> tuple[str, ...]:
    """``1. …`` lines; ``status`` adds where the meeting is ("open now") to a kind of part."""
    lines = []
    for n, part in enumerate(parts, 1):
        hint = f" (`{part.hint}`)" if hints and part.hint else ""
        lines.append(f"{n}. {part.text}{hint}{(status or {}).get(part.kind, '')}")
    return tuple(lines)


def when(schedule: MeetingSchedule, moment: datetime) -> str:
    """A meeting's start in the community's words and zone: "Tuesday 9 February 2027 at 10:30"."""
    at = calendar.local(moment, schedule.zone)
    return f"{at.strftime('%A')} {at.day} {at.strftime('%B %Y')} at {at.strftime('%H:%M')} ({schedule.zone})"


async def filling(
    session: AsyncSession,
    community: Community,
    schedule: MeetingSchedule,
    *,
    lead: Member | None,
    after: datetime,
    items: list[str],
) -> Filling:
    """The template's filling for a coming meeting led by ``lead`` (on the topic chosen last
    time), with the date of the first meeting after ``after`` (this meeting's start)."""
    coming = await upcoming(session, schedule, after + timedelta(minutes=1), count=1)
    return Filling(
        topic=community.next_topic,
        lead=lead.name if lead else None,
        items=tuple(items),
        actions=await actions.open_actions(session, community.id),
        next_meeting=when(schedule, coming[0].starts_at) if coming else None,
    )


async def is_first_meeting(session: AsyncSession, community_id: int, day: date) -> bool:
    return not await schedules.has_met(session, community_id, day)


async def meeting_agenda(
    session: AsyncSession,
    community: Community,
    schedule: MeetingSchedule,
    meeting: Planned,
    items: list[str],
    now: datetime,
    *,
    heading: str = AGENDA,
    key: str | None = None,
) -> Post:
    """The agenda of one coming meeting on its template (the first-meeting agenda if the
    community has not met before), with its date, time and joining link. Needs no member's turn."""
    link = f"\nJoin: {schedule.join_link}" if schedule.join_link else ""
    lead = await leads.next_lead(session, community.id)  # chosen at the last meeting
    fill = await filling(session, community, schedule, lead=lead, after=meeting.starts_at, items=items)
    parts = agenda_parts(await is_first_meeting(session, community.id, meeting.day), fill)
    text = heading.format(community=community.name, when=when(schedule, meeting.starts_at), link=link)
    report = await report_back(session, community, schedule, meeting.day, now)
    return Post(text, sections=(Section("", agenda_lines(parts)), *report), key=key)


async def report_back(
    session: AsyncSession, community: Community, schedule: MeetingSchedule, day: date, now: datetime
) -> tuple[Section, ...]:
    """Closing the loop, for the meeting of ``day``: the open actions with their owners and due
    dates, and what was done or dropped since the meeting before it, with who closed each."""
    today = calendar.local(now, schedule.zone).date()
    sections = []
    open_now = await actions.open_list(session, community.id)
    if open_now:
        sections.append(Section(OPEN_ACTIONS, _capped([action_line(view, today) for view in open_now])))
    before = await meeting_day.last_held_before(session, community.id, day)
    since = calendar.to_utc(before, time(0, 0), schedule.zone) if before else None
    closed = await actions.closed_since(session, community.id, since)
    if closed:
        heading = CLOSED_SINCE if before else CLOSED_EVER
        sections.append(Section(heading, _capped([closed_line(view, schedule.zone) for view in closed])))
    return tuple(sections)


def _capped(lines: list[str]) -> tuple[str, ...]:
    if len(lines) <= REPORT_LINES:
        return tuple(lines)
    return (*lines[: REPORT_LINES - 1], MORE_ACTIONS.format(n=len(lines) - REPORT_LINES + 1))


router = FlowRouter("agenda")


@router.verb(
    "meeting",
    "meeting",
    "Today's meeting in order (the first-meeting agenda at a community's first), with where we are: "
    "today's lead topic (the reflection's once one is held, else the one chosen last time; a vote today "
    "chooses the next meeting's), the parts done and the one open.",
)
async def meeting(turn: Turn, cmd: Command) -> list[Post]:
    return [await agenda_post(turn.session, turn.require_community(), turn.now)]


async def agenda_post(session: AsyncSession, community: Community, now: datetime) -> Post:
    """Today's agenda with where the meeting is now: today's lead topic, the parts done and the
    one open. Needs no member's turn, and makes no meeting."""
    schedule = await schedules.schedule_of(session, community.id, now)
    today = calendar.local(now, schedule.zone).date()
    start_of_day = calendar.to_utc(today, time(0, 0), schedule.zone)
    end_of_day = calendar.to_utc(today + timedelta(days=1), time(0, 0), schedule.zone)
    todays: Planned | None = next(
        (m for m in await upcoming(session, schedule, start_of_day, count=1) if m.day == today), None
    )
    placed = await agenda_items.on_agenda_of(session, community.id, todays.starts_at) if todays else []
    waiting = await agenda_items.accepted_in_draft(session, community.id)
    items = [item.text for item in placed + waiting]
    # The flows file a meeting's parts under the day of their clock (`Turn.today`).
    day = await meeting_day.meeting_day(session, community.id, now.date(), start_of_day, end_of_day)
    reflection = await reflections.open_reflection(session, community.id)
    todays_lead = await leads.lead_before(session, community.id, today)
    fill = await filling(
        session, community, schedule, lead=todays_lead, after=end_of_day - timedelta(minutes=1), items=items
    )
    fill = replace(fill, topic=_todays_topic(community, day, reflection.topic if reflection else None))
    chosen_today = await leads.next_lead(session, community.id)
    first = await is_first_meeting(session, community.id, today)
    support_open = await support_rounds.open_support_round(session, community.id) is not None
    vote = await votes.open_vote(session, community.id) or day.vote
    status = {
        "support": OPEN_NOW if support_open else DONE if _closed(day.support) else "",
        "reflection": AT_STEP.format(step=reflection.step) if reflection else DONE if day.reflection else "",
        "vote": await _vote_status(session, vote)
        + (NEXT_LEAD.format(name=chosen_today.name) if chosen_today and chosen_today.name != fill.lead else ""),
    }
    heading = (FIRST_HEADING if first else HEADING).format(community=community.name)
    if todays_lead is not None:
        heading += TODAYS_LEAD.format(name=todays_lead.name)
    lines = agenda_lines(agenda_parts(first, fill), status, hints=True)
    return Post(heading, sections=(Section("", lines),))


def _todays_topic(community: Community, day: meeting_day.MeetingDay, reflecting_on: str | None) -> str | None:
    """Today's lead topic: the topic of the reflection open now or held today; else the one
    chosen last time, as today's meeting took it when it began (a vote closed today chooses
    the next meeting's); before any part began, the community's next topic is still today's."""
    if reflecting_on:
        return reflecting_on
    if day.reflection is not None:
        return day.reflection.topic
    if day.meeting is not None:
        return day.meeting.lead_topic
    return community.next_topic


def _closed(support_round: SupportRound | None) -> bool:
    return support_round is not None and support_round.status == RoundStatus.CLOSED


async def _vote_status(session: AsyncSession, vote: TopicVote | None) -> str:
    """Where the vote is: open, tied, done (with the topic chosen) or cancelled; "" before it."""
    if vote is None:
        return ""
    if vote.status == VoteStatus.OPEN:
        return VOTE_OPEN
    if vote.status == VoteStatus.TIED:
        return VOTE_TIED
    if vote.status == VoteStatus.CANCELLED:
        return VOTE_CANCELLED
    winner = await votes.winner_of(session, vote)
    return VOTE_DONE.format(title=winner.title) if winner is not None else VOTE_NO_WINNER
