"""Files copbot serves itself (`GET /files/<token>` of `copbot serve`): kept under a random
256-bit token until they expire, then purged by the housekeeping job."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.vocabulary.moments import stored_utc
from storage.models import SharedFile

KEPT = timedelta(days=30)
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # what `secrets.token_urlsafe(32)` gives


async def share(session: AsyncSession, media_type: str, content: bytes, now: datetime) -> str:
    """Keep ``content`` to be served until ``now + KEPT``; its token."""
    token = secrets.token_urlsafe(32)
    session.add(SharedFile(token=token, media_type=media_type, content=content, expires_at=now + KEPT))
    await session.flush()
    return token


async def shared(session: AsyncSession, token: str, now: datetime) -> tuple[str, bytes] | None:
    """The media type and bytes kept under ``token``; None for a token that is malformed,
    unknown or expired."""
    if not TOKEN.fullmatch(token):
        return None
    found = await session.scalar(select(SharedFile).where(SharedFile.token == token))
    if found is None or stored_utc(found.expires_at) <= now:
        return None
    return found.media_type, bytes(found.content)


async def purge(session: AsyncSession, now: datetime) -> int:
    gone = await session.execute(delete(SharedFile).where(SharedFile.expires_at <= now))
    return int(getattr(gone, "rowcount", 0) or 0)
