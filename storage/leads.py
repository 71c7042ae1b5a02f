"""Meeting leads: proposals, "not this time", confirmations (the rotation's history), and what
forget-me does to them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.vocabulary.moments import stored_utc
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
    "not this time" in it. ``proposals`` stand now: copbot's one suggestion, or every member who
    volunteered (the co-chairs choose among them); ``proposal`` is the first of them."""

    key: str
    proposal: LeadTurn | None
    skipped: frozenset[int]
    proposals: tuple[LeadTurn, ...] = ()
    started: bool = False  # something was proposed in it (its lead post was posted)


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
    standing = tuple(row for row in rows if row.status == LeadStatus.PROPOSED)
    return LeadChoice(
        key=f"lead:{community_id}:{last_confirmed or 0}:{since}",
        proposal=standing[0] if standing else None,
        skipped=frozenset(row.member_id for row in rows if row.status == LeadStatus.SKIPPED and row.member_id),
        proposals=standing,
        started=bool(rows),
    )


async def proposed_turn(session: AsyncSession, community_id: int, member_id: int) -> LeadTurn | None:
    """``member_id``'s standing proposal (suggested or volunteered), if any."""
    return await session.scalar(
        select(LeadTurn).where(
            LeadTurn.community_id == community_id,
            LeadTurn.member_id == member_id,
            LeadTurn.status == LeadStatus.PROPOSED,
        )
    )


async def withdraw_proposals(
    session: AsyncSession, community_id: int, *, suggestions_only: bool = False, keep: int | None = None
) -> None:
    """No proposal stands any more (a new one is made, or an old one belongs to an earlier
    choice); ``suggestions_only``: only copbot's suggestion goes (a volunteer came forward);
    ``keep``: that one row stays (it was just confirmed)."""
    query = update(LeadTurn).where(LeadTurn.community_id == community_id, LeadTurn.status == LeadStatus.PROPOSED)
    if suggestions_only:
        query = query.where(LeadTurn.volunteered.is_(False))
    if keep is not None:
        query = query.where(LeadTurn.id != keep)
    await session.execute(query.values(status=LeadStatus.SUPERSEDED.value))  # proposed → superseded, in bulk
    await session.flush()


async def propose(
    session: AsyncSession, community_id: int, member_id: int, now: datetime, *, volunteered: bool = False
) -> LeadTurn:
    """Make ``member_id`` the proposed lead. copbot's suggestion (or a co-chair's choice)
    replaces every earlier proposal; a volunteer replaces only copbot's suggestion and stands
    beside earlier volunteers, so the co-chairs can choose."""
    await withdraw_proposals(session, community_id, suggestions_only=volunteered)
    if volunteered:
        mine = await proposed_turn(session, community_id, member_id)
        if mine is not None:
            return mine
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
    """``turn`` leads the next meeting; any other standing proposal (another volunteer) ends."""
    move(turn, LeadStatus.CONFIRMED)
    turn.confirmed_at = now
    await session.flush()
    await withdraw_proposals(session, turn.community_id, keep=turn.id)


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


async def confirmed_for_next(session: AsyncSession, community_id: int, today: date) -> Member | None:
    """The lead confirmed for the coming meeting: the last one confirmed, unless a meeting has
    been held since the day they were confirmed (then they led it, and a new choice is due)."""
    turn = await session.scalar(
        select(LeadTurn)
        .where(LeadTurn.community_id == community_id, LeadTurn.status == LeadStatus.CONFIRMED)
        .order_by(LeadTurn.confirmed_at.desc(), LeadTurn.id.desc())
        .limit(1)
    )
    if turn is None or turn.member_id is None or turn.confirmed_at is None:
        return None
    meeting_day: date | None = await session.scalar(
        select(func.max(Meeting.held_on)).where(Meeting.community_id == community_id, Meeting.held_on <= today)
    )
    if meeting_day is not None and stored_utc(turn.confirmed_at).date() < meeting_day:
        return None
    return await session.get(Member, turn.member_id)


async def forget_lead_history(session: AsyncSession, member: Member) -> dict[str, int]:
    """forget-me: the member's co-chair terms go; the leads they led stay in the rotation's
    history without their name, and an offer or suggestion that still stood is withdrawn."""
    terms = await session.execute(delete(CoChairTerm).where(CoChairTerm.member_id == member.id))
    await session.execute(
        update(LeadTurn)
        .where(LeadTurn.member_id == member.id, LeadTurn.status == LeadStatus.PROPOSED)
        .values(status=LeadStatus.SUPERSEDED.value)
    )
    led = await session.scalar(
        select(func.count(LeadTurn.id)).where(LeadTurn.member_id == member.id, LeadTurn.status == LeadStatus.CONFIRMED)
    )
    await session.execute(update(LeadTurn).where(LeadTurn.member_id == member.id).values(member_id=None))
    return {
        "co-chair terms": int(getattr(terms, "rowcount", 0) or 0),
        "meetings you led, kept without your name": int(led or 0),
    }
