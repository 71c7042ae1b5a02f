"""Action items: what the group agreed to do, numbered per community, with an owner, a due
date and a place on the roadmap; from step 6 of a reflection or added with `/cop actions add`.
Open → done or dropped (who, when, why), never deleted: the list, the roadmap, the report back
on the agenda and the meeting's record all read them here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import ActionItem, Meeting, Member, Reflection, ReflectionAnswer
from storage.states import ActionStatus, move
from storage.upsert import added, insert_ignore

HORIZONS = ("short", "medium", "long")  # the guide's roadmap: 1–3, 4–6 and 7–12 months


async def _next_number(session: AsyncSession, community_id: int) -> int:
    """The number after the community's last action (two made at once clash on the unique
    number, and the event that lost is handled again)."""
    last = await session.scalar(select(func.max(ActionItem.number)).where(ActionItem.community_id == community_id))
    return int(last or 0) + 1


async def add_action(
    session: AsyncSession,
    community_id: int,
    answer: ReflectionAnswer,
    owner_id: int | None,
    due_on: date | None,
    now: datetime,
) -> bool:
    """Track a step-6 answer as an action. False when it is one already (a double press)."""
    meeting_id = await session.scalar(select(Reflection.meeting_id).where(Reflection.id == answer.reflection_id))
    return await insert_ignore(
        session,
        ActionItem,
        {
            "community_id": community_id,
            "number": await _next_number(session, community_id),
            "answer_id": answer.id,
            "meeting_id": meeting_id,
            "owner_id": owner_id,
            "text": answer.text,
            "due_on": due_on,
            "status": ActionStatus.OPEN.value,
            "created_at": now,
        },
        ("answer_id",),
    )


async def add_agreed(
    session: AsyncSession,
    community_id: int,
    text: str,
    owner_id: int | None,
    due_on: date | None,
    meeting_id: int | None,
    now: datetime,
) -> ActionItem:
    """An action agreed outside step 6 (`/cop actions add`)."""
    row = ActionItem(
        community_id=community_id,
        number=await _next_number(session, community_id),
        answer_id=None,
        meeting_id=meeting_id,
        owner_id=owner_id,
        text=text,
        due_on=due_on,
        status=ActionStatus.OPEN.value,
        created_at=now,
    )
    return await added(session, row)


async def action_of(session: AsyncSession, answer_id: int) -> ActionItem | None:
    return await session.scalar(select(ActionItem).where(ActionItem.answer_id == answer_id))


async def numbered(session: AsyncSession, community_id: int, number: int) -> ActionItem | None:
    return await session.scalar(
        select(ActionItem).where(ActionItem.community_id == community_id, ActionItem.number == number)
    )


def close(action: ActionItem, to: ActionStatus, by: int | None, now: datetime, reason: str | None = None) -> None:
    """Done or dropped: says who and when (and why, for a drop). Raises `IllegalMove` unless open."""
    move(action, to)
    action.closed_by, action.closed_at, action.close_reason = by, now, reason


def reopen(action: ActionItem) -> None:
    move(action, ActionStatus.OPEN)
    action.closed_by = action.closed_at = action.close_reason = None


@dataclass(frozen=True)
class ActionView:
    """One action as lists show it: its number and words, who owns it (None: the group), the
    owner's platform id (to remind them), its date, the day of the meeting that agreed it, its
    roadmap place, and how it was closed."""

    id: int
    number: int
    text: str
    owner: str | None
    owner_id: int | None
    owner_user: str | None
    owner_platform: str | None
    due_on: date | None
    agreed_on: date | None
    horizon: str | None
    resources: str | None
    status: str
    closed_by: str | None
    closed_at: datetime | None
    reason: str | None

    @property
    def is_open(self) -> bool:
        return self.status == ActionStatus.OPEN


def _views(community_id: int) -> Any:
    owner, closer = aliased(Member), aliased(Member)
    return (
        select(ActionItem, owner.name, owner.user_id, owner.platform, Meeting.held_on, closer.name)
        .outerjoin(owner, owner.id == ActionItem.owner_id)
        .outerjoin(closer, closer.id == ActionItem.closed_by)
        .outerjoin(Meeting, Meeting.id == ActionItem.meeting_id)
        .where(ActionItem.community_id == community_id)
    )


def _view(found: Any) -> ActionView:
    row, owner, user, platform, held, closer = found
    return ActionView(
        row.id,
        row.number,
        row.text,
        owner,
        row.owner_id,
        user,
        platform,
        row.due_on,
        held,
        row.horizon,
        row.resources,
        row.status,
        closer,
        row.closed_at,
        row.close_reason,
    )


async def open_list(session: AsyncSession, community_id: int) -> list[ActionView]:
    """The open actions, by number."""
    query = _views(community_id).where(ActionItem.status == ActionStatus.OPEN).order_by(ActionItem.number)
    return [_view(row) for row in (await session.execute(query)).all()]


async def view_of(session: AsyncSession, action: ActionItem) -> ActionView:
    row = (await session.execute(_views(action.community_id).where(ActionItem.id == action.id))).one()
    return _view(row)


async def closed_since(session: AsyncSession, community_id: int, since: datetime | None) -> list[ActionView]:
    """The actions done or dropped since ``since`` (all of them: None), in the order closed."""
    query = _views(community_id).where(ActionItem.status != ActionStatus.OPEN)
    if since is not None:
        query = query.where(ActionItem.closed_at >= since)
    query = query.order_by(ActionItem.closed_at, ActionItem.number)
    return [_view(row) for row in (await session.execute(query)).all()]


async def agreed_at(session: AsyncSession, meeting_id: int) -> list[ActionView]:
    """The actions agreed at one meeting (whatever became of them since), by number."""
    community_id = await session.scalar(select(Meeting.community_id).where(Meeting.id == meeting_id))
    if community_id is None:
        return []
    query = _views(int(community_id)).where(ActionItem.meeting_id == meeting_id).order_by(ActionItem.number)
    return [_view(row) for row in (await session.execute(query)).all()]


@dataclass(frozen=True)
class PlanEntry:
    """One answer to the action-plan step, and the action it became, if it is tracked."""

    answer_id: int
    author: str | None  # None: shared without a name
    text: str
    tracked: bool
    owner: str | None  # None: the group
    due_on: date | None


async def action_plan(session: AsyncSession, reflection_id: int, step: int) -> list[PlanEntry]:
    """Every answer to ``step`` in the order shared, each with its action when it is tracked."""
    author, owner = aliased(Member), aliased(Member)
    rows = await session.execute(
        select(ReflectionAnswer.id, author.name, ReflectionAnswer.text, ActionItem.id, owner.name, ActionItem.due_on)
        .select_from(ReflectionAnswer)
        .outerjoin(author, author.id == ReflectionAnswer.member_id)
        .outerjoin(ActionItem, ActionItem.answer_id == ReflectionAnswer.id)
        .outerjoin(owner, owner.id == ActionItem.owner_id)
        .where(ReflectionAnswer.reflection_id == reflection_id, ReflectionAnswer.step == step)
        .order_by(ReflectionAnswer.created_at, ReflectionAnswer.id)
    )
    return [
        PlanEntry(answer_id, name, text, action_id is not None, owner_name, due)
        for answer_id, name, text, action_id, owner_name, due in rows.all()
    ]


async def open_actions(session: AsyncSession, community_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count(ActionItem.id)).where(
                ActionItem.community_id == community_id, ActionItem.status == ActionStatus.OPEN
            )
        )
        or 0
    )


async def update_action_text(session: AsyncSession, answer: ReflectionAnswer) -> None:
    """An edited step-6 answer edits its action item too."""
    action = await session.scalar(select(ActionItem).where(ActionItem.answer_id == answer.id))
    if action is not None:
        action.text = answer.text
