"""Flat leadership: today's lead (confirmed at an earlier meeting) runs the parts of the meeting
a co-chair runs — the support round, the reflection start to end, the vote — and `/cop meeting`
names them as today's lead; anyone else hears the same sentence the help gives."""

from __future__ import annotations

from pathlib import Path

from bot.commands import help_text
from tests.fakes.slack_api import running_stack
from tests.support.room import Room
from tests.support.slack_meeting import PEOPLE, say
from tests.support.terminal import run_script

SCRIPT = Path(__file__).parent.parent / "docs" / "lead-meeting.txt"


async def _cara_leads_the_next_meeting(room: Room, clock) -> None:  # noqa: ANN001
    await room.setup("Ann", "Ben", "Cara", "Dev", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "lead")
    await room.cmd("Cara", "lead volunteer")
    await room.cmd("Ann", "lead confirm")
    clock.advance(days=91)  # the next meeting


async def test_todays_lead_runs_every_part_and_others_are_told_who_may(db, clock):
    room = Room(db, clock)
    await _cara_leads_the_next_meeting(room, clock)
    await room.cmd("Cara", "meeting")
    assert "Led today by Cara, with the co-chairs." in room.sender.public()[-1].plain_text()
    await room.cmd("Cara", "support")
    await room.reply("Ben", "asking for help", to="support:1")
    await room.cmd("Cara", "close support")
    await room.cmd("Cara", "reflect Working with families")
    await room.reply("Ann", "a phone call during a visit", to="reflection:1:step:1")
    await room.cmd("Dev", "next")
    assert "Only a co-chair or today's lead can move the steps on" in room.said_to("Dev")
    await room.cmd("Cara", "next")
    await room.cmd("Cara", "back")
    for _ in range(5):
        await room.cmd("Cara", "next")
    await room.cmd("Cara", "end")
    await room.cmd("Cara", "vote open 1")
    await room.cmd("Ben", "vote 2")
    await room.cmd("Dev", "close vote")
    assert "Only a co-chair or today's lead can close a round or vote" in room.said_to("Dev")
    await room.cmd("Cara", "close vote")
    said = room.said_to("Cara")
    assert "Only a co-chair" not in said, said
    texts = room.sender.texts()
    assert "Step 6 of 6" in texts and "Our next lead topic:" in texts


async def test_a_lead_of_an_earlier_meeting_does_not_lead_on_the_day_they_were_chosen(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "lead")
    await room.cmd("Cara", "lead volunteer")
    await room.cmd("Ann", "lead confirm")
    await room.cmd("Cara", "reflect Boundaries")  # chosen today: leads the next meeting, not this one
    assert "Only a co-chair or today's lead can start a reflection" in room.said_to("Cara")


def test_help_says_the_same_as_the_refusals():
    for verb in ("reflect", "next", "back", "end", "close"):
        assert "or today's lead" in help_text(verb), verb
    assert "(co-chairs or today's lead only: open" in help_text("vote")


async def test_a_lead_run_meeting_through_the_terminal_meets_no_refusal(tmp_path):
    screen = await run_script(SCRIPT.read_text(), tmp_path, community="North West")
    assert "Only a co-chair" not in screen and "Traceback" not in screen and "I don't know" not in screen
    assert screen.count("Led today by Cara, with the co-chairs.") == 2
    assert "Step 6 of 6" in screen and "I felt caught in the middle" in screen
    assert screen.count("The vote is closed. Thank you for voting.") == 2  # the first vote, and Cara's


async def test_a_lead_runs_the_reflection_in_slack(sqlite_db, clock):
    async with running_stack(sqlite_db, clock, PEOPLE) as stack:
        for user, text in [
            ("U1", "setup North West"),
            ("U2", "join"),
            ("U3", "join"),
            ("U1", "chairs set <@U1> <@U2> 12"),
        ]:
            await say(stack, user, text)
        await say(stack, "U1", "lead")
        await say(stack, "U3", "lead volunteer")
        await say(stack, "U1", "lead confirm")
        clock.advance(days=91)
        for text in ("reflect Working with families", "next", "next", "next", "next", "next", "end"):
            await say(stack, "U3", text)
        refusals = [c.text for c in stack.slack.ephemerals("U3") if "Only a co-chair" in c.text]
        assert refusals == []
        posted = "\n".join(c.text for c in stack.slack.posts())
        assert "Step 6 of 6" in posted and "Working with families" in posted
