"""Meeting leads: proposals, "not this time", confirmations (the rotation's history), and what
forget-me does to them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import CoChairTerm, LeadTurn, Meeting, Member
from storage.states import LeadStatus, move
from storage.upsert import added


@dataclass(frozen=True)
class LeadChoice:
    """Choosing who leads the next meeting, as it stands now.

    It spans the proposals since the last confirmed lead, and only those made on or after the
    community's latest meeting day: a later meeting chooses afresh even when the last choice
    was never confirmed. ``key`` names its lead post (the same for every suggestion, volunteer
    and skip of this choice, so they update one post); ``skipped`` are the members who said
    "not this time" in it."""

    key: str
    proposal: LeadTurn | None
    skipped: frozenset[int]


async def current_choice(session: AsyncSession, community_id: int, today: date) -> LeadChoice:
    last_confirmed = await session.scalar(
        select(func.max(LeadTurn.id)).where(
            LeadTurn.community_id == community_id, LeadTurn.status == LeadStatus.CONFIRMED
        )
    )
    meeting_day: date | None = await session.scalar(
        select(func.max(Meeting.held_on)).where(Meeting.community_id == community_id, Meeting.held_on <= today)
    )
    rows = list(
        await session.scalars(
            select(LeadTurn)
            .where(LeadTurn.community_id == community_id, LeadTurn.id > (last_confirmed or 0))
            .order_by(LeadTurn.id)
        )
    )
    if meeting_day is not None:
        rows = [row for row in rows if row.proposed_at.date() >= meeting_day]
    since = meeting_day.isoformat() if meeting_day else "start"
    return LeadChoice(
        key=f"lead:{community_id}:{last_confirmed or 0}:{since}",
        proposal=next((row for row in rows if row.status == LeadStatus.PROPOSED), None),
        skipped=frozenset(row.member_id for row in rows if row.status == LeadStatus.SKIPPED and row.member_id),
    )


async def proposed_turn(session: AsyncSession, community_id: int) -> LeadTurn | None:
    return await session.scalar(
        select(LeadTurn).where(LeadTurn.community_id == community_id, LeadTurn.status == LeadStatus.PROPOSED)
    )


async def withdraw_proposals(session: AsyncSession, community_id: int) -> None:
    """No proposal stands any more (a new one is made, or an old one belongs to an earlier choice)."""
    await session.execute(
        update(LeadTurn)
        .where(LeadTurn.community_id == community_id, LeadTurn.status == LeadStatus.PROPOSED)
        .values(status=LeadStatus.SUPERSEDED.value)  # proposed → superseded, in bulk
    )
    await session.flush()


async def propose(
    session: AsyncSession, community_id: int, member_id: int, now: datetime, *, volunteered: bool = False
) -> LeadTurn:
    """Make ``member_id`` the proposed lead, replacing any earlier proposal."""
    await withdraw_proposals(session, community_id)
    return await added(
        session,
        LeadTurn(
            community_id=community_id,
            member_id=member_id,
            status=LeadStatus.PROPOSED.value,
            volunteered=volunteered,
            proposed_at=now,
        ),
    )


async def confirm(session: AsyncSession, turn: LeadTurn, now: datetime) -> None:
    move(turn, LeadStatus.CONFIRMED)
    turn.confirmed_at = now


def supersede(turn: LeadTurn) -> None:
    """A proposal that no longer stands (the member left, or someone else was proposed)."""
    move(turn, LeadStatus.SUPERSEDED)


async def skip(session: AsyncSession, turn: LeadTurn) -> None:
    """The proposed member said "not this time": kept, so this choice passes them by."""
    move(turn, LeadStatus.SKIPPED)
    await session.flush()  # before a new proposal supersedes what is still proposed, in bulk


async def last_led(session: AsyncSession, community_id: int, member_id: int) -> datetime | None:
    """When ``member_id`` last led (was confirmed), or None."""
    return await session.scalar(
        select(func.max(LeadTurn.confirmed_at)).where(
            LeadTurn.community_id == community_id,
            LeadTurn.member_id == member_id,
            LeadTurn.status == LeadStatus.CONFIRMED,
        )
    )


async def set_lead_opt_out(session: AsyncSession, members: list[Member], opt_out: bool) -> None:
    """A member's own, lasting choice: never suggested to lead (they may still volunteer)."""
    for member in members:
        member.lead_opt_out = opt_out
    await session.flush()


async def rotation_order(session: AsyncSession, community_id: int) -> list[tuple[Member, datetime | None]]:
    """Active members who have not opted out, least recently led first (never-led first)."""
    last_led = (
        select(LeadTurn.member_id, func.max(LeadTurn.confirmed_at).label("last"))
        .where(LeadTurn.community_id == community_id, LeadTurn.status == LeadStatus.CONFIRMED)
        .group_by(LeadTurn.member_id)
        .subquery()
    )
    rows = await session.execute(
        select(Member, last_led.c.last)
        .outerjoin(last_led, last_led.c.member_id == Member.id)
        .where(Member.community_id == community_id, Member.active.is_(True), Member.lead_opt_out.is_(False))
        .order_by(last_led.c.last.is_not(None), last_led.c.last, Member.joined_at, Member.id)
    )
    return [(member, last) for member, last in rows.all()]


async def lead_before(session: AsyncSession, community_id: int, today: date) -> Member | None:
    """Today's lead: the last one confirmed before today (at an earlier meeting)."""
    turn = await session.scalar(
        select(LeadTurn)
        .where(
            LeadTurn.community_id == community_id,
            LeadTurn.status == LeadStatus.CONFIRMED,
            func.date(LeadTurn.confirmed_at) < today,
        )
        .order_by(LeadTurn.confirmed_at.desc())
        .limit(1)
    )
    if turn is None or turn.member_id is None:
        return None
    return await session.get(Member, turn.member_id)


async def next_lead(session: AsyncSession, community_id: int) -> Member | None:
    """The most recently confirmed lead (for the coming meeting)."""
    turn = await session.scalar(
        select(LeadTurn)
        .where(LeadTurn.community_id == community_id, LeadTurn.status == LeadStatus.CONFIRMED)
        .order_by(LeadTurn.confirmed_at.desc())
        .limit(1)
    )
    return await session.get(Member, turn.member_id) if turn and turn.member_id else None


async def forget_lead_history(session: AsyncSession, member: Member) -> dict[str, int]:
    """forget-me: the member's co-chair terms go; the leads they led stay in the rotation's
    history without their name."""
    await session.execute(delete(CoChairTerm).where(CoChairTerm.member_id == member.id))
    await session.execute(update(LeadTurn).where(LeadTurn.member_id == member.id).values(member_id=None))
    return {}
