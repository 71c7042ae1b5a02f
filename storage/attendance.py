"""Who was at a meeting: one row per member per meeting."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.group_memo import remembered, sharing
from storage.models import Attendance, Member
from storage.upsert import insert_ignore


async def mark_present(session: AsyncSession, meeting_id: int, member_id: int) -> bool:
    """True the first time the member is counted at this meeting. (In a group of answers, who
    is present already is read once, `storage.group_memo`: most answers then write nothing.)"""
    present = await remembered(session, ("present", meeting_id), lambda: _present(session, meeting_id))
    if present is not None and member_id in present:
        return False
    first = await insert_ignore(
        session, Attendance, {"meeting_id": meeting_id, "member_id": member_id}, ("meeting_id", "member_id")
    )
    if present is not None:
        present.add(member_id)
    return first


async def _present(session: AsyncSession, meeting_id: int) -> set[int] | None:
    """The members counted at the meeting, when a group shares its lookups (else None: no read)."""
    if not sharing(session):
        return None
    found = await session.scalars(select(Attendance.member_id).where(Attendance.meeting_id == meeting_id))
    return {member_id for member_id in found if member_id is not None}  # (None: a member forgotten)


async def present_count(session: AsyncSession, meeting_id: int) -> int:
    return int(await session.scalar(select(func.count(Attendance.id)).where(Attendance.meeting_id == meeting_id)) or 0)


async def forget_attendance(session: AsyncSession, member: Member) -> dict[str, int]:
    """forget-me: the member's presence is no longer theirs; the meetings' counts stay."""
    await session.execute(update(Attendance).where(Attendance.member_id == member.id).values(member_id=None))
    return {}
