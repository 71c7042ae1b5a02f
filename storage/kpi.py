"""What the KPI report reads: for one community and one year, the meetings held (with how many
were there and the reflections held), the agendas' claims, the actions agreed and closed, the
topics chosen, the co-chairs' terms and the review's satisfaction ratings. Counts and days only:
no member text, no names, no member ids leave this module."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    ActionItem,
    Announcement,
    Attendance,
    CoChairTerm,
    Community,
    DayOff,
    Meeting,
    MeetingSchedule,
    Reflection,
    ReviewAnswer,
    ReviewSurvey,
    TopicVote,
)
from storage.states import ActionStatus, VoteStatus

SATISFACTION = "satisfaction"  # the review question whose ratings the report gives (flows.review_survey)
AGENDA = "agenda"  # the announcement kind of a meeting's agenda (flows.announcements)
# Moments are kept in UTC; the report places them on the community's local day, so it reads a
# little beyond the year and the flow keeps what falls inside it.
MARGIN = timedelta(days=2)


@dataclass(frozen=True)
class MeetingHeld:
    """A meeting on its day: how many were there, how many reflections were held at it."""

    held_on: date
    present: int
    reflections: int


@dataclass(frozen=True)
class AgendaClaim:
    """A scheduled agenda: the meeting's planned day, the start it told, when it went out
    (``skipped``: its window had passed, it never went out)."""

    occurrence: date
    due_for: datetime
    sent_at: datetime
    skipped: bool


@dataclass(frozen=True)
class ChairTermSpan:
    """A co-chair's term, without its co-chair: from ``starts_on`` until ``replaced_on`` (None: in post)."""

    starts_on: date
    replaced_on: date | None


@dataclass(frozen=True)
class CommunityYear:
    """One community's stored figures around one year (the flow places them in quarters)."""

    name: str
    zone: str
    country: str
    days_off: tuple[date, ...]
    meetings: tuple[MeetingHeld, ...]
    agendas: tuple[AgendaClaim, ...]
    actions_agreed: tuple[date | datetime, ...]  # the meeting's day, or when it was added
    actions_closed: tuple[tuple[str, datetime], ...]  # (done or dropped, when)
    topics_chosen: tuple[date, ...]  # the day of the meeting whose vote chose it
    chair_terms: tuple[ChairTermSpan, ...]
    survey_closed: bool
    survey_responses: int
    satisfaction: tuple[int, ...]  # every rating given (the flow shows a median only at k ≥ 3)


async def communities(session: AsyncSession, name: str | None = None) -> list[Community]:
    """Every community by name, or the one so named (case apart): [] when none is."""
    query = select(Community).order_by(Community.name)
    if name is not None:
        query = query.where(func.lower(Community.name) == name.strip().lower())
    return list(await session.scalars(query))


def _year_window(year: int) -> tuple[datetime, datetime]:
    start = datetime.combine(date(year, 1, 1), time(), UTC) - MARGIN
    end = datetime.combine(date(year + 1, 1, 1), time(), UTC) + MARGIN
    return start, end


async def community_year(session: AsyncSession, community: Community, year: int) -> CommunityYear:
    """What the report needs of ``community`` in ``year`` (moments read with a margin)."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    start, end = _year_window(year)
    schedule = await session.scalar(select(MeetingSchedule).where(MeetingSchedule.community_id == community.id))
    days_off = tuple(await session.scalars(select(DayOff.day).where(DayOff.community_id == community.id)))

    present = (
        select(func.count(Attendance.id))
        .where(Attendance.meeting_id == Meeting.id)
        .correlate(Meeting)
        .scalar_subquery()
    )
    held = (
        select(func.count(Reflection.id))
        .where(Reflection.meeting_id == Meeting.id)
        .correlate(Meeting)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(Meeting.held_on, present, held)
        .where(Meeting.community_id == community.id, Meeting.held_on.between(first, last))
        .order_by(Meeting.held_on)
    )
    meetings = tuple(MeetingHeld(day, int(n or 0), int(r or 0)) for day, n, r in rows.all())

    claims = await session.execute(
        select(Announcement.occurrence, Announcement.due_for, Announcement.created_at, Announcement.skipped)
        .where(
            Announcement.community_id == community.id,
            Announcement.kind == AGENDA,
            Announcement.due_for.between(start, end),
        )
        .order_by(Announcement.due_for)
    )
    agendas = tuple(AgendaClaim(o, due, sent, bool(skipped)) for o, due, sent, skipped in claims.all())

    agreed_rows = await session.execute(
        select(Meeting.held_on, ActionItem.created_at)
        .select_from(ActionItem)
        .outerjoin(Meeting, Meeting.id == ActionItem.meeting_id)
        .where(ActionItem.community_id == community.id, ActionItem.created_at.between(start, end))
    )
    agreed: list[date | datetime] = []
    for held_on, created_at in agreed_rows.all():
        agreed.append(held_on if held_on is not None else created_at)

    closed_rows = await session.execute(
        select(ActionItem.status, ActionItem.closed_at).where(
            ActionItem.community_id == community.id,
            ActionItem.status.in_((ActionStatus.DONE.value, ActionStatus.DROPPED.value)),
            ActionItem.closed_at.between(start, end),
        )
    )
    closed = tuple((str(status), at) for status, at in closed_rows.all() if at is not None)

    topics = tuple(
        await session.scalars(
            select(Meeting.held_on)
            .select_from(TopicVote)
            .join(Meeting, Meeting.id == TopicVote.meeting_id)
            .where(
                TopicVote.community_id == community.id,
                TopicVote.status == VoteStatus.CLOSED.value,
                TopicVote.winner_topic_id.is_not(None),
                Meeting.held_on.between(first, last),
            )
            .order_by(Meeting.held_on)
        )
    )

    terms = await session.execute(
        select(CoChairTerm.starts_on, CoChairTerm.replaced_on).where(
            CoChairTerm.community_id == community.id, CoChairTerm.starts_on <= last
        )
    )
    spans = tuple(ChairTermSpan(s, r) for s, r in terms.all())

    survey = await session.scalar(
        select(ReviewSurvey).where(ReviewSurvey.community_id == community.id, ReviewSurvey.year == year)
    )
    ratings: tuple[int, ...] = ()
    closed_survey = survey is not None and survey.closed_on is not None
    if survey is not None and closed_survey:
        found = await session.scalars(
            select(ReviewAnswer.rating).where(
                ReviewAnswer.survey_id == survey.id,
                ReviewAnswer.question == SATISFACTION,
                ReviewAnswer.rating.is_not(None),
            )
        )
        ratings = tuple(sorted(int(r) for r in found if r is not None))

    return CommunityYear(
        name=community.name,
        zone=schedule.zone if schedule is not None else "Europe/Dublin",
        country=schedule.country if schedule is not None else "IE",
        days_off=days_off,
        meetings=meetings,
        agendas=agendas,
        actions_agreed=tuple(agreed),
        actions_closed=closed,
        topics_chosen=topics,
        chair_terms=spans,
        survey_closed=closed_survey,
        survey_responses=int(survey.responses or 0) if survey is not None else 0,
        satisfaction=ratings,
    )
