"""Group commit (issue 16): the events of one channel that arrive together are applied in one
transaction, in arrival order, each in its own savepoint — fewer commits, the same outcome as
one at a time, and one event's failure undoes only itself."""

from __future__ import annotations

import asyncio

from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from bot.core import SORRY, Copbot
from bot.vocabulary.conversation import Actor, CommandEvent, ReplyEvent
from flows import answers
from storage.models import Attendance, Member, ProcessedEvent, Reflection, ReflectionAnswer
from tests.support.room import Room, uid

PEOPLE = [f"P{n:02d}" for n in range(20)]


async def _meeting(db, clock) -> Room:  # type: ignore[no-untyped-def]
    room = Room(db, clock)
    await room.setup("Ann", "Ben", *PEOPLE)
    await room.cmd("Ann", "reflect Boundaries at work")
    return room


def _answer(room: Room, who: str, text: str, event_id: str | None = None) -> ReplyEvent:
    step = room.sender.ref("reflection:1:step:1")
    return ReplyEvent(Actor(uid(who), who), room.place, text, step, False, False, event_id)


def _command(room: Room, who: str, text: str) -> CommandEvent:
    return CommandEvent(Actor(uid(who), who), room.place, text)


class Commits:
    """Counts the transactions committed on ``db``."""

    def __init__(self, db) -> None:  # type: ignore[no-untyped-def]
        self.count = 0
        event.listen(db.engine.sync_engine, "commit", self._seen)

    def _seen(self, _connection) -> None:  # type: ignore[no-untyped-def]
        self.count += 1


async def test_a_burst_is_applied_in_a_few_commits_in_arrival_order(db, clock):
    room = await _meeting(db, clock)
    commits = Commits(db)
    burst = [_answer(room, who, f"answer of {who}") for who in PEOPLE] + [_command(room, "Ann", "next")]
    results = await asyncio.gather(*(room.runtime.dispatch(e) for e in burst))
    assert commits.count <= 3  # one group (or a couple): not 21 commits
    assert results[-1] and any("Step 2 of 6" in post.text for post in results[-1])
    async with db.transaction() as session:
        steps = (await session.scalars(select(ReflectionAnswer.step))).all()
        reflection = (await session.scalars(select(Reflection))).one()
    assert sorted(steps) == [1] * 20  # every answer typed before `next` is kept under step 1
    assert reflection.step == 2


async def test_one_event_that_fails_undoes_only_itself(db, clock, monkeypatch):
    room = await _meeting(db, clock)
    real_reply = answers.reply

    async def reply(turn, event):  # type: ignore[no-untyped-def]
        if event.text == "this one breaks":
            await real_reply(turn, event)  # it writes its answer, then fails: that write is undone
            raise RuntimeError("a bug in a flow")
        return await real_reply(turn, event)

    monkeypatch.setattr(answers, "reply", reply)
    burst = [_answer(room, who, f"answer of {who}") for who in PEOPLE[:10]]
    burst.insert(4, _answer(room, "Ben", "this one breaks"))
    burst.insert(7, _command(room, "P01", "end"))  # a member may not end the reflection: refused
    results = await asyncio.gather(*(room.runtime.dispatch(e) for e in burst))
    assert [p.text for p in results[4]] == [SORRY]
    assert results[4][0].private_to == uid("Ben")
    assert results[7][0].private_to == uid("P01") and "end" in results[7][0].text.lower()
    async with db.transaction() as session:
        kept = (await session.scalars(select(ReflectionAnswer.text).order_by(ReflectionAnswer.id))).all()
        reflection = (await session.scalars(select(Reflection))).one()
    assert kept == [f"answer of {who}" for who in PEOPLE[:10]]
    assert reflection.status == "open"
    await room.runtime.drain()
    assert "a bug in a flow" not in room.sender.texts()


