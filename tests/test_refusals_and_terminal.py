"""What a co-chair tripped over (issue 18): the terminal's post numbers, a Teams mention whose
text differs from its entity, typos in verbs, the schedule's refusals and dates, and the
``copbot`` program's help. Each through the terminal, and through the platform a point is about."""

from __future__ import annotations

import copy
import re
from pathlib import Path

from alembic import command
from botbuilder.schema import Activity
from sqlalchemy import select

from adapters.teams.translate import to_incoming
from bot.vocabulary.conversation import CommandEvent, Place
from storage.db import Database, alembic_config
from storage.models import PostNumber
from storage.post_numbers import next_number
from tests.fixtures import published
from tests.support.room import Room
from tests.support.serve import run_copbot
from tests.support.teams_channel import BOT, TeamsChannel
from tests.support.terminal import run_script

ROOT = Path(__file__).parent.parent
MEETING = (ROOT / "docs" / "meeting.txt").read_text()
_NEW_POST = re.compile(r"^#(\d+) copbot(?! \(updated\))", re.MULTILINE)


def _new_post_numbers(screen: str) -> list[int]:
    """The numbers of the posts a screen shows for the first time (not their updates)."""
    return [int(n) for n in _NEW_POST.findall(screen)]


# -- 2. the terminal's post numbers are unique per database -----------------------------------


async def test_running_the_meeting_twice_on_one_database_never_gives_a_number_twice(tmp_path):
    first = await run_script(MEETING, tmp_path, "North West")
    second = await run_script(MEETING, tmp_path, "North West")
    numbers = _new_post_numbers(first) + _new_post_numbers(second)
    assert len(numbers) == len(set(numbers)), "a post number was given twice"
    assert min(_new_post_numbers(second)) > max(_new_post_numbers(first))
    # The second run's `/reply #10` is the first run's step 1, where Cara shared those very words:
    # it changes nothing, and she is told so instead of hearing nothing.
    said = "You already shared those words as your answer to step 1 of the reflection, so nothing was changed."
    assert said not in first
    assert re.search(r"\(only cara sees this\):\n  " + re.escape(said), second)
    assert "Traceback" not in first + second


def test_copbot_chat_started_again_on_its_database_goes_on_numbering(tmp_path):
    settings = {"XDG_DATA_HOME": str(tmp_path)}
    script = "/as Ann\n/cop support\nasking for help\n/cop close\n/quit\n"
    first = run_copbot("chat", "--db", str(tmp_path / "cop.db"), settings=settings, input=script)
    second = run_copbot("chat", "--db", str(tmp_path / "cop.db"), settings=settings, input=script)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    before, after = _new_post_numbers(first.stdout), _new_post_numbers(second.stdout)
    assert before and after and min(after) == max(before) + 1


async def test_reply_to_a_post_number_from_an_earlier_start_reaches_that_post(tmp_path):
    first = await run_script("/as Ann\n/cop reflect Peer work\nWhat happened to me\n", tmp_path, "North West")
    found = re.search(r"^#(\d+) copbot:\n  Step 1 of 6", first, re.MULTILINE)
    assert found
    step_one = found.group(1)
    script = f"/as Ann\n/cop next\n/as Ben\n/reply #{step_one} A late thought\n/as Ann\n/cop end\n"
    second = await run_script(script, tmp_path)
    assert "(only ben sees this):\n  Thank you — kept under step 1 (What happened?)" in second
    summary = second[second.rindex("Step 1") :]
    assert "Ann: What happened to me" in summary and "Ben: A late thought" in summary


async def test_reply_to_a_post_that_is_not_there_or_not_to_answer_says_so(tmp_path):
    screen = await run_script("/as Ann\n/reply #99 hello\n/reply #1 hello\n/reply #x hello\n", tmp_path, "North West")
    assert "There is no post #99 to answer here (nothing was kept)." in screen
    assert "Post #1 is not one to answer, so nothing was kept." in screen  # #1 is the welcome
    assert "Usage: /reply <#n> <your words>" in screen


async def test_the_same_words_again_in_a_thread_are_kept_once_and_the_member_is_told(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "reflect Boundaries")
    await room.reply("Ben", "I felt unsure", to="reflection:1:step:1")
    assert "nothing was changed" not in room.said_to("Ben")
    await room.reply("Ben", "I felt unsure", to="reflection:1:step:1")
    assert (
        "You already shared those words as your answer to step 1 of the reflection, so nothing was changed."
        in room.said_to("Ben")
    )
    await room.cmd("Ben", "share I felt unsure")  # a plain line or `share` answers the open step: the same
    assert room.said_to("Ben").count("so nothing was changed") == 2


