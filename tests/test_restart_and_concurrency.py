"""Nothing lost: a restart mid-reflection, and 50 answers and votes arriving at once."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from storage.db import Database
from storage.models import Ballot, ReflectionAnswer, SupportStatement
from tests.support.room import Room


async def test_restart_in_the_middle_of_a_reflection_resumes_at_the_same_step(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "reflect Peer work")
    await room.reply("Cara", "What happened", to="reflection:1:step:1")
    await room.cmd("Ann", "next")
    await room.cmd("Ann", "next")
    await room.reply("Ben", "Good and bad", to="reflection:1:step:3")
    step1_ref = room.sender.ref("reflection:1:step:1")
    url = db.engine.url.render_as_string(hide_password=False)
    await db.dispose()

    # a new process: new engine, new runtime, same database
    again = Database(url)
    try:
        await again.migrate()
        restarted = Room(again, clock)
        restarted.sender.log = room.sender.log  # the platform still has the old messages
        await restarted.reply("Cara", "Late thought on what happened", to="reflection:1:step:1")
        assert step1_ref == restarted.sender.ref("reflection:1:step:1")
        await restarted.reply("Cara", "Feelings, late", to="reflection:1:step:2")
        await restarted.cmd("Ann", "next")
        assert restarted.sender.latest("reflection:1:step:4").text.startswith("Step 4 of 6")
        await restarted.cmd("Ann", "end")
        summary = restarted.sender.latest("reflection:1:summary").plain_text()
        for text in ["What happened", "Late thought on what happened", "Feelings, late", "Good and bad"]:
            assert text in summary
        async with again.transaction() as session:
            rows = (await session.execute(select(ReflectionAnswer.step, ReflectionAnswer.text))).all()
        assert sorted(rows) == [
            (1, "Late thought on what happened"),
            (1, "What happened"),
            (2, "Feelings, late"),
            (3, "Good and bad"),
        ]
    finally:
        await again.dispose()


async def test_fifty_concurrent_answers_and_votes_are_all_kept_none_twice(db, clock):
    room = Room(db, clock)
    people = [f"P{i:02d}" for i in range(50)]
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "support")
    await asyncio.gather(*(room.reply(p, f"statement of {p}", to="support:1") for p in people))
    # the same 50 again at once (retries / double submissions): nothing counted twice
    await asyncio.gather(*(room.reply(p, f"statement of {p}", to="support:1") for p in people))
    await room.cmd("Ann", "close")
    await room.cmd("Ann", "reflect Topic")
    await asyncio.gather(*(room.reply(p, f"answer of {p}", to="reflection:1:step:1") for p in people))
    await asyncio.gather(
        *(room.reply(p, f"answer of {p}", to="reflection:1:step:1", event_id=f"ev-{p}") for p in people)
    )
    await room.cmd("Ann", "end")
    await room.cmd("Ann", "vote")
    await asyncio.gather(*(room.press(p, "vote 1") for p in people), *(room.cmd(p, "vote 2") for p in people))
    await asyncio.gather(*(room.press(p, "vote 1") for p in people))  # double clicks
    async with db.transaction() as session:
        assert await session.scalar(select(func.count(SupportStatement.id))) == 50
        assert await session.scalar(select(func.count(ReflectionAnswer.id))) == 50
        assert await session.scalar(select(func.count(Ballot.id)).where(Ballot.active.is_(True))) == 100
    await room.cmd("Ann", "vote 1")
    await room.cmd("Ann", "close")
    result = room.sender.latest("vote:1:result").plain_text()
    assert "1. Working together to build the engagement population — 51 votes" in result
    assert "— 50 votes" in result
    closing = room.sender.latest("support:1:closing").plain_text()
    assert all(f"statement of {p}" in closing for p in people)
