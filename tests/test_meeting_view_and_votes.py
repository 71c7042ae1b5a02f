"""Issue 18, what a co-chair tripped over: `/cop meeting` names today's lead topic and marks the
parts done; a support statement typed with the sentence's beginning shows it once; `vote close`
closes the vote (the words open, close, cancel and more are never a topic); taking a vote back
says what was taken back and what is left; the reminder the day before says what the meeting is
about; the support tally's grammar. Through the core (`Room`), the terminal, Slack and Teams."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.commands import help_text
from flows.support_round import tally, without_stem
from storage.models import Ballot, Community
from tests.fakes.slack_api import running_stack
from tests.support.clock import Clock
from tests.support.room import Room
from tests.support.slack_meeting import PEOPLE, press, reply, say, updates_of
from tests.support.teams_channel import TeamsChannel
from tests.support.terminal import run_script

NEXT_MEETING = datetime(2027, 2, 25, 10, 0, tzinfo=UTC)  # a quarter after the clock's first day
PEER_WORK = "Peer Work in the community"  # topic 2 of the guide's list
SPEAK_TRUTH = "Speak Truth to Power: Intersectional Advocacy in Recovery Colleges"  # topic 3


def _line(shown: str, n: int) -> str:
    """Line ``n.`` of a `/cop meeting` post."""
    return next(line.strip(" •") for line in shown.splitlines() if line.strip(" •").startswith(f"{n}. "))


async def _chosen_last_time(room: Room, topic: int) -> None:
    """Ann and Ben co-chair; at the first meeting the group voted for ``topic``."""
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "vote open 1")
    await room.cmd("Cara", f"vote {topic}")
    await room.cmd("Ann", "close vote")


async def _meeting(room: Room, who: str = "Ben") -> str:
    await room.cmd(who, "meeting")
    return room.sender.public()[-1].plain_text()


# -- 1. `/cop meeting`: today's lead topic, the parts done ------------------------------------------


async def test_the_meeting_names_todays_topic_before_and_after_the_vote_and_marks_each_part_done(db, clock):
    room = Room(db, clock)
    await _chosen_last_time(room, 2)
    clock.now = NEXT_MEETING
    shown = await _meeting(room)
    assert f"2. Reflective practice on the lead topic: {PEER_WORK}, in Gibbs' six steps" in shown
    assert "done" not in shown  # the first meeting's vote is not today's

    await room.cmd("Ann", "support")
    await room.reply("Cara", "asking for help", to="support:1")
    shown = await _meeting(room)
    assert _line(shown, 1).endswith("— open now")
    await room.cmd("Ann", "close support")
    await room.cmd("Ann", "reflect")  # on the lead topic
    shown = await _meeting(room)
    assert _line(shown, 1).endswith("(`/cop support`) — done")
    assert _line(shown, 2).endswith("— now at step 1 of 6")
    for _ in range(5):
        await room.cmd("Ann", "next")
    await room.cmd("Ann", "end")

    await room.cmd("Ann", "vote open 1")
    shown = await _meeting(room)
    assert _line(shown, 2).endswith("(`/cop reflect`) — done")
    assert _line(shown, 3).endswith("— the vote is open")
    await room.cmd("Cara", "vote 2")  # "Speak Truth to Power" is number 2 now: Peer Work was chosen
    await room.cmd("Ben", "vote close")
    shown = await _meeting(room)
    assert PEER_WORK in _line(shown, 2), shown  # today's topic, not the one just chosen for next time
    assert SPEAK_TRUTH not in _line(shown, 2)
    assert _line(shown, 1).endswith("— done") and _line(shown, 2).endswith("— done")
    assert _line(shown, 3).endswith(f"— done: our next lead topic is {SPEAK_TRUTH}")
    assert "open now" not in shown and "now at step" not in shown


async def _met_once(room: Room, clock: Clock) -> None:
    """Ann and Ben co-chair, and met once (nothing was chosen); the clock is at the next meeting."""
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "here")
    clock.now = NEXT_MEETING


async def test_after_a_reflection_with_no_vote_the_topic_is_the_reflections(db, clock):
    room = Room(db, clock)
    await _met_once(room, clock)
    assert "lead topic: to be chosen" in await _meeting(room)  # nothing chosen, nothing held: honest
    await room.cmd("Ann", "reflect Boundaries at work")
    shown = await _meeting(room)
    assert "Reflective practice on the lead topic: Boundaries at work" in shown
    assert _line(shown, 2).endswith("— now at step 1 of 6")
    await room.cmd("Ann", "end")
    shown = await _meeting(room)
    assert "Reflective practice on the lead topic: Boundaries at work" in shown and "to be chosen" not in shown
    assert _line(shown, 2).endswith("— done")
    assert not _line(shown, 1).endswith("done") and not _line(shown, 3).endswith("done")  # not held today


async def test_a_vote_nobody_voted_in_or_cancelled_is_said_as_such(db, clock):
    room = Room(db, clock)
    await _met_once(room, clock)
    await room.cmd("Ann", "vote open")
    await room.cmd("Ann", "vote cancel")
    assert _line(await _meeting(room), 3).endswith("— the vote was cancelled: nothing was decided")
    await room.cmd("Ann", "vote open")
    await room.cmd("Ann", "vote close")
    assert _line(await _meeting(room), 3).endswith("— done: nobody voted, so no new lead topic was chosen")


async def test_the_meeting_through_the_terminal(tmp_path):
    script = (
        "/clock 2026-11-26 10:00\n/as Ann\n/cop join\n/as Ben\n/cop join\n"
        "/as Ann\n/cop vote open 1\n/as Ben\n/cop vote 2\n/as Ann\n/cop vote close\n"
        "/clock 2027-02-25 10:00\n/cop support\nI will support myself today by: asking for help\n"
        "/cop close support\n/cop reflect\n" + "/cop next\n" * 5 + "/cop end\n"
        "/cop vote open 1\n/as Ben\n/cop vote 2\n/as Ann\n/cop vote close\n/cop meeting\n"
    )
    screen = await run_script(script, tmp_path, community="North West")
    meeting = screen[screen.rindex("Our meeting, in order") :]
    assert f"2. Reflective practice on the lead topic: {PEER_WORK}, in Gibbs' six steps (`/cop reflect`) — done" in (
        meeting
    )
    assert "(`/cop support`) — done" in meeting
    assert f"— done: our next lead topic is {SPEAK_TRUTH}" in meeting
    assert "Ann: asking for help" in screen and "by: asking" not in screen  # point 6, typed in the terminal
    assert "Traceback" not in screen


# -- 6. a statement typed with the sentence's beginning ---------------------------------------------


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("I will support myself today by asking for help", "asking for help"),
        ("I will support myself today by: taking standing breaks", "taking standing breaks"),
        ("i'll support myself today by…being open to learning", "being open to learning"),
        ("I’ll support myself today by ... resting", "resting"),
        ("I will support myself by going for a walk", "going for a walk"),
        ("I WILL SUPPORT MYSELF TODAY BY Listening", "Listening"),
        ("I will support myself today: a walk at lunch", "a walk at lunch"),
        ("“I will support myself today by asking for help”", "asking for help"),
        ("asking for help", "asking for help"),
        ("I will support myself today by", "I will support myself today by"),  # only the stem: kept
        ("I'll support myself today by …", "I'll support myself today by …"),
        ("I will support myself today with a walk", "I will support myself today with a walk"),  # no "by"
        ("I will support myself today byebye", "I will support myself today byebye"),
    ],
)
def test_a_leading_stem_is_taken_off_and_the_rest_kept(typed, shown):
    assert without_stem(typed) == shown


async def test_the_closing_list_shows_the_stem_once(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "support")
    await room.reply("Ben", "I will support myself today by asking for help", to="support:1")
    await room.reply("Cara", "i'll support myself today by: taking breaks", to="support:1", anonymous=True)
    await room.reply("Ann", "I will support myself today by", to="support:1")
    await room.cmd("Ann", "close support")
    closing = room.sender.latest("support:1:closing").plain_text()
    assert "Ben: asking for help" in closing
    assert "Shared without a name: taking breaks" in closing
    assert "Ann: I will support myself today by" in closing  # only the stem: kept as typed
    assert closing.count("support myself") == 2  # the heading, and Ann's


# -- 7. `vote close` is `close vote` -----------------------------------------------------------------


async def test_vote_close_closes_the_vote_and_is_never_a_topic(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", "Dev", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "chairs set @Ben @Cara 12")  # Ann is a former co-chair now
    await room.cmd("Dev", "propose Closeness and distance in peer work")
    await room.cmd("Dev", "propose close")
    assert "“close” is also a command" in room.said_to("Dev")
    await room.cmd("Ben", "vote open 1")
    await room.cmd("Dev", "vote 19")
    await room.cmd("Ann", "vote close")
    said = room.said_to("Ann")
    assert "Only a co-chair or today's lead can close the vote" in said and "`/cop chairs`" in said
    assert "couldn't find topic" not in said
    for typed in ("vote CLOSE", "vote close.", "vote #close"):
        await room.cmd("Dev", typed)
    assert room.said_to("Dev").count("Only a co-chair or today's lead can close the vote") == 3
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Ballot)) == 1  # Dev's, no other
    await room.cmd("Ben", "vote close")  # a co-chair: "Closeness …" is not voted for, the vote closes
    assert "Our next lead topic: Closeness and distance in peer work" in room.sender.latest("vote:1:result").text
    assert "Counted" not in room.said_to("Ben")
    async with db.transaction() as session:
        assert (await session.scalar(select(Community))).next_topic == "Closeness and distance in peer work"
    await room.cmd("Ben", "vote close")
    assert "No vote is open" in room.said_to("Ben")
    assert "vote close" in help_text("vote") and "`vote close` is `close vote`" in help_text("vote")


async def test_vote_close_with_a_number_settles_a_tie(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "vote open 1")
    await room.cmd("Ann", "vote 5")
    await room.cmd("Ben", "vote 7")
    await room.cmd("Ann", "vote close")
    assert "tie" in room.sender.latest("vote:1:tie").text
    await room.cmd("Ben", "vote close 7")
    assert "Our next lead topic: Navigating Ethics and Boundaries" in room.sender.latest("vote:1:result").text


# -- 11. taking a vote back; the reminder the day before; the tally ----------------------------------


async def test_taking_a_vote_back_says_what_was_taken_back_and_what_is_left(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "vote open")  # three votes each
    await room.cmd("Cara", "vote 3")
    assert f"Counted: your vote for 3. {SPEAK_TRUTH}." in room.said_to("Cara")
    assert f"Your votes (1 of 3): 3. {SPEAK_TRUTH} — 2 votes left." in room.said_to("Cara")
    await room.cmd("Cara", "vote 3")  # her only vote, taken back
    said = room.said_to("Cara")
    assert f"Taken back: your vote for 3. {SPEAK_TRUTH}." in said
    assert "You have no votes on any topic now: all 3 are yours to use." in said
    assert "You have not voted yet" not in said
    for n in (1, 2, 3):
        await room.cmd("Cara", f"vote {n}")
    assert "— all used: choose one of them again to take that vote back." in room.said_to("Cara")
    await room.cmd("Cara", "vote 1")
    assert room.said_to("Cara").endswith(f"3. {SPEAK_TRUTH} — 1 vote left.")


async def test_a_single_vote_taken_back(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "vote open 1")
    await room.cmd("Cara", "vote")
    assert "You have not voted yet: you have one vote." in room.said_to("Cara")
    await room.cmd("Cara", "vote 2")
    await room.cmd("Cara", "vote")
    assert f"Your vote: 2. {PEER_WORK}. Choose it again to take it back." in room.said_to("Cara")
    await room.cmd("Cara", "vote 2")
    said = room.said_to("Cara")
    assert f"Taken back: your vote for 2. {PEER_WORK}.\nYou have no vote on any topic now" in said


async def test_the_reminder_the_day_before_says_what_we_meet_about(db, clock):
    room = Room(db, clock)
    await _chosen_last_time(room, 2)
    await room.cmd("Ann", "lead")
    await room.cmd("Cara", "lead volunteer")
    await room.cmd("Ann", "lead confirm")
    await room.cmd("Ann", "schedule quarterly 3rd Wednesday of Mar Jun Sep Dec 10:30")
    await room.cmd("Ann", "schedule link https://meet.example.org/north-west")
    posted = await room.at(datetime(2026, 12, 15, 10, 30, tzinfo=UTC))
    (eve,) = [text for text in posted if text.startswith("Reminder: we meet tomorrow")]
    assert f"We'll reflect on our lead topic: {PEER_WORK}, led by Cara." in eve
    assert "Join: https://meet.example.org/north-west" in eve
    assert "passing" not in eve and "Share if you'd like" not in eve


async def test_the_reminder_without_a_topic_through_the_terminal(tmp_path):
    script = (
        "/clock 2026-11-26 10:00\n/as Ann\n/cop schedule quarterly 3rd Wednesday of Mar Jun Sep Dec 10:30\n"
        "/clock 2026-12-15 10:30\n"
    )
    screen = await run_script(script, tmp_path, community="North West")
    (eve,) = [line for line in screen.splitlines() if "Reminder: we meet tomorrow" in line]
    assert "Reminder: we meet tomorrow, Wednesday 16 December 2026 at 10:30" in eve
    assert "passing is always fine" not in eve and "lead topic" not in eve


@pytest.mark.parametrize(
    ("shared", "here", "said"),
    [
        (0, 1, "0 of 1 here have shared so far."),
        (1, 1, "1 of 1 here has shared so far."),
        (1, 3, "1 of the 3 here has shared so far."),
        (2, 3, "2 of the 3 here have shared so far."),
    ],
)
def test_the_tally_reads_right(shared, here, said):
    assert tally(shared, here) == said


async def test_the_tally_with_one_here_reads_right(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "support")
    await room.reply("Ann", "asking for help", to="support:1")
    assert "1 of 1 here has shared so far." in room.sender.latest("support:1").text
    await room.cmd("Ben", "here")
    await room.reply("Ben", "taking breaks", to="support:1")
    assert "2 of the 2 here have shared so far." in room.sender.latest("support:1").text


# -- the same in Slack and in Teams -----------------------------------------------------------------


async def test_slack_stem_tally_vote_close_and_taking_a_vote_back(sqlite_db, clock):
    async with running_stack(sqlite_db, clock, PEOPLE) as stack:
        slack = stack.slack
        await say(stack, "U1", "setup North West")
        for user in ("U2", "U3"):
            await say(stack, user, "join")
        await say(stack, "U1", "chairs set <@U1|ann> <@U2|ben> 12")
        await say(stack, "U1", "support")
        prompt = slack.find_post("I will support myself today by")
        await reply(stack, "U3", "I'll support myself today by: asking for help", slack.ts_of(prompt))
        assert "1 of the 2 here has shared so far." in updates_of(stack, prompt)[-1].text
        await say(stack, "U1", "close support")
        closing = slack.find_post("Our support statements for today")
        assert "Cara: asking for help" in closing.text and "by: asking" not in closing.text

        await say(stack, "U1", "vote open")
        ballot = slack.find_post("what should our next session's lead topic be?")
        await press(stack, "U3", ballot, "vote 2")
        clock.advance(seconds=5)  # a second press, not a double click
        await press(stack, "U3", ballot, "vote 2")
        taken_back = slack.ephemerals("U3")[-1].text
        assert f"Taken back: your vote for 2. {PEER_WORK}." in taken_back
        assert "all 3 are yours to use" in taken_back and "not voted yet" not in taken_back
        await press(stack, "U3", ballot, "vote 4")
        await say(stack, "U3", "vote close")
        assert "Only a co-chair or today's lead can close the vote" in slack.ephemerals("U3")[-1].text
        await say(stack, "U2", "vote close")
        assert "Our next lead topic: Exploring Peer Run Respites" in slack.find_post("The vote is closed.").text
        await say(stack, "U3", "meeting")
        shown = slack.posts()[-1].text
        assert "— done: our next lead topic is Exploring Peer Run Respites" in shown
        assert "(topic: to be chosen" in shown  # the first meeting: its topic was never chosen


async def test_teams_stem_vote_close_and_taking_a_vote_back(channel: TeamsChannel, clock):
    await channel.say("Ann", "@copbot setup North West")
    for who in ("Ben", "Cara"):
        await channel.say(who, "@copbot join")
    await channel.say("Ann", "@copbot chairs set @Ann @Ben 12")
    await channel.say("Ann", "@copbot support")
    support = channel.latest_card("I will support myself today")
    await channel.press(
        "Cara", support, "Share", answer="I will support myself today by asking for help", anonymous="false"
    )
    assert "1 of the 2 here has shared so far." in channel.latest_card("I will support myself today").card_text
    await channel.say("Ann", "@copbot close support")
    closing = channel.latest_card("Our support statements for today").card_text
    assert "Cara: asking for help" in closing and closing.count("support myself") == 1

    await channel.say("Ann", "@copbot vote open")
    vote = channel.latest_card("what should our next session")
    topic = vote.buttons()[1]["title"]
    await channel.press("Cara", vote, topic)
    clock.advance(seconds=5)  # a second press, not a double click
    await channel.press("Cara", channel.latest_card("what should our next session"), topic)
    said = channel.private_to("Cara")
    assert "Taken back: your vote for 2. Peer Work in the community." in said
    assert "not voted yet" not in said
    await channel.say("Cara", "@copbot vote close")
    assert "Only a co-chair or today's lead can close the vote" in channel.private_to("Cara")
    await channel.say("Ben", "@copbot vote close")
    assert channel.cards_with("The vote is closed")