async def test_an_older_database_numbers_on_after_its_highest_post(sqlite_db: Database):
    """Migration 0011: a database whose terminal posts reached #41 before the counter existed
    gives #42 next, not #1 again."""
    async with sqlite_db.engine.begin() as conn:
        await conn.run_sync(lambda sync: command.downgrade(alembic_config(sync), "0010"))
        await conn.exec_driver_sql(
            "INSERT INTO post_refs (platform, channel_id, key, ref, created_at) VALUES "
            "('console', 'terminal', 'support:1', '41', '2026-11-01'), "
            "('console', 'terminal', 'support:2', '7', '2026-11-01'), "
            "('slack', 'C1', 'support:3', '1700000000.000100', '2026-11-01')"
        )
        await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), "head"))
    assert await next_number(sqlite_db, Place("console", "terminal")) == 42
    assert await next_number(sqlite_db, Place("console", "other")) == 1
    async with sqlite_db.transaction() as session:
        assert {row.platform for row in await session.scalars(select(PostNumber))} == {"console"}


async def test_post_numbers_from_two_writers_at_once_are_all_different(db):
    import asyncio

    place = Place("console", "terminal")
    numbers = await asyncio.gather(*(next_number(db, place) for _ in range(20)))
    assert sorted(numbers) == list(range(1, 21))


# -- 8. Teams: the bot is addressed by its id, whatever the mention's text ---------------------


def _published_mention(text: str, entity_text: str) -> Activity:
    body = copy.deepcopy(published.TEAMS_CHANNEL_MESSAGE_WITH_MENTION)
    body["conversation"]["id"] = body["conversation"]["id"].split(";")[0]  # a new post, not a reply
    body["text"] = text
    body["entities"][0]["text"] = entity_text
    return Activity().deserialize(body)


def test_a_published_mention_whose_text_differs_from_its_entity_still_addresses_the_bot():
    for text, entity_text in (
        ("<at>ridotest bot</at> setup North West", "<at>ridotest</at>"),  # a longer display name
        ("<at>RidoTest</at> setup North West", "<at>ridotest</at>"),  # other case
        ("<at>ridotest</at>&nbsp;setup North West", "<at>Rido Test</at>"),
    ):
        incoming = to_incoming(_published_mention(text, entity_text))
        assert incoming is not None, text
        assert isinstance(incoming.event, CommandEvent) and incoming.event.text == "setup North West", text


def test_a_mention_of_someone_else_by_the_same_words_does_not_address_the_bot():
    activity = _published_mention("<at>ridotest</at> setup North West", "<at>ridotest</at>")
    activity.entities[0].additional_properties["mentioned"] = {"id": "29:someone-else", "name": "ridotest"}
    assert to_incoming(activity) is None


async def test_teams_answers_a_command_whose_at_text_differs_from_the_entity(channel: TeamsChannel):
    body = channel.activity("Ann", "<at>copbot (Preview)</at> setup North West")
    body["entities"] = [{"type": "mention", "text": "<at>copbot</at>", "mentioned": BOT}]
    assert await channel.post(body) == 201
    await channel.idle()
    assert channel.cards_with("Welcome to the North West Community of Practice")
    other = channel.activity("Ben", "<at>Copbot</at> join Peer Support Worker")
    other["entities"] = [{"type": "mention", "text": "<at>copbot</at>", "mentioned": BOT}]
    assert await channel.post(other) == 201
    await channel.idle()
    assert channel.cards_with("Ben (Peer Support Worker)")


# -- 9. a mistyped verb gets the nearest verbs ------------------------------------------------


async def test_typos_get_the_nearest_verbs_in_the_terminal(tmp_path):
    screen = await run_script(
        "/as Ann\n/cop suport\n/cop joinn Peer Support Worker\n/cop hlep\n/cop nxt\n/cop help suport\n/cop bogus\n",
        tmp_path,
        "North West",
    )
    # "report" is near "suport" too (difflib ratio 0.67): both are offered, the nearer first
    assert "I don't know “suport”. Did you mean `/cop support` or `/cop report`?" in screen
    assert "I don't know “joinn”. Did you mean `/cop join Peer Support Worker`?" in screen
    assert "I don't know “hlep”. Did you mean `/cop help`?" in screen
    assert "I don't know “nxt”. Did you mean `/cop next`?" in screen
    assert screen.count("Did you mean `/cop support` or `/cop report`?") == 2  # `help suport` too
    assert "I don't know “bogus”. Try `/cop help` to see what I can do." in screen


async def test_a_typo_in_slack_gets_the_nearest_verb_privately(sqlite_db, clock):
    from tests.fakes.slack_api import running_stack
    from tests.support.slack_meeting import PEOPLE, say

    async with running_stack(sqlite_db, clock, PEOPLE) as stack:
        await say(stack, "U1", "setup North West")
        await say(stack, "U2", "joinn Peer Support Worker")
        assert "Did you mean `/cop join Peer Support Worker`?" in stack.slack.ephemerals("U2")[-1].text


