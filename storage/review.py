"""The annual review survey's rows: the survey, *who responded* and *what was answered*, kept
apart. An answer row has a random id, no member and no time; who responded holds no id and
no time. Nothing the one table holds is shared by the other, so no query can join them."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Member, ReviewAnswer, ReviewResponder, ReviewSurvey, Topic
from storage.upsert import insert_for, insert_ignore
from storage.votes import add_topic, title_key


@dataclass(frozen=True)
class Given:
    """One question's answer as kept: a rating 1–5, or words."""

    rating: int | None = None
    text: str | None = None


async def survey_of_year(session: AsyncSession, community_id: int, year: int) -> ReviewSurvey | None:
    query = select(ReviewSurvey).where(ReviewSurvey.community_id == community_id, ReviewSurvey.year == year)
    return await session.scalar(query)


async def open_survey(session: AsyncSession, community_id: int) -> ReviewSurvey | None:
    query = select(ReviewSurvey).where(ReviewSurvey.community_id == community_id, ReviewSurvey.closed_on.is_(None))
    return await session.scalar(query.order_by(ReviewSurvey.year.desc()).limit(1))


async def latest_survey(session: AsyncSession, community_id: int) -> ReviewSurvey | None:
    query = select(ReviewSurvey).where(ReviewSurvey.community_id == community_id)
    return await session.scalar(query.order_by(ReviewSurvey.year.desc()).limit(1))


async def start_survey(
    session: AsyncSession, community_id: int, year: int, today: date, closes_on: date
) -> ReviewSurvey | None:
    """This year's survey, opened now; None if the community has one for this year already
    (a race between two workers, or a second `review`, is decided by the unique key)."""
    made = await insert_ignore(
        session,
        ReviewSurvey,
        {"community_id": community_id, "year": year, "opened_on": today, "closes_on": closes_on, "reminded": False},
        ("community_id", "year"),
    )
    return await survey_of_year(session, community_id, year) if made else None


async def progress(session: AsyncSession, survey_id: int, member_id: int) -> int | None:
    """How many questions the member has answered (None: not started)."""
    query = select(ReviewResponder.next_question).where(
        ReviewResponder.survey_id == survey_id, ReviewResponder.member_id == member_id
    )
    return await session.scalar(query)


async def claim_response(session: AsyncSession, survey_id: int, member_id: int, answered: int) -> bool:
    """Record that the member responded; False if they had already (their one response)."""
    statement = (
        insert_for(session)(ReviewResponder)
        .values(survey_id=survey_id, member_id=member_id, next_question=answered)
        .on_conflict_do_nothing(index_elements=["survey_id", "member_id"])
    )
    result = await session.execute(statement)
    return bool(getattr(result, "rowcount", 0))


