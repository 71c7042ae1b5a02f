"""Issue 19, point 2 (and the buttons of point 1's private reminder): an action's owner is
reminded privately two working days before its date and on the day, each once (across two
workers too), again for a new date, never for a closed action or a member who left; the
co-chairs get the overdue actions once a week. Through the terminal, the fake Slack API (a
direct message whose Done button acts in the community's channel) and the fake Bot Connector."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlencode

from sqlalchemy import select, update

from adapters.teams import endpoint_of
from bot.vocabulary.conversation import Button, Post, post_from_json, post_to_json
from bot.vocabulary.moments import stored_utc
from flows import action_reminders
from flows.action_reminders import digest_day, reminder_days
from storage.due import LOOK_NOW
from storage.models import ActionItem, ActionReminder, MeetingSchedule, OutboxPost
from tests.fakes.slack_api import SECRET, SlackRequests, running_stack
from tests.support.interleave import hold_first_call
from tests.support.room import Room
from tests.support.room import workers as two_workers
from tests.support.slack_meeting import PEOPLE, say
from tests.support.teams_channel import TeamsChannel
from tests.support.terminal import run_script
from tests.support.waiting import WAIT_SECONDS

# Ann sets the community up (its provisional co-chair). Action 1 is Ben's, due Wednesday
# 3 February 2027: two working days before it is Friday 29 January (Monday 1 February is St
# Brigid's Day, a public holiday in Ireland). Action 2 is done; action 3 is Cara's, who leaves;
# action 4 was Dev's, who used forget-me (it is the group's now).
SCRIPT = """/clock 2026-11-26 10:00
/as Ann
/cop actions
/as Ben
/cop join
/as Cara
/cop join
/as Ann
/cop actions add Share the forum notes @Ben by 3 February 2027
/cop actions add Book the room for March by 3 February 2027
/cop actions add Ask about the training budget @Cara by 3 February 2027
/cop actions done 2
/as Cara
/cop leave
/as Dev
/cop join
/as Ann
/cop actions add Map the local peer groups @Dev by 3 February 2027
/as Dev
/cop forget-me
/cop forget-me confirm
/as Ann
/clock 2027-01-28 09:00
/clock 2027-01-29 09:05
/clock 2027-02-01 09:00
/clock 2027-02-03 09:00
/cop actions due 1 10 February 2027
/clock 2027-02-08 09:00
/clock 2027-02-10 09:00
/clock 2027-02-15 09:00
/clock 2027-02-15 12:00
/cop actions add Write up the peer forum @Ben by 19 February 2027
/clock 2027-02-22 09:30
"""
REMINDER = "A reminder: your action"


def _at(screen: str, moment: str) -> str:
    """What appeared after ``/clock <moment>`` and before the next `/clock`."""
    after = screen.split(f"(it is now {moment} UTC here)", 1)[1]
    return after.split("(it is now ", 1)[0]


async def test_terminal_an_owner_is_reminded_before_and_on_the_day_and_the_co_chairs_weekly(tmp_path):
    screen = await run_script(SCRIPT, tmp_path, "North West")
    assert "Traceback" not in screen
    assert REMINDER not in _at(screen, "2027-01-28 09:00")
    before = _at(screen, "2027-01-29 09:05")  # over the weekend and St Brigid's Day
    assert (
        "(only ben sees this):\n  A reminder: your action 1, “Share the forum notes @Ben by 3 February 2027”, "
        "is due on Wednesday 3 February (in two working days)." in before
    )
    assert "[Done → /cop actions done 1]  [Drop → /cop actions drop 1]" in before
    assert before.count(REMINDER) == 1  # action 2 is closed, action 3's owner left, action 4's forgot
    assert REMINDER not in _at(screen, "2027-02-01 09:00")
    assert "past their due date" not in _at(screen, "2027-02-01 09:00")  # nothing overdue yet
    on_the_day = _at(screen, "2027-02-03 09:00")
    assert "(only ben sees this):\n  A reminder: your action 1" in on_the_day
    assert "is due today, Wednesday 3 February." in on_the_day and on_the_day.count(REMINDER) == 1
    assert "Action 1 is now due Wed 10 Feb 2027." in on_the_day
    assert "is due on Wednesday 10 February (in two working days)." in _at(screen, "2027-02-08 09:00")
    # Monday: Cara left and Dev forgot, their actions are still open and late: the co-chairs
    # hear of them (only they).
    digest = _at(screen, "2027-02-08 09:00")
    assert "(only ann sees this):\n  2 open actions in North West are past their due date." in digest
    assert "3. Ask about the training budget @Cara by 3 February 2027 — Cara, due Wed 3 Feb 2027" in digest
    assert "4. Map the local peer groups @Dev by 3 February 2027 — the group, due Wed 3 Feb 2027" in digest
    assert "Share the forum notes" not in digest.split("past their due date", 2)[2]  # re-dated: not late
    assert "is due today, Wednesday 10 February." in _at(screen, "2027-02-10 09:00")
    digest = _at(screen, "2027-02-15 09:00")
    assert "(only ann sees this):\n  3 open actions in North West are past their due date." in digest
    assert "1. Share the forum notes @Ben by 3 February 2027 — Ben, due Wed 10 Feb 2027" in digest
    assert "(only ben sees this)" not in digest  # to the co-chairs only
    assert "past their due date" not in _at(screen, "2027-02-15 12:00")  # once a week
    # copbot was "down" for a week: action 5's reminders (17 and 19 February) are not sent late,
    # but this Monday's digest lists it with the others.
    week_later = _at(screen, "2027-02-22 09:30")
    assert REMINDER not in week_later
    assert "4 open actions in North West are past their due date" in week_later
    assert "5. Write up the peer forum @Ben by 19 February 2027 — Ben, due Fri 19 Feb 2027" in week_later
    assert "(only cara sees this):\n  A reminder" not in screen
    assert screen.count(REMINDER) == 4 and screen.count("Open actions past their due date") == 3


def test_the_days_reminders_and_the_digest_go_out():
    off = [date(2027, 2, 2)]  # a day off of the community
    assert reminder_days(date(2027, 2, 3), "IE", ()) == [("before", date(2027, 1, 29)), ("due", date(2027, 2, 3))]
    assert reminder_days(date(2027, 2, 3), "IE", off) == [("before", date(2027, 1, 28)), ("due", date(2027, 2, 3))]
    # due on a Sunday: on the Friday before, and two working days before it
    assert reminder_days(date(2027, 2, 14), "IE", ()) == [("before", date(2027, 2, 11)), ("due", date(2027, 2, 12))]
    assert reminder_days(date(2027, 3, 18), "IE", ()) == [("before", date(2027, 3, 15)), ("due", date(2027, 3, 18))]
    assert digest_day(date(2027, 2, 1), "IE", ()) == date(2027, 2, 2)  # St Brigid's Day: on the Tuesday
    assert digest_day(date(2027, 2, 8), "IE", ()) == date(2027, 2, 8)
    week = [date(2027, 2, 8 + n) for n in range(5)]
    assert digest_day(date(2027, 2, 8), "IE", week) is None


def test_a_direct_post_round_trips_through_the_outbox_and_needs_a_reader():
    post = Post("A reminder", buttons=(Button("Done", "actions done 3"),), private_to="U2", direct=True)
    assert post_from_json(post_to_json(post)) == post
    assert post_from_json(post_to_json(Post("hi"))).direct is False
    try:
        Post("A reminder", direct=True)
    except ValueError:
        pass
    else:
        raise AssertionError("a direct post without a reader was accepted")


async def _reminder_rows(db) -> tuple[list[tuple[str, date]], list[str | None]]:  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        rows = [tuple(r) for r in (await session.execute(select(ActionReminder.kind, ActionReminder.due_on))).all()]
        keys = list(await session.scalars(select(OutboxPost.key).where(OutboxPost.key.like("action:%"))))
    return rows, keys  # type: ignore[return-value]


async def test_two_workers_at_the_same_moment_remind_once(db, clock, monkeypatch):
    """Worker A claims the reminder and is held inside its transaction; worker B ticks at the
    same moment (PostgreSQL: the schedule row is locked, B skips it; SQLite: B waits for A's
    write lock). A commits. Then the community is marked "look now" again (as any change
    would) and B looks: the claim row, not luck, keeps it from reminding twice."""
    room = Room(db, clock)
    await room.setup("Ann", "Ben")
    await room.cmd("Ann", "actions add Share the forum notes @Ben by 3 February 2027")
    clock.now = datetime(2027, 1, 29, 9, 0, tzinfo=UTC)
    a_holds, a_goes_on = hold_first_call(monkeypatch, action_reminders.store, "claim_reminder")
    a, b = two_workers(db, clock)
    try:
        first = asyncio.create_task(a.announce_due())
        await asyncio.wait_for(a_holds.wait(), WAIT_SECONDS)
        second = asyncio.create_task(b.announce_due())
        if not db.is_sqlite:  # PostgreSQL: B skips the locked community without waiting
            assert await asyncio.wait_for(second, WAIT_SECONDS) == 0
        a_goes_on.set()
        assert await asyncio.wait_for(first, WAIT_SECONDS) == 1
        assert await asyncio.wait_for(second, WAIT_SECONDS) == 0
        async with db.transaction() as session:
            await session.execute(update(MeetingSchedule).values(next_due_at=LOOK_NOW))
        assert await b.announce_due() == 0
    finally:
        a_goes_on.set()
        for worker in (a, b):
            await worker.db.dispose()
    rows, keys = await _reminder_rows(db)
    assert rows == [("before", date(2027, 2, 3))]
    assert keys == ["action:1:before:2027-02-03"]


async def test_slack_the_reminder_is_a_direct_message_whose_done_acts_in_the_channel(sqlite_db, clock):
    async with running_stack(sqlite_db, clock, PEOPLE) as stack:
        await say(stack, "U1", "setup North West")
        await say(stack, "U2", "join")
        await say(stack, "U3", "join")
        await say(stack, "U1", "actions add Share the forum notes <@U2> by 3 February 2027")
        clock.now = datetime(2027, 1, 29, 9, 0, tzinfo=UTC)
        await stack.runtime.announce_due()
        await stack.settle()
        (dm,) = [call for call in stack.slack.calls_to("chat.postMessage") if call.params["channel"] == "U2"]
        assert "A reminder: your action 1" in dm.text and "in two working days" in dm.text
        assert [b["value"] for b in dm.buttons()] == ["in:C1 actions done 1", "in:C1 actions drop 1"]
        assert not [c for c in stack.slack.ephemerals("U2") if "A reminder" in c.text]
        done = next(b for b in dm.buttons() if b["value"].endswith("done 1"))

        in_dm = SlackRequests(stack.client, SECRET, channel="D0ABCDEF12")

        async def press(user: str, value: str) -> None:
            body = parse_qs(in_dm.action_body(user, stack.slack.ts_of(dm), {**done, "value": value}))
            payload = json.loads(body["payload"][0])
            payload["channel"]["name"] = "directmessage"  # what Slack sends for a press in a DM
            payload["container"]["is_ephemeral"] = False
            raw = urlencode({"payload": json.dumps(payload)})
            assert (await in_dm.send(raw, "application/x-www-form-urlencoded")).status == 200
            await stack.settle()

        await press("U3", "in:C1 actions done 1")  # Cara is neither the owner nor a co-chair
        await press("U2", "in:C999 actions done 1")  # another channel, not the community's
        assert await _status(sqlite_db) == "open"
        # pressed in a direct message: the answer comes back there, not as a passing message in C1
        assert any("Only Ben, a co-chair or today's lead" in c.text for c in _direct(stack, "U3"))
        await press("U2", done["value"])
        assert await _status(sqlite_db) == "done"
        assert [c.text for c in _direct(stack, "U2") if "Action 1 is done — thank you, Ben" in c.text]
        assert not [c for c in stack.slack.ephemerals() if "Action 1 is done" in c.text]


def _direct(stack, user: str) -> list:  # type: ignore[no-untyped-def]
    return [call for call in stack.slack.calls_to("chat.postMessage") if call.params["channel"] == user]


async def _status(db) -> str:  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        return str(await session.scalar(select(ActionItem.status).where(ActionItem.number == 1)))


async def test_teams_the_reminder_reaches_the_owners_one_to_one_chat(channel: TeamsChannel, clock):
    await channel.say("Ann", "@copbot setup North West")
    await channel.say("Ben", "@copbot join")
    await channel.say("Ann", "@copbot actions add Share the forum notes @Ben by 3 February 2027")
    runtime = endpoint_of(channel.client.app).runtime
    clock.now = datetime(2027, 2, 3, 9, 0, tzinfo=UTC)
    await runtime.announce_due()
    await channel.idle()
    told = channel.private_to("Ben")
    assert "A reminder: your action 1" in told and "is due today, Wednesday 3 February." in told
    assert "@copbot actions done 1" in told and "@copbot actions drop 1" in told
    assert "A reminder" not in channel.private_to("Ann")
    assert not [call for call in channel.public() if "A reminder" in call.card_text]


def test_a_carried_channel_counts_only_for_a_press_in_a_direct_message():
    from adapters.slack.translate import choice_event

    def body(channel: str, value: str) -> dict:
        return {
            "type": "block_actions",
            "user": {"id": "U2", "team_id": "T1"},
            "team": {"id": "T1"},
            "channel": {"id": channel},
            "actions": [{"action_id": "cop:0", "value": value, "action_ts": "1.2"}],
        }

    in_dm = choice_event(body("D0ABCDEF12", "in:C0123ABCD actions done 3"))
    assert (in_dm.place.channel_id, in_dm.command) == ("C0123ABCD", "actions done 3")
    in_channel = choice_event(body("C0999", "in:C0123ABCD actions done 3"))
    assert (in_channel.place.channel_id, in_channel.command) == ("C0999", "actions done 3")
    odd = choice_event(body("D0ABCDEF12", "in:x;DROP actions done 3"))  # not a channel id: not honoured
    assert (odd.place.channel_id, odd.command) == ("D0ABCDEF12", "in:x;DROP actions done 3")


async def _next_due(db) -> datetime | None:  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        found = await session.scalar(select(MeetingSchedule.next_due_at))
    return stored_utc(found) if found else None


async def test_a_dated_action_marks_its_community_look_now_and_the_next_look_waits_for_its_reminder(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "reflect Boundaries at work")
    for _ in range(5):
        await room.cmd("Ann", "next")
    await room.cmd("Ann", "schedule")  # the community's schedule row (made the first time it is read)
    await room.runtime.announce_due()
    looked = await _next_due(db)
    assert looked is not None and looked != LOOK_NOW  # the co-chairs' term review
    await room.reply("Ben", "action: send the minutes", to="reflection:1:step:6")
    assert await _next_due(db) == looked  # no date, nothing to remind: the meeting's path stays as it was
    await room.reply("Ben", "action: ring the recovery college by 3 February 2027", to="reflection:1:step:6")
    assert await _next_due(db) == LOOK_NOW  # a dated step-6 action (kept with one conflict-safe insert)
    await room.runtime.announce_due()
    assert await _next_due(db) == datetime(2027, 1, 29, 9, 0, tzinfo=UTC)  # its first reminder
    await room.cmd("Ben", "actions due 2 10 February 2027")
    assert await _next_due(db) == LOOK_NOW
    await room.runtime.announce_due()
    assert await _next_due(db) == datetime(2027, 2, 8, 9, 0, tzinfo=UTC)
    await room.cmd("Ben", "actions done 2")
    await room.runtime.announce_due()
    assert await _next_due(db) == looked  # closed: no reminder left to wait for


async def test_slack_a_direct_message_refused_goes_ephemeral_in_the_channel(sqlite_db, clock):
    async with running_stack(sqlite_db, clock, PEOPLE) as stack:
        await say(stack, "U1", "setup North West")
        await say(stack, "U2", "join")
        await say(stack, "U1", "actions add Share the forum notes <@U2> by 3 February 2027")
        clock.now = datetime(2027, 2, 3, 9, 0, tzinfo=UTC)
        stack.slack.fail_next(status=200, error="messages_tab_disabled", method="chat.postMessage")
        await stack.runtime.announce_due()
        await stack.settle()
        assert len(_direct(stack, "U2")) == 1  # tried once (Slack said no), not retried
        (told,) = [c for c in stack.slack.ephemerals("U2") if "A reminder: your action 1" in c.text]
        assert told.params["channel"] == "C1"
        assert [b["value"] for b in told.buttons()] == ["actions done 1", "actions drop 1"]