# -- 10. the schedule's refusals, and one date reader for every command ---------------------

SCHEDULE_REFUSALS = [
    (
        "schedule settings agenda 3-5",  # as the usage line used to show it
        "The agenda goes out on one day: give one number of working days before a meeting, from 3 to 5, "
        "not “3-5”. For example: `/cop schedule settings agenda 5`",
    ),
    (
        "schedule settings agenda 9",
        "The agenda goes out 3 to 5 working days before a meeting, so 9 can't be used. "
        "For example: `/cop schedule settings agenda 5`",
    ),
    (
        "schedule settings call 30",
        "The call for items goes out 5 to 20 working days before a meeting, so 30 can't be used. "
        "For example: `/cop schedule settings call 20`",
    ),
    ("schedule settings agenda", "“agenda” needs a value after it. For example: `/cop schedule settings agenda 5`"),
    ("schedule settings colour blue", "I don't know “colour”. Did you mean `country`? For example: `/cop schedule"),
    ("schedule settings zone Europe/Dubln", "Did you mean Europe/Dublin? Write it as Region/City"),
    ("schedule settings country XX", "use a country code like IE. For example: `/cop schedule settings country IE`"),
    (
        "schedule quarterly 2nd Tuesday of Feb May Aug Nov",
        "Please end the rule with the time the meetings start, e.g. "
        "`/cop schedule quarterly 2nd Tuesday of Feb May Aug Nov 10:30`.",
    ),
    ("schedule quarterly whenever suits", "Write the rule like `2nd Tuesday of Feb May Aug Nov 10:30`"),
    ("schedule add 31/04/2027 10:30", "There is no such day as 31/04/2027. For example: `/cop schedule add 19/03/2027"),
    ("schedule add 2027-03-19 25:00", "I couldn't read the time “25:00”; write it like 10:30 (or 2:30pm). For example"),
    ("schedule add someday", "I couldn't read “someday” as a date; write it like 19/03/2027, 2027-03-19 or 19 March"),
    ("schedule add 01/11/2026", "2026-11-01 has already passed (today is 2026-11-26); please pick a day from today"),
    ("schedule move 1 April 2 April", "There is no meeting on 2027-04-01. `/cop schedule` lists the next ones."),
    ("schedule move 1/4/2027", "Usage: /cop schedule move <date> [to] <new date> [time]. For example: `/cop"),
    (
        "schedule link http://insecure.example",
        "https:// link (at most 500 characters). For example: `/cop schedule link",
    ),
    (
        "schedule quartrly 1st Monday of Jan 10:30",
        "I don't know “schedule quartrly”. Did you mean `schedule quarterly`?",
    ),
]


async def test_every_schedule_refusal_says_what_was_wrong_and_shows_a_form_that_works(tmp_path):
    script = "/clock 2026-11-26 10:00\n/as Ann\n" + "".join(f"/cop {command}\n" for command, _ in SCHEDULE_REFUSALS)
    screen = await run_script(script, tmp_path, "North West")
    private = re.findall(r"\(only ann sees this\):\n  (.*)", screen)
    assert len(private) == len(SCHEDULE_REFUSALS), private
    for (typed, said), answer in zip(SCHEDULE_REFUSALS, private, strict=True):
        assert said in answer, (typed, answer)
        assert "`/cop schedule" in answer, (typed, answer)  # a form that works
        assert "Usage: /cop schedule settings [zone Europe/Dublin]" not in answer  # never the bare usage line
    assert "Thank you — we meet" not in screen and "Added a meeting" not in screen


