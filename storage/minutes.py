"""The record of a meeting, read in one place: the community's past meetings (who led each, the
topic reflected on, how many were there) and everything one meeting put on its flipchart — the
support statements, the reflection's answers step by step, the actions agreed (as they stand
now), the topic and lead chosen for next time and the agenda items taken. Read only.

Anonymity holds here: an answer shared without a name has no author in the database, so none is
read; a forgotten member's words were deleted by forget-me, so they are not read either."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.vocabulary.moments import stored_utc
from storage import attendance, support_rounds
from storage.actions import ActionView, agreed_at
from storage.models import (
    AgendaItem,
    Attendance,
    LeadTurn,
    Meeting,
    Member,
    Reflection,
    ReflectionAnswer,
    SupportRound,
    SupportStatement,
    Topic,
    TopicVote,
)
from storage.states import AgendaItemStatus, LeadStatus, VoteStatus

MEETINGS_LISTED = 12  # three years of quarterly meetings


@dataclass(frozen=True)
class Lead:
    """Who led a meeting, or was chosen to lead the next: ``name`` None once they used forget-me."""

    name: str | None


@dataclass(frozen=True)
class MeetingSummary:
    """One past meeting as `/cop meetings` lists it."""

    meeting: Meeting
    lead: Lead | None  # None: no lead was confirmed for it (the co-chairs led it)
    topic: str | None  # the topic reflected on (else the lead topic chosen for it)
    present: int


@dataclass(frozen=True)
class Shared:
    """One answer on the flipchart: ``author`` None when shared without a name."""

    author: str | None
    text: str


@dataclass(frozen=True)
class ReflectionRecord:
    """One reflection held at the meeting: its topic and its answers by step number."""

    topic: str
    answers: dict[int, tuple[Shared, ...]]


@dataclass(frozen=True)
class MeetingRecord:
    """Everything one meeting put on its flipchart, as it stands now."""

    meeting: Meeting
    lead: Lead | None
    present: int
    statements: tuple[Shared, ...]
    passes: int
    reflections: tuple[ReflectionRecord, ...]
    actions: tuple[ActionView, ...]
    next_topic: str | None  # the vote's winner at this meeting
    next_lead: Lead | None  # the lead confirmed at this meeting for the next
    agenda_items: tuple[str, ...]

    @property
    def topic(self) -> str | None:
        """The topic reflected on (the first reflection's), else the lead topic chosen for it."""
        return self.reflections[0].topic if self.reflections else self.meeting.lead_topic


async def last_meeting(session: AsyncSession, community_id: int, until: date) -> Meeting | None:
    """The community's latest meeting held on ``until`` or before (None: none yet)."""
    return await session.scalar(
        select(Meeting)
        .where(Meeting.community_id == community_id, Meeting.held_on <= until)
        .order_by(Meeting.held_on.desc())
        .limit(1)
    )


async def meeting_held_on(session: AsyncSession, community_id: int, day: date) -> Meeting | None:
    return await session.scalar(select(Meeting).where(Meeting.community_id == community_id, Meeting.held_on == day))


async def past_meetings(
    session: AsyncSession, community_id: int, until: date, limit: int = MEETINGS_LISTED
) -> list[MeetingSummary]:
    """The latest ``limit`` meetings held on ``until`` or before, newest first."""
    meetings = list(
        await session.scalars(
            select(Meeting)
            .where(Meeting.community_id == community_id, Meeting.held_on <= until)
            .order_by(Meeting.held_on.desc())
            .limit(limit)
        )
    )
    if not meetings:
        return []
    ids = [m.id for m in meetings]
    counts = dict(
        (
            await session.execute(
                select(Attendance.meeting_id, func.count(Attendance.id))
                .where(Attendance.meeting_id.in_(ids))
                .group_by(Attendance.meeting_id)
            )
        ).all()
    )
    topics: dict[int, str] = {}
    for meeting_id, topic in (
        await session.execute(
            select(Reflection.meeting_id, Reflection.topic)
            .where(Reflection.meeting_id.in_(ids))
            .order_by(Reflection.id)
        )
    ).all():
        topics.setdefault(meeting_id, topic)
    days = await _meeting_days(session, community_id)
    confirmed = await _confirmed_leads(session, community_id)
    return [
        MeetingSummary(
            meeting=m,
            lead=_led(m.held_on, days, confirmed),
            topic=topics.get(m.id, m.lead_topic),
            present=int(counts.get(m.id, 0)),
        )
        for m in meetings
    ]


async def meeting_record(session: AsyncSession, community_id: int, meeting: Meeting, zone: str) -> MeetingRecord:
    """The whole record of ``meeting``; ``zone`` is the community's (an agenda is filed under
    its meeting's start, which falls on the meeting's day there)."""
    days = await _meeting_days(session, community_id)
    confirmed = await _confirmed_leads(session, community_id)
    statements, passes = await _statements(session, meeting.id)
    return MeetingRecord(
        meeting=meeting,
        lead=_led(meeting.held_on, days, confirmed),
        present=await attendance.present_count(session, meeting.id),
        statements=statements,
        passes=passes,
        reflections=await _reflections(session, meeting.id),
        actions=tuple(await agreed_at(session, meeting.id)),
        next_topic=await _topic_chosen(session, meeting.id),
        next_lead=_chosen(meeting.held_on, days, confirmed),
        agenda_items=await _agenda_items(session, community_id, meeting.held_on, zone),
    )


async def _statements(session: AsyncSession, meeting_id: int) -> tuple[tuple[Shared, ...], int]:
    """The support statements of the meeting's rounds in the order shared, and the passes counted."""
    rounds = list(
        await session.scalars(
            select(SupportRound.id).where(SupportRound.meeting_id == meeting_id).order_by(SupportRound.id)
        )
    )
    shared: list[Shared] = []
    passes = 0
    for round_id in rounds:
        shared += [Shared(name, text) for name, text in await support_rounds.support_statements(session, round_id)]
        passes += int(
            await session.scalar(
                select(func.count(SupportStatement.id)).where(
                    SupportStatement.round_id == round_id, SupportStatement.passed.is_(True)
                )
            )
            or 0
        )
    return tuple(shared), passes


async def _reflections(session: AsyncSession, meeting_id: int) -> tuple[ReflectionRecord, ...]:
    found = list(
        await session.scalars(select(Reflection).where(Reflection.meeting_id == meeting_id).order_by(Reflection.id))
    )
    records = []
    for reflection in found:
        rows = await session.execute(
            select(ReflectionAnswer.step, Member.name, ReflectionAnswer.text)
            .select_from(ReflectionAnswer)
            .outerjoin(Member, Member.id == ReflectionAnswer.member_id)
            .where(ReflectionAnswer.reflection_id == reflection.id)
            .order_by(ReflectionAnswer.step, ReflectionAnswer.created_at, ReflectionAnswer.id)
        )
        by_step: dict[int, list[Shared]] = {}
        for step, name, text in rows.all():
            by_step.setdefault(int(step), []).append(Shared(name, text))
        records.append(ReflectionRecord(reflection.topic, {step: tuple(a) for step, a in by_step.items()}))
    return tuple(records)


async def _topic_chosen(session: AsyncSession, meeting_id: int) -> str | None:
    """The winner of the last vote closed at the meeting (None: no vote, or nobody voted)."""
    return await session.scalar(
        select(Topic.title)
        .join(TopicVote, TopicVote.winner_topic_id == Topic.id)
        .where(TopicVote.meeting_id == meeting_id, TopicVote.status == VoteStatus.CLOSED.value)
        .order_by(TopicVote.id.desc())
        .limit(1)
    )


async def _agenda_items(session: AsyncSession, community_id: int, day: date, zone: str) -> tuple[str, ...]:
    """The accepted items of the agenda posted for a meeting starting on ``day`` (local)."""
    start = datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    found = await session.scalars(
        select(AgendaItem.text)
        .where(
            AgendaItem.community_id == community_id,
            AgendaItem.status == AgendaItemStatus.ACCEPTED.value,
            AgendaItem.agenda_of >= start,
            AgendaItem.agenda_of < end,
        )
        .order_by(AgendaItem.number)
    )
    return tuple(found)


# -- who led: a lead confirmed on a day leads the first meeting held after that day -----------


async def _meeting_days(session: AsyncSession, community_id: int) -> list[date]:
    return list(
        await session.scalars(
            select(Meeting.held_on).where(Meeting.community_id == community_id).order_by(Meeting.held_on)
        )
    )


async def _confirmed_leads(session: AsyncSession, community_id: int) -> list[tuple[date, str | None]]:
    """(day confirmed, name or None once forgotten), oldest first."""
    rows = await session.execute(
        select(LeadTurn.confirmed_at, Member.name)
        .select_from(LeadTurn)
        .outerjoin(Member, Member.id == LeadTurn.member_id)
        .where(
            LeadTurn.community_id == community_id,
            LeadTurn.status == LeadStatus.CONFIRMED.value,
            LeadTurn.confirmed_at.is_not(None),
        )
        .order_by(LeadTurn.confirmed_at, LeadTurn.id)
    )
    return [(stored_utc(at).date(), name) for at, name in rows.all() if isinstance(at, datetime)]


def _led(day: date, days: list[date], confirmed: list[tuple[date, str | None]]) -> Lead | None:
    """The lead of the meeting on ``day``: the last confirmed before it, unless an earlier
    meeting came between (then that one was theirs)."""
    before = [(on, name) for on, name in confirmed if on < day]
    if not before:
        return None
    on, name = before[-1]
    if any(on < held < day for held in days):
        return None
    return Lead(name)


def _chosen(day: date, days: list[date], confirmed: list[tuple[date, str | None]]) -> Lead | None:
    """The lead confirmed at the meeting on ``day`` for the next one: the last confirmed from
    that day until the next meeting."""
    later = [held for held in days if held > day]
    until = later[0] if later else None
    chosen = [(on, name) for on, name in confirmed if on >= day and (until is None or on < until)]
    return Lead(chosen[-1][1]) if chosen else None
