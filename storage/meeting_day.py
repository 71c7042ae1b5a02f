"""What a community's meeting of one day has done so far: its row (with the lead topic chosen
last time), and the support round, reflection and vote held at it. Read only: looking at the
day never makes a meeting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.community import meeting_on
from storage.models import Meeting, Reflection, SupportRound, TopicVote


@dataclass(frozen=True)
class MeetingDay:
    """One day's meeting, as far as it has got. ``meeting`` is None before any part started;
    each part is the latest of the day (opened at its meeting, or closed that day)."""

    meeting: Meeting | None
    support: SupportRound | None
    reflection: Reflection | None
    vote: TopicVote | None


async def _latest(
    session: AsyncSession,
    model: Any,
    ended: Any,
    community_id: int,
    meeting: Meeting | None,
    since: datetime,
    until: datetime,
) -> Any:
    """The latest row of ``model`` held at ``meeting`` or ended between ``since`` and ``until``."""
    held = [model.meeting_id == meeting.id] if meeting is not None else []
    return await session.scalar(
        select(model)
        .where(model.community_id == community_id, or_(*held, ended.between(since, until)))
        .order_by(model.id.desc())
        .limit(1)
    )


async def meeting_day(
    session: AsyncSession, community_id: int, day: date, since: datetime, until: datetime
) -> MeetingDay:
    """The meeting held on ``day`` (the day the flows file its parts under) and the parts held at
    it or closed between ``since`` and ``until`` (the day's bounds in the community's zone)."""
    meeting = await meeting_on(session, community_id, day)
    return MeetingDay(
        meeting=meeting,
        support=await _latest(session, SupportRound, SupportRound.closed_at, community_id, meeting, since, until),
        reflection=await _latest(session, Reflection, Reflection.ended_at, community_id, meeting, since, until),
        vote=await _latest(session, TopicVote, TopicVote.closed_at, community_id, meeting, since, until),
    )


async def last_held_before(session: AsyncSession, community_id: int, day: date) -> date | None:
    """The day of the community's last meeting before ``day`` (None: it had none)."""
    found = await session.scalar(
        select(Meeting.held_on)
        .where(Meeting.community_id == community_id, Meeting.held_on < day)
        .order_by(Meeting.held_on.desc())
        .limit(1)
    )
    return found
