"""Answers land where the member meant: with the support round and a reflection both open, a
plain line answers the one opened last and the member is told where it went, with `/cop move`
to move it; a member edits or takes back their own named answers (`/cop mine`, `/cop edit <n>`,
`/cop withdraw [n]`), not only anonymous ones by code."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import ReflectionAnswer, SupportStatement
from tests.fakes.slack_api import running_stack
from tests.support.app import count_rows
from tests.support.room import Room, uid
from tests.support.slack_meeting import PEOPLE, say
from tests.support.terminal import run_script


async def test_a_plain_line_answers_what_was_opened_last_and_can_be_moved(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "support")
    clock.advance(minutes=2)
    await room.cmd("Ann", "reflect Boundaries")
    await room.cmd("Ben", "share asking for help")  # meant for the support round, opened earlier
    told = room.said_to("Ben")
    assert "Kept as your answer to step 1 of the reflection. Meant as support statement? Type `/cop move`" in told
    assert await count_rows(db, ReflectionAnswer) == 1 and await count_rows(db, SupportStatement) == 0
    await room.cmd("Ben", "move")
    assert "Moved — it is now your support statement" in room.said_to("Ben")
    assert await count_rows(db, ReflectionAnswer) == 0 and await count_rows(db, SupportStatement) == 1
    await room.cmd("Ben", "move")  # and back again
    assert await count_rows(db, ReflectionAnswer) == 1 and await count_rows(db, SupportStatement) == 0


async def test_with_one_thing_open_nothing_extra_is_said(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "support")
    await room.cmd("Ben", "share asking for help")
    assert "Kept as" not in room.said_to("Ben")
    await room.cmd("Ben", "move")
    assert "Only one thing is open to answer" in room.said_to("Ben")


async def test_a_member_edits_and_takes_back_their_own_named_answers(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "support")
    await room.cmd("Ben", "share asking for help")
    await room.cmd("Ann", "close support")
    clock.advance(minutes=1)
    await room.cmd("Ann", "reflect Boundaries")
    await room.reply("Ben", "a phone call on a home visit", to="reflection:1:step:1")
    await room.cmd("Ben", "mine")
    mine = room.sender.private(uid("Ben"))[-1].plain_text()
    assert "1. “Boundaries”, step 1: a phone call on a home visit" in mine
    assert "2. support statement: asking for help" in mine
    await room.cmd("Ben", "edit 2 taking standing breaks")
    async with db.transaction() as session:
        assert await session.scalar(select(SupportStatement.text)) == "taking standing breaks"
    await room.cmd("Ann", "withdraw 1")  # Ann has shared nothing: nothing of Ben's is touched
    assert "You haven't shared anything with your name here yet" in room.said_to("Ann")
    await room.cmd("Ben", "withdraw 7")
    assert "I couldn't find your answer number 7" in room.said_to("Ben")
    await room.cmd("Ben", "withdraw")  # the last one: the reflection answer
    assert await count_rows(db, ReflectionAnswer) == 0 and await count_rows(db, SupportStatement) == 1
    await room.cmd("Ben", "anon I felt unsure")
    code = room.last_code("Ben")
    await room.cmd("Ben", f"withdraw {code}")  # the code still works for an answer without a name
    assert await count_rows(db, ReflectionAnswer) == 0


async def test_the_terminal_tells_where_a_plain_line_went(tmp_path):
    script = "\n".join(
        [
            "/clock 2026-11-26 10:00",
            "/as Ann",
            "/cop support",
            "/clock 2026-11-26 10:05",
            "/cop reflect Boundaries",
            "/as Ben",
            "/cop join",
            "asking for help",
            "/cop move",
            "/cop mine",
        ]
    )

    screen = await run_script(script, tmp_path)
    assert "Kept as your answer to step 1 of the reflection" in screen
    assert "Moved — it is now your support statement" in screen
    assert "1. support statement: asking for help" in screen


async def test_slack_share_and_move(sqlite_db, clock):
    async with running_stack(sqlite_db, clock, PEOPLE) as stack:
        await say(stack, "U1", "setup North West")
        await say(stack, "U2", "join")
        await say(stack, "U1", "reflect Boundaries")
        clock.advance(minutes=1)
        await say(stack, "U1", "support")
        await say(stack, "U2", "share a phone call on a home visit")
        told = "\n".join(c.text for c in stack.slack.ephemerals("U2"))
        assert "Kept as your support statement. Meant as answer to step 1 of the reflection?" in told
        await say(stack, "U2", "move")
        assert "Moved — it is now your answer to step 1 of the reflection" in stack.slack.ephemerals("U2")[-1].text
