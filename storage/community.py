"""Communities, the channels bound to them, members, co-chair terms and meeting days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.vocabulary.conversation import Actor, Place
from storage import schedule as schedules
from storage.group_memo import group_actors, peek, remembered
from storage.models import ChannelBinding, CoChairTerm, Community, Meeting, Member
from storage.upsert import added, insert_ignore, inserted_row


async def community_for(session: AsyncSession, place: Place) -> Community | None:
    return await session.scalar(
        select(Community)
        .join(ChannelBinding, ChannelBinding.community_id == Community.id)
        .where(ChannelBinding.platform == place.platform, ChannelBinding.channel_id == place.channel_id)
    )


async def community_named(session: AsyncSession, name: str) -> Community | None:
    return await session.scalar(select(Community).where(func.lower(Community.name) == name.lower()))


async def rename_community(session: AsyncSession, community: Community, name: str) -> bool:
    """Give ``community`` a new name; False (nothing changed) if another community has it."""
    other = await community_named(session, name)
    if other is not None and other.id != community.id:
        return False
    community.name = name
    await session.flush()
    return True


async def create_community(session: AsyncSession, name: str, now: datetime) -> Community:
    return await added(session, Community(name=name, created_at=now, vote_budget=3))


async def bind_channel(session: AsyncSession, community: Community, place: Place, now: datetime) -> bool:
    """Bind a channel to a community; False if the channel was already bound (to any)."""
    return await insert_ignore(
        session,
        ChannelBinding,
        {
            "community_id": community.id,
            "platform": place.platform,
            "channel_id": place.channel_id,
            "team_id": place.team_id,
            "created_at": now,
        },
        ("platform", "channel_id"),
    )


async def member_for(session: AsyncSession, community_id: int, platform: str, user_id: str) -> Member | None:
    """The member row of a platform user in a community (in a group of answers, the rows of
    all the group's members are read in one query, `storage.group_memo`)."""
    actors = group_actors(session)
    if actors is None or user_id not in actors:
        return await _member_row(session, community_id, platform, user_id)

    async def look_up() -> dict[str, Member]:
        found = await session.scalars(
            select(Member).where(
                Member.community_id == community_id, Member.platform == platform, Member.user_id.in_(actors)
            )
        )
        return {member.user_id: member for member in found}

    known: dict[str, Member] = await remembered(session, ("members", community_id, platform), look_up)
    return known.get(user_id)


async def _member_row(session: AsyncSession, community_id: int, platform: str, user_id: str) -> Member | None:
    return await session.scalar(
        select(Member).where(
            Member.community_id == community_id, Member.platform == platform, Member.user_id == user_id
        )
    )


async def memberships_of(session: AsyncSession, platform: str, user_id: str) -> list[tuple[Community, Member]]:
    """Every community a platform user is a member of."""
    rows = await session.execute(
        select(Community, Member)
        .join(Member, Member.community_id == Community.id)
        .where(Member.platform == platform, Member.user_id == user_id)
        .order_by(Community.name)
    )
    return [(community, member) for community, member in rows.all()]


async def ensure_member(session: AsyncSession, community_id: int, platform: str, actor: Actor, now: datetime) -> Member:
    """The member row for ``actor``, created on first contact (racing creators share one row)."""
    member = await member_for(session, community_id, platform, actor.user_id)
    if member is None:
        values = {
            "community_id": community_id,
            "platform": platform,
            "user_id": actor.user_id,
            "name": actor.name or actor.user_id,
            "active": True,
            "lead_opt_out": False,
            "joined_at": now,
        }
        member = await inserted_row(session, Member, values, ("community_id", "platform", "user_id"))
        known = peek(session, ("members", community_id, platform))
        if member is None:  # another worker's just now: read it
            member = await _member_row(session, community_id, platform, actor.user_id)
            assert member is not None
        if known is not None:
            known[actor.user_id] = member
    elif actor.name and member.name != actor.name:
        member.name = actor.name
    return member


async def active_members(session: AsyncSession, community_id: int) -> list[Member]:
    return list(
        await session.scalars(
            select(Member)
            .where(Member.community_id == community_id, Member.active.is_(True))
            .order_by(func.lower(Member.name), Member.id)
        )
    )


async def greeted_on(session: AsyncSession, community_id: int, day: date) -> list[Member]:
    """Active members whom `/cop join` welcomed on ``day`` (UTC), in the order they joined: the
    names of that day's one welcome post (the founder too, once they join)."""
    start = datetime.combine(day, time(0, 0), tzinfo=UTC)
    query = select(Member).where(
        Member.community_id == community_id,
        Member.active.is_(True),
        Member.greeted_at >= start,
        Member.greeted_at < start + timedelta(days=1),
    )
    return list(await session.scalars(query.order_by(Member.greeted_at, Member.id)))


async def count_active_members(session: AsyncSession, community_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count(Member.id)).where(Member.community_id == community_id, Member.active.is_(True))
        )
        or 0
    )


