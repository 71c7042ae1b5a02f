"""Typed commands can't skip a step: two co-chairs typing `next` at the same moment move one step,
not two — in one process, and across two workers on PostgreSQL; whoever moved may go on."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.vocabulary.conversation import Actor, CommandEvent
from storage.models import OutboxPost, Reflection
from tests.room import Room, uid
from tests.room import workers as two_workers


async def _step(db) -> int:  # noqa: ANN001
    async with db.transaction() as session:
        return (await session.scalar(select(Reflection))).step


async def test_a_second_typed_next_seconds_later_moves_nothing(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "reflect Boundaries")
    await room.cmd("Ann", "next")
    await room.cmd("Ben", "next")  # typed at the same moment as Ann's, meant for step 1
    assert await _step(db) == 2
    assert "We've just moved to step 2, so I left it there" in room.said_to("Ben")
    await room.cmd("Ben", "end")
    assert await _step(db) == 2 and "type `end` again" in room.said_to("Ben")
    clock.advance(seconds=6)
    await room.cmd("Ben", "next")  # later: Ben has seen step 2
    assert await _step(db) == 3
    await room.cmd("Ben", "next")  # the one who moved goes on at once
    await room.cmd("Ben", "back")
    assert await _step(db) == 3
    await room.press("Ann", "next 3")  # a button says which step it was pressed on
    assert await _step(db) == 4


async def test_two_workers_typing_next_at_once_move_one_step(postgres_db, clock):
    room = Room(postgres_db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "reflect Boundaries")
    workers = two_workers(postgres_db, clock)
    try:
        await asyncio.gather(
            *(
                worker.dispatch(CommandEvent(Actor(uid(name), name), room.place, "next"))
                for worker, name in zip(workers, ("Ann", "Ben"), strict=True)
            )
        )
    finally:
        for worker in workers:
            await worker.db.dispose()
    assert await _step(postgres_db) == 2
    async with postgres_db.transaction() as session:
        new_posts = await session.scalars(
            select(OutboxPost.id).where(OutboxPost.key == "reflection:1:step:2", OutboxPost.slot.is_(None))
        )
        assert len(list(new_posts)) == 1  # step 2 was posted once: the second `next` moved nothing


async def test_the_terminal_and_slack_keep_a_second_typed_next_from_skipping(tmp_path, sqlite_db, clock):
    from tests.fakes.slack_api import running_stack
    from tests.support.slack_meeting import PEOPLE, say
    from tests.terminal import run_script

    script = "/clock 2026-11-26 10:00\n/as Ann\n/cop chairs set @Ann @Ben 12\n/as Ben\n/cop join\n/as Ann\n"
    script += "/cop reflect Boundaries\n/cop next\n/as Ben\n/cop next\n"  # at the same moment as Ann's
    screen = await run_script(script, tmp_path)
    assert "We've just moved to step 2, so I left it there" in screen and "Step 3 of 6" not in screen

    async with running_stack(sqlite_db, clock, PEOPLE) as stack:
        for user, text in [("U1", "setup North West"), ("U2", "join"), ("U1", "chairs set <@U1> <@U2> 12")]:
            await say(stack, user, text)
        await say(stack, "U1", "reflect Boundaries")
        await say(stack, "U1", "next")
        await say(stack, "U2", "next")
        assert "We've just moved to step 2" in stack.slack.ephemerals("U2")[-1].text
        assert not [c for c in stack.slack.posts() if c.text.startswith("Step 3 of 6")]
