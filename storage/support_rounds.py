"""Support rounds ("I will support myself today by …") and their statements: one open round
per community, one statement per member (a pass is a statement without words), and what
forget-me deletes of them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.answer_keys import answer_key
from storage.models import Member, SupportRound, SupportStatement
from storage.states import RoundStatus, move
from storage.upsert import added, insert_ignore


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


async def forget_statements(session: AsyncSession, member: Member) -> dict[str, int]:
    """forget-me: the member's support statements go."""
    statements = await session.execute(delete(SupportStatement).where(SupportStatement.member_id == member.id))
    return {"support statements": getattr(statements, "rowcount", 0) or 0}
