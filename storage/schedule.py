"""A community's meeting rhythm: its schedule row, the changes to it, and its days off; the
scheduler's due query and its claims (one per announcement of a meeting), and their purge."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.vocabulary.moments import stored_utc
from storage.due import LOOK_NOW
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
AGENDA = "agenda"
CLAIMS_KEPT = timedelta(days=30)  # a claim this far past can no longer prevent a duplicate
AGENDA_CLAIMS_KEPT = timedelta(days=730)  # when each agenda went out: the KPI report reads it
CHANGES_KEPT = timedelta(days=30)
Claim = tuple[str, date]  # (kind, occurrence)


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
                "next_due_at": LOOK_NOW,
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


async def due_batch(
    session: AsyncSession, now: datetime, after: tuple[datetime, int] | None, size: int
) -> list[tuple[datetime, int]]:
    """The next ``size`` schedules due by ``now`` (their next_due_at and id, in that order),
    after ``after``: one indexed query, however many communities there are."""
    query = select(MeetingSchedule.next_due_at, MeetingSchedule.id).where(MeetingSchedule.next_due_at <= now)
    if after is not None:  # keyset paging: a tick goes through each due schedule once
        due_at, schedule_id = after
        query = query.where(
            or_(
                MeetingSchedule.next_due_at > due_at,
                and_(MeetingSchedule.next_due_at == due_at, MeetingSchedule.id > schedule_id),
            )
        )
    rows = await session.execute(query.order_by(MeetingSchedule.next_due_at, MeetingSchedule.id).limit(size))
    return [(stored_utc(due_at), schedule_id) for due_at, schedule_id in rows.all() if due_at is not None]


async def take_due(session: AsyncSession, schedule_id: int, now: datetime) -> MeetingSchedule | None:
    """The schedule, locked for this transaction, if it is still due and no other worker holds
    it (PostgreSQL: ``FOR UPDATE SKIP LOCKED``; SQLite's write lock already serialises)."""
    query = select(MeetingSchedule).where(MeetingSchedule.id == schedule_id, MeetingSchedule.next_due_at <= now)
    return await session.scalar(query.with_for_update(skip_locked=True))


async def put_off(session: AsyncSession, schedule_id: int, until: datetime) -> None:
    """Look at this schedule again only at ``until`` (after its community failed)."""
    await session.execute(
        update(MeetingSchedule).where(MeetingSchedule.id == schedule_id).values(next_due_at=until.astimezone(UTC))
    )


async def claims(session: AsyncSession, community_id: int, occurrences: Collection[date]) -> dict[Claim, Announcement]:
    """The community's claims for these meetings (or term days), by (kind, occurrence)."""
    if not occurrences:
        return {}
    query = select(Announcement).where(
        Announcement.community_id == community_id, Announcement.occurrence.in_(sorted(set(occurrences)))
    )
    return {(claim.kind, claim.occurrence): claim for claim in await session.scalars(query)}


async def claim_announcement(
    session: AsyncSession,
    community_id: int,
    kind: str,
    occurrence: date,
    due_for: datetime,
    now: datetime,
    *,
    skipped: bool = False,
) -> bool:
    """True for the one caller (of any worker) that claims this announcement of this meeting."""
    return await insert_ignore(
        session,
        Announcement,
        {
            "community_id": community_id,
            "kind": kind,
            "occurrence": occurrence,
            "due_for": due_for,
            "skipped": skipped,
            "created_at": now,
        },
        ("community_id", "kind", "occurrence"),
    )


async def claim_again(session: AsyncSession, claim: Announcement, due_for: datetime, *, skipped: bool) -> bool:
    """The meeting moved: record the start now told (or passed over). True for the one caller
    that changed it from the start it had (a conditional UPDATE, so a race is decided once)."""
    changed = await session.execute(
        update(Announcement)
        .where(Announcement.id == claim.id, Announcement.due_for == claim.due_for)
        .values(due_for=due_for, skipped=skipped)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(changed, "rowcount", 0))


async def move_claims(session: AsyncSession, community_id: int, before: date, after: date) -> None:
    """An extra meeting moved to another day keeps what was announced for it (claims follow it)."""
    await session.execute(
        delete(Announcement).where(Announcement.community_id == community_id, Announcement.occurrence == after)
    )
    await session.execute(
        update(Announcement)
        .where(Announcement.community_id == community_id, Announcement.occurrence == before)
        .values(occurrence=after)
    )


async def current_terms(session: AsyncSession, community_id: int) -> list[CoChairTerm]:
    """The community's current co-chair terms (their review and end days are announced)."""
    query = select(CoChairTerm).where(CoChairTerm.community_id == community_id, CoChairTerm.replaced_on.is_(None))
    return list(await session.scalars(query.order_by(CoChairTerm.id)))


async def purge(session: AsyncSession, now: datetime) -> dict[str, int]:
    """Delete what can no longer prevent a duplicate or change a meeting; returns the counts.

    - An announcement claim goes once its meeting's planned day (or term day), the start it
      told and the start the meeting was moved to (if it was) are all more than 30 days past:
      the scheduler looks back 2 days at most for a meeting (its next steps), 14 for a term's
      review, so such a claim can no longer stop anything being announced twice.
    - An `agenda` claim is kept 2 years instead: it is the record of when each agenda went out
      (the national office's KPI report reads it).
    - A schedule change goes once its day and its new start (if any) are more than 30 days past.
    """
    counts = {}
    for label, kinds, kept in (
        ("announcement claims", Announcement.kind != AGENDA, CLAIMS_KEPT),
        ("agenda claims", Announcement.kind == AGENDA, AGENDA_CLAIMS_KEPT),
    ):
        cutoff = now - kept
        still_changed = exists().where(  # the meeting was moved to a start not that far past
            ScheduleChange.community_id == Announcement.community_id,
            ScheduleChange.on == Announcement.occurrence,
            ScheduleChange.starts_at >= cutoff,
        )
        gone = await session.execute(
            delete(Announcement)
            .where(kinds, Announcement.due_for < cutoff, Announcement.occurrence < cutoff.date(), ~still_changed)
            .execution_options(synchronize_session=False)
        )
        counts[label] = int(getattr(gone, "rowcount", 0) or 0)
    cutoff = now - CHANGES_KEPT
    gone = await session.execute(
        delete(ScheduleChange)
        .where(
            ScheduleChange.on < cutoff.date(),
            or_(ScheduleChange.starts_at.is_(None), ScheduleChange.starts_at < cutoff),
        )
        .execution_options(synchronize_session=False)
    )
    counts["schedule changes"] = int(getattr(gone, "rowcount", 0) or 0)
    return counts


async def has_met(session: AsyncSession, community_id: int, before: date) -> bool:
    """Whether the community has held a meeting before ``before`` (else the next is its first)."""
    found = await session.scalar(
        select(Meeting.id).where(Meeting.community_id == community_id, Meeting.held_on < before).limit(1)
    )
    return found is not None
