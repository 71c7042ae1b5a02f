"""A community's meeting rhythm: its schedule row, the changes to it, and its days off."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Announcement,
    CoChairTerm,
    DayOff,
    Meeting,
    MeetingSchedule,
    ScheduleChange,
)
from storage.upsert import insert_ignore

EXTRA, MOVED, CANCELLED = "extra", "moved", "cancel"


async def schedule_of(session: AsyncSession, community_id: int, now: datetime) -> MeetingSchedule:
    """The community's schedule (made with the defaults the first time it is asked for)."""
    found = await session.scalar(select(MeetingSchedule).where(MeetingSchedule.community_id == community_id))
    if found is None:
        await insert_ignore(
            session,
            MeetingSchedule,
            {
                "community_id": community_id,
                "at": "10:30",
                "zone": "Europe/Dublin",
                "country": "IE",
                "agenda_days": 5,
                "call_days": 10,
                "updated_at": now,
            },
            ("community_id",),
        )
        found = await session.scalar(select(MeetingSchedule).where(MeetingSchedule.community_id == community_id))
    assert found is not None
    return found


async def changes(session: AsyncSession, community_id: int) -> list[ScheduleChange]:
    return list(await session.scalars(select(ScheduleChange).where(ScheduleChange.community_id == community_id)))


async def change_on(session: AsyncSession, community_id: int, on: date) -> ScheduleChange | None:
    return await session.scalar(
        select(ScheduleChange).where(ScheduleChange.community_id == community_id, ScheduleChange.on == on)
    )


async def record_change(
    session: AsyncSession, community_id: int, kind: str, on: date, starts_at: datetime | None, now: datetime
) -> None:
    """One change per day: a later change of the same day replaces the earlier one."""
    existing = await change_on(session, community_id, on)
    if existing is not None:
        existing.kind, existing.starts_at, existing.created_at = kind, starts_at, now
        return
    session.add(ScheduleChange(community_id=community_id, kind=kind, on=on, starts_at=starts_at, created_at=now))
    await session.flush()


async def drop_change(session: AsyncSession, change: ScheduleChange) -> None:
    await session.delete(change)
    await session.flush()


async def days_off(session: AsyncSession, community_id: int) -> list[date]:
    return list(await session.scalars(select(DayOff.day).where(DayOff.community_id == community_id)))


async def add_day_off(session: AsyncSession, community_id: int, day: date) -> bool:
    return await insert_ignore(session, DayOff, {"community_id": community_id, "day": day}, ("community_id", "day"))


async def schedules(session: AsyncSession) -> list[MeetingSchedule]:
    """Every community's schedule (the announcer goes through them)."""
    return list(await session.scalars(select(MeetingSchedule).order_by(MeetingSchedule.community_id)))


async def claim_announcement(
    session: AsyncSession, community_id: int, kind: str, due_for: datetime, now: datetime, *, skipped: bool = False
) -> bool:
    """True for the one caller (of any worker) that claims this announcement."""
    return await insert_ignore(
        session,
        Announcement,
        {"community_id": community_id, "kind": kind, "due_for": due_for, "skipped": skipped, "created_at": now},
        ("community_id", "kind", "due_for"),
    )


async def ending_terms(session: AsyncSession, community_id: int, since: date, until: date) -> list[CoChairTerm]:
    """Current co-chair terms that end between ``since`` and ``until``."""
    return list(
        await session.scalars(
            select(CoChairTerm).where(
                CoChairTerm.community_id == community_id,
                CoChairTerm.replaced_on.is_(None),
                CoChairTerm.ends_on >= since,
                CoChairTerm.ends_on <= until,
            )
        )
    )


async def reviewed_terms(session: AsyncSession, community_id: int, since: date, until: date) -> list[CoChairTerm]:
    """Current co-chair terms whose review falls between ``since`` and ``until``."""
    return list(
        await session.scalars(
            select(CoChairTerm).where(
                CoChairTerm.community_id == community_id,
                CoChairTerm.replaced_on.is_(None),
                CoChairTerm.review_on >= since,
                CoChairTerm.review_on <= until,
            )
        )
    )


async def has_met(session: AsyncSession, community_id: int, before: date) -> bool:
    """Whether the community has held a meeting before ``before`` (else the next is its first)."""
    found = await session.scalar(
        select(Meeting.id).where(Meeting.community_id == community_id, Meeting.held_on < before).limit(1)
    )
    return found is not None
