"""The group's vision: its challenge, its purpose and up to five objectives, one row each per
community (`Vision`, `VisionObjective`). Rows are made on first use, race-safe (`insert_ignore`
on the unique keys); nothing here knows who wrote what."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Vision, VisionObjective
from storage.upsert import insert_ignore


async def vision_of(session: AsyncSession, community_id: int) -> Vision | None:
    return await session.scalar(select(Vision).where(Vision.community_id == community_id))


async def objectives_of(session: AsyncSession, community_id: int) -> list[VisionObjective]:
    """The community's objectives, by number."""
    query = select(VisionObjective).where(VisionObjective.community_id == community_id)
    return list(await session.scalars(query.order_by(VisionObjective.number)))


async def vision_to_change(session: AsyncSession, community_id: int, now: datetime) -> Vision:
    """The community's vision row, made if it has none yet."""
    await insert_ignore(session, Vision, {"community_id": community_id, "updated_at": now}, ("community_id",))
    found = await vision_of(session, community_id)
    assert found is not None  # inserted just now, or by whoever got there first
    found.updated_at = now
    return found


async def objective_to_change(session: AsyncSession, community_id: int, number: int, now: datetime) -> VisionObjective:
    """Objective ``number`` of the community, made (empty) if it has none yet."""
    values = {"community_id": community_id, "number": number, "updated_at": now}
    await insert_ignore(session, VisionObjective, values, ("community_id", "number"))
    found = await objective(session, community_id, number)
    assert found is not None
    found.updated_at = now
    return found


async def objective(session: AsyncSession, community_id: int, number: int) -> VisionObjective | None:
    return await session.scalar(
        select(VisionObjective).where(VisionObjective.community_id == community_id, VisionObjective.number == number)
    )


async def drop_objective(session: AsyncSession, community_id: int, number: int) -> bool:
    """Remove objective ``number`` and its answers; whether there was one."""
    done = await session.execute(
        delete(VisionObjective).where(VisionObjective.community_id == community_id, VisionObjective.number == number)
    )
    return bool(getattr(done, "rowcount", 0))
