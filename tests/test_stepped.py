"""The stepped-prompt engine on its own: steps as data, keys and buttons per kind, and a second
kind with its own store and tables (`tests/support/check_in.py`) running beside a reflection in
one community — their rows even share id 1 — without either's buttons, typed moves, answers,
summary or forget-me touching the other's."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import delete, select

from bot.registry import DuplicateName, FlowRouter, compose
from flows.reflection import REFLECTION
from storage.models import Reflection
from tests.support.app import rows
from tests.support.check_in import CHECK_IN, CheckIn, CheckInAnswer, second_kind
from tests.support.room import Room


def test_a_second_kind_has_its_own_steps_keys_and_buttons():
    row = SimpleNamespace(id=7, community_id=1, topic="Monday", step=1, status="open")
    intro, first = CHECK_IN.begin(row)
    assert intro.key == "check-in:7:intro" and first.key == "check-in:7:step:1"
    assert "Check-in step 1 of 2 — How are you arriving today?" in first.text
    assert [b.command for b in first.buttons] == ["next check-in 7 1"]
    last = CHECK_IN.step_post(row, 2, current=True)
    assert [b.command for b in last.buttons] == ["back check-in 7 2", "end check-in 7"]
    assert CHECK_IN.parse_key("check-in:7:step:2") == (7, 2)
    assert CHECK_IN.parse_key("check-in:7:step:3") is None  # no such step
    assert CHECK_IN.parse_key("reflection:7:step:2") is None  # another kind's post
    assert REFLECTION.parse_key("check-in:7:step:2") is None


def test_two_kinds_of_the_same_name_are_refused():
    first, second = FlowRouter("one"), FlowRouter("two")
    first.stepped(CHECK_IN)
    second.stepped(CHECK_IN)
    with pytest.raises(DuplicateName):
        compose([first, second])


def test_each_kind_brings_its_forgetters_for_its_own_tables():
    router = FlowRouter("one")
    router.stepped(CHECK_IN)
    names = {f.name: f.tables for f in compose([router]).forgetters}
    assert names == {"check-in answers": ("test_check_in_answers",), "check-in step moves": ("test_check_ins",)}


async def _steps(db) -> tuple[int, int]:  # noqa: ANN001
    async with db.transaction() as session:
        reflection = await session.scalar(select(Reflection))
        check_in = await session.scalar(select(CheckIn))
        return reflection.step, check_in.step


async def test_a_reflection_and_a_check_in_with_the_same_id_run_side_by_side(db, clock, monkeypatch):
    async with second_kind(db, monkeypatch):
        room = Room(db, clock)
        await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
        await room.cmd("Ann", "reflect Boundaries")
        await room.cmd("Ann", "check-in Monday")
        async with db.transaction() as session:
            assert (await session.scalar(select(Reflection.id)), await session.scalar(select(CheckIn.id))) == (1, 1)

        # A button names its kind, its session and its step: each moves only its own.
        await room.press("Ann", "next check-in 1 1")
        assert await _steps(db) == (1, 2)
        await room.press("Ann", "next reflection 1 1")
        assert await _steps(db) == (2, 2)
        await room.press("Ben", "next check-in 1 1")  # a stale check-in button moves neither
        assert "already moved on" in room.said_to("Ben") and await _steps(db) == (2, 2)

        # Typed: with both running, say which.
        await room.cmd("Ann", "next")
        assert "Two things with steps are running: a reflection and a check-in" in room.said_to("Ann")
        assert "`/cop next reflection`" in room.said_to("Ann") and await _steps(db) == (2, 2)
        await room.cmd("Ann", "back check-in")
        assert await _steps(db) == (2, 1)
        await room.cmd("Ben", "next check-in")  # seconds after Ann moved it: meant for the step before
        assert "We've just moved to step 1" in room.said_to("Ben") and await _steps(db) == (2, 1)

        # Answers go to the kind whose post they answer, late ones under their own step.
        await room.reply("Cara", "tired but here", to="check-in:1:step:1")
        await room.reply("Cara", "the ward round", to="reflection:1:step:1")
        clock.advance(seconds=10)
        await room.cmd("Ben", "next check-in")
        assert "On to check-in step 2 again" in room.sender.public()[-1].text  # its post is updated, not posted again
        await room.reply("Cara", "a quiet room", to="check-in:1:step:2")  # in the thread of step 2's post
        await room.reply("Ben", "coffee", to="check-in:1:step:1")  # late: step 1 of the check-in
        assert "Kept under check-in step 1." in room.said_to("Ben")
        assert await rows(db, CheckInAnswer.step, CheckInAnswer.text) == [
            (1, "tired but here"),
            (2, "a quiet room"),
            (1, "coffee"),
        ]

        # Ending one leaves the other running, with its summary of its own answers only.
        clock.advance(seconds=10)
        await room.cmd("Ann", "end check-in")
        summary = room.sender.latest("check-in:1:summary").plain_text()
        assert "Our check-in: Monday" in summary and "Cara: tired but here" in summary and "Ben: coffee" in summary
        assert "ward round" not in summary
        await room.cmd("Ann", "next")  # only the reflection is running now
        assert await _steps(db) == (3, 2)

        # forget-me deletes Ben's check-in answers and that he moved its steps, with the kind's own forgetters.
        await room.cmd("Ben", "forget-me")
        if "confirm" in room.said_to("Ben").rsplit("forget-me", 1)[-1]:
            await room.cmd("Ben", "forget-me confirm")
        assert await rows(db, CheckInAnswer.text) == [("tired but here",), ("a quiet room",)]
        assert await rows(db, CheckIn.moved_by) == [(None,)]


async def test_an_answer_to_a_session_that_is_gone_says_so(db, clock, monkeypatch):
    async with second_kind(db, monkeypatch):
        room = Room(db, clock)
        await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
        await room.cmd("Ann", "check-in Monday")
        async with db.transaction() as session:
            await session.execute(delete(CheckIn))
        await room.reply("Ben", "tired", to="check-in:1:step:1")
        assert "That check-in is no longer kept, so your words were not kept either" in room.said_to("Ben")
        assert "already shared" not in room.said_to("Ben") and await rows(db, CheckInAnswer.text) == []


async def test_with_nothing_running_next_names_every_kind_and_help_names_none(db, clock, monkeypatch):
    async with second_kind(db, monkeypatch):
        room = Room(db, clock)
        await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
        await room.cmd("Ann", "next")
        said = room.said_to("Ann")
        assert "Nothing with steps is running" in said and "`/cop reflect" in said and "`/cop check-in" in said
        await room.cmd("Ann", "next check-in")
        assert "No check-in is running" in room.said_to("Ann")
        await room.cmd("Ann", "next sideways")
        assert "Usage: /cop next [reflection|check-in]" in room.said_to("Ann")
        for verb in ("next", "back", "end"):
            help_text = "\n".join(p.plain_text() for p in await room.cmd("Ann", f"help {verb}"))
            assert "reflection" not in help_text.casefold(), help_text


async def test_what_the_scheduler_will_post_needs_a_community_not_a_turn(db, clock):
    from flows.agenda import agenda_post
    from flows.support_round import closing_post
    from storage.models import Community, SupportRound

    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "support")
    await room.reply("Ben", "asking for help", to="support:1")
    await room.cmd("Ann", "reflect Boundaries")
    await room.reply("Ben", "a ward round", to="reflection:1:step:1")
    async with db.transaction() as session:
        community = await session.scalar(select(Community))
        agenda = await agenda_post(session, community, clock())
        closing = await closing_post(session, await session.scalar(select(SupportRound)))
        summary = await REFLECTION.summary(session, await session.scalar(select(Reflection)))
    assert "now at step 1 of 6" in agenda.plain_text() and "open now" in agenda.plain_text()
    assert "Ben: asking for help" in closing.plain_text()
    assert "Ben: a ward round" in summary.plain_text() and "No actions were agreed" in summary.plain_text()
