"""What the national office reads and sends across every community: the communities at a
glance, the member lists (as members gave them when they joined; who left or used forget-me is
not there), and national announcements claimed once per community channel."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.vocabulary.conversation import Place
from storage.models import (
    ActionItem,
    ChannelBinding,
    CoChairTerm,
    Community,
    Meeting,
    MeetingSchedule,
    Member,
    NationalAnnouncement,
    NationalChannel,
    NationalPost,
)
from storage.states import ActionStatus
from storage.upsert import insert_ignore


@dataclass(frozen=True)
class MemberRow:
    """One line of a member list: the name and role a member gave, and their community."""

    community: str
    name: str
    role: str


@dataclass(frozen=True)
class CommunityFacts:
    """What the national view says of one community (its next meeting comes from the schedule)."""

    community: Community
    last_meeting: date | None
    chairs: list[tuple[CoChairTerm, Member]]
    overdue_actions: int
    roles: Counter[str]
    schedule: MeetingSchedule | None


async def all_communities(session: AsyncSession) -> list[Community]:
    return list(await session.scalars(select(Community).order_by(func.lower(Community.name))))


async def community_named(session: AsyncSession, name: str) -> Community | None:
    wanted = " ".join(name.split()).casefold()
    return next((c for c in await all_communities(session) if c.name.casefold() == wanted), None)


async def facts_of(session: AsyncSession, community: Community, today: date) -> CommunityFacts:
    last = await session.scalar(
        select(func.max(Meeting.held_on)).where(Meeting.community_id == community.id, Meeting.held_on <= today)
    )
    chairs = [
        (term, member)
        for term, member in (
            await session.execute(
                select(CoChairTerm, Member)
                .join(Member, Member.id == CoChairTerm.member_id)
                .where(CoChairTerm.community_id == community.id, CoChairTerm.replaced_on.is_(None))
                .order_by(CoChairTerm.id)
            )
        ).all()
        if member.active
    ]
    overdue = await session.scalar(
        select(func.count(ActionItem.id)).where(
            ActionItem.community_id == community.id,
            ActionItem.status == ActionStatus.OPEN,
            ActionItem.due_on < today,
        )
    )
    roles: Counter[str] = Counter(
        role or ""
        for role in await session.scalars(
            select(Member.role).where(Member.community_id == community.id, Member.active.is_(True))
        )
    )
    schedule = await session.scalar(select(MeetingSchedule).where(MeetingSchedule.community_id == community.id))
    return CommunityFacts(community, last, chairs, int(overdue or 0), roles, schedule)


async def member_rows(session: AsyncSession, community: Community | None = None) -> list[MemberRow]:
    """Every active member (of one community, or of all), by community then name. Someone who
    left is inactive and not listed; someone who used forget-me has no row any more."""
    query = (
        select(Community.name, Member.name, Member.role)
        .join(Member, Member.community_id == Community.id)
        .where(Member.active.is_(True))
        .order_by(func.lower(Community.name), func.lower(Member.name), Member.id)
    )
    if community is not None:
        query = query.where(Community.id == community.id)
    return [MemberRow(c, name, role or "") for c, name, role in (await session.execute(query)).all()]


def fingerprint(text: str, event_on: date | None) -> str:
    """The same words (spacing and case aside) and date are the same announcement."""
    tidy = " ".join(text.split()).casefold()
    return hashlib.sha256(f"{tidy}\n{event_on or ''}".encode()).hexdigest()


async def national_announcement(
    session: AsyncSession, text: str, event_on: date | None, now: datetime
) -> NationalAnnouncement:
    """The announcement of these words and date: made the first time, found after."""
    key = fingerprint(text, event_on)
    values = {"fingerprint": key, "text": text, "event_on": event_on, "created_at": now}
    await insert_ignore(session, NationalAnnouncement, values, ("fingerprint",))
    found = await session.scalar(select(NationalAnnouncement).where(NationalAnnouncement.fingerprint == key))
    assert found is not None
    return found


async def every_channel(session: AsyncSession) -> list[ChannelBinding]:
    """Every channel bound to a community, active or not, in the order they were bound."""
    return list(await session.scalars(select(ChannelBinding).order_by(ChannelBinding.id)))


async def claim_post(
    session: AsyncSession, announcement_id: int, channel_id: int, now: datetime, *, skipped: bool = False
) -> bool:
    """True for the one caller (of any worker, any press) that claims this channel."""
    return await insert_ignore(
        session,
        NationalPost,
        {"announcement_id": announcement_id, "channel_id": channel_id, "skipped": skipped, "created_at": now},
        ("announcement_id", "channel_id"),
    )


async def coming_events(session: AsyncSession, today: date) -> list[NationalAnnouncement]:
    """National announcements whose event has not passed, soonest first."""
    query = select(NationalAnnouncement).where(NationalAnnouncement.event_on >= today)
    return list(await session.scalars(query.order_by(NationalAnnouncement.event_on, NationalAnnouncement.id)))


async def is_national_channel(session: AsyncSession, place: Place) -> bool:
    found = await session.scalar(
        select(NationalChannel.id).where(
            NationalChannel.platform == place.platform, NationalChannel.channel_id == place.channel_id
        )
    )
    return found is not None


async def bind_national_channel(session: AsyncSession, place: Place, now: datetime) -> bool:
    """Bind this channel as the national office's; False if it was already."""
    values = {"platform": place.platform, "channel_id": place.channel_id, "team_id": place.team_id, "created_at": now}
    return await insert_ignore(session, NationalChannel, values, ("platform", "channel_id"))
