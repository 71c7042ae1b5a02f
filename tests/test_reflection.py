"""Reflection (Gibbs) on its own: steps as data, late answers, the action plan and the actions
tracked from it, the summary, permissions."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from flows import gibbs
from storage.models import ActionItem, Reflection, ReflectionAnswer
from tests.support.room import Room, uid

BAD_DATE = "I couldn't read the date “{raw}”; the action is kept without one — a co-chair can add it."


async def _at_step_6(room: Room, *members: str) -> None:
    """A community (Ann and Ben co-chair) whose reflection has reached step 6."""
    await room.setup("Ann", "Ben", *members, chairs=("Ann", "Ben"))
    await room.cmd("Ann", "reflect Boundaries at work")
    for _ in range(5):
        await room.cmd("Ann", "next")


async def _actions(db) -> list[ActionItem]:  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        return list(await session.scalars(select(ActionItem).order_by(ActionItem.id)))


async def _answer(db, text: str) -> ReflectionAnswer:  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        found = await session.scalar(select(ReflectionAnswer).where(ReflectionAnswer.text == text))
    assert found is not None, f"no answer {text!r}"
    return found


def _receipts(room: Room, who: str) -> list:  # type: ignore[type-arg]
    return room.sender.private(uid(who))


async def test_six_steps_late_answers_actions_and_summary(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
    await room.cmd("Cara", "reflect Boundaries")
    assert "co-chair or today's lead" in room.said_to("Cara")

    await room.cmd("Ann", "reflect Boundaries at work")
    step1 = room.sender.latest("reflection:1:step:1")
    assert step1.text.startswith("Step 1 of 6 — What happened?")  # plain words before jargon
    assert step1.form is not None
    await room.reply("Cara", "A client asked about my own story", to="reflection:1:step:1")
    for expected in range(2, 7):
        await room.cmd("Ann", "next")
        assert room.sender.latest(f"reflection:{1}:step:{expected}").text.startswith(f"Step {expected} of 6")
    # a late answer to step 2 arrives while we are at step 6: kept under step 2
    await room.reply("Ben", "I felt unsure at first", to="reflection:1:step:2")
    assert "kept under step 2" in room.said_to("Ben")
    await room.reply("Cara", "@Ben will draft a checklist by 2027-02-14", to="reflection:1:step:6")
    await room.reply("Ann", "I will talk to my supervisor", to="reflection:1:step:6")
    await room.reply(
        "Ben", "action: we share resources by next friday", to="reflection:1:step:6", anonymous=True, from_form=True
    )
    await room.cmd("Ann", "next")
    assert "last step" in room.said_to("Ann")
    await room.cmd("Ann", "end")

    summary = room.sender.latest("reflection:1:summary").plain_text()
    for spec in gibbs.STEPS:
        assert spec.question in summary
    assert "Cara: A client asked about my own story" in summary
    assert "Ben: I felt unsure at first" in summary
    assert "2 actions agreed; they will be on the next agenda." in summary
    assert "Cara: @Ben will draft a checklist by 2027-02-14 — action for Ben (answer 3)" in summary
    assert "Ann: I will talk to my supervisor (answer 4)" in summary  # in the plan, not tracked
    assert (
        "Shared without a name: we share resources by next friday — action for the group, due Friday 4 December 2026"
        in summary
    )

    async with db.transaction() as session:
        rows = list(await session.scalars(select(ReflectionAnswer).order_by(ReflectionAnswer.id)))
        assert [(r.step, r.text[:9]) for r in rows][:2] == [(1, "A client "), (2, "I felt un")]
        actions = list(await session.scalars(select(ActionItem).order_by(ActionItem.id)))
        assert [a.due_on for a in actions] == [date(2027, 2, 14), date(2026, 12, 4)]
        assert actions[1].owner_id is None  # shared without a name: owned by the group
        assert actions[1].text == "we share resources by next friday"  # the prefix is not kept
        assert (await session.scalar(select(Reflection))).status == "ended"


async def test_a_plain_answer_is_kept_in_the_plan_and_not_tracked(db, clock):
    room = Room(db, clock)
    await _at_step_6(room, "Cara")
    await room.reply("Cara", "I will read our boundaries policy", to="reflection:1:step:6")
    await room.reply("Cara", "@Ben could look at supervision", to="reflection:1:step:6")  # an owner, no date
    await room.reply("Cara", "I'll finish the rota by Friday", to="reflection:1:step:6")  # a date, no owner
    assert await _actions(db) == []
    async with db.transaction() as session:
        assert await session.scalar(select(func.count(ReflectionAnswer.id))) == 3
    receipt = _receipts(room, "Cara")[0]
    assert receipt.text.startswith("Kept in our action plan — thank you.")
    assert [(b.label, b.command) for b in receipt.buttons] == [("Make this an action", "action 1")]
    await room.cmd("Ann", "end")
    summary = room.sender.latest("reflection:1:summary").plain_text()
    assert "No actions were agreed this time." in summary
    assert "Cara: I will read our boundaries policy (answer 1)" in summary
    assert "action for" not in summary


@pytest.mark.parametrize("prefix", ["action:", "Action: ", "ACTION:"])
async def test_the_action_prefix_tracks_an_answer_and_is_not_kept(db, clock, prefix):
    room = Room(db, clock)
    await _at_step_6(room)
    await room.reply("Ben", f"{prefix}call the peer network", to="reflection:1:step:6")
    [action] = await _actions(db)
    assert action.text == "call the peer network" and action.due_on is None
    assert (await _answer(db, "call the peer network")).member_id == action.owner_id  # the author owns it
    assert "Kept as an action for Ben — it will be on the next agenda." in room.said_to("Ben")
    assert not any(p.buttons for p in _receipts(room, "Ben"))


async def test_an_owner_and_a_date_make_an_action(db, clock):
    room = Room(db, clock)
    await _at_step_6(room, "Cara")
    await room.reply("Ben", "@Cara will ring the housing service by 1 March", to="reflection:1:step:6")
    [action] = await _actions(db)
    async with db.transaction() as session:
        from storage.models import Member

        owner = await session.get(Member, action.owner_id)
    assert owner is not None and owner.name == "Cara"
    assert action.due_on == date(2027, 3, 1)  # "1 March" has passed this year: next year's
    assert "Kept as an action for Cara, due Monday 1 March 2027" in room.said_to("Ben")


async def test_the_button_makes_an_action_for_its_author_once_and_refuses_another_member(db, clock):
    room = Room(db, clock)
    await _at_step_6(room, "Cara")
    await room.reply("Cara", "I will check the rota by Friday", to="reflection:1:step:6")
    [button] = _receipts(room, "Cara")[0].buttons
    assert button.command == "action 1"

    await room.press("Dara", button.command)  # someone who did not write it
    assert "Only the member who shared answer 1, or a co-chair, can make it an action." in room.said_to("Dara")
    assert await _actions(db) == []

    await room.press("Cara", button.command)
    await room.press("Cara", button.command)  # a double press
    [action] = await _actions(db)
    assert action.due_on == date(2026, 11, 27)  # the Friday after the meeting's day, a Thursday
    said = room.said_to("Cara")
    assert "Kept as an action for Cara, due Friday 27 November 2026 — it will be on the next agenda." in said
    assert "Answer 1 is already an action for Cara, due Friday 27 November 2026 — it counts once." in said

    # a co-chair may make anyone's answer an action, typing the button's command
    await room.reply("Cara", "I will ask about training", to="reflection:1:step:6")
    await room.cmd("Ann", "action 2")
    assert "Kept as an action for Cara — it will be on the next agenda." in room.said_to("Ann")
    await room.cmd("Ann", "end")
    assert "2 actions agreed; they will be on the next agenda." in room.sender.latest("reflection:1:summary").text


async def test_an_answer_without_a_name_is_tracked_by_its_code_or_by_a_co_chair(db, clock):
    room = Room(db, clock)
    await _at_step_6(room, "Cara")
    await room.cmd("Cara", "anon I will share the leaflet")
    said = room.said_to("Cara")
    assert "type `/cop action <your code>`" in said and "Only you see this code" in said
    assert not any(p.buttons for p in _receipts(room, "Cara"))  # a button would show the code
    code = room.last_code("Cara")

    await room.cmd("Cara", "action 1")  # by number: nothing links Cara to it
    assert "Answer 1 was shared without a name: whoever holds its private code" in room.said_to("Cara")
    await room.cmd("Cara", f"action {code.lower()}")
    [action] = await _actions(db)
    assert action.owner_id is None
    assert "Kept as an action for the group — it will be on the next agenda." in room.said_to("Cara")

    await room.cmd("Ben", "anon I will book a room")
    await room.cmd("Ann", "action 2")  # a co-chair
    assert len(await _actions(db)) == 2


async def test_only_step_6_answers_become_actions(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "reflect Topic")
    await room.reply("Ben", "action: it happened on the ward", to="reflection:1:step:1")
    assert (await _answer(db, "action: it happened on the ward")).step == 1  # kept as written
    await room.cmd("Ben", "action 1")
    assert "Only answers to step 6, the action plan, can become actions." in room.said_to("Ben")
    await room.cmd("Ben", "action 99")
    assert "I couldn't find answer 99" in room.said_to("Ben")
    await room.cmd("Ben", "action")
    assert "Usage: /cop action" in room.said_to("Ben")
    assert await _actions(db) == []


# The meeting's day is Thursday 26 November 2026 (the clock's start).
PHRASES = [
    ("by 2027-02-14", date(2027, 2, 14)),
    ("by 14/02/2027", date(2027, 2, 14)),
    ("by 31/01/2027", date(2027, 1, 31)),
    ("by 1 March", date(2027, 3, 1)),
    ("by 1st March 2027", date(2027, 3, 1)),
    ("by Friday", date(2026, 11, 27)),
    ("by next week", date(2026, 12, 3)),
    ("by next month", date(2026, 12, 26)),
    ("by the end of the month", date(2026, 11, 30)),
]


@pytest.mark.parametrize(("phrase", "due"), PHRASES)
async def test_each_date_phrase_is_read_from_the_meetings_day(db, clock, phrase, due):
    room = Room(db, clock)
    await _at_step_6(room)
    await room.reply("Ben", f"action: send the minutes {phrase}", to="reflection:1:step:6")
    [action] = await _actions(db)
    assert action.due_on == due
    assert "couldn't read" not in room.said_to("Ben")


async def test_dates_are_read_in_the_communitys_time_zone(db, clock):
    room = Room(db, clock)
    await _at_step_6(room)
    await room.cmd("Ann", "schedule settings zone Asia/Tokyo")
    clock.now = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)  # already Friday 27 November in Tokyo
    await room.reply("Ben", "action: send the minutes by Friday", to="reflection:1:step:6")
    [action] = await _actions(db)
    assert action.due_on == date(2026, 12, 4)  # in Dublin it would still be Thursday: the 27th


async def test_an_unreadable_or_past_date_leaves_the_action_without_one_and_says_so(db, clock):
    room = Room(db, clock)
    await _at_step_6(room, "Cara")
    await room.reply("Ben", "action: call the team by someday", to="reflection:1:step:6")
    assert BAD_DATE.format(raw="someday") in room.said_to("Ben")
    await room.reply("Ben", "action: call the GP by 2027-13-45", to="reflection:1:step:6")
    assert BAD_DATE.format(raw="2027-13-45") in room.said_to("Ben")
    await room.reply("Cara", "@Ben will phone the manager by 01/01/2020", to="reflection:1:step:6")
    assert "The date “01/01/2020” has passed; the action is kept without one — a co-chair can add it." in (
        room.said_to("Cara")
    )
    actions = await _actions(db)
    assert len(actions) == 3 and all(a.due_on is None for a in actions)

    # a co-chair adds the date; a member who did not write the answer cannot
    await room.cmd("Cara", "action 1 by Friday")
    assert "Only the member who shared answer 1, or a co-chair" in room.said_to("Cara")
    await room.cmd("Ann", "action 1 by 1 March")
    assert "The action for Ben (answer 1) is now due Monday 1 March 2027." in room.said_to("Ann")
    await room.cmd("Ann", "action 2 by someday")
    assert "I couldn't read the date “someday”, so the action's date is unchanged." in room.said_to("Ann")
    assert [a.due_on for a in await _actions(db)] == [date(2027, 3, 1), None, None]


async def test_the_summary_lists_each_answer_once_and_no_date_twice(db, clock):
    room = Room(db, clock)
    await _at_step_6(room, "Cara")
    plan = {
        "Cara": "@Ben will draft a checklist by 2027-02-14",
        "Ann": "action: ring the recovery college by Friday",
        "Ben": "I will talk to my supervisor",
    }
    for who, text in plan.items():
        await room.reply(who, text, to="reflection:1:step:6")
    await room.press("Ben", "action 3")
    await room.cmd("Ann", "end")
    summary = room.sender.latest("reflection:1:summary").plain_text()
    for text in ("@Ben will draft a checklist by 2027-02-14", "ring the recovery college by Friday"):
        assert summary.count(text) == 1
    assert summary.count("I will talk to my supervisor") == 1
    assert summary.count("2027-02-14") == 1  # not "(by 2027-02-14)" after a text that says it
    assert "Cara: @Ben will draft a checklist by 2027-02-14 — action for Ben (answer 1)" in summary
    assert "Ann: ring the recovery college by Friday — action for Ann, due Friday 27 November 2026" in summary
    assert "Ben: I will talk to my supervisor — action for Ben (answer 3)" in summary
    assert "action:" not in summary
    assert "3 actions agreed; they will be on the next agenda." in summary
    assert summary.count("Action plan") == 1  # step 6 is the action plan: one section


async def test_back_and_stale_buttons(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "reflect Peer work")
    await room.press("Ann", "next 1")
    await room.press("Ben", "next 1")  # a second press on the same button: moves nothing
    assert "already moved on" in room.said_to("Ben")
    await room.press("Ann", "back 2")
    async with db.transaction() as session:
        assert (await session.scalar(select(Reflection))).step == 1
    # a reply to the "back" note counts for step 1
    back_note = [p for p in room.sender.public() if (p.key or "").startswith("reflection:1:step:1:back")][0]
    await room.reply("Ben", "On the ward", to=back_note.key)
    async with db.transaction() as session:
        assert (await session.scalar(select(ReflectionAnswer))).step == 1
    await room.cmd("Ann", "back")
    assert "first step already" in room.said_to("Ann")


async def test_lead_topic_is_the_default_and_a_member_cannot_move_steps(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "reflect")
    assert "Which topic" in room.said_to("Ann")
    await room.cmd("Ann", "reflect Harm reduction")
    await room.cmd("Cara", "next")
    assert "Only a co-chair or today's lead can move the steps on" in room.said_to("Cara")
    await room.cmd("Ann", "reflect Another")
    assert "already running" in room.said_to("Ann")


async def test_same_answer_twice_counts_once(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "reflect Topic")
    await room.reply("Ben", "Card answer", to="reflection:1:step:1", from_form=True)
    await room.reply("Ben", "Card answer", to="reflection:1:step:1", from_form=True)  # submitted twice
    await room.reply("Ben", "Retried", to="reflection:1:step:1", event_id="Ev1")
    await room.reply("Ben", "Retried", to="reflection:1:step:1", event_id="Ev1")
    async with db.transaction() as session:
        texts = list(await session.scalars(select(ReflectionAnswer.text)))
    assert sorted(texts) == ["Card answer", "Retried"]
    echoes = [p for p in room.sender.public() if p.in_thread_of == "reflection:1:step:1"]
    assert len(echoes) == 1 and echoes[0].text == "Ben shared: Card answer"


async def test_anonymous_answer_gets_a_private_code_and_no_author(db, clock):
    """README "Privacy", "Without a name" (the stored row, column by column, is read in
    tests/test_membership_and_privacy.py)."""
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "reflect Topic")
    await room.cmd("Ben", "anon It was hard")
    assert "Only you see this code" in room.said_to("Ben")
    code = room.last_code("Ben")
    await room.cmd("Ben", f"edit {code} It was hard, and I learned")
    async with db.transaction() as session:
        answer = await session.scalar(select(ReflectionAnswer))
    assert answer.member_id is None and answer.text == "It was hard, and I learned"
    assert code not in (answer.edit_code_hash or "")  # only a hash of the code is kept
    assert answer.edit_code_hash == hashlib.sha256(code.encode()).hexdigest()
