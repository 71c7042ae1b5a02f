"""Action items: step-6 answers tracked as actions with an owner and a due date, the action
plan as the summary shows it, and how many are open (the agenda's recap)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import ActionItem, Member, ReflectionAnswer
from storage.states import ActionStatus
from storage.upsert import insert_ignore


async def add_action(
    session: AsyncSession,
    community_id: int,
    answer: ReflectionAnswer,
    owner_id: int | None,
    due_on: date | None,
    now: datetime,
) -> bool:
    """Track a step-6 answer as an action. False when it is one already (a double press)."""
    return await insert_ignore(
        session,
        ActionItem,
        {
            "community_id": community_id,
            "answer_id": answer.id,
            "owner_id": owner_id,
            "text": answer.text,
            "due_on": due_on,
            "status": ActionStatus.OPEN.value,
            "created_at": now,
        },
        ("answer_id",),
    )


async def action_of(session: AsyncSession, answer_id: int) -> ActionItem | None:
    return await session.scalar(select(ActionItem).where(ActionItem.answer_id == answer_id))


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
