"""What the outbound side keeps: which message each named post became, posts that could not be
delivered, platform events already handled, and stored conversation references."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.vocabulary.conversation import Place, Post
from storage.db import Database
from storage.models import ConversationRef, PostRef, ProcessedEvent, UndeliveredPost
from storage.upsert import insert_ignore

Clock = Callable[[], datetime]


async def claim_event(session: AsyncSession, platform: str, event_id: str, now: datetime) -> bool:
    """True the first time a platform event id is seen (in this transaction's commit)."""
    return await insert_ignore(
        session,
        ProcessedEvent,
        {"platform": platform, "event_id": event_id, "seen_at": now},
        ("platform", "event_id"),
    )


async def key_for_ref(session: AsyncSession, place: Place, ref: str) -> str | None:
    """The post key behind a platform message id (what a thread reply answers)."""
    return await session.scalar(
        select(PostRef.key).where(
            PostRef.platform == place.platform,
            PostRef.channel_id == place.channel_id,
            PostRef.ref == ref,
        )
    )


class DeliveryLog:
    """`bot.delivery.PostRefs` on the database; each call is its own short transaction."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def ref_for(self, place: Place, key: str) -> str | None:
        async with self.db.transaction() as session:
            return await session.scalar(
                select(PostRef.ref).where(
                    PostRef.platform == place.platform,
                    PostRef.channel_id == place.channel_id,
                    PostRef.key == key,
                )
            )

    async def key_for(self, place: Place, ref: str) -> str | None:
        """The post key behind a platform message id (None: not one of the bot's posts)."""
        async with self.db.transaction() as session:
            return await key_for_ref(session, place, ref)

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

    async def record_undelivered(self, place: Place, post: Post, reason: str) -> None:
        async with self.db.transaction() as session:
            session.add(
                UndeliveredPost(
                    platform=place.platform,
                    channel_id=place.channel_id,
                    key=post.key,
                    body=json.dumps(asdict(post)),
                    reason=reason[:255],
                    created_at=self.clock(),
                )
            )

    async def undelivered(self, platform: str | None = None) -> list[UndeliveredPost]:
        async with self.db.transaction() as session:
            query = select(UndeliveredPost).order_by(UndeliveredPost.id)
            if platform:
                query = query.where(UndeliveredPost.platform == platform)
            return list(await session.scalars(query))

    async def save_conversation_ref(self, place: Place, reference: str, *, repoint: bool = True) -> None:
        """Keep (or, with ``repoint``, refresh) a conversation's serialised reference for
        proactive posts. An unauthenticated request must never repoint a stored one."""
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
        async with self.db.transaction() as session:
            return await session.scalar(
                select(ConversationRef.reference).where(
                    ConversationRef.platform == place.platform,
                    ConversationRef.channel_id == place.channel_id,
                )
            )
