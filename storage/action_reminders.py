"""What the action reminders read and claim: a community's open actions that have a date (with
their owner, if any, and whether the owner is still a member), and the claim of each private
reminder once across workers (`ActionReminder`, unique on action, kind and the date it told)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ActionItem, ActionReminder, Member
from storage.states import ActionStatus
from storage.upsert import insert_ignore

Told = tuple[int, str, date]  # (action id, kind, the due date it told)


@dataclass(frozen=True)
class DatedAction:
    """One open action with a due date: its number and words, and its owner (None: the group;
    ``owner_active`` False once they left)."""

    id: int
    number: int
    text: str
    due_on: date
    created_at: datetime
    owner_id: int | None
    owner: str | None
    owner_user: str | None
    owner_platform: str | None
    owner_active: bool


async def dated_open(session: AsyncSession, community_id: int) -> list[DatedAction]:
    """The community's open actions that have a due date, by date then number."""
    rows = await session.execute(
        select(
            ActionItem.id,
            ActionItem.number,
            ActionItem.text,
            ActionItem.due_on,
            ActionItem.created_at,
            ActionItem.owner_id,
            Member.name,
            Member.user_id,
            Member.platform,
            Member.active,
        )
        .outerjoin(Member, Member.id == ActionItem.owner_id)
        .where(
            ActionItem.community_id == community_id,
            ActionItem.status == ActionStatus.OPEN,
            ActionItem.due_on.is_not(None),
        )
        .order_by(ActionItem.due_on, ActionItem.number)
    )
    return [
        DatedAction(id_, n, text, due, created, owner_id, name, user, platform, bool(active))  # type: ignore[arg-type]
        for id_, n, text, due, created, owner_id, name, user, platform, active in rows.all()
    ]


async def told(session: AsyncSession, action_ids: Collection[int]) -> set[Told]:
    """The reminders already claimed for these actions: (action id, kind, due date)."""
    if not action_ids:
        return set()
    rows = await session.execute(
        select(ActionReminder.action_id, ActionReminder.kind, ActionReminder.due_on).where(
            ActionReminder.action_id.in_(sorted(set(action_ids)))
        )
    )
    return {(action_id, kind, due_on) for action_id, kind, due_on in rows.all()}


async def claim_reminder(session: AsyncSession, action_id: int, kind: str, due_on: date, now: datetime) -> bool:
    """True for the one caller (of any worker) that claims this reminder of this due date."""
    return await insert_ignore(
        session,
        ActionReminder,
        {"action_id": action_id, "kind": kind, "due_on": due_on, "created_at": now},
        ("action_id", "kind", "due_on"),
    )
