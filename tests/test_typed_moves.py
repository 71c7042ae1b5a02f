"""Typed commands can't skip a step: two co-chairs typing `next` at the same moment move one step,
not two — in one process, and across two workers on PostgreSQL; whoever moved may go on."""

from __future__ import annotations

import asyncio

from sqlalchemy import select, text

from bot.vocabulary.conversation import Actor, CommandEvent
from storage.models import OutboxPost, Reflection
from storage.reflections import ReflectionStore
from tests.support.room import Room, uid
from tests.support.room import workers as two_workers
from tests.support.waiting import WAIT_SECONDS, until


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


async def test_two_workers_typing_next_at_once_move_one_step(postgres_db, clock, monkeypatch):
    """Two co-chairs' `next` on two workers, their transactions interleaved by hand: Ann's has
    read the open reflection and is held there; Ben's starts and must wait for Ann's (the row
    lock of ``open_reflection_to_move``); Ann's then moves and commits. Ben's sees step 2, moved
    seconds ago by someone else, and moves nothing. Proved: without ``with_for_update`` Ben's
    reads step 1 before Ann's commits, both move, and this test fails."""
    room = Room(postgres_db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "reflect Boundaries")
    original = ReflectionStore.open_to_move
    seen: list[int] = []
    ann_holds, ann_goes_on = asyncio.Event(), asyncio.Event()

    async def held(session, community_id):  # noqa: ANN001, ANN202
        row = await original(session, community_id)
        seen.append(row.step)
        if len(seen) == 1:  # Ann's: read, and held inside her transaction
            ann_holds.set()
            await ann_goes_on.wait()
        return row

    monkeypatch.setattr(ReflectionStore, "open_to_move", staticmethod(held))

    async def waiting_for_a_lock() -> int:
        async with postgres_db.transaction() as session:
            query = (
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            return int(await session.scalar(text(query)))

    ann_worker, ben_worker = two_workers(postgres_db, clock)
    try:
        ann = asyncio.create_task(ann_worker.dispatch(CommandEvent(Actor(uid("Ann"), "Ann"), room.place, "next")))
        await asyncio.wait_for(ann_holds.wait(), WAIT_SECONDS)
        ben = asyncio.create_task(ben_worker.dispatch(CommandEvent(Actor(uid("Ben"), "Ben"), room.place, "next")))
        await until(lambda: ben.done() or waiting_for_a_lock(), "Ben's `next` waiting for Ann's (or done)")
        ann_goes_on.set()
        await ann
        ben_posts = await ben
    finally:
        ann_goes_on.set()
        for worker in (ann_worker, ben_worker):
            await worker.db.dispose()
    assert seen == [1, 2]  # Ben's transaction read the reflection only after Ann's had moved it
    assert await _step(postgres_db) == 2
    assert any("We've just moved to step 2" in post.text for post in ben_posts)
    async with postgres_db.transaction() as session:
        new_posts = await session.scalars(
            select(OutboxPost.id).where(OutboxPost.key == "reflection:1:step:2", OutboxPost.slot.is_(None))
        )
        assert len(list(new_posts)) == 1  # step 2 was posted once: the second `next` moved nothing


async def test_the_terminal_and_slack_keep_a_second_typed_next_from_skipping(tmp_path, sqlite_db, clock):
    from tests.fakes.slack_api import running_stack
    from tests.support.slack_meeting import PEOPLE, say
    from tests.support.terminal import run_script

    script = "/clock 2026-11-26 10:00\n/as Ann\n/cop join\n/as Ben\n/cop join\n/as Ann\n/cop chairs set @Ann @Ben 12\n"
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
