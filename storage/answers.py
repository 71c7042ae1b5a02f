"""Answers of either kind (support statements, reflection answers) found again: by their
private code (an answer shared without a name), as a member's own (`/cop mine`), and taken back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.vocabulary.moments import stored_utc
from storage.models import ActionItem, Reflection, ReflectionAnswer, SupportRound, SupportStatement


async def find_by_code(
    session: AsyncSession, community_id: int | None, code_hash: str
) -> SupportStatement | ReflectionAnswer | None:
    """The answer behind a private code: in one community, or (``None``: asked in a private
    chat with the bot) in any — the code itself is the secret."""
    statements = select(SupportStatement).join(SupportRound, SupportRound.id == SupportStatement.round_id)
    answers = select(ReflectionAnswer).join(Reflection, Reflection.id == ReflectionAnswer.reflection_id)
    if community_id is not None:
        statements = statements.where(SupportRound.community_id == community_id)
        answers = answers.where(Reflection.community_id == community_id)
    statement = await session.scalar(statements.where(SupportStatement.edit_code_hash == code_hash))
    if statement is not None:
        return statement
    return await session.scalar(answers.where(ReflectionAnswer.edit_code_hash == code_hash))


@dataclass(frozen=True)
class OwnAnswer:
    """One of a member's named answers: the row, where it sits ("support" or a reflection's
    topic and step) and when it was given."""

    row: SupportStatement | ReflectionAnswer
    topic: str | None  # None: a support statement
    step: int | None
    at: datetime


async def own_answers(session: AsyncSession, member_id: int, community_id: int, limit: int = 10) -> list[OwnAnswer]:
    """The member's named answers in the community, newest first (passes are not answers)."""
    statements = await session.scalars(
        select(SupportStatement)
        .join(SupportRound, SupportRound.id == SupportStatement.round_id)
        .where(
            SupportRound.community_id == community_id,
            SupportStatement.member_id == member_id,
            SupportStatement.passed.is_(False),
            SupportStatement.text.is_not(None),
        )
        .order_by(SupportStatement.updated_at.desc())
        .limit(limit)
    )
    found = [OwnAnswer(row, None, None, row.updated_at) for row in statements]
    answers = await session.execute(
        select(ReflectionAnswer, Reflection.topic)
        .join(Reflection, Reflection.id == ReflectionAnswer.reflection_id)
        .where(Reflection.community_id == community_id, ReflectionAnswer.member_id == member_id)
        .order_by(ReflectionAnswer.created_at.desc(), ReflectionAnswer.id.desc())
        .limit(limit)
    )
    found += [OwnAnswer(row, topic, row.step, row.created_at) for row, topic in answers]
    found.sort(key=lambda own: (stored_utc(own.at), own.topic is not None), reverse=True)
    return found[:limit]


async def delete_answer(session: AsyncSession, answer: SupportStatement | ReflectionAnswer) -> None:
    if isinstance(answer, ReflectionAnswer):
        await session.execute(delete(ActionItem).where(ActionItem.answer_id == answer.id))
    await session.delete(answer)
