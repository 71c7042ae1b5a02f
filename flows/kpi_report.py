"""The KPI report the national office counts: per community and quarter, the meetings held
against the target (4 a year, one a quarter), whether each agenda went out 3–5 working days
before, how many were there, reflections held, actions agreed, done and dropped, topics chosen,
co-chairs in post, and the review's satisfaction (a median only where at least 3 answered) —
with a national total. Rendered as Markdown, CSV, a PNG chart or an Excel workbook.

`national_report` is the one entry point (the ``copbot report`` command and the national
office's report call it); `/cop report [year]` gives a community its own, privately. Only counts
and days: no member text, no names.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from typing import Literal

import matplotlib

matplotlib.use("Agg")  # no display: render to a PNG in memory

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from openpyxl import Workbook, load_workbook  # noqa: E402
from openpyxl.styles import Font  # noqa: E402
from openpyxl.utils import get_column_letter  # noqa: E402
from openpyxl.worksheet.worksheet import Worksheet  # noqa: E402
from PIL import Image  # noqa: E402  (matplotlib's own dependency)
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: E402

from bot.registry import Command, FlowRouter  # noqa: E402
from bot.vocabulary.conversation import Attachment, Post, Section  # noqa: E402
from bot.vocabulary.errors import CopbotError, UsageError  # noqa: E402
from bot.vocabulary.text import number  # noqa: E402
from flows import meeting_calendar as calendar  # noqa: E402
from flows.turn import Turn  # noqa: E402
from storage import kpi as store  # noqa: E402

Format = Literal["md", "csv", "png", "xlsx"]
FORMATS: tuple[Format, ...] = ("md", "csv", "png", "xlsx")
MEDIA_TYPES = {
    "md": "text/markdown",
    "csv": "text/csv",
    "png": "image/png",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
TARGET_PER_YEAR = 4  # the engagement KPIs count 4 meetings a year: one a quarter
QUARTERS = (1, 2, 3, 4)
AGENDA_EARLIEST, AGENDA_LATEST = 5, 3  # the agenda goes out 3–5 working days before
AT_LEAST = 3  # a satisfaction median only where at least this many answered
YEAR_ROW = "Year"
NATIONAL = "National total"

# -- what copbot says (one place, to review and translate) ----------------------------------

TITLE = "KPI report {year}"
TARGET_LINE = "Target: {target} meetings a year for each community, one a quarter."
NO_DATA = "Nothing is stored for {year}{where}: no meetings, agendas, actions, votes or reviews."
UNKNOWN = "No community is called “{name}”."
SATISFACTION_MEDIAN = "median {median} of 5 ({count} answered)"
SATISFACTION_FEW = f"fewer than {AT_LEAST} answered: not shown"
SATISFACTION_NONE = "no review closed this year"
REVIEW_LINE = "Review satisfaction: {value}."
HELD = "{held} of {target} meetings held"
ALT = "Bar chart of meetings held in {year} by each community, against the target of {target}: {parts}."
ALT_PART = "{name} {held} of {target}"
CHART_TITLE = "Meetings held in {year} (target {target})"
MET_LABEL, SHORT_LABEL = "target met", "below target"
OWN_INTRO = "Our KPI report for {year} ({community}): {held} of {target} meetings held. Only you can see this."
OWN_FILE = " The chart is with this post."
FORMAT_USAGE = "The report comes as {formats}."
REPORT_USAGE = "Usage: /cop report [year] — our community's figures for the national KPIs (default: this year)."
QUARTER_LINE = (
    "Q{q}: {meetings} held (target 1); agendas on time {on_time} of {agendas}; {present} there; "
    "{reflections} reflections; actions {agreed} agreed, {done} done, {dropped} dropped; "
    "{topics} topics chosen; {chairs} co-chairs in post"
)

ON_TIME, OUTSIDE, NOT_SENT = "yes", "no", "not sent"

MET_COLOUR = "#0072B2"  # Okabe–Ito blue
SHORT_COLOUR = "#E69F00"  # Okabe–Ito orange, hatched too: meaning never rests on colour alone
PNG_COLOURS = 16

router = FlowRouter("kpi report")


class UnknownCommunity(CopbotError):
    """The report was asked for a community no one set up."""


# -- the figures ----------------------------------------------------------------------------


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


@dataclass(frozen=True)
class ReportFile:
    """A rendered report: the file (name, media type, bytes), and its figures as plain text
    (the alt text of the chart, or what to say when there is nothing to report)."""

    filename: str
    media_type: str
    data: bytes
    text: str
    empty: bool


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


# -- words for the figures ------------------------------------------------------------------


def satisfaction_words(ratings: Sequence[int], closed: bool = True) -> str:
    if not closed:
        return SATISFACTION_NONE
    if len(ratings) < AT_LEAST:
        return SATISFACTION_FEW
    return SATISFACTION_MEDIAN.format(median=f"{statistics.median(ratings):g}", count=len(ratings))


def satisfaction_median(ratings: Sequence[int]) -> float | None:
    return float(statistics.median(ratings)) if len(ratings) >= AT_LEAST else None


def _met(held: int, target: int) -> str:
    return f"{held} of {target} ({'met' if held >= target else 'below target'})"


def no_data_line(report: KpiReport) -> str:
    where = f" in {report.asked_for}" if report.asked_for else ""
    return NO_DATA.format(year=report.year, where=where)


def safe_cell(text: str) -> str:
    """A community's name as a spreadsheet cell: never read as a formula (CSV or formula injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


