"""Co-chair nominations and their consent rounds: who is nominated, each member's answer
(agree, stand aside, object), and the moves of a round (`storage.states.NominationStatus`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import consent_rounds as rounds
from storage.consent_rounds import AGREE as AGREE  # the answers, as the chairs flow names them
from storage.consent_rounds import OBJECT as OBJECT
from storage.consent_rounds import STAND_ASIDE as STAND_ASIDE
from storage.consent_rounds import Tally
from storage.models import ChairConsent, ChairNomination, Member
from storage.states import NominationStatus, move
from storage.upsert import added


async def open_nominations(session: AsyncSession, community_id: int) -> list[ChairNomination]:
    return list(
        await session.scalars(
            select(ChairNomination)
            .where(ChairNomination.community_id == community_id, ChairNomination.status == NominationStatus.OPEN)
            .order_by(ChairNomination.number)
        )
    )


async def open_nomination_of(session: AsyncSession, community_id: int, member_id: int) -> ChairNomination | None:
    return await session.scalar(
        select(ChairNomination).where(
            ChairNomination.community_id == community_id,
            ChairNomination.nominee_id == member_id,
            ChairNomination.status == NominationStatus.OPEN,
        )
    )


async def nomination_numbered(session: AsyncSession, community_id: int, number: int) -> ChairNomination | None:
    return await session.scalar(
        select(ChairNomination).where(ChairNomination.community_id == community_id, ChairNomination.number == number)
    )


async def nominate(
    session: AsyncSession, community_id: int, nominee: Member, by: Member | None, now: datetime
) -> ChairNomination:
    """Open a round for ``nominee`` with the next number (a racing second one clashes on the
    unique keys and is handled again from the top by the router)."""
    last = await session.scalar(
        select(func.max(ChairNomination.number)).where(ChairNomination.community_id == community_id)
    )
    return await added(
        session,
        ChairNomination(
            community_id=community_id,
            number=(last or 0) + 1,
            nominee_id=nominee.id,
            nominated_by=by.id if by is not None else None,
            status=NominationStatus.OPEN.value,
            opened_at=now,
        ),
    )


async def record_consent(
    session: AsyncSession, nomination: ChairNomination, member: Member, answer: str, now: datetime
) -> str | None:
    """Keep ``member``'s answer (a change of mind replaces it); returns their previous answer."""
    return await rounds.record_answer(session, ChairConsent, "nomination_id", nomination.id, member, answer, now)


async def tally(session: AsyncSession, nomination: ChairNomination) -> Tally:
    return await rounds.tally(session, ChairConsent, "nomination_id", nomination.id)


def agree(nomination: ChairNomination, now: datetime) -> None:
    move(nomination, NominationStatus.AGREED)
    nomination.closed_at = now


def close(nomination: ChairNomination, now: datetime) -> None:
    move(nomination, NominationStatus.CLOSED)
    nomination.closed_at = now


async def forget_nominations(session: AsyncSession, member: Member) -> dict[str, int]:
    """forget-me: the member's answers in consent rounds are deleted (an objection of theirs is
    withdrawn with them), and so are the rounds in which they were the nominee; rounds they
    nominated someone in stay, without their name."""
    answers = await session.execute(delete(ChairConsent).where(ChairConsent.member_id == member.id))
    await session.execute(delete(ChairNomination).where(ChairNomination.nominee_id == member.id))
    await session.execute(
        update(ChairNomination).where(ChairNomination.nominated_by == member.id).values(nominated_by=None)
    )
    return {"co-chair consent answers": int(getattr(answers, "rowcount", 0) or 0)}
