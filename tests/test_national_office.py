"""The national office (issue 21): who it is (COPBOT_NATIONAL_OFFICE), the national view of
every community, the member lists (CSV, XLSX) and national announcements, sent once per
community channel and repeated in each next-steps post until the event has passed."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.shell import cli, national_cli
from bot.vocabulary.conversation import Actor, CommandEvent, Place, Post
from bot.vocabulary.errors import ConfigError
from bot.vocabulary.national_office import parse_national_office
from flows import national
from storage.db import Database
from storage.models import Meeting, OutboxPost
from tests.fakes.slack_api import running_stack
from tests.support.interleave import hold_first_call
from tests.support.room import Room
from tests.support.slack_meeting import say
from tests.support.terminal import run_script
from tests.support.waiting import WAIT_SECONDS

NORA = Actor("U-nora", "Nora")
NORAS_CHAT = Place("slack", "D-nora", "T1")  # a private chat with copbot: no community there


def national_room(db, clock, channel: str = "C1") -> Room:  # type: ignore[no-untyped-def]
    room = Room(db, clock, channel)
    room.runtime.core.national_office = parse_national_office("slack:U-nora")
    return room


async def as_nora(room: Room, text: str) -> Post:
    """Nora of the national office types ``/cop <text>`` in her private chat: copbot's answer."""
    posts = await room.runtime.dispatch(CommandEvent(NORA, NORAS_CHAT, text))
    await room.runtime.drain()
    assert len(posts) == 1 and posts[0].private_to == NORA.user_id
    return posts[0]


# Who the national office is ------------------------------------------------------------------


def test_the_setting_names_people_per_platform():
    office = parse_national_office(" slack:U123 , teams:29:abc,console:Nora Byrne,")
    assert office.people == {("slack", "U123"), ("teams", "29:abc"), ("console", "nora_byrne")}
    assert office.includes("teams", "29:abc") and not office.includes("teams", "U123")
    assert parse_national_office("").people == frozenset()