# -- Markdown -------------------------------------------------------------------------------

MD_HEADER = (
    "| Quarter | Meetings held | Agendas 3–5 working days before | Were there | Reflections held | "
    "Actions agreed | Actions done | Actions dropped | Topics chosen | Co-chairs in post |"
)
MD_RULE = "|---|---|---|---|---|---|---|---|---|---|"


def _md_row(label: str, f: QuarterFigures, target: int) -> str:
    agendas = f"{f.agendas_on_time} of {f.agendas}" if f.agendas else "none scheduled"
    cells = [
        label,
        _met(f.meetings, target),
        agendas,
        str(f.present),
        str(f.reflections),
        str(f.actions_agreed),
        str(f.actions_done),
        str(f.actions_dropped),
        str(f.topics_chosen),
        str(f.co_chairs),
    ]
    return "| " + " | ".join(cells) + " |"


def _md_table(quarters: dict[int, QuarterFigures], year: QuarterFigures, per_quarter: int) -> list[str]:
    lines = [MD_HEADER, MD_RULE]
    lines += [_md_row(f"Q{q}", quarters[q], per_quarter) for q in QUARTERS]
    lines.append(_md_row(YEAR_ROW, year, per_quarter * TARGET_PER_YEAR))
    return lines


def render_markdown(report: KpiReport) -> str:
    lines = [f"# {TITLE.format(year=report.year)}", "", TARGET_LINE.format(target=TARGET_PER_YEAR), ""]
    if report.empty:
        return "\n".join([*lines, no_data_line(report), ""])
    for community in report.communities:
        lines += [f"## {_md_cell(community.name)}", ""]
        lines += _md_table(community.quarters, community.year, 1)
        review = satisfaction_words(community.satisfaction, community.review_closed)
        lines += ["", REVIEW_LINE.format(value=review), ""]
    if report.asked_for is None:
        count = len(report.communities)
        lines += [f"## {NATIONAL} ({count} {'community' if count == 1 else 'communities'})", ""]
        lines += _md_table(report.national_quarters, report.national_year, count)
        lines += ["", REVIEW_LINE.format(value=satisfaction_words(report.national_satisfaction)), ""]
    return "\n".join(lines)


# -- CSV and the workbook's sheets ----------------------------------------------------------

QUARTER_COLUMNS = (
    "year",
    "community",
    "quarter",
    "meetings_held",
    "meetings_target",
    "agendas_scheduled",
    "agendas_3_to_5_working_days_before",
    "agendas_outside_3_to_5",
    "agendas_not_sent",
    "were_there",
    "reflections_held",
    "actions_agreed",
    "actions_done",
    "actions_dropped",
    "topics_chosen",
    "co_chairs_in_post",
    "satisfaction_median",
    "satisfaction_answers",
)
AGENDA_COLUMNS = ("community", "meeting_day", "agenda_sent_on", "working_days_before", "within_3_to_5")


def _figures_row(
    year: int, name: str, label: str, f: QuarterFigures, target: int, ratings: Sequence[int] | None
) -> list[object]:
    median = satisfaction_median(ratings) if ratings is not None else None
    answers: object = (len(ratings) if len(ratings) >= AT_LEAST else f"fewer than {AT_LEAST}") if ratings else ""
    return [
        year,
        safe_cell(name),
        label,
        f.meetings,
        target,
        f.agendas,
        f.agendas_on_time,
        f.agendas_outside,
        f.agendas_not_sent,
        f.present,
        f.reflections,
        f.actions_agreed,
        f.actions_done,
        f.actions_dropped,
        f.topics_chosen,
        f.co_chairs,
        "" if median is None else median,
        answers,
    ]