async def find_member(session: AsyncSession, community_id: int, token: str) -> Member | None:
    """A member by platform user id, or by display name (case-insensitive, spaces optional)."""
    by_id = await session.scalar(select(Member).where(Member.community_id == community_id, Member.user_id == token))
    if by_id is not None:
        return by_id
    wanted = token.replace("_", " ").casefold()
    for member in await session.scalars(select(Member).where(Member.community_id == community_id)):
        if member.name.casefold() == wanted or member.name.replace(" ", "").casefold() == wanted.replace(" ", ""):
            return member
    return None


async def current_chairs(session: AsyncSession, community_id: int) -> list[tuple[CoChairTerm, Member]]:
    rows = await session.execute(
        select(CoChairTerm, Member)
        .join(Member, Member.id == CoChairTerm.member_id)
        .where(CoChairTerm.community_id == community_id, CoChairTerm.replaced_on.is_(None))
        .order_by(CoChairTerm.id)
    )
    return [(term, member) for term, member in rows.all()]


async def is_chair(session: AsyncSession, member: Member) -> bool:
    found = await session.scalar(
        select(CoChairTerm.id).where(CoChairTerm.member_id == member.id, CoChairTerm.replaced_on.is_(None))
    )
    return found is not None


async def set_chairs(
    session: AsyncSession, community_id: int, members: list[Member], months: int, today: date, review_months: int = 6
) -> list[CoChairTerm]:
    """End the current terms and start new ones for ``members``: ``months`` long, reviewed
    after ``review_months`` (6 by default: a 12-month term is reviewed at 6, a 6-month one at its end)."""
    await session.execute(
        update(CoChairTerm)
        .where(CoChairTerm.community_id == community_id, CoChairTerm.replaced_on.is_(None))
        .values(replaced_on=today)
    )
    terms = [_term(community_id, member, months, review_months, today) for member in members]
    session.add_all(terms)
    await session.flush()
    return terms


async def start_term(
    session: AsyncSession, community_id: int, member: Member, today: date, months: int = 12, review_months: int = 6
) -> CoChairTerm:
    """One more co-chair (the group agreed on them): the current co-chairs' terms go on."""
    term = _term(community_id, member, months, review_months, today)
    session.add(term)
    await session.flush()
    return term


def _term(community_id: int, member: Member, months: int, review_months: int, today: date) -> CoChairTerm:
    return CoChairTerm(
        community_id=community_id,
        member_id=member.id,
        months=months,
        starts_on=today,
        ends_on=today + relativedelta(months=months),
        review_on=today + relativedelta(months=min(review_months, months)),
    )


async def end_term(session: AsyncSession, member: Member, today: date) -> bool:
    """A co-chair who leaves the community is a co-chair no longer; True if they were one."""
    ended = await session.execute(
        update(CoChairTerm)
        .where(CoChairTerm.member_id == member.id, CoChairTerm.replaced_on.is_(None))
        .values(replaced_on=today)
    )
    return bool(getattr(ended, "rowcount", 0))


async def meeting_today(session: AsyncSession, community: Community, today: date) -> Meeting:
    """Today's meeting of the community (one per day), created by the first part started."""
    return await remembered(
        session, ("meeting", community.id, today), lambda: _meeting_today(session, community, today)
    )


async def meeting_on(session: AsyncSession, community_id: int, day: date) -> Meeting | None:
    """The community's meeting held on ``day``, if a part of it has started (read only)."""
    return await session.scalar(select(Meeting).where(Meeting.community_id == community_id, Meeting.held_on == day))


async def _meeting_today(session: AsyncSession, community: Community, today: date) -> Meeting:
    meeting = await meeting_on(session, community.id, today)
    if meeting is None:
        made = await insert_ignore(
            session,
            Meeting,
            {"community_id": community.id, "held_on": today, "lead_topic": community.next_topic},
            ("community_id", "held_on"),
        )
        if made:  # the scheduler looks again (a first meeting dates the yearly review survey)
            await schedules.schedule_of(session, community.id, datetime.combine(today, time(), UTC))
        meeting = await meeting_on(session, community.id, today)
        assert meeting is not None
    return meeting


async def delete_member(session: AsyncSession, member: Member) -> None:
    """The member row itself, last of forget-me (after every flow's forgetter)."""
    await session.delete(member)
    await session.flush()
