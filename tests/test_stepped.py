"""The stepped-prompt engine on its own: steps as data, keys per kind, the buttons of each step.
Gibbs' reflection is one instance (its meeting is in test_reflection.py); here, a second one."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bot.registry import DuplicateName, FlowRouter, compose
from flows.reflection import REFLECTION, WORDS
from flows.stepped import Step, SteppedPrompts
from storage.answers import ReflectionStore

CHECK_IN = SteppedPrompts(
    "check-in",
    (Step(1, "How are you arriving today?", "Arriving", ()), Step(2, "What do you need?", "Needs", ("One word",))),
    WORDS,
    ReflectionStore(),
)


def test_a_second_kind_has_its_own_steps_keys_and_buttons():
    row = SimpleNamespace(id=7, community_id=1, topic="Monday", step=1, status="open")
    intro, first = CHECK_IN.begin(row)
    assert intro.key == "check-in:7:intro" and first.key == "check-in:7:step:1"
    assert "Step 1 of 2 — How are you arriving today?" in first.text
    assert [b.command for b in first.buttons] == ["next 1"]
    last = CHECK_IN.step_post(row, 2, current=True)
    assert [b.command for b in last.buttons] == ["back 2", "end 7"]
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


async def test_what_the_scheduler_will_post_needs_a_community_not_a_turn(db, clock):
    from sqlalchemy import select

    from flows.agenda import agenda_post
    from flows.support_round import closing_post
    from storage.models import Community, Reflection, SupportRound
    from tests.support.room import Room

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