async def test_schedule_dates_are_read_like_action_dates_day_first(db, clock):
    room = Room(db, clock)  # the clock says 2026-11-26 10:00 UTC
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "schedule quarterly 3rd Wednesday of Mar Jun Sep Dec at 10:30")
    assert "Thank you — we meet on the 3rd Wednesday of Mar Jun Sep Dec, at 10:30." in room.sender.sent_texts()[-2]
    await room.cmd("Ann", "schedule add 30/03/2027")  # day first, no time: the usual time
    assert "Added a meeting on Tue 30 Mar 2027, 10:30." in room.sender.sent_texts()[-2]
    await room.cmd("Ann", "schedule add 14 January 2027 2pm")
    assert "Added a meeting on Thu 14 Jan 2027, 14:00." in room.sender.sent_texts()[-2]
    await room.cmd("Ann", "schedule move 17 March 2027 to 18/03/2027")
    assert "Moved the meeting of 2027-03-17 to Thu 18 Mar 2027, 10:30." in room.sender.sent_texts()[-2]
    await room.cmd("Ann", "schedule move 2027-01-14 2027-01-14 15:00")  # what "There is already one" suggests
    assert "Moved the meeting of 2027-01-14 to Thu 14 Jan 2027, 15:00." in room.sender.sent_texts()[-2]
    await room.cmd("Ann", "schedule cancel 16/06/2027")
    assert "Cancelled the meeting of 2027-06-16." in room.sender.sent_texts()[-2]
    await room.cmd("Ann", "schedule off 4/1/2027")
    assert "Noted: 2027-01-04 is not a working day for us." in room.said_to("Ann")
    await room.cmd("Ann", "schedule settings agenda 4 call 12")
    assert "agenda 4 working days before · call for items 12 working days before" in room.said_to("Ann")
    await room.cmd("Ann", "schedule add 14/01/2027 11:00")
    assert (
        "There is already a meeting on 2027-01-14. "
        "To change its time: `/cop schedule move 2027-01-14 2027-01-14 14:00`." in room.said_to("Ann")
    )
    listing = room.sender.public()[-1].plain_text()
    assert "Thu 14 Jan 2027, 15:00" in listing and "Thu 18 Mar 2027, 10:30" in listing
    assert "Tue 30 Mar 2027, 10:30" in listing


def test_one_date_reader_for_schedule_actions_and_the_terminal_clock():
    from datetime import date

    from adapters.console import TerminalClock
    from bot.vocabulary.dates import parse_day
    from flows import meeting_calendar
    from flows.due_dates import date_given, due_date

    today = date(2026, 11, 26)
    for written, day in (
        ("30/03/2027", date(2027, 3, 30)),
        ("2027-03-04", date(2027, 3, 4)),  # year first: the 4th of March, never the 3rd of April
        ("04/03/2027", date(2027, 3, 4)),  # day first
        ("4 March 2027", date(2027, 3, 4)),
        ("4 March", date(2027, 3, 4)),
    ):
        assert parse_day(written, today) == day, written
        assert meeting_calendar.parse_date(written, today) == day, written
        assert date_given(written, today).on == day, written
        assert due_date(f"I will ask by {written}", today).on == day, written  # type: ignore[union-attr]
        clock = TerminalClock()
        clock.set(f"{written} 10:00")
        assert clock.fixed is not None and clock.fixed.date() == day, written


async def test_the_terminal_clock_takes_any_date_the_commands_take(tmp_path):
    screen = await run_script("/clock 9/12/2026 09:30\n/clock 30 February 2027\n/clock now\n", tmp_path)
    assert "(it is now 2026-12-09 09:30 UTC here)" in screen
    assert "There is no such day as 30 February 2027.\nUsage: /clock <date> [HH:MM] (UTC)" in screen


async def test_a_schedule_refusal_in_slack_shows_a_form_that_works(sqlite_db, clock):
    from tests.fakes.slack_api import running_stack
    from tests.support.slack_meeting import PEOPLE, say

    async with running_stack(sqlite_db, clock, PEOPLE) as stack:
        await say(stack, "U1", "setup North West")
        await say(stack, "U1", "schedule settings agenda 3-5")
        said = stack.slack.ephemerals("U1")[-1].text
        assert "from 3 to 5" in said and "schedule settings agenda 5" in said
        await say(stack, "U1", "schedule add 30/03/2027 14:00")
        assert "Added a meeting on Tue 30 Mar 2027, 14:00." in stack.slack.posts()[-2].text


def test_the_readme_and_the_schedule_help_give_the_same_forms():
    from bot.commands import help_text
    from flows.schedule import FORMS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = "\n".join(line for line in readme.splitlines() if line.startswith("| `schedule"))
    for usage, _ in FORMS.values():
        assert f"`{usage}`" in rows, usage
        assert usage in help_text("schedule"), usage
    assert "agenda 3-5" not in readme and "call 5-20" not in readme  # no range that reads as a value


# -- 13. the copbot program's help, and the README's table of its commands ---------------------


def test_every_option_of_copbot_serve_has_help():
    done = run_copbot("serve", "--help")
    assert done.returncode == 0
    assert re.search(r"--host HOST\s+address to listen on", done.stdout)
    assert re.search(r"--port PORT\s+port to listen on", done.stdout)


def test_the_readme_lists_every_command_of_the_copbot_program():
    from bot.shell.cli import _parser

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `copbot ([a-z-]+)[^`]*` \|", readme, re.MULTILINE)
    parser = _parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices  # type: ignore[attr-defined]
    assert sorted(rows) == sorted(commands)
    for name, sub in commands.items():
        for action in sub._actions:
            assert action.help, f"copbot {name} {action.option_strings} has no help"
