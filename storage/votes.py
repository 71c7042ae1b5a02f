"""Lead-topic candidates, topic votes and ballots."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Ballot, Member, Topic, TopicVote
from storage.states import VoteStatus, move
from storage.upsert import added, insert_ignore


def title_key(title: str) -> str:
    return " ".join(title.split()).casefold()[:255]


async def add_topic(
    session: AsyncSession, community_id: int, title: str, now: datetime, proposed_by: int | None = None
) -> bool:
    """Add a candidate topic; False if the community already has it."""
    return await insert_ignore(
        session,
        Topic,
        {
            "community_id": community_id,
            "title": " ".join(title.split()),
            "title_key": title_key(title),
            "proposed_by": proposed_by,
            "created_at": now,
        },
        ("community_id", "title_key"),
    )


async def has_topics(session: AsyncSession, community_id: int) -> bool:
    return (await session.scalar(select(Topic.id).where(Topic.community_id == community_id).limit(1))) is not None


async def candidates(session: AsyncSession, community_id: int) -> list[Topic]:
    """Topics not yet chosen, in a stable order (numbers never shift while a vote is open)."""
    return list(
        await session.scalars(
            select(Topic).where(Topic.community_id == community_id, Topic.chosen_at.is_(None)).order_by(Topic.id)
        )
    )


async def open_vote(session: AsyncSession, community_id: int) -> TopicVote | None:
    return await session.scalar(
        select(TopicVote).where(
            TopicVote.community_id == community_id, TopicVote.status.in_((VoteStatus.OPEN, VoteStatus.TIED))
        )
    )


async def start_vote(
    session: AsyncSession, community_id: int, meeting_id: int, budget: int, now: datetime
) -> TopicVote:
    return await added(
        session,
        TopicVote(
            community_id=community_id, meeting_id=meeting_id, budget=budget, status=VoteStatus.OPEN.value, opened_at=now
        ),
    )


async def toggle_ballot(
    session: AsyncSession,
    vote: TopicVote,
    topic_id: int,
    member_id: int,
    now: datetime,
    double_click: timedelta,
) -> str:
    """Cast or withdraw one member's vote for one topic. Returns "cast", "withdrawn",
    "over-budget" or "repeat" (the same press again within ``double_click``: ignored)."""
    # Serialise one member's ballots so two quick presses cannot both pass the budget check.
    await session.scalar(select(Member.id).where(Member.id == member_id).with_for_update())
    ballot = await session.scalar(
        select(Ballot).where(Ballot.vote_id == vote.id, Ballot.topic_id == topic_id, Ballot.member_id == member_id)
    )
    if ballot is not None and now - _aware(ballot.changed_at, now) < double_click:
        return "repeat"
    if ballot is not None and ballot.active:
        ballot.active, ballot.changed_at = False, now
        return "withdrawn"
    used = await session.scalar(
        select(func.count(Ballot.id)).where(
            Ballot.vote_id == vote.id, Ballot.member_id == member_id, Ballot.active.is_(True)
        )
    )
    if int(used or 0) >= vote.budget:
        return "over-budget"
    if ballot is not None:
        ballot.active, ballot.changed_at = True, now
        return "cast"
    inserted = await insert_ignore(
        session,
        Ballot,
        {"vote_id": vote.id, "topic_id": topic_id, "member_id": member_id, "active": True, "changed_at": now},
        ("vote_id", "topic_id", "member_id"),
    )
    return "cast" if inserted else "repeat"


def _aware(moment: datetime, like: datetime) -> datetime:
    """SQLite returns naive datetimes: read them in the clock's zone."""
    if moment.tzinfo is None and like.tzinfo is not None:
        return moment.replace(tzinfo=like.tzinfo)
    return moment


async def my_ballots(session: AsyncSession, vote_id: int, member_id: int) -> list[int]:
    return list(
        await session.scalars(
            select(Ballot.topic_id).where(
                Ballot.vote_id == vote_id, Ballot.member_id == member_id, Ballot.active.is_(True)
            )
        )
    )


async def count_voters(session: AsyncSession, vote_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count(func.distinct(Ballot.member_id))).where(
                Ballot.vote_id == vote_id, Ballot.active.is_(True)
            )
        )
        or 0
    )


async def results(session: AsyncSession, vote_id: int) -> dict[int, int]:
    """topic id → number of votes (topics with at least one)."""
    rows = await session.execute(
        select(Ballot.topic_id, func.count(Ballot.id))
        .where(Ballot.vote_id == vote_id, Ballot.active.is_(True))
        .group_by(Ballot.topic_id)
    )
    return {topic_id: int(n) for topic_id, n in rows.all()}


def mark_tied(vote: TopicVote) -> None:
    """open → tied: the top topics drew; a co-chair picks one."""
    move(vote, VoteStatus.TIED)


def close_vote(vote: TopicVote, winner: Topic | None, now: datetime) -> None:
    """open or tied → closed, with its winner (None: nobody voted, nothing was chosen)."""
    move(vote, VoteStatus.CLOSED)
    vote.closed_at, vote.winner_topic_id = now, winner.id if winner is not None else None


async def cancel_vote(session: AsyncSession, vote: TopicVote, now: datetime) -> int:
    """open or tied → cancelled: nothing is decided. Its ballots are deleted (they no longer
    count, and a vote opened by mistake has no reason to keep who chose what); returns how many."""
    move(vote, VoteStatus.CANCELLED)
    vote.closed_at = now
    deleted = await session.execute(delete(Ballot).where(Ballot.vote_id == vote.id))
    return getattr(deleted, "rowcount", 0) or 0


async def latest_vote(session: AsyncSession, community_id: int) -> TopicVote | None:
    """The community's most recent vote, whatever its state."""
    return await session.scalar(
        select(TopicVote).where(TopicVote.community_id == community_id).order_by(TopicVote.id.desc()).limit(1)
    )


async def winner_of(session: AsyncSession, vote: TopicVote) -> Topic | None:
    return await session.get(Topic, vote.winner_topic_id) if vote.winner_topic_id is not None else None


async def forget_votes(session: AsyncSession, member: Member) -> dict[str, int]:
    """forget-me: the member's votes go; topics they proposed stay, without their name."""
    ballots = await session.execute(delete(Ballot).where(Ballot.member_id == member.id))
    await session.execute(update(Topic).where(Topic.proposed_by == member.id).values(proposed_by=None))
    return {"votes": getattr(ballots, "rowcount", 0) or 0}
