"""What the outbound side keeps: which message each named post became, posts that could not be
delivered, platform events already handled, and stored conversation references."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from cachetools import LRUCache
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.vocabulary.conversation import Place
from storage.db import Database
from storage.group_memo import remembered
from storage.models import ChannelBinding, ConversationRef, Member, PostRef, ProcessedEvent, UndeliveredPost
from storage.upsert import insert_for, insert_ignore

Clock = Callable[[], datetime]
KNOWN_REFS = 4096  # message ids known to be copbot's posts, kept in memory (a meeting's thread is asked for 100 times)


async def claim_event(session: AsyncSession, platform: str, event_id: str, now: datetime) -> bool:
    """True the first time a platform event id is seen (in this transaction's commit)."""
    return await insert_ignore(
        session,
        ProcessedEvent,
        {"platform": platform, "event_id": event_id, "seen_at": now},
        ("platform", "event_id"),
    )


async def claim_events(session: AsyncSession, platform: str, event_ids: list[str], now: datetime) -> set[str]:
    """`claim_event` for a group's events in one statement: the ids seen for the first time."""
    if not event_ids:
        return set()
    statement = (
        insert_for(session)(ProcessedEvent)
        .values([{"platform": platform, "event_id": event_id, "seen_at": now} for event_id in event_ids])
        .on_conflict_do_nothing(index_elements=["platform", "event_id"])
        .returning(ProcessedEvent.event_id)
    )
    return set((await session.scalars(statement)).all())


async def key_for_ref(session: AsyncSession, place: Place, ref: str) -> str | None:
    """The post key behind a platform message id (what a thread reply answers)."""

    async def look_up() -> str | None:
        return await session.scalar(
            select(PostRef.key).where(
                PostRef.platform == place.platform,
                PostRef.channel_id == place.channel_id,
                PostRef.ref == ref,
            )
        )

    return await remembered(session, ("post", place.platform, place.channel_id, ref), look_up)


async def record_undelivered(
    session: AsyncSession,
    place: Place,
    reader: str | None,
    key: str | None,
    body: str | None,
    reason: str,
    now: datetime,
) -> None:
    """Keep a post no platform would take (its body as it waited in the outbox), so it is never
    silently dropped; the body goes after a while (`storage.retention`)."""
    session.add(
        UndeliveredPost(
            platform=place.platform,
            channel_id=place.channel_id,
            reader=reader,
            key=key,
            body=body,
            reason=reason[:255],
            created_at=now,
        )
    )


async def forget_undelivered(session: AsyncSession, member: Member) -> dict[str, int]:
    """forget-me: delete the undelivered posts only this member was to see, and clear the body
    of every undelivered post of their community's channels (it may quote them)."""
    mine = await session.execute(
        delete(UndeliveredPost).where(
            UndeliveredPost.platform == member.platform, UndeliveredPost.reader == member.user_id
        )
    )
    channel_ids = select(ChannelBinding.channel_id).where(
        ChannelBinding.community_id == member.community_id, ChannelBinding.platform == member.platform
    )
    await session.execute(
        update(UndeliveredPost)
        .where(UndeliveredPost.platform == member.platform, UndeliveredPost.channel_id.in_(channel_ids))
        .values(body=None)
    )
    return {"undelivered posts": getattr(mine, "rowcount", 0) or 0}


async def clear_old_bodies(session: AsyncSession, before: datetime) -> int:
    """Undelivered posts decided before ``before`` keep their reason, not their body."""
    result = await session.execute(
        update(UndeliveredPost)
        .where(UndeliveredPost.created_at < before, UndeliveredPost.body.is_not(None))
        .values(body=None)
    )
    return getattr(result, "rowcount", 0) or 0


async def purge_processed_events(session: AsyncSession, before: datetime) -> int:
    """Forget platform event ids seen before ``before``: no platform resends an event that late."""
    result = await session.execute(delete(ProcessedEvent).where(ProcessedEvent.seen_at < before))
    return getattr(result, "rowcount", 0) or 0


class DeliveryLog:
    """`bot.delivery.PostRefs` on the database; each call is its own short transaction."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        # Only "this is copbot's post" is remembered: a message id never becomes another post,
        # while an unknown id may become one (a post whose ref is recorded a moment later).
        self._known: LRUCache[tuple[str, str, str], str] = LRUCache(KNOWN_REFS)
        self._asking: dict[tuple[str, str, str], asyncio.Future[str | None]] = {}

    async def ref_for(self, place: Place, key: str) -> str | None:
        async with self.db.reading() as session:
            return await session.scalar(
                select(PostRef.ref).where(
                    PostRef.platform == place.platform,
                    PostRef.channel_id == place.channel_id,
                    PostRef.key == key,
                )
            )

    async def key_for(self, place: Place, ref: str) -> str | None:
        """The post key behind a platform message id (None: not one of the bot's posts)."""
        known = (place.platform, place.channel_id, ref)
        if known in self._known:
            return self._known[known]
        asking = self._asking.get(known)
        if asking is None:  # a meeting's replies arrive together: the first one asks for all
            asking = asyncio.ensure_future(self._look_up(place, ref))
            self._asking[known] = asking
            asking.add_done_callback(lambda _: self._asking.pop(known, None))
        return await asyncio.shield(asking)

    async def _look_up(self, place: Place, ref: str) -> str | None:
        async with self.db.reading() as session:
            key = await key_for_ref(session, place, ref)
        if key is not None:
            self._known[(place.platform, place.channel_id, ref)] = key
        return key

    async def remember(self, place: Place, key: str, ref: str) -> None:
        async with self.db.transaction() as session:
            existing = await session.scalar(
                select(PostRef).where(
                    PostRef.platform == place.platform,
                    PostRef.channel_id == place.channel_id,
                    PostRef.key == key,
                )
            )
            if existing is not None:
                existing.ref = ref
                return
            await insert_ignore(
                session,
                PostRef,
                {
                    "platform": place.platform,
                    "channel_id": place.channel_id,
                    "key": key,
                    "ref": ref,
                    "created_at": self.clock(),
                },
                ("platform", "channel_id", "key"),
            )

    async def undelivered(self, platform: str | None = None) -> list[UndeliveredPost]:
        async with self.db.reading() as session:
            query = select(UndeliveredPost).order_by(UndeliveredPost.id)
            if platform:
                query = query.where(UndeliveredPost.platform == platform)
            return list(await session.scalars(query))

    async def save_conversation_ref(self, place: Place, reference: str, *, repoint: bool = True) -> None:
        """Keep (or, with ``repoint``, refresh) a conversation's serialised reference for
        proactive posts. An unauthenticated request must never repoint a stored one. The
        usual case, nothing to change, only reads (and the Teams endpoint remembers what it
        stored last, so it does not even ask)."""
        async with self.db.reading() as session:
            kept = await session.scalar(
                select(ConversationRef.reference).where(
                    ConversationRef.platform == place.platform,
                    ConversationRef.channel_id == place.channel_id,
                )
            )
        if kept is not None and (kept == reference or not repoint):
            return
        async with self.db.transaction() as session:
            row = await session.scalar(
                select(ConversationRef).where(
                    ConversationRef.platform == place.platform,
                    ConversationRef.channel_id == place.channel_id,
                )
            )
            if row is not None:
                if repoint and row.reference != reference:
                    row.reference = reference
                    row.updated_at = self.clock()
                return
            await insert_ignore(
                session,
                ConversationRef,
                {
                    "platform": place.platform,
                    "channel_id": place.channel_id,
                    "reference": reference,
                    "updated_at": self.clock(),
                },
                ("platform", "channel_id"),
            )

    async def conversation_ref(self, place: Place) -> str | None:
        async with self.db.reading() as session:
            return await session.scalar(
                select(ConversationRef.reference).where(
                    ConversationRef.platform == place.platform,
                    ConversationRef.channel_id == place.channel_id,
                )
            )