def quarter_rows(report: KpiReport) -> list[list[object]]:
    """One row per community and quarter, each community's year, then the national total."""
    rows: list[list[object]] = []
    for c in report.communities:
        rows += [_figures_row(report.year, c.name, f"Q{q}", c.quarters[q], 1, None) for q in QUARTERS]
        rows.append(_figures_row(report.year, c.name, YEAR_ROW, c.year, TARGET_PER_YEAR, c.satisfaction))
    if report.asked_for is None:
        n = len(report.communities)
        rows += [_figures_row(report.year, NATIONAL, f"Q{q}", report.national_quarters[q], n, None) for q in QUARTERS]
        rows.append(
            _figures_row(
                report.year, NATIONAL, YEAR_ROW, report.national_year, n * TARGET_PER_YEAR, report.national_satisfaction
            )
        )
    return rows


def agenda_rows(report: KpiReport) -> list[list[object]]:
    return [
        [
            safe_cell(a.community),
            a.meeting_day,
            a.sent_on if a.sent_on is not None else "",
            a.working_days if a.working_days is not None else "",
            a.verdict,
        ]
        for c in report.communities
        for a in sorted(c.agendas, key=lambda a: a.meeting_day)
    ]


def render_csv(report: KpiReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(QUARTER_COLUMNS)
    writer.writerows(quarter_rows(report))
    return out.getvalue()


def render_xlsx(report: KpiReport) -> bytes:
    """A workbook with one sheet per view: "By quarter", "Totals" (each community's year and the
    national total) and "Agendas" (each agenda, and whether it went out 3–5 working days before)."""
    book = Workbook()
    by_quarter = book.active
    assert by_quarter is not None
    by_quarter.title = "By quarter"
    rows = quarter_rows(report)
    _sheet(by_quarter, QUARTER_COLUMNS, [r for r in rows if r[2] != YEAR_ROW])
    _sheet(book.create_sheet("Totals"), QUARTER_COLUMNS, [r for r in rows if r[2] == YEAR_ROW])
    _sheet(book.create_sheet("Agendas"), AGENDA_COLUMNS, agenda_rows(report))
    notes = book.create_sheet("About")
    notes.append([TITLE.format(year=report.year)])
    notes.append([TARGET_LINE.format(target=TARGET_PER_YEAR)])
    notes.append([f"Satisfaction: the review's median rating (1–5), only where at least {AT_LEAST} answered."])
    if report.empty:
        notes.append([no_data_line(report)])
    raw = io.BytesIO()
    book.save(raw)
    return raw.getvalue()


def _sheet(sheet: Worksheet, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(list(row))
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # a name is text, never a formula
    sheet.freeze_panes = "A2"
    for index, name in enumerate(header, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(12, min(len(name) + 2, 40))


def read_xlsx(data: bytes) -> dict[str, list[tuple[object, ...]]]:
    """The workbook read back, sheet by sheet (what Excel will open)."""
    book = load_workbook(io.BytesIO(data), read_only=True)
    try:
        return {name: [tuple(row) for row in book[name].iter_rows(values_only=True)] for name in book.sheetnames}
    finally:
        book.close()


# -- the chart ------------------------------------------------------------------------------


def alt_text(report: KpiReport) -> str:
    parts = "; ".join(
        ALT_PART.format(name=c.name, held=c.year.meetings, target=TARGET_PER_YEAR) for c in report.communities
    )
    return ALT.format(year=report.year, target=TARGET_PER_YEAR, parts=parts or "none")


def render_png(report: KpiReport) -> bytes:
    """Meetings held by each community in the year, against the target: a horizontal bar each,
    blue where the target was met, orange and hatched where not, the figure beside each bar."""
    names = [c.name for c in report.communities][::-1]
    held = [c.year.meetings for c in report.communities][::-1]
    height = max(2.6, 0.5 * len(names) + 1.6)
    figure, axes = plt.subplots(figsize=(6.4, height), dpi=100)
    try:
        positions = list(range(len(names)))
        met = [h >= TARGET_PER_YEAR for h in held]
        bars = axes.barh(
            positions,
            held,
            color=[MET_COLOUR if m else SHORT_COLOUR for m in met],
            hatch=None,
            edgecolor="black",
            linewidth=0.4,
        )
        for bar, ok in zip(bars, met, strict=True):
            if not ok:
                bar.set_hatch("//")
        axes.bar_label(bars, labels=[f"{h} of {TARGET_PER_YEAR}" for h in held], padding=3, fontsize=10)
        axes.axvline(TARGET_PER_YEAR, color="black", linestyle="--", linewidth=1)
        handles = [
            Line2D([], [], color="black", linestyle="--", linewidth=1, label=f"target ({TARGET_PER_YEAR})"),
            Patch(facecolor=MET_COLOUR, edgecolor="black", linewidth=0.4, label=MET_LABEL),
            Patch(facecolor=SHORT_COLOUR, edgecolor="black", linewidth=0.4, hatch="//", label=SHORT_LABEL),
        ]
        axes.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, fontsize=9, frameon=False)
        axes.set_yticks(positions, names, fontsize=10)
        axes.set_xlim(0, max([TARGET_PER_YEAR, *held]) + 1.5)
        axes.set_xlabel("Meetings held", fontsize=10)
        axes.set_title(CHART_TITLE.format(year=report.year, target=TARGET_PER_YEAR), fontsize=12, pad=24)
        axes.spines[["top", "right"]].set_visible(False)
        figure.tight_layout()
        raw = io.BytesIO()
        figure.savefig(raw, format="png", dpi=100)
    finally:
        plt.close(figure)
    raw.seek(0)
    small = io.BytesIO()  # a small palette: a few kilobytes, fit for a Teams card's data URI
    with Image.open(raw) as image:
        image.convert("RGB").quantize(colors=PNG_COLOURS).save(small, format="PNG", optimize=True)
    return small.getvalue()


# -- the entry point ------------------------------------------------------------------------


def file_name(report: KpiReport, fmt: str) -> str:
    who = "national" if report.asked_for is None else _slug(report.asked_for)
    return f"cop-kpi-{who}-{report.year}.{fmt}"


def _slug(name: str) -> str:
    return "-".join("".join(ch if ch.isalnum() else " " for ch in name.casefold()).split()) or "community"


def render(report: KpiReport, fmt: Format | str = "md") -> ReportFile:
    """The report as a file of ``fmt`` (md, csv, png or xlsx; anything else is a `UsageError`)."""
    fmt = fmt.strip().lower()
    if fmt == "md":
        data = render_markdown(report).encode("utf-8")
    elif fmt == "csv":
        data = render_csv(report).encode("utf-8")
    elif fmt == "png":
        data = render_png(report)
    elif fmt == "xlsx":
        data = render_xlsx(report)
    else:
        raise UsageError(FORMAT_USAGE.format(formats=", ".join(FORMATS)))
    text = no_data_line(report) if report.empty else alt_text(report)
    return ReportFile(file_name(report, fmt), MEDIA_TYPES[fmt], data, text, report.empty)


async def national_report(
    session: AsyncSession, year: int, community: str | None = None, fmt: Format | str = "md"
) -> ReportFile:
    """The KPI report for ``year``: every community and the national total, or one community
    (`UnknownCommunity` when no community has that name). ``ReportFile.empty`` when nothing is
    stored for that year (its ``text`` says so). ``fmt`` as a member typed it is fine: another
    one is a `UsageError` saying which there are."""
    if fmt.strip().lower() not in FORMATS:
        raise UsageError(FORMAT_USAGE.format(formats=", ".join(FORMATS)))
    return render(await build_report(session, year, community), fmt)


# -- /cop report: a community's own -----------------------------------------------------------


@router.verb(
    "report",
    "report [year]",
    "Our community's figures for the national KPIs (default: this year), shown only to you: meetings held "
    "against the target of 4 a year, agendas 3–5 working days before, how many were there, reflections, "
    "actions, topics chosen, co-chairs, and the review's satisfaction where at least 3 answered; with a "
    "chart where the platform takes files. No names, no one's words.",
)
async def report(turn: Turn, cmd: Command) -> list[Post]:
    community = turn.require_community()
    await turn.member()  # a member of this community (anyone: the figures are the group's own)
    if len(cmd.args) > 1:
        raise UsageError(REPORT_USAGE)
    year = number(cmd.args[0]) if cmd.args else turn.today.year
    if year is None or not 2000 <= year <= 2100:
        raise UsageError(REPORT_USAGE)
    built = await build_report(turn.session, year, community.name)
    if built.empty:
        return [turn.private(no_data_line(built))]
    own = built.communities[0]
    lines = tuple(
        QUARTER_LINE.format(
            q=q,
            meetings=f.meetings,
            on_time=f.agendas_on_time,
            agendas=f.agendas,
            present=f.present,
            reflections=f.reflections,
            agreed=f.actions_agreed,
            done=f.actions_done,
            dropped=f.actions_dropped,
            topics=f.topics_chosen,
            chairs=f.co_chairs,
        )
        for q, f in own.quarters.items()
    )
    review = REVIEW_LINE.format(value=satisfaction_words(own.satisfaction, own.review_closed))
    text = OWN_INTRO.format(year=year, community=own.name, held=own.year.meetings, target=TARGET_PER_YEAR)
    chart = Attachment.binary(file_name(built, "png"), "image/png", render_png(built), alt_text(built))
    return [turn.private(text + OWN_FILE, sections=(Section("By quarter", (*lines, review)),), attachment=chart)]
