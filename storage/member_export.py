"""Everything copbot keeps about one member in one community, as plain data for `/cop
export-me` (GDPR's right of access). Only rows that name the member: an answer shared without
a name is linked to nobody, and the review survey's answers never are."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    ActionItem,
    AgendaItem,
    Attendance,
    Ballot,
    ChairConsent,
    ChairNomination,
    CoChairTerm,
    LeadTurn,
    Meeting,
    Member,
    Reflection,
    ReflectionAnswer,
    ReviewResponder,
    ReviewSurvey,
    SupportRound,
    SupportStatement,
    TermsOfReferenceConsent,
    TermsOfReferencePart,
    TermsOfReferenceRound,
    Topic,
    TopicVote,
)

Record = dict[str, Any]


def _plain(value: object) -> object:
    """A value as JSON takes it (days and moments as ISO 8601)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _record(**fields: object) -> Record:
    return {name: _plain(value) for name, value in fields.items()}


async def about(session: AsyncSession, member: Member) -> dict[str, list[Record]]:
    """The member's rows in their community, by kind (an empty kind is left out)."""
    me = member.id
    found: dict[str, list[Record]] = {
        "membership": [
            _record(
                name=member.name,
                role=member.role,
                platform=member.platform,
                joined_at=member.joined_at,
                active=member.active,
                not_suggested_to_lead=member.lead_opt_out,
            )
        ]
    }
    found["co-chair terms"] = [
        _record(
            months=t.months, starts_on=t.starts_on, ends_on=t.ends_on, review_on=t.review_on, ended_on=t.replaced_on
        )
        for t in (await session.scalars(select(CoChairTerm).where(CoChairTerm.member_id == me))).all()
    ]
    found["support statements"] = [
        _record(meeting=held_on, text=s.text, passed=s.passed, updated_at=s.updated_at)
        for s, held_on in (
            await session.execute(
                select(SupportStatement, Meeting.held_on)
                .join(SupportRound, SupportRound.id == SupportStatement.round_id)
                .join(Meeting, Meeting.id == SupportRound.meeting_id)
                .where(SupportStatement.member_id == me)
                .order_by(SupportStatement.id)
            )
        ).all()
    ]
    found["reflection answers"] = [
        _record(meeting=held_on, topic=topic, step=a.step, text=a.text, created_at=a.created_at)
        for a, held_on, topic in (
            await session.execute(
                select(ReflectionAnswer, Meeting.held_on, Reflection.topic)
                .join(Reflection, Reflection.id == ReflectionAnswer.reflection_id)
                .join(Meeting, Meeting.id == Reflection.meeting_id)
                .where(ReflectionAnswer.member_id == me)
                .order_by(ReflectionAnswer.id)
            )
        ).all()
    ]
    found["actions you own or closed"] = [
        _record(
            number=a.number,
            text=a.text,
            status=a.status,
            yours=a.owner_id == me,
            closed_by_you=a.closed_by == me,
            due_on=a.due_on,
            resources=a.resources,
            close_reason=a.close_reason,
            created_at=a.created_at,
            closed_at=a.closed_at,
        )
        for a in (
            await session.scalars(
                select(ActionItem)
                .where(or_(ActionItem.owner_id == me, ActionItem.closed_by == me))
                .order_by(ActionItem.number)
            )
        ).all()
    ]
    found["your votes"] = [
        _record(meeting=held_on, topic=title, counted=b.active, changed_at=b.changed_at)
        for b, title, held_on in (
            await session.execute(
                select(Ballot, Topic.title, Meeting.held_on)
                .join(Topic, Topic.id == Ballot.topic_id)
                .join(TopicVote, TopicVote.id == Ballot.vote_id)
                .join(Meeting, Meeting.id == TopicVote.meeting_id)
                .where(Ballot.member_id == me)
                .order_by(Ballot.id)
            )
        ).all()
    ]
    found["topics you proposed"] = [
        _record(title=t.title, chosen_at=t.chosen_at, created_at=t.created_at)
        for t in (await session.scalars(select(Topic).where(Topic.proposed_by == me).order_by(Topic.id))).all()
    ]
    found["lead turns"] = [
        _record(status=t.status, volunteered=t.volunteered, proposed_at=t.proposed_at, confirmed_at=t.confirmed_at)
        for t in (await session.scalars(select(LeadTurn).where(LeadTurn.member_id == me).order_by(LeadTurn.id))).all()
    ]
    found["agenda items"] = [
        _record(number=i.number, text=i.text, status=i.status, created_at=i.created_at)
        for i in (
            await session.scalars(select(AgendaItem).where(AgendaItem.member_id == me).order_by(AgendaItem.number))
        ).all()
    ]
    found["meetings you were at"] = [
        _record(meeting=held_on)
        for (held_on,) in (
            await session.execute(
                select(Meeting.held_on)
                .join(Attendance, Attendance.meeting_id == Meeting.id)
                .where(Attendance.member_id == me)
                .order_by(Meeting.held_on)
            )
        ).all()
    ]
    found["co-chair nominations"] = [
        _record(
            number=n.number,
            you_were="nominee" if n.nominee_id == me else "nominator",
            status=n.status,
            opened_at=n.opened_at,
        )
        for n in (
            await session.scalars(
                select(ChairNomination)
                .where(or_(ChairNomination.nominee_id == me, ChairNomination.nominated_by == me))
                .order_by(ChairNomination.number)
            )
        ).all()
    ]
    found["your answers in co-chair rounds"] = [
        _record(nomination=number, answer=c.answer, answered_at=c.answered_at)
        for c, number in (
            await session.execute(
                select(ChairConsent, ChairNomination.number)
                .join(ChairNomination, ChairNomination.id == ChairConsent.nomination_id)
                .where(ChairConsent.member_id == me)
                .order_by(ChairConsent.id)
            )
        ).all()
    ]
    found["your answers in Terms of Reference rounds"] = [
        _record(round=number, answer=c.answer, answered_at=c.answered_at)
        for c, number in (
            await session.execute(
                select(TermsOfReferenceConsent, TermsOfReferenceRound.number)
                .join(TermsOfReferenceRound, TermsOfReferenceRound.id == TermsOfReferenceConsent.round_id)
                .where(TermsOfReferenceConsent.member_id == me)
                .order_by(TermsOfReferenceConsent.id)
            )
        ).all()
    ]
    found["Terms of Reference parts you set"] = [
        _record(part=p.part, text=p.text, set_at=p.set_at)
        for p in (await session.scalars(select(TermsOfReferencePart).where(TermsOfReferencePart.set_by == me))).all()
    ]
    found["Terms of Reference rounds you proposed"] = [
        _record(round=r.number, status=r.status, opened_at=r.opened_at)
        for r in (
            await session.scalars(select(TermsOfReferenceRound).where(TermsOfReferenceRound.proposed_by == me))
        ).all()
    ]
    found["review surveys you are answering"] = [
        _record(year=year, next_question=r.next_question)
        for r, year in (
            await session.execute(
                select(ReviewResponder, ReviewSurvey.year)
                .join(ReviewSurvey, ReviewSurvey.id == ReviewResponder.survey_id)
                .where(ReviewResponder.member_id == me)
            )
        ).all()
    ]
    return {kind: rows for kind, rows in found.items() if rows}
