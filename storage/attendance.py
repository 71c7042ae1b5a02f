"""Who was at a meeting: one row per member per meeting."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Attendance, Member
from storage.upsert import insert_ignore


async def mark_present(session: AsyncSession, meeting_id: int, member_id: int) -> bool:
    """True the first time the member is counted at this meeting."""
    return await insert_ignore(
        session, Attendance, {"meeting_id": meeting_id, "member_id": member_id}, ("meeting_id", "member_id")
    )


async def present_count(session: AsyncSession, meeting_id: int) -> int:
    return int(await session.scalar(select(func.count(Attendance.id)).where(Attendance.meeting_id == meeting_id)) or 0)


async def forget_attendance(session: AsyncSession, member: Member) -> dict[str, int]:
    """forget-me: the member's presence is no longer theirs; the meetings' counts stay."""
    await session.execute(update(Attendance).where(Attendance.member_id == member.id).values(member_id=None))
    return {}
