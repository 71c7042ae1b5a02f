"""The outbox: every post copbot decides to send, as a row, written in the transaction that
decided it; claimed by delivery workers (PostgreSQL: ``FOR UPDATE SKIP LOCKED`` with a lease),
marked sent (its content cleared), retried later, or undeliverable."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.vocabulary.conversation import Place, Post, post_to_json
from storage.models import OutboxPost
from storage.states import OutboxStatus, move


async def enqueue(session: AsyncSession, place: Place, posts: Sequence[Post], now: datetime) -> None:
    """Keep ``posts`` to send, in order. An update of a post that already has an update waiting
    replaces that one's content (the latest wins), so a burst of updates is sent once."""
    for post in posts:
        slot = post.key if post.replace and post.key and post.private_to is None else None
        if slot is not None:
            waiting = await session.scalar(
                select(OutboxPost).where(
                    OutboxPost.platform == place.platform,
                    OutboxPost.channel_id == place.channel_id,
                    OutboxPost.slot == slot,
                    OutboxPost.status == OutboxStatus.PENDING,
                )
            )
            if waiting is not None:
                waiting.content = post_to_json(post)
                continue
        session.add(
            OutboxPost(
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
                created_at=now,
            )
        )
    await session.flush()


async def claim(
    session: AsyncSession, platforms: Sequence[str], now: datetime, lease: timedelta, limit: int = 200
) -> list[OutboxPost]:
    """Take the due rows of these platforms for this worker, oldest first: pending ones whose
    time has come, and ones whose worker's lease ran out (it died mid-send)."""
    due = or_(
        and_(OutboxPost.status == OutboxStatus.PENDING, OutboxPost.not_before <= now),
        and_(OutboxPost.status == OutboxStatus.SENDING, OutboxPost.lease_until < now),
    )
    # A channel's posts go out in order: none of them while another worker holds one of them,
    # and none before an earlier one that waits for its retry.
    other = aliased(OutboxPost)
    same_channel = and_(
        other.platform == OutboxPost.platform,
        other.channel_id == OutboxPost.channel_id,
        other.private.is_(False),
    )
    held = and_(other.status == OutboxStatus.SENDING, other.lease_until >= now)
    waiting_earlier = and_(other.id < OutboxPost.id, other.status == OutboxStatus.PENDING, other.not_before > now)
    blocked = select(other.id).where(same_channel, or_(held, waiting_earlier)).exists()
    query = (
        select(OutboxPost)
        .where(due, OutboxPost.platform.in_(platforms), or_(OutboxPost.private.is_(True), ~blocked))
        .order_by(OutboxPost.id)
        .limit(limit)
    )
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(await session.scalars(query))
    for row in rows:
        move(row, OutboxStatus.SENDING)
        row.lease_until = now + lease
        row.attempts += 1
    await session.flush()
    return rows


async def sent(session: AsyncSession, row_id: int, message_ref: str | None, now: datetime) -> None:
    """Delivered: keep the platform's message id, drop the content (member text is not kept twice)."""
    await session.execute(
        update(OutboxPost)
        .where(OutboxPost.id == row_id)
        .values(status=OutboxStatus.SENT.value, content=None, message_ref=message_ref, sent_at=now, lease_until=None)
    )


async def retry_later(session: AsyncSession, row_id: int, when: datetime, reason: str) -> None:
    await session.execute(
        update(OutboxPost)
        .where(OutboxPost.id == row_id)
        .values(status=OutboxStatus.PENDING.value, not_before=when, lease_until=None, reason=reason[:255])
    )


async def renew(session: AsyncSession, row_ids: Sequence[int], until: datetime) -> None:
    """This worker still holds these rows (it is about to send the first of them)."""
    if row_ids:
        await session.execute(
            update(OutboxPost)
            .where(OutboxPost.id.in_(row_ids), OutboxPost.status == OutboxStatus.SENDING)
            .values(lease_until=until)
        )


async def release(session: AsyncSession, row_ids: Sequence[int]) -> None:
    """Claimed but not started (the worker is stopping): back to pending, for the next worker."""
    if row_ids:
        await session.execute(
            update(OutboxPost)
            .where(OutboxPost.id.in_(row_ids), OutboxPost.status == OutboxStatus.SENDING)
            .values(status=OutboxStatus.PENDING.value, lease_until=None)
        )


async def undeliverable(session: AsyncSession, row_id: int, reason: str) -> None:
    """Given up: the reason stays; the content is kept in `UndeliveredPost` for the co-chairs."""
    await session.execute(
        update(OutboxPost)
        .where(OutboxPost.id == row_id)
        .values(status=OutboxStatus.UNDELIVERABLE.value, content=None, reason=reason[:255], lease_until=None)
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
    )
    return getattr(result, "rowcount", 0) or 0


@dataclass(frozen=True)
class OutboxHealth:
    pending: int
    oldest_pending_seconds: float
    undeliverable: int


async def health(session: AsyncSession, now: datetime) -> OutboxHealth:
    waiting = (OutboxStatus.PENDING, OutboxStatus.SENDING)
    pending, oldest = (
        await session.execute(
            select(func.count(OutboxPost.id), func.min(OutboxPost.created_at)).where(OutboxPost.status.in_(waiting))
        )
    ).one()
    failed = await session.scalar(
        select(func.count(OutboxPost.id)).where(OutboxPost.status == OutboxStatus.UNDELIVERABLE)
    )
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=now.tzinfo)
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return OutboxHealth(int(pending or 0), age, int(failed or 0))
