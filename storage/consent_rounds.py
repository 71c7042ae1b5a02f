"""A consent round's answers, whatever the round is about (a co-chair nomination, the Terms of
Reference): each member's one answer — agree, stand aside or object — kept in a table with a
unique (round, member) key, replaced on a change of mind, and counted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Member
from storage.upsert import added

AGREE, STAND_ASIDE, OBJECT = "agree", "stand-aside", "object"


@dataclass(frozen=True)
class Tally:
    """A round's answers so far (objections are counted here, never shown in the channel)."""

    agree: int = 0
    stand_aside: int = 0
    object: int = 0


async def record_answer(
    session: AsyncSession,
    model: type[Any],
    round_column: str,
    round_id: int,
    member: Member,
    answer: str,
    now: datetime,
) -> str | None:
    """Keep ``member``'s answer in the round ``round_id`` of ``model`` (its round column named
    ``round_column``); a change of mind replaces it. Returns their previous answer."""
    found = await session.scalar(
        select(model).where(getattr(model, round_column) == round_id, model.member_id == member.id)
    )
    if found is None:
        await added(session, model(**{round_column: round_id}, member_id=member.id, answer=answer, answered_at=now))
        return None
    previous, found.answer, found.answered_at = found.answer, answer, now
    await session.flush()
    return str(previous)


async def tally(session: AsyncSession, model: type[Any], round_column: str, round_id: int) -> Tally:
    rows = await session.execute(
        select(model.answer, func.count(model.id))
        .where(getattr(model, round_column) == round_id)
        .group_by(model.answer)
    )
    counts = {answer: int(n) for answer, n in rows.all()}
    return Tally(counts.get(AGREE, 0), counts.get(STAND_ASIDE, 0), counts.get(OBJECT, 0))
