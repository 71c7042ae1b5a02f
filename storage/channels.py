"""Where copbot may post: the channels bound to a community, and the ones it was removed from
(an uninstall, a revoked token, a channel gone): those are marked inactive, with the reason,
and their pending posts are cancelled; an event from such a channel shows copbot is back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.vocabulary.conversation import Place
from storage import outbox
from storage.group_memo import remembered
from storage.models import ChannelBinding, Community


async def active_channels(session: AsyncSession, community_id: int) -> list[ChannelBinding]:
    """Where a community's announcements go: every channel bound to it that copbot is still in."""
    query = select(ChannelBinding).where(ChannelBinding.community_id == community_id, ChannelBinding.active.is_(True))
    return list(await session.scalars(query.order_by(ChannelBinding.id)))


async def inactive_channels(session: AsyncSession, community_id: int) -> list[ChannelBinding]:
    query = select(ChannelBinding).where(ChannelBinding.community_id == community_id, ChannelBinding.active.is_(False))
    return list(await session.scalars(query.order_by(ChannelBinding.id)))


async def deactivate(
    session: AsyncSession,
    platform: str,
    reason: str,
    now: datetime,
    *,
    channel_id: str | None = None,
    team_id: str | None = None,
) -> list[ChannelBinding]:
    """Mark one channel, or every channel of a workspace/team, inactive and cancel their pending
    posts. Returns the channels that were active until now."""
    if not channel_id and not team_id:
        return []
    query = select(ChannelBinding).where(ChannelBinding.platform == platform, ChannelBinding.active.is_(True))
    query = query.where(ChannelBinding.channel_id == channel_id) if channel_id else query
    query = query.where(ChannelBinding.team_id == team_id) if team_id else query
    found = list(await session.scalars(query))
    for channel in found:
        channel.active, channel.inactive_reason, channel.inactive_since = False, reason[:64], now
    await outbox.cancel_pending(session, platform, [channel.channel_id for channel in found])
    return found


async def binding_of(session: AsyncSession, place: Place) -> tuple[ChannelBinding, Community] | None:
    """The channel's binding and its community (one query: every event asks)."""

    async def look_up() -> tuple[ChannelBinding, Community] | None:
        row = (
            await session.execute(
                select(ChannelBinding, Community)
                .join(Community, Community.id == ChannelBinding.community_id)
                .where(ChannelBinding.platform == place.platform, ChannelBinding.channel_id == place.channel_id)
            )
        ).first()
        return (row[0], row[1]) if row is not None else None

    return await remembered(session, ("binding", place.platform, place.channel_id), look_up)


def reactivate(channel: ChannelBinding) -> bool:
    """copbot heard from this channel again: it may post there. True if it was inactive."""
    if channel.active:
        return False
    channel.active, channel.inactive_reason, channel.inactive_since = True, None, None
    return True
