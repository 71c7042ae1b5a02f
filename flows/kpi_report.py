"""The KPI report the national office counts: per community and quarter, the meetings held
against the target (4 a year, one a quarter), whether each agenda went out 3–5 working days
before, how many were there, reflections held, actions agreed, done and dropped, topics chosen,
co-chairs in post, and the review's satisfaction (a median only where at least 3 answered) —
with a national total (the figures: `flows.kpi_figures`), rendered here as Markdown, CSV, a PNG
chart or an Excel workbook.

`national_report` is the one entry point (the ``copbot report`` command and the national
office's report call it); `/cop report [year]` gives a community its own, privately. Only counts
and days: no member text, no names.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession  # noqa: E402

from bot.registry import Command, FlowRouter  # noqa: E402
from bot.vocabulary.conversation import Attachment, Post, Section  # noqa: E402
from bot.vocabulary.errors import UsageError  # noqa: E402
from bot.vocabulary.text import number  # noqa: E402
from flows.kpi_figures import (  # noqa: E402
    AT_LEAST,
    QUARTERS,
    TARGET_PER_YEAR,
    KpiReport,
    QuarterFigures,
    build_report,
)
from flows.kpi_figures import (
    UnknownCommunity as UnknownCommunity,  # re-exported: national_report raises it
)
from flows.review_chart import pyplot, small_png
from flows.turn import Turn

Format = Literal["md", "csv", "png", "xlsx"]
FORMATS: tuple[Format, ...] = ("md", "csv", "png", "xlsx")
MEDIA_TYPES = {
    "md": "text/markdown",
    "csv": "text/csv",
    "png": "image/png",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
YEAR_ROW = "Year"
NATIONAL = "National total"

# -- what copbot says (one place, to review and translate) ----------------------------------

TITLE = "KPI report {year}"
TARGET_LINE = "Target: {target} meetings a year for each community, one a quarter."
COUNTED_LINE = (
    "“Were there” adds up each meeting's count; co-chairs are those in post at the quarter's end; "
    f"satisfaction is the review's median rating (1–5), shown only where at least {AT_LEAST} answered."
)
NO_DATA = "Nothing is stored for {year}{where}: no meetings, agendas, actions, votes or reviews."
SATISFACTION_MEDIAN = "median {median} of 5 ({count} answered)"
SATISFACTION_FEW = f"fewer than {AT_LEAST} answered: not shown"
SATISFACTION_NONE = "no review closed this year"
REVIEW_LINE = "Review satisfaction: {value}."
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

MET_COLOUR = "#0072B2"  # Okabe–Ito blue
SHORT_COLOUR = "#E69F00"  # Okabe–Ito orange, hatched too: meaning never rests on colour alone
PNG_COLOURS = 16

router = FlowRouter("kpi report")


@dataclass(frozen=True)
class ReportFile:
    """A rendered report: the file (name, media type, bytes), and its figures as plain text
    (the alt text of the chart, or what to say when there is nothing to report)."""

    filename: str
    media_type: str
    data: bytes
    text: str
    empty: bool


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
    lines = [f"# {TITLE.format(year=report.year)}", "", TARGET_LINE.format(target=TARGET_PER_YEAR), COUNTED_LINE, ""]
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
    from openpyxl import Workbook  # imported when a workbook is made, not when copbot starts

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
    notes.append([COUNTED_LINE])
    if report.empty:
        notes.append([no_data_line(report)])
    raw = io.BytesIO()
    book.save(raw)
    return raw.getvalue()


def _sheet(sheet: Any, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """One sheet of the workbook (an openpyxl ``Worksheet``): a bold header, then the rows."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

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
    from openpyxl import load_workbook

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
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    plt = pyplot()
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
    return small_png(raw, PNG_COLOURS)


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
