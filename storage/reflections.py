"""Reflections (Gibbs' six steps, a stepped session): their rows, the answers kept under each
step, the store the step engine moves them through (`ReflectionStore`), and what forget-me
deletes of them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.answer_keys import answer_key
from storage.group_memo import remembered
from storage.models import ActionItem, Member, Reflection, ReflectionAnswer
from storage.states import SessionStatus, move
from storage.upsert import added, inserted_row


async def open_reflection(session: AsyncSession, community_id: int) -> Reflection | None:
    return await session.scalar(
        select(Reflection).where(Reflection.community_id == community_id, Reflection.status == SessionStatus.OPEN)
    )


async def open_reflection_to_move(session: AsyncSession, community_id: int) -> Reflection | None:
    """The open reflection, locked until this transaction ends (PostgreSQL): two co-chairs'
    `next` at the same moment are decided one after the other, each seeing the other's move."""
    return await session.scalar(
        select(Reflection)
        .where(Reflection.community_id == community_id, Reflection.status == SessionStatus.OPEN)
        .with_for_update()
    )


async def reflection_by_id(session: AsyncSession, community_id: int, reflection_id: int) -> Reflection | None:
    async def look_up() -> Reflection | None:
        return await session.scalar(
            select(Reflection).where(Reflection.id == reflection_id, Reflection.community_id == community_id)
        )

    return await remembered(session, ("reflection", community_id, reflection_id), look_up)


def end_reflection(reflection: Reflection, now: datetime) -> None:
    """open → ended."""
    move(reflection, SessionStatus.ENDED)
    reflection.ended_at = now


async def start_reflection(
    session: AsyncSession, community_id: int, meeting_id: int, topic: str, now: datetime
) -> Reflection:
    return await added(
        session,
        Reflection(
            community_id=community_id,
            meeting_id=meeting_id,
            topic=topic,
            step=1,
            status=SessionStatus.OPEN.value,
            started_at=now,
        ),
    )


async def add_reflection_answer(
    session: AsyncSession,
    reflection_id: int,
    step: int,
    member_id: int | None,
    text: str,
    now: datetime,
    code_hash: str | None = None,
) -> ReflectionAnswer | None:
    """Keep one answer under ``step``; None when the same answer was already kept."""
    values = {
        "reflection_id": reflection_id,
        "step": step,
        "member_id": member_id,
        "answer_key": answer_key(member_id, text, per_member=False, code_hash=code_hash),
        "text": text,
        "edit_code_hash": code_hash,
        "created_at": now,
    }
    return await inserted_row(session, ReflectionAnswer, values, ("reflection_id", "step", "answer_key"))


async def reflection_answers(session: AsyncSession, reflection_id: int) -> list[tuple[int, str | None, str]]:
    """(step, member name or None, text) in step order, then the order shared."""
    rows = await session.execute(
        select(ReflectionAnswer.step, Member.name, ReflectionAnswer.text)
        .select_from(ReflectionAnswer)
        .outerjoin(Member, Member.id == ReflectionAnswer.member_id)
        .where(ReflectionAnswer.reflection_id == reflection_id)
        .order_by(ReflectionAnswer.step, ReflectionAnswer.created_at, ReflectionAnswer.id)
    )
    return [(step, name, text) for step, name, text in rows.all()]


async def reflection_answer(session: AsyncSession, community_id: int, answer_id: int) -> ReflectionAnswer | None:
    """An answer by its number, if it belongs to one of this community's reflections."""
    return await session.scalar(
        select(ReflectionAnswer)
        .join(Reflection, Reflection.id == ReflectionAnswer.reflection_id)
        .where(ReflectionAnswer.id == answer_id, Reflection.community_id == community_id)
    )


async def community_of(session: AsyncSession, answer: ReflectionAnswer) -> int:
    """The community whose reflection an answer belongs to."""
    found = await session.scalar(select(Reflection.community_id).where(Reflection.id == answer.reflection_id))
    assert found is not None
    return int(found)


async def forget_reflection_answers(session: AsyncSession, member: Member) -> dict[str, int]:
    """forget-me: the member's reflection answers go, with the actions made from them; actions
    assigned to them stay, owned by the group, and those they closed no longer say who."""
    answers = list(await session.scalars(select(ReflectionAnswer.id).where(ReflectionAnswer.member_id == member.id)))
    if answers:
        await session.execute(delete(ActionItem).where(ActionItem.answer_id.in_(answers)))
    await session.execute(delete(ReflectionAnswer).where(ReflectionAnswer.member_id == member.id))
    await session.execute(update(ActionItem).where(ActionItem.owner_id == member.id).values(owner_id=None))
    await session.execute(update(ActionItem).where(ActionItem.closed_by == member.id).values(closed_by=None))
    return {"reflection answers": len(answers)}


async def forget_moves(session: AsyncSession, member: Member) -> dict[str, int]:
    """forget-me: which step moves the member made is not kept."""
    await session.execute(update(Reflection).where(Reflection.moved_by == member.id).values(moved_by=None))
    return {}


class ReflectionStore:
    """The reflections tables as a stepped-session store (`flows.stepped.SessionStore`)."""

    session_table: str = "reflections"
    answer_tables: tuple[str, ...] = ("reflection_answers", "action_items")
    forget_answers = staticmethod(forget_reflection_answers)
    forget_moves = staticmethod(forget_moves)

    open_session = staticmethod(open_reflection)
    open_to_move = staticmethod(open_reflection_to_move)
    session_by_id = staticmethod(reflection_by_id)
    end = staticmethod(end_reflection)
    add_answer = staticmethod(add_reflection_answer)
    answers = staticmethod(reflection_answers)
