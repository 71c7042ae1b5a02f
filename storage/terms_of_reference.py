"""The community's Terms of Reference: the parts co-chairs wrote (`TermsOfReferencePart`), the
consent rounds on the Terms as proposed (`TermsOfReferenceRound`: the approved ones are the
versions) and each member's answer (`TermsOfReferenceConsent`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import consent_rounds as rounds
from storage.consent_rounds import Tally
from storage.models import Member, TermsOfReferenceConsent, TermsOfReferencePart, TermsOfReferenceRound
from storage.states import TermsRoundStatus, move
from storage.upsert import added


async def parts_written(session: AsyncSession, community_id: int) -> dict[str, str]:
    """The parts co-chairs wrote, by name (``purpose``, ``objective 2.3``…)."""
    rows = await session.execute(
        select(TermsOfReferencePart.part, TermsOfReferencePart.text).where(
            TermsOfReferencePart.community_id == community_id
        )
    )
    return {part: text for part, text in rows.all()}


async def write_part(
    session: AsyncSession, community_id: int, part: str, text: str, by: Member, now: datetime
) -> str | None:
    """Keep a co-chair's wording of ``part``; returns the wording it replaces (None: the template's)."""
    found = await session.scalar(
        select(TermsOfReferencePart).where(
            TermsOfReferencePart.community_id == community_id, TermsOfReferencePart.part == part
        )
    )
    if found is None:
        await added(
            session, TermsOfReferencePart(community_id=community_id, part=part, text=text, set_by=by.id, set_at=now)
        )
        return None
    previous, found.text, found.set_by, found.set_at = found.text, text, by.id, now
    await session.flush()
    return previous


async def open_round(session: AsyncSession, community_id: int) -> TermsOfReferenceRound | None:
    return await session.scalar(
        select(TermsOfReferenceRound).where(
            TermsOfReferenceRound.community_id == community_id,
            TermsOfReferenceRound.status == TermsRoundStatus.OPEN,
        )
    )


async def round_numbered(session: AsyncSession, community_id: int, number: int) -> TermsOfReferenceRound | None:
    return await session.scalar(
        select(TermsOfReferenceRound).where(
            TermsOfReferenceRound.community_id == community_id, TermsOfReferenceRound.number == number
        )
    )


async def approved_version(session: AsyncSession, community_id: int) -> TermsOfReferenceRound | None:
    """The Terms in force: the latest approved version (None before the first approval)."""
    return await session.scalar(
        select(TermsOfReferenceRound)
        .where(TermsOfReferenceRound.community_id == community_id, TermsOfReferenceRound.version.is_not(None))
        .order_by(TermsOfReferenceRound.version.desc())
        .limit(1)
    )


async def propose(
    session: AsyncSession, community_id: int, by: Member, text: str, fingerprint: str, parts: str, now: datetime
) -> TermsOfReferenceRound:
    """Open a round on the Terms as proposed, with the next number (a racing second one clashes
    on the one-open-round index and is handled again from the top by the router)."""
    last = await session.scalar(
        select(func.max(TermsOfReferenceRound.number)).where(TermsOfReferenceRound.community_id == community_id)
    )
    return await added(
        session,
        TermsOfReferenceRound(
            community_id=community_id,
            number=(last or 0) + 1,
            proposed_by=by.id,
            text=text,
            fingerprint=fingerprint,
            parts=parts,
            status=TermsRoundStatus.OPEN.value,
            opened_at=now,
        ),
    )


async def record_consent(
    session: AsyncSession, round_: TermsOfReferenceRound, member: Member, answer: str, now: datetime
) -> str | None:
    """Keep ``member``'s answer (a change of mind replaces it); returns their previous answer."""
    return await rounds.record_answer(session, TermsOfReferenceConsent, "round_id", round_.id, member, answer, now)


async def tally(session: AsyncSession, round_: TermsOfReferenceRound) -> Tally:
    return await rounds.tally(session, TermsOfReferenceConsent, "round_id", round_.id)


async def approve(session: AsyncSession, round_: TermsOfReferenceRound, today: date, now: datetime) -> int:
    """The round's Terms become the next version, approved ``today``; returns its number."""
    last = await session.scalar(
        select(func.max(TermsOfReferenceRound.version)).where(TermsOfReferenceRound.community_id == round_.community_id)
    )
    move(round_, TermsRoundStatus.APPROVED)
    round_.version, round_.approved_on, round_.closed_at = (last or 0) + 1, today, now
    await session.flush()
    return round_.version


def close(round_: TermsOfReferenceRound, now: datetime) -> None:
    move(round_, TermsRoundStatus.CLOSED)
    round_.closed_at = now


async def forget(session: AsyncSession, member: Member, without_name: Callable[[str], str]) -> dict[str, int]:
    """forget-me: the member's answers in Terms of Reference rounds are deleted (an objection of
    theirs is withdrawn with them); the parts they wrote and rounds they proposed stay, without
    their name; ``without_name`` takes their name out of each round's Terms as proposed."""
    answers = await session.execute(
        delete(TermsOfReferenceConsent).where(TermsOfReferenceConsent.member_id == member.id)
    )
    await session.execute(
        update(TermsOfReferencePart).where(TermsOfReferencePart.set_by == member.id).values(set_by=None)
    )
    await session.execute(
        update(TermsOfReferenceRound).where(TermsOfReferenceRound.proposed_by == member.id).values(proposed_by=None)
    )
    for round_ in await session.scalars(
        select(TermsOfReferenceRound).where(TermsOfReferenceRound.community_id == member.community_id)
    ):
        round_.text = without_name(round_.text)
    await session.flush()
    return {"Terms of Reference consent answers": int(getattr(answers, "rowcount", 0) or 0)}
