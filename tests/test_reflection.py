"""Reflection (Gibbs) on its own: steps as data, late answers, actions, summary, permissions."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from flows import gibbs
from storage.models import ActionItem, Reflection, ReflectionAnswer
from tests.room import Room


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
        "Ben", "we share resources by next friday", to="reflection:1:step:6", anonymous=True, from_form=True
    )
    await room.cmd("Ann", "next")
    assert "last step" in room.said_to("Ann")
    await room.cmd("Ann", "end")

    summary = room.sender.latest("reflection:1:summary").plain_text()
    for spec in gibbs.STEPS:
        assert spec.question in summary
    assert "Cara: A client asked about my own story" in summary
    assert "Ben: I felt unsure at first" in summary
    assert "3 actions agreed; they will be on the next agenda." in summary
    assert "Ben: @Ben will draft a checklist by 2027-02-14 (by 2027-02-14)" in summary
    assert "Ann: I will talk to my supervisor" in summary
    assert "the group: we share resources by next friday" in summary

    async with db.transaction() as session:
        rows = list(await session.scalars(select(ReflectionAnswer).order_by(ReflectionAnswer.id)))
        assert [(r.step, r.text[:9]) for r in rows][:2] == [(1, "A client "), (2, "I felt un")]
        actions = list(await session.scalars(select(ActionItem).order_by(ActionItem.id)))
        assert actions[0].due_on == date(2027, 2, 14)
        assert actions[2].owner_id is None  # shared without a name: owned by the group
        assert (await session.scalar(select(Reflection))).status == "ended"


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
    assert "Only a co-chair or today's lead can move the reflection on" in room.said_to("Cara")
    await room.cmd("Ann", "reflect Another")
    assert "already running" in room.said_to("Ann")


async def test_bad_due_date_keeps_the_action_without_a_date(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "reflect Topic")
    for _ in range(5):
        await room.cmd("Ann", "next")
    await room.reply("Ben", "I will call the team by 2027-13-45", to="reflection:1:step:6")
    assert "couldn't read the date" in room.said_to("Ben")
    async with db.transaction() as session:
        action = await session.scalar(select(ActionItem))
        assert action is not None and action.due_on is None


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