async def test_a_group_that_cannot_commit_is_applied_again_one_event_at_a_time(db, clock, monkeypatch):
    room = await _meeting(db, clock)
    real = Copbot._in_group
    lost = [True]

    async def connection_lost(self, session, event, **how):  # type: ignore[no-untyped-def]
        if lost[0]:
            lost[0] = False
            raise OperationalError("COMMIT", {}, ConnectionResetError("server closed the connection"))
        return await real(self, session, event, **how)

    monkeypatch.setattr(Copbot, "_in_group", connection_lost)
    burst = [_answer(room, who, f"answer of {who}", event_id=f"Ev{who}") for who in PEOPLE[:8]]
    burst.append(_answer(room, PEOPLE[0], f"answer of {PEOPLE[0]}", event_id=f"Ev{PEOPLE[0]}"))  # Slack's retry
    await asyncio.gather(*(room.runtime.dispatch(e) for e in burst))
    async with db.transaction() as session:
        kept = (await session.scalars(select(ReflectionAnswer.text).order_by(ReflectionAnswer.id))).all()
        claimed = await session.scalar(select(func.count()).select_from(ProcessedEvent))
    assert kept == [f"answer of {who}" for who in PEOPLE[:8]]  # each once, none lost
    assert claimed == 8


async def test_answers_after_end_in_the_same_group_see_the_reflection_ended(db, clock):
    # The answers of a group share their lookups (the reflection, the channel): a command in
    # the group may change them, so the answers after it read them again.
    room = await _meeting(db, clock)
    burst = [_answer(room, who, f"before the end {who}") for who in PEOPLE[:5]]
    burst.append(_command(room, "Ann", "end"))
    burst += [_answer(room, who, f"after the end {who}") for who in PEOPLE[5:7]]
    results = await asyncio.gather(*(room.runtime.dispatch(e) for e in burst))
    async with db.transaction() as session:
        kept = (await session.scalars(select(ReflectionAnswer.text).order_by(ReflectionAnswer.id))).all()
        reflection = (await session.scalars(select(Reflection))).one()
    assert reflection.status == "ended"
    assert len(kept) == 7  # an answer after the end is kept too, with a word to its author
    assert all(not result for result in results[:5])  # answered in the thread: nothing to say
    for late in results[6:]:
        assert len(late) == 1 and late[0].private_to is not None and "ended" in late[0].text.lower()


async def test_a_retry_in_the_same_group_or_a_later_one_is_kept_once(db, clock):
    room = await _meeting(db, clock)
    first = [_answer(room, who, f"answer of {who}", event_id=f"Ev{who}") for who in PEOPLE[:6]]
    first.insert(3, _answer(room, PEOPLE[0], f"answer of {PEOPLE[0]}", event_id=f"Ev{PEOPLE[0]}"))  # with it
    await asyncio.gather(*(room.runtime.dispatch(e) for e in first))
    again = [_answer(room, who, f"answer of {who}", event_id=f"Ev{who}") for who in PEOPLE[:3]]  # later
    again.append(_answer(room, PEOPLE[9], "a new one", event_id="EvNew"))
    await asyncio.gather(*(room.runtime.dispatch(e) for e in again))
    async with db.transaction() as session:
        kept = (await session.scalars(select(ReflectionAnswer.text).order_by(ReflectionAnswer.id))).all()
        claimed = await session.scalar(select(func.count()).select_from(ProcessedEvent))
    assert kept == [f"answer of {who}" for who in PEOPLE[:6]] + ["a new one"]
    assert claimed == 7


async def test_a_group_of_answers_counts_each_member_present_once(db, clock):
    # Who is present is read once for a group of answers; those not yet counted are added.
    room = await _meeting(db, clock)
    await asyncio.gather(*(room.runtime.dispatch(_answer(room, who, f"first {who}")) for who in PEOPLE[:4]))
    burst = [_answer(room, who, f"then {who}") for who in PEOPLE[:8]]  # four present already, four not
    burst.insert(2, _answer(room, PEOPLE[5], f"again {PEOPLE[5]}"))  # one of them twice in the group
    await asyncio.gather(*(room.runtime.dispatch(e) for e in burst))
    async with db.transaction() as session:
        present = (
            await session.scalars(select(Member.user_id).join(Attendance, Attendance.member_id == Member.id))
        ).all()
    assert sorted(present) == sorted({uid("Ann"), *(uid(who) for who in PEOPLE[:8])})
