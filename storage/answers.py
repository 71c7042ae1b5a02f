"""Support rounds and their statements; reflections, their answers and action items."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.vocabulary.moments import stored_utc
from storage.group_memo import remembered
from storage.models import (
    ActionItem,
    Member,
    Reflection,
    ReflectionAnswer,
    SupportRound,
    SupportStatement,
)
from storage.states import ActionStatus, RoundStatus, SessionStatus, move
from storage.upsert import added, insert_ignore, inserted_row


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def answer_key(member_id: int | None, text: str, *, per_member: bool, code_hash: str | None = None) -> str:
    """The de-duplication key of an answer. A named support statement is one per member
    (edited in place); other named answers: the same words from the same member count once.
    An answer without a name is one row per sharing, keyed by its private code: nothing says
    who wrote it, so the same words from two members must not be taken for a repeat (a retry
    of the same event is already recognised by its event id)."""
    if member_id is not None and per_member:
        return f"member:{member_id}"
    if member_id is None and code_hash:
        return f"anon:{code_hash[:40]}"
    author = f"m{member_id}" if member_id is not None else "anon"
    return f"{author}:{digest(' '.join(text.split()).casefold())[:40]}"


# -- support rounds ---------------------------------------------------------------------------


async def open_support_round(session: AsyncSession, community_id: int) -> SupportRound | None:
    return await session.scalar(
        select(SupportRound).where(SupportRound.community_id == community_id, SupportRound.status == RoundStatus.OPEN)
    )


async def start_support_round(session: AsyncSession, community_id: int, meeting_id: int, now: datetime) -> SupportRound:
    return await added(
        session,
        SupportRound(community_id=community_id, meeting_id=meeting_id, status=RoundStatus.OPEN.value, opened_at=now),
    )


async def save_statement(
    session: AsyncSession,
    round_id: int,
    member_id: int | None,
    text: str | None,
    now: datetime,
    *,
    passed: bool = False,
    code_hash: str | None = None,
) -> bool:
    """Keep a statement (or a pass). A named one replaces the member's earlier one; an
    anonymous one is stored with no author. Returns False for an exact repeat."""
    key = answer_key(member_id, text or "", per_member=True, code_hash=code_hash)
    existing = await session.scalar(
        select(SupportStatement).where(SupportStatement.round_id == round_id, SupportStatement.answer_key == key)
    )
    if existing is not None:
        if member_id is None or (existing.text == text and existing.passed == passed):
            return False
        existing.text, existing.passed, existing.updated_at = text, passed, now
        return True
    return await insert_ignore(
        session,
        SupportStatement,
        {
            "round_id": round_id,
            "member_id": member_id,
            "answer_key": key,
            "text": text,
            "passed": passed,
            "edit_code_hash": code_hash,
            "created_at": now,
            "updated_at": now,
        },
        ("round_id", "answer_key"),
    )


async def has_named_statement(session: AsyncSession, round_id: int, member_id: int) -> bool:
    """Whether the member has shared a statement with their name in this round (not a pass)."""
    found = await session.scalar(
        select(SupportStatement.id).where(
            SupportStatement.round_id == round_id,
            SupportStatement.answer_key == answer_key(member_id, "", per_member=True),
            SupportStatement.passed.is_(False),
        )
    )
    return found is not None


def close_support_round(support_round: SupportRound, now: datetime) -> None:
    """open → closed."""
    move(support_round, RoundStatus.CLOSED)
    support_round.closed_at = now


async def support_tally(session: AsyncSession, round_id: int) -> tuple[int, int]:
    """(how many have shared, how many passed)."""
    rows = await session.execute(
        select(SupportStatement.passed, func.count(SupportStatement.id))
        .where(SupportStatement.round_id == round_id)
        .group_by(SupportStatement.passed)
    )
    counts = {bool(passed): int(n) for passed, n in rows.all()}
    return counts.get(False, 0), counts.get(True, 0)


async def support_statements(session: AsyncSession, round_id: int) -> list[tuple[str | None, str]]:
    """(member name or None when shared without a name, text), in the order shared."""
    rows = await session.execute(
        select(Member.name, SupportStatement.text)
        .select_from(SupportStatement)
        .outerjoin(Member, Member.id == SupportStatement.member_id)
        .where(SupportStatement.round_id == round_id, SupportStatement.passed.is_(False))
        .order_by(SupportStatement.created_at, SupportStatement.id)
    )
    return [(name, text or "") for name, text in rows.all()]


# -- reflections -------------------------------------------------------------------------------


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


# -- answers shared without a name: found again only by their private code ------------------


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


async def update_action_text(session: AsyncSession, answer: ReflectionAnswer) -> None:
    """An edited step-6 answer edits its action item too."""
    action = await session.scalar(select(ActionItem).where(ActionItem.answer_id == answer.id))
    if action is not None:
        action.text = answer.text


async def forget_statements(session: AsyncSession, member: Member) -> dict[str, int]:
    """forget-me: the member's support statements go."""
    statements = await session.execute(delete(SupportStatement).where(SupportStatement.member_id == member.id))
    return {"support statements": getattr(statements, "rowcount", 0) or 0}


async def forget_reflection_answers(session: AsyncSession, member: Member) -> dict[str, int]:
    """forget-me: the member's reflection answers go, with the actions made from them; actions
    assigned to them stay, owned by the group."""
    answers = list(await session.scalars(select(ReflectionAnswer.id).where(ReflectionAnswer.member_id == member.id)))
    if answers:
        await session.execute(delete(ActionItem).where(ActionItem.answer_id.in_(answers)))
    await session.execute(delete(ReflectionAnswer).where(ReflectionAnswer.member_id == member.id))
    await session.execute(update(ActionItem).where(ActionItem.owner_id == member.id).values(owner_id=None))
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
