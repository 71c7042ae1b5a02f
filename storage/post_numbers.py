"""Post numbers for a channel that numbers its posts itself (the terminal's ``#n``): one counter
row per channel, bumped in one statement, so each number is given once per database — after a
restart, and with two processes on one database."""

from __future__ import annotations

from sqlalchemy import update

from bot.vocabulary.conversation import Place
from storage.db import Database
from storage.models import PostNumber
from storage.upsert import insert_ignore


async def next_number(db: Database, place: Place) -> int:
    """The next number for a post in ``place`` (1 for its first), in its own transaction."""
    async with db.transaction() as session:
        await insert_ignore(
            session,
            PostNumber,
            {"platform": place.platform, "channel_id": place.channel_id, "last": 0},
            ("platform", "channel_id"),
        )
        bumped = await session.execute(
            update(PostNumber)
            .where(PostNumber.platform == place.platform, PostNumber.channel_id == place.channel_id)
            .values(last=PostNumber.last + 1)
            .returning(PostNumber.last)
        )
        return int(bumped.scalar_one())
