"""The outbox: every post copbot decides to send, as a row written in the transaction that
decided it, in its lane (a channel's posts, or one member's private posts in a channel).

A delivery worker claims whole lanes (`claim_lanes`: PostgreSQL ``FOR UPDATE SKIP LOCKED``,
SQLite's ``BEGIN IMMEDIATE``), each with a lease and a fencing token. Every later change it
makes (`start`, `sent`, `retry_later`, `undeliverable`, `renew`, `release`) first checks that
it still holds the lane's token, under the lane row's lock; a worker whose lane was taken
gets `LaneLost` and changes nothing. The diagram is in docs/architecture.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.vocabulary.conversation import Place, Post, post_to_json
from bot.vocabulary.moments import stored_utc
from storage.models import OutboxLane, OutboxPost
from storage.states import OutboxStatus
from storage.upsert import insert_ignore

OPEN = (OutboxStatus.PENDING.value, OutboxStatus.SENDING.value)
FINISHED = (OutboxStatus.SENT.value, OutboxStatus.CANCELLED.value)
# A channel's living record (`storage.living_records`): its own lane in the channel (no user id
# starts with #) and its slot (one waiting row per channel).
RECORD_LANE = "#living-record"
RECORD_KEY = "living-record"


class LaneLost(Exception):
    """Another worker took this lane (this worker's lease had run out): change nothing."""


@dataclass(frozen=True)
class Hold:
    """A lane this worker holds: its row, the token of this claim, and where it posts."""

    lane_id: int
    token: int
    platform: str
    channel_id: str
    reader: str


def _postgres(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"


async def lane_of(session: AsyncSession, platform: str, channel_id: str, reader: str) -> int:
    """The lane's id (made the first time it is needed). On PostgreSQL the row is read with
    ``FOR KEY SHARE``, so a housekeeping purge cannot delete it under a post being added."""
    query = select(OutboxLane.id).where(
        OutboxLane.platform == platform, OutboxLane.channel_id == channel_id, OutboxLane.reader == reader
    )
    if _postgres(session):
        query = query.with_for_update(read=True, key_share=True)
    found = await session.scalar(query)
    if found is None:
        values = {"platform": platform, "channel_id": channel_id, "reader": reader, "token": 0}
        await insert_ignore(session, OutboxLane, values, ("platform", "channel_id", "reader"))
        found = await session.scalar(query)
    assert found is not None
    return int(found)


async def enqueue(session: AsyncSession, place: Place, posts: Sequence[Post], now: datetime) -> None:
    """Keep ``posts`` to send, in order, each in its lane. An update of a post that already has
    an update waiting replaces that one's content (the latest wins), so a burst of updates is
    sent once; one that a worker has started meanwhile is left alone and a new row follows it."""
    lanes: dict[str, int] = {}
    for post in posts:
        slot = post.key if post.replace and post.key and post.private_to is None else None
        if slot is not None and await _coalesced(session, place, slot, post):
            continue
        reader = post.private_to or ""
        if reader not in lanes:
            lanes[reader] = await lane_of(session, place.platform, place.channel_id, reader)
        session.add(
            OutboxPost(
                lane_id=lanes[reader],
                platform=place.platform,
                channel_id=place.channel_id,
                team_id=place.team_id,
                key=post.key,
                slot=slot,
                private=post.private_to is not None,
                content=post_to_json(post),
                status=OutboxStatus.PENDING.value,
                not_before=now,
                attempts=0,
                faults=0,
                created_at=now,
            )
        )
    await session.flush()


async def _coalesced(session: AsyncSession, place: Place, slot: str, post: Post) -> bool:
    """Put ``post`` in place of the update of ``slot`` still waiting, if there is one. The
    condition on the status is checked again under the row's lock (PostgreSQL re-reads a row
    another transaction changed), so a row a worker just started is never overwritten."""
    result = await session.execute(
        update(OutboxPost)
        .where(
            OutboxPost.platform == place.platform,
            OutboxPost.channel_id == place.channel_id,
            OutboxPost.slot == slot,
            OutboxPost.status == OutboxStatus.PENDING,
        )
        .values(content=post_to_json(post))
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def _head_id(lane: type[OutboxLane] | OutboxLane) -> object:
    """The first post of ``lane`` still to send (its head)."""
    post = aliased(OutboxPost)
    return (
        select(func.min(post.id))
        .where(post.lane_id == lane.id, post.status.in_(OPEN))
        .correlate(lane)  # type: ignore[arg-type]
        .scalar_subquery()
    )


async def claim_lanes(
    session: AsyncSession,
    platforms: Sequence[str],
    now: datetime,
    lease: timedelta,
    holder: str,
    limit: int,
) -> list[Hold]:
    """Take up to ``limit`` lanes whose head is due and that nobody holds (or whose holder's
    lease ran out), oldest head first; each claim bumps the lane's token."""
    if limit <= 0 or not platforms:
        return []
    head = aliased(OutboxPost)
    head_id = _head_id(OutboxLane)
    due_lanes = select(OutboxPost.lane_id).where(OutboxPost.status.in_(OPEN), OutboxPost.not_before <= now)
    head_due = select(head.id).where(head.id == head_id, head.not_before <= now).exists()
    query = (
        select(OutboxLane)
        .where(
            OutboxLane.platform.in_(list(platforms)),
            or_(OutboxLane.lease_until.is_(None), OutboxLane.lease_until < now),
            OutboxLane.id.in_(due_lanes),
            head_due,
        )
        .order_by(head_id)  # type: ignore[arg-type]
        .limit(limit)
    )
    if _postgres(session):
        # NO KEY UPDATE: claims exclude each other, while a post being added (which reads its
        # lane FOR KEY SHARE, `lane_of`) neither waits for a claim nor holds one up.
        query = query.with_for_update(skip_locked=True, of=OutboxLane, key_share=True)
    lanes = list(await session.scalars(query))
    holds = []
    for lane in lanes:
        lane.token += 1
        lane.holder = holder[:120]
        lane.lease_until = now + lease
        holds.append(Hold(lane.id, lane.token, lane.platform, lane.channel_id, lane.reader))
    await session.flush()
    return holds


async def _fence(session: AsyncSession, hold: Hold) -> None:
    """Raise `LaneLost` unless ``hold`` is still the lane's latest claim. The lane row stays
    locked until the transaction ends (PostgreSQL ``FOR NO KEY UPDATE``; SQLite holds the database's
    write lock from BEGIN), so no claim can slip in between this check and the change."""
    query = select(OutboxLane.token).where(OutboxLane.id == hold.lane_id)
    if _postgres(session):
        query = query.with_for_update(key_share=True)  # FOR NO KEY UPDATE: see `claim_lanes`
    if await session.scalar(query) != hold.token:
        raise LaneLost(f"lane {hold.lane_id}")


async def start(session: AsyncSession, hold: Hold, now: datetime, lease: timedelta) -> OutboxPost | None:
    """The lane's head, if it is due, marked as being sent (one more attempt; one more fault
    if an earlier attempt's outcome is unknown: its worker died or lost the lane mid-send).
    None when the lane is empty or its head must wait. Renews the lease."""
    await _fence(session, hold)
    await renew(session, hold, now + lease)
    query = (
        select(OutboxPost)
        .where(OutboxPost.lane_id == hold.lane_id, OutboxPost.status.in_(OPEN))
        .order_by(OutboxPost.id)
        .limit(1)
    )
    if _postgres(session):
        query = query.with_for_update()
    row = await session.scalar(query.execution_options(populate_existing=True))
    if row is None or stored_utc(row.not_before) > now:
        return None
    if row.status == OutboxStatus.SENDING:
        row.faults += 1
    row.status = OutboxStatus.SENDING.value
    row.attempts += 1
    await session.flush()
    return row


async def sent(session: AsyncSession, hold: Hold, post_id: int, message_ref: str | None, now: datetime) -> None:
    """Delivered: keep the platform's message id, drop the content (member text is not kept twice)."""
    await _fence(session, hold)
    await _set(
        session,
        post_id,
        status=OutboxStatus.SENT.value,
        content=None,
        message_ref=message_ref,
        sent_at=now,
        reason=None,
    )


async def retry_later(
    session: AsyncSession, hold: Hold, post_id: int, when: datetime, reason: str, *, fault: bool = False
) -> None:
    """Not taken this time: the post waits until ``when`` at the head of its lane (and the
    lane with it). ``fault``: it failed in a way nobody foresaw (it counts towards giving up)."""
    await _fence(session, hold)
    values: dict[str, object] = {"status": OutboxStatus.PENDING.value, "not_before": when, "reason": reason[:255]}
    if fault:
        values["faults"] = OutboxPost.faults + 1
    await _set(session, post_id, **values)


async def undeliverable(session: AsyncSession, hold: Hold, post_id: int, reason: str) -> None:
    """Given up: the reason stays, the content goes (it is kept in `UndeliveredPost` for a while)."""
    await _fence(session, hold)
    await _set(session, post_id, status=OutboxStatus.UNDELIVERABLE.value, content=None, reason=reason[:255])


async def _set(session: AsyncSession, post_id: int, **values: object) -> None:
    await session.execute(
        update(OutboxPost).where(OutboxPost.id == post_id).values(**values).execution_options(synchronize_session=False)
    )


async def renew(session: AsyncSession, hold: Hold, until: datetime) -> None:
    """This worker still holds the lane: its lease now runs until ``until``."""
    result = await session.execute(
        update(OutboxLane)
        .where(OutboxLane.id == hold.lane_id, OutboxLane.token == hold.token)
        .values(lease_until=until)
        .execution_options(synchronize_session=False)
    )
    if not getattr(result, "rowcount", 0):
        raise LaneLost(f"lane {hold.lane_id}")


async def release(session: AsyncSession, hold: Hold) -> None:
    """Done with the lane for now (empty, its head waits, or the worker stops): any worker
    may claim it when its head is due."""
    await _fence(session, hold)
    await session.execute(
        update(OutboxLane)
        .where(OutboxLane.id == hold.lane_id)
        .values(lease_until=None, holder=None)
        .execution_options(synchronize_session=False)
    )


async def cancel_pending(session: AsyncSession, platform: str, channel_ids: Sequence[str]) -> int:
    """copbot was removed from these channels: what waits to be posted there is cancelled
    (its content dropped; a post being sent right now finishes or fails on its own)."""
    if not channel_ids:
        return 0
    result = await session.execute(
        update(OutboxPost)
        .where(
            OutboxPost.platform == platform,
            OutboxPost.channel_id.in_(list(channel_ids)),
            OutboxPost.status == OutboxStatus.PENDING,
        )
        .values(status=OutboxStatus.CANCELLED.value, content=None, reason="copbot was removed from the channel")
        .execution_options(synchronize_session=False)
    )
    return getattr(result, "rowcount", 0) or 0


@dataclass(frozen=True)
class OutboxHealth:
    pending: int
    oldest_pending_seconds: float  # the oldest post still to send, from when it was decided
    oldest_due_seconds: float  # the post longest overdue: due, not sent (its lane is stuck or slow)
    undeliverable: int


async def health(session: AsyncSession, now: datetime) -> OutboxHealth:
    # A living record waiting for its minute (changes gather into one canvas call) is not a
    # post waiting to go: it counts from when it is due.
    to_send = or_(OutboxPost.slot.is_(None), OutboxPost.slot != RECORD_KEY, OutboxPost.not_before <= now)
    pending, oldest, due_since = (
        await session.execute(
            select(
                func.count(OutboxPost.id).filter(to_send),
                func.min(OutboxPost.created_at).filter(to_send),
                func.min(OutboxPost.not_before).filter(OutboxPost.not_before <= now),
            ).where(OutboxPost.status.in_(OPEN))
        )
    ).one()
    failed = await session.scalar(
        select(func.count(OutboxPost.id)).where(OutboxPost.status == OutboxStatus.UNDELIVERABLE)
    )
    return OutboxHealth(int(pending or 0), _age(oldest, now), _age(due_since, now), int(failed or 0))


def _age(moment: datetime | None, now: datetime) -> float:
    return max(0.0, (now - stored_utc(moment)).total_seconds()) if moment is not None else 0.0


async def purge(session: AsyncSession, now: datetime, *, sent_after: timedelta, failed_after: timedelta) -> int:
    """Delete posts that can no longer matter: sent or cancelled ones older than ``sent_after``
    (their message ids live on in `PostRef`), undeliverable ones older than ``failed_after``."""
    finished = and_(OutboxPost.status.in_(FINISHED), OutboxPost.created_at < now - sent_after)
    failed = and_(OutboxPost.status == OutboxStatus.UNDELIVERABLE, OutboxPost.created_at < now - failed_after)
    result = await session.execute(
        delete(OutboxPost).where(or_(finished, failed)).execution_options(synchronize_session=False)
    )
    return getattr(result, "rowcount", 0) or 0