async def move_on(session: AsyncSession, survey_id: int, member_id: int, was: int) -> bool:
    """The member answered question ``was``: one step on. False if it moved already (a double send)."""
    result = await session.execute(
        update(ReviewResponder)
        .where(
            ReviewResponder.survey_id == survey_id,
            ReviewResponder.member_id == member_id,
            ReviewResponder.next_question == was,
        )
        .values(next_question=was + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def keep_answers(session: AsyncSession, survey_id: int, answers: Mapping[str, Given]) -> None:
    """Each question's value as its own row, under a random id, with no time at all: not even
    the day (on a day only one member answered, the day would point to them)."""
    rows = [
        {
            "id": secrets.token_hex(16),
            "survey_id": survey_id,
            "question": question,
            "rating": given.rating,
            "text": given.text,
        }
        for question, given in answers.items()
        if given.rating is not None or given.text
    ]
    if rows:
        await session.execute(insert(ReviewAnswer), rows)


async def responded_count(session: AsyncSession, survey: ReviewSurvey) -> int:
    """How many members responded (once closed, the count kept at close)."""
    if survey.responses is not None:
        return survey.responses
    query = select(func.count()).select_from(ReviewResponder).where(ReviewResponder.survey_id == survey.id)
    return int(await session.scalar(query) or 0)


async def not_responded(session: AsyncSession, survey: ReviewSurvey) -> list[Member]:
    """Active members who have not sent a response (the reminder goes to them, privately)."""
    started = select(ReviewResponder.member_id).where(ReviewResponder.survey_id == survey.id)
    query = select(Member).where(
        Member.community_id == survey.community_id, Member.active.is_(True), Member.id.not_in(started)
    )
    return list(await session.scalars(query.order_by(Member.id)))


async def ratings(session: AsyncSession, survey_id: int) -> dict[str, list[int]]:
    """Every rating given, by question (sorted: no order of arrival)."""
    rows = await session.execute(
        select(ReviewAnswer.question, ReviewAnswer.rating).where(
            ReviewAnswer.survey_id == survey_id, ReviewAnswer.rating.is_not(None)
        )
    )
    found: dict[str, list[int]] = {}
    for question, rating in rows.all():
        if rating is not None:
            found.setdefault(question, []).append(int(rating))
    return {question: sorted(values) for question, values in found.items()}


async def words(session: AsyncSession, survey_id: int) -> list[str]:
    """The free-text answers, sorted (no order of arrival, no author)."""
    query = select(ReviewAnswer.text).where(ReviewAnswer.survey_id == survey_id, ReviewAnswer.text.is_not(None))
    return sorted((text for text in await session.scalars(query) if text), key=str.casefold)


async def close_survey(session: AsyncSession, survey: ReviewSurvey, today: date) -> int | None:
    """Close it (None: another worker or co-chair closed it first): keep the count, then delete
    who responded (not needed any more: no one can respond now) and write the answers again in
    the order of their random ids, so that where PostgreSQL placed them (and the transaction that
    wrote them) no longer follows their arrival."""
    count = await responded_count(session, survey)
    won = await session.execute(
        update(ReviewSurvey)
        .where(ReviewSurvey.id == survey.id, ReviewSurvey.closed_on.is_(None))
        .values(closed_on=today, responses=count)
        .execution_options(synchronize_session=False)
    )
    if not getattr(won, "rowcount", 0):
        return None
    survey.responses, survey.closed_on = count, today
    await session.execute(delete(ReviewResponder).where(ReviewResponder.survey_id == survey.id))
    kept = (
        await session.execute(
            select(ReviewAnswer.question, ReviewAnswer.rating, ReviewAnswer.text).where(
                ReviewAnswer.survey_id == survey.id
            )
        )
    ).all()
    await session.execute(delete(ReviewAnswer).where(ReviewAnswer.survey_id == survey.id))
    rows = [
        {
            "id": secrets.token_hex(16),
            "survey_id": survey.id,
            "question": question,
            "rating": rating,
            "text": text,
        }
        for question, rating, text in kept
    ]
    rows.sort(key=lambda row: str(row["id"]))
    if rows:
        await session.execute(insert(ReviewAnswer), rows)
    await session.flush()
    return count


async def mark_reminded(session: AsyncSession, survey_id: int) -> bool:
    """True for the one caller that marks the survey's reminder as sent."""
    result = await session.execute(
        update(ReviewSurvey)
        .where(ReviewSurvey.id == survey_id, ReviewSurvey.reminded.is_(False))
        .values(reminded=True)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def forget_responses(session: AsyncSession, member: Member) -> dict[str, int]:
    """forget-me: that the member responded goes; what was answered stays (it is nobody's)."""
    gone = await session.execute(
        delete(ReviewResponder)
        .where(ReviewResponder.member_id == member.id)
        .execution_options(synchronize_session=False)
    )
    return {"review responses": int(getattr(gone, "rowcount", 0) or 0)}


async def offer_topic(session: AsyncSession, community_id: int, title: str, now: datetime) -> None:
    """Make ``title`` a candidate for the next topic vote: added, or offered again if a past
    vote chose it (the reflective session on the value of the COP comes back every year)."""
    if await add_topic(session, community_id, title, now):
        return
    await session.execute(
        update(Topic)
        .where(Topic.community_id == community_id, Topic.title_key == title_key(title))
        .values(chosen_at=None)
        .execution_options(synchronize_session=False)
    )