@pytest.mark.parametrize(
    ("value", "problem"),
    [("fax:U1", "unknown platform 'fax'"), ("slack", "'slack' has no colon"), ("slack:U1,teams: ", "empty id")],
)
def test_a_malformed_setting_is_refused_at_start_in_one_line(value, problem, monkeypatch, capsys, tmp_path):
    with pytest.raises(ConfigError, match=problem) as refused:
        parse_national_office(value)
    assert "\n" not in str(refused.value) and "COPBOT_NATIONAL_OFFICE" in str(refused.value)
    monkeypatch.setenv("COPBOT_NATIONAL_OFFICE", value)
    assert cli.main(["chat", "--db", str(tmp_path / "cop.db")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("copbot: COPBOT_NATIONAL_OFFICE must be") and err.count("\n") == 1
    assert "Traceback" not in err
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    assert cli.main(["serve", "--host", "127.0.0.1", "--port", "0"]) == 2  # refused before it listens
    assert capsys.readouterr().err.startswith("copbot: COPBOT_NATIONAL_OFFICE must be")


async def test_only_the_national_office_reaches_the_national_verbs(db, clock):
    room = national_room(db, clock)
    await room.setup("Ann", "Ben")  # Ann set it up: a co-chair; Ben a member
    for who in ("Ann", "Ben"):
        await room.cmd(who, "national communities")
        said = room.said_to(who)
        assert "Only the national office can see every community or announce to them all." in said
        assert "North West" not in said
    answer = await as_nora(room, "national communities")
    assert "North West" in answer.text
    room.runtime.core.national_office = parse_national_office("")  # nobody named: nobody in chat
    refused = await as_nora(room, "national members")
    assert refused.text.startswith("Only the national office can")


async def test_the_terminal_acts_as_the_national_office_the_setting_names(tmp_path, monkeypatch):
    monkeypatch.setenv("COPBOT_NATIONAL_OFFICE", "console:Nora")
    screen = await run_script(
        "/as Ann\n/cop join\n/cop national communities\n/as Nora\n/cop national communities\n", tmp_path, "North West"
    )
    assert "(only ann sees this):\n  Only the national office can" in screen
    assert "(only nora sees this):\n  Communities of Practice (1):\n  North West" in screen


async def test_a_channel_bound_as_the_national_offices(db, clock):
    north = national_room(db, clock, "C1")
    await north.setup("Ann", "Ben")
    office = national_room(db, clock, "C9")
    await office.cmd("Ben", "setup national")
    assert "Only someone COPBOT_NATIONAL_OFFICE names can make a channel the national office's." in office.said_to(
        "Ben"
    )
    await north.cmd("Nora", "setup national")  # a community's channel stays the community's
    assert "This channel belongs to the North West Community of Practice" in north.said_to("Nora")
    await office.cmd("Nora", "setup national")
    assert office.sender.public()[-1].text.startswith("This channel is now the national office's.")
    await office.cmd("Ben", "national communities")  # whoever is in it: answered for the whole office
    assert office.sender.public()[-1].text.startswith("Communities of Practice (1):\nNorth West")
    await office.cmd("Ben", "setup South East")
    assert "This is the national office's channel: a community needs a channel of its own." in office.said_to("Ben")
    await north.cmd("Ben", "national communities")  # elsewhere, Ben is a member like any other
    assert "Only the national office can" in north.said_to("Ben")
    lonely = Room(db, clock, "C8")  # the setting names nobody: nobody binds a national channel
    await lonely.cmd("Nora", "setup national")
    assert "Only someone COPBOT_NATIONAL_OFFICE names" in lonely.said_to("Nora")


# The national view ---------------------------------------------------------------------------


async def test_the_national_view_over_two_communities(db, clock):
    north = national_room(db, clock, "C1")
    await north.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await north.cmd("Ann", "chairs set @Ann @Ben 6")
    await north.cmd("Ben", "join recovery educator")
    await north.cmd("Ann", "schedule quarterly 1st Thursday of Jan Apr Jul Oct 10:30")
    await north.cmd("Ann", "actions add Share the forum notes @Ben by 3 February 2027")
    await north.cmd("Ann", "actions add Book the room @Ann by 30 June 2027")
    south = national_room(db, clock, "C2")
    await south.setup("Cara", "Dan", name="South East")
    await south.cmd("Cara", "leave")  # the only co-chair left: South East has none
    clock.now = datetime(2027, 4, 10, 9, 0, tzinfo=UTC)
    async with db.transaction() as session:
        session.add(Meeting(community_id=1, held_on=date(2027, 4, 1)))
    view = (await as_nora(north, "national communities")).text
    north_part, south_part = view.split("South East")
    assert "North West — on track" in north_part
    assert "Last meeting: Thursday 1 April 2027. Next meeting: Thursday 1 July 2027." in north_part
    assert "Ann, term ends Wednesday 26 May 2027 (within 60 days); Ben, term ends" in north_part
    assert "Overdue actions: 1." in north_part
    assert "Members (2): Recovery Educator 1, no role given 1." in north_part
    assert "BEHIND: no meeting this quarter, no co-chairs, no schedule" in south_part
    assert "Last meeting: none yet. Next meeting: not set." in south_part
    assert "Co-chairs: none." in south_part and "Members (1): no role given 1." in south_part


# Member lists --------------------------------------------------------------------------------


async def _two_communities_with_leavers(db, clock) -> Room:  # type: ignore[no-untyped-def]
    north = national_room(db, clock, "C1")
    await north.setup("Ann", "Eve", "Fay")
    await north.cmd("Ben", "join recovery educator")
    await north.cmd("Eve", "forget-me")
    await north.cmd("Eve", "forget-me confirm")
    await north.cmd("Fay", "leave")
    south = national_room(db, clock, "C2")
    await south.setup("Cara", name="South East")
    await south.cmd("Dan", "join peer support worker")
    return north


async def test_member_lists_in_chat_are_a_csv_file_without_who_left(db, clock):
    north = await _two_communities_with_leavers(db, clock)
    answer = await as_nora(north, "national members")
    assert answer.attachment is not None and answer.attachment.filename == "members.csv"
    rows = list(csv.reader(io.StringIO(answer.attachment.content)))
    assert rows == [
        ["Name", "Role", "Community"],
        ["Ann", "", "North West"],
        ["Ben", "Recovery Educator", "North West"],
        ["Cara", "", "South East"],
        ["Dan", "Peer Support Worker", "South East"],
    ]
    assert (
        "Eve" not in answer.text and "Fay" not in answer.text and "Ben — Recovery Educator — North West" in answer.text
    )
    one = await as_nora(north, "national members south east")
    assert "Dan" in one.text and "Ann" not in one.text
    unknown = await as_nora(north, "national members Atlantis")
    assert unknown.text == "There is no community called “Atlantis”. The communities are: North West, South East."


async def test_member_lists_on_the_command_line_csv_and_xlsx(db, clock, tmp_path, monkeypatch, capsys):
    await _two_communities_with_leavers(db, clock)
    monkeypatch.setenv("DATABASE_URL", db.url)
    parser = cli._parser()
    out = tmp_path / "members.xlsx"
    assert await national_cli.run(parser.parse_args(["members", "--format", "xlsx", "--out", str(out)])) == 0
    book = load_workbook(out)
    assert book.sheetnames == ["North West", "South East"]
    assert [list(r) for r in book["North West"].iter_rows(values_only=True)] == [
        ["Name", "Role", "Community"],
        ["Ann", None, "North West"],
        ["Ben", "Recovery Educator", "North West"],
    ]
    assert [r[0] for r in book["South East"].iter_rows(values_only=True)] == ["Name", "Cara", "Dan"]
    capsys.readouterr()
    assert await national_cli.run(parser.parse_args(["members", "--community", "north west"])) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Name,Role,Community",
        "Ann,,North West",
        "Ben,Recovery Educator,North West",
    ]
    assert await national_cli.run(parser.parse_args(["members", "--community", "Atlantis"])) == 2
    assert capsys.readouterr().err == (
        "copbot: There is no community called “Atlantis”. The communities are: North West, South East.\n"
    )


# National announcements ----------------------------------------------------------------------


async def _three_channels(db, clock) -> Room:  # type: ignore[no-untyped-def]
    """North West (C1), South East (C2) and a second South East channel (C3) copbot left."""
    north = national_room(db, clock, "C1")
    await north.setup("Ann")
    south = national_room(db, clock, "C2")
    await south.setup("Cara", name="South East")
    await national_room(db, clock, "C3").cmd("Cara", "setup South East")
    await north.runtime.removed("slack", "channel_not_found", channel_id="C3")
    await national_room(db, clock, "C9").cmd("Nora", "setup national")  # never sent announcements
    return north


async def _national_posts(db: Database) -> list[tuple[str, str]]:
    async with db.reading() as session:
        rows = await session.execute(
            select(OutboxPost.channel_id, OutboxPost.key)
            .where(OutboxPost.key.like("national:%"))
            .order_by(OutboxPost.id)
        )
    return [tuple(row) for row in rows.all()]  # type: ignore[misc]


async def test_an_announcement_reaches_each_active_channel_once(db, clock):
    north = await _three_channels(db, clock)
    answer = await as_nora(north, "national announce Our annual national event is in Athlone on 2027-06-12")
    assert answer.text == "Sent to 2 community channels; 1 was skipped (copbot is no longer in it)."
    words = "From the national office: Our annual national event is in Athlone (on Saturday 12 June 2027)"
    for channel in ("C1", "C2"):  # delivered by any worker's courier: here, North West's
        assert north.sender.sent_texts(channel).count(words) == 1
    assert words not in north.sender.sent_texts("C3")
    assert await _national_posts(db) == [("C1", "national:1"), ("C2", "national:1")]
    again = await as_nora(north, "national announce Our annual national event is in  Athlone on 2027-06-12")
    assert again.text == "This announcement went out already — nobody gets it twice."
    assert await _national_posts(db) == [("C1", "national:1"), ("C2", "national:1")]


async def test_two_workers_sending_at_the_same_moment_post_once(db, clock, monkeypatch):
    """Worker A claims the first channel and is held inside its transaction; worker B sends the
    same announcement meanwhile (it waits on A's rows, or A's write lock). A commits; B finds
    every channel claimed. The claim rows, not luck, keep it from posting twice."""
    await _three_channels(db, clock)
    a_holds, a_goes_on = hold_first_call(monkeypatch, national.store, "claim_post")
    a, b = Database(db.url), Database(db.url)

    async def send(worker: Database) -> national.Sent:
        async with worker.transaction() as session:
            return await national.send_announcement(session, "The national event", date(2027, 6, 12), clock())

    try:
        first = asyncio.create_task(send(a))
        await asyncio.wait_for(a_holds.wait(), WAIT_SECONDS)
        second = asyncio.create_task(send(b))
        await asyncio.sleep(0.05)  # B is under way, waiting on A
        a_goes_on.set()
        one = await asyncio.wait_for(first, WAIT_SECONDS)
        two = await asyncio.wait_for(second, WAIT_SECONDS)
    finally:
        a_goes_on.set()
        await a.dispose()
        await b.dispose()
    assert (one.sent, one.skipped) == (2, 1)
    assert (two.sent, two.skipped, two.already) == (0, 0, 3)
    assert await _national_posts(db) == [("C1", "national:1"), ("C2", "national:1")]


async def test_the_next_steps_post_repeats_the_event_until_it_has_passed(db, clock):
    clock.now = datetime(2027, 3, 25, 9, 0, tzinfo=UTC)
    north = national_room(db, clock)
    await north.setup("Ann")
    await north.cmd("Ann", "schedule quarterly 1st Thursday of Jan Apr Jul Oct 10:30")
    await as_nora(north, "national announce The annual national event, Athlone on 12 June 2027")
    april = await north.at(datetime(2027, 4, 1, 12, 0, tzinfo=UTC))
    steps = next(text for text in april if text.startswith("Thank you for today's meeting"))
    assert "National event: The annual national event, Athlone — Saturday 12 June 2027." in steps
    july = await north.at(datetime(2027, 7, 1, 12, 0, tzinfo=UTC))
    steps = next(text for text in july if text.startswith("Thank you for today's meeting"))
    assert "National event" not in steps


async def test_bad_announcements_get_a_clear_answer(db, clock, monkeypatch, capsys):
    north = national_room(db, clock)
    await north.setup("Ann")
    empty = await as_nora(north, "national announce")
    assert empty.text.startswith("Usage: /cop national announce <text> [on <date>]")
    past = await as_nora(north, "national announce The event on 2026-01-10")
    assert past.text == "Saturday 10 January 2026 has passed already: an announcement's date must be today or later."
    no_such_day = await as_nora(north, "national announce The event on 30 February 2027")
    assert no_such_day.text == "There is no such day as 30 February 2027."
    nothing = await as_nora(north, "national")
    assert nothing.text.startswith("Usage: /cop national communities")
    monkeypatch.setenv("DATABASE_URL", db.url)
    parser = cli._parser()
    args = parser.parse_args(["announce", "The event", "--on", "2026-01-10"])
    assert await national_cli.run(args, now=clock()) == 2
    assert "has passed already" in capsys.readouterr().err
    args = parser.parse_args(["announce", "The", "event", "--on", "2027-06-12"])
    assert await national_cli.run(args, now=clock()) == 0
    assert capsys.readouterr().out == "Sent to 1 community channel.\n"
    assert await _national_posts(db) == [("C1", "national:1")]


async def test_in_the_national_channel_on_slack_the_member_list_is_a_csv_file(db, clock):
    """Slack takes files in a channel (not in a private answer): in the national office's
    channel the member list comes with members.csv."""
    async with running_stack(db, clock) as stack:
        stack.runtime.core.national_office = parse_national_office("slack:U4")
        await say(stack, "U1", "setup North West")
        await say(stack, "U2", "join recovery educator")
        stack.requests.channel = "C-office"
        await say(stack, "U4", "setup national")
        await say(stack, "U4", "national members")
        ((upload, data),) = stack.slack.files_shared()
        assert upload.params.get("channel_id") == "C-office"
        assert data.decode().splitlines() == [
            "Name,Role,Community",
            "ann,,North West",
            "ben,Recovery Educator,North West",
        ]


def test_a_name_that_looks_like_a_formula_stays_text_in_a_spreadsheet():
    assert national.spreadsheet_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert national.spreadsheet_cell("Ann") == "Ann" and national.spreadsheet_cell("") == ""


async def test_the_national_office_pulls_the_kpi_report_in_chat(tmp_path, monkeypatch):
    """`/cop national report [year] [md|csv|xlsx]`: the table as the answer, the file saved where
    the platform takes files; a member is refused, and a year with nothing says so."""
    monkeypatch.setenv("COPBOT_NATIONAL_OFFICE", "console:Nora")
    screen = await run_script(
        "/clock 2027-03-17 10:30\n/as Ann\n/cop reflect Peer work\n/cop end\n/as Ben\n/cop join\n"
        "/cop national report 2027\n/as Nora\n/cop national report 2027 csv\n/cop national report 2027 xlsx\n"
        "/cop national report 2025\n/cop national report 2027 pdf\n",
        tmp_path,
        "North West",
    )
    assert "(only ben sees this):\n  Only the national office can" in screen
    nora = screen[screen.index("(you are now Nora)") :]
    assert "North West" in nora and "Traceback" not in nora
    assert "Nothing is stored for 2025" in nora
    assert "Usage: /cop national report [year] [md|csv|xlsx]" in nora
    csv_files = list(tmp_path.glob("*2027*.csv"))
    xlsx_files = list(tmp_path.glob("*2027*.xlsx"))
    assert csv_files and "North West" in csv_files[0].read_text(encoding="utf-8")
    assert xlsx_files and xlsx_files[0].read_bytes().startswith(b"PK")  # a zip: what Excel opens
