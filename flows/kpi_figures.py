"""The KPI report's figures: one community's stored year (`storage.kpi`) placed in quarters —
meetings held against the target of one a quarter, each agenda's working days before its
meeting (on time when 3–5), how many were there, reflections, actions agreed, done and dropped,
topics chosen, co-chairs in post — and the national total. Pure functions, but for
`build_report`, which reads. Counts and days only: no member text, no names."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.vocabulary.errors import CopbotError
from flows import meeting_calendar as calendar
from storage import kpi as store

TARGET_PER_YEAR = 4  # the engagement KPIs count 4 meetings a year: one a quarter
QUARTERS = (1, 2, 3, 4)
AGENDA_EARLIEST, AGENDA_LATEST = 5, 3  # the agenda goes out 3–5 working days before
AT_LEAST = 3  # a satisfaction median only where at least this many answered
ON_TIME, OUTSIDE, NOT_SENT = "yes", "no", "not sent"
UNKNOWN = "No community is called “{name}”."


class UnknownCommunity(CopbotError):
    """The report was asked for a community no one set up."""


@dataclass
class QuarterFigures:
    """One community's (or the nation's) figures for one quarter, or for the whole year."""

    meetings: int = 0
    target: int = 1
    agendas: int = 0
    agendas_on_time: int = 0
    agendas_outside: int = 0
    agendas_not_sent: int = 0
    present: int = 0
    reflections: int = 0
    actions_agreed: int = 0
    actions_done: int = 0
    actions_dropped: int = 0
    topics_chosen: int = 0
    co_chairs: int = 0

    def add(self, other: QuarterFigures) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self) if f.name not in ("target", "co_chairs"))


@dataclass(frozen=True)
class AgendaTiming:
    """One scheduled agenda: the meeting's day, the day it went out and how many working days
    before (None: not sent), and whether that was 3–5 working days before."""

    community: str
    meeting_day: date
    sent_on: date | None
    working_days: int | None
    verdict: str


@dataclass
class CommunityFigures:
    """One community's year: by quarter, the year, its agendas and its review satisfaction."""

    name: str
    quarters: dict[int, QuarterFigures]
    year: QuarterFigures
    agendas: list[AgendaTiming]
    satisfaction: tuple[int, ...] = ()
    review_closed: bool = False

    @property
    def empty(self) -> bool:
        return self.year.empty and not self.review_closed


@dataclass
class KpiReport:
    """The report for one year: each community's figures and the national total."""

    year: int
    communities: list[CommunityFigures]
    national_quarters: dict[int, QuarterFigures] = field(default_factory=dict)
    national_year: QuarterFigures = field(default_factory=QuarterFigures)
    national_satisfaction: tuple[int, ...] = ()
    asked_for: str | None = None

    @property
    def empty(self) -> bool:
        return all(c.empty for c in self.communities)


def quarter_of(day: date) -> int:
    return (day.month - 1) // 3 + 1


def quarter_end(year: int, quarter: int) -> date:
    return date(year, 3 * quarter, 1).replace(day=31 if quarter in (1, 4) else 30)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)  # SQLite keeps no zone


def _local_day(moment: date | datetime, zone: str) -> date:
    if isinstance(moment, datetime):
        return calendar.local(_utc(moment), zone).date()
    return moment


def working_days_between(sent: date, meeting: date, country: str, days_off: Iterable[date]) -> int:
    """How many working days, from the day it went out (counted if a working day) up to the
    meeting's day (not counted): 3 means it went out 3 working days before."""
    off = set(days_off)
    count, day = 0, sent
    while day < meeting:
        if calendar.is_working_day(day, country, off):
            count += 1
        day += timedelta(days=1)
    return count


def agenda_timing(claim: store.AgendaClaim, stored: store.CommunityYear) -> AgendaTiming:
    meeting_day = _local_day(claim.due_for, stored.zone)
    if claim.skipped:
        return AgendaTiming(stored.name, meeting_day, None, None, NOT_SENT)
    sent_on = _local_day(claim.sent_at, stored.zone)
    earliest = calendar.working_days_before(meeting_day, AGENDA_EARLIEST, stored.country, stored.days_off)
    latest = calendar.working_days_before(meeting_day, AGENDA_LATEST, stored.country, stored.days_off)
    verdict = ON_TIME if earliest <= sent_on <= latest else OUTSIDE
    days = working_days_between(sent_on, meeting_day, stored.country, stored.days_off)
    return AgendaTiming(stored.name, meeting_day, sent_on, days, verdict)


def community_figures(stored: store.CommunityYear, year: int) -> CommunityFigures:
    """Place one community's stored figures in the year's quarters (a pure function)."""
    quarters = {q: QuarterFigures() for q in QUARTERS}
    for meeting in stored.meetings:
        figures = quarters[quarter_of(meeting.held_on)]
        figures.meetings += 1
        figures.present += meeting.present
        figures.reflections += meeting.reflections
    agendas = []
    for claim in stored.agendas:
        timing = agenda_timing(claim, stored)
        if timing.meeting_day.year != year:
            continue
        agendas.append(timing)
        figures = quarters[quarter_of(timing.meeting_day)]
        figures.agendas += 1
        if timing.verdict == ON_TIME:
            figures.agendas_on_time += 1
        elif timing.verdict == OUTSIDE:
            figures.agendas_outside += 1
        else:
            figures.agendas_not_sent += 1
    for agreed in stored.actions_agreed:
        day = _local_day(agreed, stored.zone)
        if day.year == year:
            quarters[quarter_of(day)].actions_agreed += 1
    for status, closed_at in stored.actions_closed:
        day = _local_day(closed_at, stored.zone)
        if day.year == year:
            if status == "done":
                quarters[quarter_of(day)].actions_done += 1
            else:
                quarters[quarter_of(day)].actions_dropped += 1
    for day in stored.topics_chosen:
        quarters[quarter_of(day)].topics_chosen += 1
    for q in QUARTERS:
        end = quarter_end(year, q)
        quarters[q].co_chairs = sum(
            1 for t in stored.chair_terms if t.starts_on <= end and (t.replaced_on is None or t.replaced_on > end)
        )
    whole = QuarterFigures(target=0)
    for q in QUARTERS:
        whole.add(quarters[q])
    whole.co_chairs = quarters[4].co_chairs  # in post at the year's end, not a sum
    satisfaction = stored.satisfaction if stored.survey_closed else ()
    return CommunityFigures(stored.name, quarters, whole, agendas, satisfaction, stored.survey_closed)


def national_total(report: KpiReport) -> None:
    report.national_quarters = {q: QuarterFigures(target=0) for q in QUARTERS}
    report.national_year = QuarterFigures(target=0)
    pooled: list[int] = []
    for community in report.communities:
        for q in QUARTERS:
            report.national_quarters[q].add(community.quarters[q])
        report.national_year.add(community.year)
        if len(community.satisfaction) >= AT_LEAST:  # a community's ratings count only at k ≥ 3
            pooled.extend(community.satisfaction)
    report.national_satisfaction = tuple(sorted(pooled))


async def build_report(session: AsyncSession, year: int, community: str | None = None) -> KpiReport:
    """The figures for ``year``, for every community or the one named (`UnknownCommunity` if none is)."""
    found = await store.communities(session, community)
    if community is not None and not found:
        raise UnknownCommunity(UNKNOWN.format(name=community.strip()[:80]))
    figures = [community_figures(await store.community_year(session, c, year), year) for c in found]
    report = KpiReport(year, figures, asked_for=found[0].name if community is not None else None)
    national_total(report)
    return report
