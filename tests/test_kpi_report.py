"""Issue 21, points 2 and 8: the KPI report. Two communities over two years, by quarter — North
West's year comes from real conversations (a scheduled agenda on time and one late, meetings
with attendance, a reflection, actions done and dropped, a vote, a review), South East's from
rows inserted where that is clearer — in each format (Markdown, CSV read back, a PNG, an Excel
workbook read back), never with a member's words or name; a year with nothing, an unknown
community, ``copbot report`` and `/cop report` through the terminal."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from PIL import Image

from bot.shell import cli
from bot.vocabulary.errors import UsageError
from flows.kpi_figures import UnknownCommunity, agenda_timing, build_report
from flows.kpi_report import national_report, read_xlsx
from flows.review_survey import send_command
from storage import kpi as store
from storage.db import Database
from storage.models import (
    ActionItem,
    Announcement,
    Attendance,
    CoChairTerm,
    Community,
    Meeting,
    Member,
    Reflection,
    ReviewAnswer,
    ReviewSurvey,
    Topic,
    TopicVote,
)
from tests.support.room import Room
from tests.support.terminal import run_script

CANARY = "CANARY-7731"  # planted in every answer, action and topic members wrote
NAME_MARK = "Qzx"  # every member's name starts with it
ANN, BEN, CARA = "Qzxann", "Qzxben", "Qzxcara"
RULE = "schedule quarterly 2nd Wednesday of Mar Jun Sep Dec 10:30"


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


async def north_west_through_its_meetings(room: Room) -> None:
    """2027: the March meeting (its agenda on time, 5 working days before: Wednesday 3 March),
    with a support round, a reflection whose action plan agrees two actions and a topic vote;
    one action done and one dropped in April; the June meeting (its agenda late: the day
    before) with two there, and a review that three answer."""
    room.clock.now = _utc(2027, 1, 4, 10, 0)  # type: ignore[attr-defined]
    await room.setup(ANN, BEN, CARA, chairs=(ANN, BEN), name="North West")
    await room.cmd(ANN, RULE)
    await room.at(_utc(2027, 3, 3, 9, 0))  # the agenda of Wednesday 10 March, on time
    room.clock.now = _utc(2027, 3, 10, 10, 35)  # type: ignore[attr-defined]
    await room.cmd(ANN, "support")
    await room.reply(BEN, f"{CANARY} taking standing breaks")
    await room.cmd(CARA, "pass")
    await room.cmd(ANN, "close")
    await room.cmd(ANN, f"reflect {CANARY} peer work on the ward")
    await room.reply(BEN, f"{CANARY} a client asked me to share my story")
    for _ in range(5):
        await room.cmd(ANN, "next")
    await room.reply(CARA, f"action: {CANARY} draft a boundaries checklist")
    await room.reply(ANN, f"action: {CANARY} ask my supervisor")
    await room.cmd(ANN, "end")
    await room.cmd(ANN, "vote")
    await room.cmd(ANN, "vote 2")
    await room.cmd(BEN, "vote 2")
    await room.cmd(ANN, "close")
    room.clock.now = _utc(2027, 4, 20, 10, 0)  # type: ignore[attr-defined]
    await room.cmd(ANN, "actions done 1")
    await room.cmd(ANN, f"actions drop 2 {CANARY} no longer needed")
    await room.at(_utc(2027, 6, 8, 12, 0))  # the agenda of Wednesday 9 June goes out late
    room.clock.now = _utc(2027, 6, 9, 10, 35)  # type: ignore[attr-defined]
    await room.cmd(ANN, "here")
    await room.cmd(BEN, "here")
    await room.cmd(ANN, "review")
    for who, rating in ((ANN, 4), (BEN, 5), (CARA, 2)):
        await room.cmd(who, send_command([rating] * 9, f"{CANARY} words of {who}"))
    await room.cmd(ANN, "review close")


async def south_east_as_rows(db: Database) -> None:
    """South East, inserted: 10 November 2026 (2 there); 15 February 2027 (3 there, a
    reflection, a topic chosen, its agenda out on Monday 8 February: 5 working days before);
    16 August 2027 (2 there, an action agreed, done in October; its agenda never went out);
    one co-chair in post since June 2026; a 2027 review only two answered."""
    async with db.transaction() as session:
        se = Community(name="South East", vote_budget=3, created_at=_utc(2026, 5, 1, 9, 0))
        session.add(se)
        await session.flush()
        dora = Member(
            community_id=se.id, platform="slack", user_id="U-qzxdora", name="Qzxdora", joined_at=_utc(2026, 5, 1)
        )
        session.add(dora)
        await session.flush()
        session.add(CoChairTerm(community_id=se.id, member_id=dora.id, months=12, starts_on=date(2026, 6, 1),
                                ends_on=date(2027, 6, 1), review_on=date(2026, 12, 1)))  # fmt: skip
        meetings = {}
        for day, present in ((date(2026, 11, 10), 2), (date(2027, 2, 15), 3), (date(2027, 8, 16), 2)):
            meeting = Meeting(community_id=se.id, held_on=day, lead_topic=f"{CANARY} topic")
            session.add(meeting)
            await session.flush()
            meetings[day] = meeting
            session.add_all(Attendance(meeting_id=meeting.id, member_id=None) for _ in range(present))
        february, august = meetings[date(2027, 2, 15)], meetings[date(2027, 8, 16)]
        session.add(Reflection(community_id=se.id, meeting_id=february.id, topic=CANARY, step=6, status="ended",
                               started_at=_utc(2027, 2, 15, 11), ended_at=_utc(2027, 2, 15, 12)))  # fmt: skip
        topic = Topic(community_id=se.id, title=CANARY, title_key=CANARY.lower(), created_at=_utc(2027, 1, 1))
        session.add(topic)
        await session.flush()
        session.add(TopicVote(community_id=se.id, meeting_id=february.id, status="closed", budget=3,
                              winner_topic_id=topic.id, opened_at=_utc(2027, 2, 15, 12),
                              closed_at=_utc(2027, 2, 15, 12, 20)))  # fmt: skip
        session.add(ActionItem(community_id=se.id, number=1, meeting_id=august.id, text=CANARY, status="done",
                               created_at=_utc(2027, 8, 16, 12), closed_at=_utc(2027, 10, 5, 9)))  # fmt: skip
        session.add(Announcement(community_id=se.id, kind="agenda", occurrence=date(2027, 2, 15),
                                 due_for=_utc(2027, 2, 15, 10, 30), skipped=False,
                                 created_at=_utc(2027, 2, 8, 9)))  # fmt: skip
        session.add(Announcement(community_id=se.id, kind="agenda", occurrence=date(2027, 8, 16),
                                 due_for=_utc(2027, 8, 16, 9, 30), skipped=True,
                                 created_at=_utc(2027, 8, 16, 9, 40)))  # fmt: skip
        survey = ReviewSurvey(community_id=se.id, year=2027, opened_on=date(2027, 8, 16),
                              closes_on=date(2027, 8, 30), closed_on=date(2027, 8, 30), responses=2)  # fmt: skip
        session.add(survey)
        await session.flush()
        for n, rating in enumerate((5, 5)):
            session.add(ReviewAnswer(id=f"s{n}", survey_id=survey.id, question="satisfaction", rating=rating))
            session.add(ReviewAnswer(id=f"r{n}", survey_id=survey.id, question="role", text=CANARY))


async def _two_communities(db: Database, clock) -> Room:  # noqa: ANN001
    room = Room(db, clock)
    await north_west_through_its_meetings(room)
    await south_east_as_rows(db)
    return room


def _no_member_text_or_name(text: str) -> None:
    assert CANARY not in text and NAME_MARK.lower() not in text.lower()


# -- the figures, by quarter ------------------------------------------------------------------


async def test_two_communities_over_two_years_by_quarter(db, clock):
    await _two_communities(db, clock)
    async with db.reading() as session:
        report = await build_report(session, 2027)
        before = await build_report(session, 2026)
    north, south = report.communities
    assert (north.name, south.name) == ("North West", "South East")
    q = north.quarters
    assert [q[n].meetings for n in (1, 2, 3, 4)] == [1, 1, 0, 0]
    assert (q[1].agendas, q[1].agendas_on_time, q[2].agendas, q[2].agendas_outside) == (1, 1, 1, 1)
    assert (q[1].present, q[2].present) == (3, 2)  # Ann ran, Ben answered, Cara passed; then two said `here`
    assert (q[1].reflections, q[1].actions_agreed, q[1].topics_chosen) == (1, 2, 1)
    assert (q[2].actions_done, q[2].actions_dropped, q[1].actions_done) == (1, 1, 0)
    assert [q[n].co_chairs for n in (1, 2, 3, 4)] == [2, 2, 2, 2]
    assert north.satisfaction == (2, 4, 5) and north.year.meetings == 2
    (on_time, late) = north.agendas
    assert (on_time.meeting_day, on_time.sent_on, on_time.working_days, on_time.verdict) == (
        date(2027, 3, 10),
        date(2027, 3, 3),
        5,
        "yes",
    )
    assert (late.meeting_day, late.working_days, late.verdict) == (date(2027, 6, 9), 1, "no")

    s = south.quarters
    assert [s[n].meetings for n in (1, 2, 3, 4)] == [1, 0, 1, 0]  # November 2026 is last year's
    assert (s[1].agendas_on_time, s[3].agendas_not_sent, s[1].present, s[3].present) == (1, 1, 3, 2)
    assert (s[1].reflections, s[1].topics_chosen, s[3].actions_agreed, s[4].actions_done) == (1, 1, 1, 1)
    assert [s[n].co_chairs for n in (1, 2, 3, 4)] == [1, 1, 1, 1]
    assert south.satisfaction == (5, 5)  # two answered: no median anywhere (below)

    nation = report.national_year
    assert (nation.meetings, nation.present, nation.actions_done, nation.co_chairs) == (4, 10, 2, 3)
    assert report.national_quarters[1].meetings == 2 and report.national_quarters[4].meetings == 0
    assert report.national_satisfaction == (2, 4, 5)  # South East's two ratings stay out

    assert [c.year.meetings for c in before.communities] == [0, 1]
    assert before.communities[0].empty and not before.empty


# -- every format -------------------------------------------------------------------------------


async def test_each_format_shows_the_figures_and_no_member_text_or_name(sqlite_db, clock):
    db = sqlite_db  # the figures are read alike on both databases (above); rendering is the point here
    await _two_communities(db, clock)
    async with db.reading() as session:
        md = await national_report(session, 2027)
        table = await national_report(session, 2027, fmt="csv")
        png = await national_report(session, 2027, fmt="png")
        xlsx = await national_report(session, 2027, fmt="xlsx")
        own = await national_report(session, 2027, "north west", "md")

    text = md.data.decode("utf-8")
    assert md.filename == "cop-kpi-national-2027.md" and md.media_type == "text/markdown"
    assert "## North West" in text and "## South East" in text and "## National total (2 communities)" in text
    assert "| Q1 | 1 of 1 (met) | 1 of 1 | 3 | 1 | 2 | 0 | 0 | 1 | 2 |" in text
    assert "| Year | 2 of 4 (below target) | 1 of 2 | 5 | 1 | 2 | 1 | 1 | 1 | 2 |" in text
    assert "| Year | 4 of 8 (below target) | 2 of 4 | 10 |" in text
    assert "Review satisfaction: median 4 of 5 (3 answered)." in text
    assert "Review satisfaction: fewer than 3 answered: not shown." in text  # South East
    own_text = own.data.decode("utf-8")
    assert "## North West" in own_text and "South East" not in own_text and "National" not in own_text
    assert own.filename == "cop-kpi-north-west-2027.md"

    rows = list(csv.DictReader(io.StringIO(table.data.decode("utf-8"))))
    assert len(rows) == 15  # 4 quarters and the year, for each community and the nation
    by = {(r["community"], r["quarter"]): r for r in rows}
    assert by[("North West", "Q2")]["agendas_outside_3_to_5"] == "1" and by[("North West", "Q2")]["were_there"] == "2"
    assert by[("South East", "Q3")]["agendas_not_sent"] == "1"
    assert by[("North West", "Year")]["satisfaction_median"] == "4.0"
    assert by[("South East", "Year")]["satisfaction_median"] == ""
    assert by[("South East", "Year")]["satisfaction_answers"] == "fewer than 3"
    assert by[("National total", "Year")]["meetings_held"] == "4"
    assert by[("National total", "Year")]["meetings_target"] == "8"

    assert png.data[:8] == b"\x89PNG\r\n\x1a\n" and 2_000 < len(png.data) < 60_000  # small enough for a Teams card
    with Image.open(io.BytesIO(png.data)) as image:
        assert image.width >= 500 and image.height >= 250
    assert png.text == (
        "Bar chart of meetings held in 2027 by each community, against the target of 4: "
        "North West 2 of 4; South East 2 of 4."
    )

    sheets = read_xlsx(xlsx.data)
    assert list(sheets) == ["By quarter", "Totals", "Agendas", "About"]
    assert len(sheets["By quarter"]) == 1 + 12 and len(sheets["Totals"]) == 1 + 3
    header = sheets["Totals"][0]
    totals = {row[1]: dict(zip(header, row, strict=True)) for row in sheets["Totals"][1:]}
    assert totals["North West"]["meetings_held"] == 2 and totals["National total"]["meetings_target"] == 8
    assert totals["North West"]["satisfaction_median"] == 4
    agendas = sheets["Agendas"][1:]
    assert [(r[0], r[4]) for r in agendas] == [
        ("North West", "yes"),
        ("North West", "no"),
        ("South East", "yes"),
        ("South East", "not sent"),
    ]

    every_cell = "\n".join(str(v) for rows in sheets.values() for row in rows for v in row)
    for shown in (text, own_text, table.data.decode("utf-8"), png.text, every_cell):
        _no_member_text_or_name(shown)
    assert CANARY.encode() not in png.data and CANARY.encode() not in xlsx.data


async def test_a_year_with_nothing_says_so_and_an_unknown_community_is_refused(db):
    await south_east_as_rows(db)
    async with db.transaction() as session:
        session.add(Community(name="North West", vote_budget=3, created_at=_utc(2027, 1, 4)))
    async with db.reading() as session:
        for fmt in ("md", "csv", "png", "xlsx"):
            made = await national_report(session, 2025, fmt=fmt)  # type: ignore[arg-type]
            assert made.empty and made.text == (
                "Nothing is stored for 2025: no meetings, agendas, actions, votes or reviews."
            )
        assert "Nothing is stored for 2025" in (await national_report(session, 2025)).data.decode()
        north_2026 = await national_report(session, 2026, "North West")
        assert north_2026.empty and "Nothing is stored for 2026 in North West" in north_2026.text
        with pytest.raises(UnknownCommunity, match="No community is called “Atlantis”"):
            await national_report(session, 2027, "Atlantis")
        with pytest.raises(UsageError, match="The report comes as md, csv, png, xlsx."):
            await national_report(session, 2027, fmt="pdf")
        assert (await national_report(session, 2027, fmt=" CSV ")).filename == "cop-kpi-national-2027.csv"


async def test_a_name_that_looks_like_a_formula_stays_text_in_csv_and_excel(db, clock):
    async with db.transaction() as session:
        community = Community(name="=HYPERLINK(1)", vote_budget=3, created_at=_utc(2027, 1, 1))
        session.add(community)
        await session.flush()
        session.add(Meeting(community_id=community.id, held_on=date(2027, 5, 5)))
    async with db.reading() as session:
        table = await national_report(session, 2027, fmt="csv")
        xlsx = await national_report(session, 2027, fmt="xlsx")
    assert "'=HYPERLINK(1)" in table.data.decode()
    assert read_xlsx(xlsx.data)["Totals"][1][1] == "'=HYPERLINK(1)"


# -- the copbot report command --------------------------------------------------------------------


def test_copbot_report_writes_each_format_and_refuses_an_unknown_community(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'cop.db'}"

    async def prepare() -> None:
        db = Database(url)
        await db.migrate()
        await south_east_as_rows(db)
        await db.dispose()

    asyncio.run(prepare())
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)

    assert cli.main(["report", "--year", "2027"]) == 0
    screen = capsys.readouterr()
    assert "## South East" in screen.out and "| Q1 | 1 of 1 (met) |" in screen.out
    assert cli.main(["report", "--year", "2027", "--format", "csv", "--out", "kpi.csv"]) == 0
    assert list(csv.reader(io.StringIO(Path("kpi.csv").read_text())))[0][:3] == ["year", "community", "quarter"]
    assert cli.main(["report", "--year", "2027", "--format", "xlsx"]) == 0
    assert "Wrote cop-kpi-national-2027.xlsx." in capsys.readouterr().err
    assert set(read_xlsx(Path("cop-kpi-national-2027.xlsx").read_bytes())) >= {"By quarter", "Totals", "Agendas"}
    assert cli.main(["report", "--year", "2027", "--format", "png", "--community", "south east"]) == 0
    assert Path("cop-kpi-south-east-2027.png").read_bytes()[:4] == b"\x89PNG"
    capsys.readouterr()

    assert cli.main(["report", "--year", "2027", "--community", "Atlantis"]) == 2
    assert capsys.readouterr().err.strip() == "copbot: No community is called “Atlantis”."
    assert cli.main(["report", "--year", "2025"]) == 0
    screen = capsys.readouterr()
    assert "Nothing is stored for 2025" in screen.err and "Nothing is stored for 2025" in screen.out
    _no_member_text_or_name(Path("kpi.csv").read_text())


# -- /cop report: a community's own ----------------------------------------------------------------

SCRIPT = f"""/clock 2027-03-10 10:35
/as {ANN}
/cop here
/as {BEN}
/cop join
/cop here
/cop report 2027
/cop report 2025
/cop report next
"""


async def test_terminal_cop_report_shows_our_figures_privately_with_the_chart(tmp_path):
    screen = await run_script(SCRIPT, tmp_path, "North West")
    assert "Traceback" not in screen
    assert "Our KPI report for 2027 (North West): 1 of 4 meetings held. Only you can see this." in screen
    assert "Q1: 1 held (target 1); agendas on time 0 of 0; 2 there; 0 reflections" in screen
    assert "Review satisfaction: no review closed this year." in screen
    (chart,) = tmp_path.glob("cop-kpi-*.png")
    assert chart.name == "cop-kpi-north-west-2027.png" and chart.read_bytes()[:4] == b"\x89PNG"
    assert "Nothing is stored for 2025 in North West" in screen
    assert "Usage: /cop report [year]" in screen


async def test_cop_report_is_any_members_and_private(sqlite_db, clock):
    room = await _two_communities(sqlite_db, clock)
    posts = await room.cmd(CARA, "report 2027")
    (post,) = posts
    assert post.private_to == "U-qzxcara" and post.attachment is not None
    assert post.attachment.media_type == "image/png" and "North West 2 of 4" in post.attachment.alt_text
    said = post.plain_text()
    assert "Q2: 1 held (target 1); agendas on time 0 of 1; 2 there" in said
    assert "Review satisfaction: median 4 of 5 (3 answered)." in said
    assert "South East" not in said
    _no_member_text_or_name(said)


# -- "3–5 working days before", as a table ------------------------------------------------------

# The meeting of Wednesday 9 June 2027 at 10:30 in Dublin (09:30 UTC); Monday 7 June is the June
# bank holiday, so 3–5 working days before is Tuesday 1 June to Thursday 3 June.
JUNE_MEETING = _utc(2027, 6, 9, 9, 30)


@pytest.mark.parametrize(
    ("sent_at", "working_days", "verdict"),
    [
        (_utc(2027, 5, 31, 8, 0), 6, "no"),  # Monday 31 May: too early
        (_utc(2027, 6, 1, 8, 0), 5, "yes"),
        (_utc(2027, 6, 3, 8, 0), 3, "yes"),
        (_utc(2027, 6, 3, 23, 30), 2, "no"),  # 00:30 on Friday 4 June in Dublin: the local day counts
        (_utc(2027, 6, 5, 9, 0), 1, "no"),  # a Saturday: only Tuesday 8 June is left
    ],
)
def test_an_agenda_is_on_time_3_to_5_working_days_before_on_the_communitys_own_days(sent_at, working_days, verdict):
    stored = store.CommunityYear(
        name="North West", zone="Europe/Dublin", country="IE", days_off=(), meetings=(), agendas=(),
        actions_agreed=(), actions_closed=(), topics_chosen=(), chair_terms=(), survey_closed=False,
        survey_responses=0, satisfaction=(),
    )  # fmt: skip
    timing = agenda_timing(store.AgendaClaim(date(2027, 6, 9), JUNE_MEETING, sent_at, False), stored)
    assert (timing.meeting_day, timing.working_days, timing.verdict) == (date(2027, 6, 9), working_days, verdict)
    skipped = agenda_timing(store.AgendaClaim(date(2027, 6, 9), JUNE_MEETING, sent_at, True), stored)
    assert (skipped.sent_on, skipped.working_days, skipped.verdict) == (None, None, "not sent")
