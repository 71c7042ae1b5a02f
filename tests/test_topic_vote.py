"""The topic vote on its own: guide topics, proposals, budget, toggling, hidden results, ties,
the compact card and "More topics", a vote closed with nobody voting, a vote cancelled."""

from __future__ import annotations

import io

from sqlalchemy import select

from bot.shell.chat import run_console
from flows.topic_vote import GUIDE_TOPICS
from storage.models import Ballot, Community, TopicVote
from tests.fakes.slack_api import running_stack
from tests.support.room import Room, uid
from tests.support.slack_meeting import press, say, updates_of
from tests.support.terminal import Lines


async def test_dot_vote_hidden_until_close_with_counts_and_winner(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
    await room.cmd("Cara", "vote")
    assert "Only a co-chair can open the vote" in room.said_to("Cara")
    await room.cmd("Ann", "vote")
    ballot = room.sender.latest("vote:1")
    assert len(GUIDE_TOPICS) == 18  # the guide's list, the duplicate removed
    assert [b.command for b in ballot.buttons][:3] == ["vote 1", "vote 2", "vote 3"]

    await room.cmd("Cara", "propose Supervision for peers")  # proposals join an open vote
    assert any(b.label == "19. Supervision for peers" for b in room.sender.latest("vote:1").buttons)
    await room.cmd("Cara", "vote 19")
    await room.cmd("Cara", "vote Peer Work in the community")  # by title
    await room.cmd("Cara", "vote 3")
    await room.cmd("Cara", "vote 4")
    assert "used all 3" in room.said_to("Cara")
    await room.cmd("Cara", "vote 3")  # choosing again takes the vote back
    await room.cmd("Ben", "vote 19")
    await room.press("Ben", "vote 2")
    await room.press("Ben", "vote 2")  # a double click counts once
    await room.cmd("Ann", "vote 19")
    post = room.sender.latest("vote:1").plain_text()
    assert "3 members have voted" in post
    assert "— 3 votes" not in post  # hidden until closed

    await room.cmd("Ann", "close")
    card = room.sender.latest("vote:1")
    assert "The vote is closed. Our next lead topic: Supervision for peers" in card.text
    assert "3 members voted." in card.text and "so far" not in card.text  # the result, not a count
    assert card.buttons == ()
    result = room.sender.latest("vote:1:result").plain_text()
    assert "Our next lead topic: Supervision for peers" in result
    assert "19. Supervision for peers — 3 votes" in result
    assert "2. Peer Work in the community — 2 votes" in result
    async with db.transaction() as session:
        assert (await session.scalar(select(Community))).next_topic == "Supervision for peers"
        active = list(await session.scalars(select(Ballot).where(Ballot.active.is_(True))))
        assert len(active) == 5


async def test_tie_is_announced_and_the_chair_picks(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "vote open 1")
    assert "You have one vote" in room.sender.latest("vote:1").text
    await room.cmd("Ann", "vote 5")
    await room.cmd("Ben", "vote 7")
    await room.cmd("Ann", "close vote")
    tie = room.sender.latest("vote:1:tie")
    assert "tie" in tie.text and [b.command for b in tie.buttons] == ["close 5", "close 7"]
    await room.cmd("Ben", "vote 5")
    assert "No vote is open" in room.said_to("Ben")  # voting has ended while the chair picks
    await room.cmd("Ann", "close 3")
    assert "pick one of the tied topics: 5, 7" in room.said_to("Ann")
    await room.press("Ben", "close 7")
    assert "Our next lead topic: Navigating Ethics and Boundaries" in room.sender.latest("vote:1:result").text
    settled = room.sender.latest("vote:1:tie")
    assert "The tie was settled" in settled.text and settled.buttons == ()  # no Pick buttons left
    card = room.sender.latest("vote:1").text
    assert "Our next lead topic: Navigating Ethics" in card and "so far" not in card
    # the chosen topic is not a candidate next time
    await room.cmd("Ann", "vote")
    await room.cmd("Ben", "vote more")
    listed = room.sender.private(uid("Ben"))[-1].plain_text()
    assert "Navigating Ethics" not in listed and "7. Community Conversation: Supporting People" in listed


async def test_bad_votes_get_friendly_answers(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ben", "vote 3")
    assert "No vote is open" in room.said_to("Ben")
    await room.cmd("Ann", "vote")
    await room.cmd("Ben", "vote 99")
    await room.cmd("Ben", "vote Community Conversation")
    await room.cmd("Ann", "close 3")
    said = room.said_to("Ben")
    assert "couldn't find topic" in said and "matches several topics" in said
    assert "only after a tie" in room.said_to("Ann")
    await room.cmd("Ben", "propose " + "x" * 500)
    assert "under 200 characters" in room.said_to("Ben")
    await room.cmd("Ben", "propose peer work in the community")
    assert "already on the list" in room.said_to("Ben")


# -- the compact card and "More topics" ------------------------------------------------------


async def test_the_first_card_offers_a_few_topics_and_more_topics_lists_them_all(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "vote")
    card = room.sender.latest("vote:1")
    assert [b.command for b in card.buttons] == ["vote 1", "vote 2", "vote 3", "vote 4", "vote more", "close vote"]
    assert [b.label for b in card.buttons][-2:] == ["More topics", "Close the vote"]
    assert card.sections[0].lines[-1] == "…and 14 more: press “More topics”, or type `/cop vote more`."
    assert "Peer Workers as Supervisors" not in card.plain_text()  # 12th: behind "More topics"

    await room.press("Cara", "vote more")
    listed = room.sender.private(uid("Cara"))[-1]
    assert "All 18 topics" in listed.text and "`/cop vote <number>`" in listed.text
    assert listed.sections[0].lines[11] == "12. Peer Workers as Supervisors"
    assert len(listed.sections[0].lines) == 18 and listed.buttons == ()
    await room.cmd("Cara", "vote 12")  # a topic that has no button, by its number
    assert "Your votes (1 of 3): 12. Peer Workers as Supervisors" in room.said_to("Cara")
    await room.cmd("Cara", "vote more")
    assert "12. Peer Workers as Supervisors (your vote)" in room.sender.private(uid("Cara"))[-1].sections[0].lines
    assert "1 member has voted so far." in room.sender.latest("vote:1").text

    # a member's proposal takes a button (the most recent first), still six buttons at most
    await room.cmd("Ben", "propose Supervision for peers")
    await room.cmd("Cara", "propose Peer work in prisons")
    card = room.sender.latest("vote:1")
    assert [b.command for b in card.buttons] == ["vote 1", "vote 2", "vote 19", "vote 20", "vote more", "close vote"]
    assert "20. Peer work in prisons" in card.sections[0].lines


# -- closing a vote nobody voted in -----------------------------------------------------------


async def test_a_vote_nobody_voted_in_closes_without_a_winner(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "vote")
    await room.cmd("Ann", "close")
    result = room.sender.latest("vote:1:result").text
    assert "No votes were cast, so no new lead topic was chosen." in result
    assert "Our next session's lead topic is not chosen yet" in result
    card = room.sender.latest("vote:1")
    assert "No votes were cast" in card.text and "so far" not in card.text and card.buttons == ()
    async with db.transaction() as session:
        vote = await session.scalar(select(TopicVote))
        assert (vote.status, vote.winner_topic_id) == ("closed", None)
        assert (await session.scalar(select(Community))).next_topic is None

    # a topic chosen earlier stays the next lead topic when a later vote has no votes
    await room.cmd("Ann", "vote open 1")
    await room.cmd("Ben", "vote 2")
    await room.cmd("Ann", "close vote")
    await room.cmd("Ann", "vote")
    await room.cmd("Ann", "close vote")
    assert "lead topic stays “Peer Work in the community”" in room.sender.latest("vote:3:result").text
    assert "Sorry" not in room.sender.texts()


# -- `vote` from a co-chair while one is open --------------------------------------------------


async def test_vote_from_a_co_chair_while_one_is_open_shows_it(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "vote")
    await room.cmd("Cara", "vote 3")
    await room.cmd("Ben", "vote")
    shown = room.sender.private(uid("Ben"))[-1]
    assert "The vote is already open, so here it is again." in shown.text
    assert "1 member has voted so far." in shown.text and "`/cop vote cancel`" in shown.text
    assert "close vote" in [b.command for b in shown.buttons] and len(shown.buttons) <= 6
    await room.cmd("Ann", "vote open 1")  # the open vote keeps its rules
    assert "The vote is already open" in room.said_to("Ann")
    assert "You have 3 votes" in room.sender.private(uid("Ann"))[-1].text
    assert len([p for p in room.sender.public() if p.key == "vote:1"]) == 1  # one card in the channel
    async with db.transaction() as session:
        assert len(list(await session.scalars(select(TopicVote)))) == 1

    await room.cmd("Ben", "vote 4")
    await room.cmd("Ann", "close")  # 3 and 4 tie
    await room.cmd("Ann", "vote")
    assert "The vote has ended in a tie: pick the topic with `/cop close <number>`" in room.said_to("Ann")
    tied = room.sender.latest("vote:1").text
    assert "Voting has ended in a tie" in tied and "so far" not in tied


# -- cancelling a vote opened by mistake -------------------------------------------------------


async def test_a_co_chair_cancels_a_vote_and_a_new_one_can_open(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "vote")
    await room.cmd("Cara", "vote 2")
    await room.cmd("Cara", "vote cancel")
    assert "Only a co-chair or today's lead can cancel the vote." in room.said_to("Cara")
    assert "1 member has voted so far." in room.sender.latest("vote:1").text  # still open

    await room.cmd("Ben", "vote cancel")
    card = room.sender.latest("vote:1")
    assert card.replace and "A co-chair cancelled this vote: nothing was decided" in card.text
    assert "so far" not in card.text and card.buttons == ()
    assert [s.update for s in room.sender.log if s.post.key == "vote:1"] == [False, True, True]  # updated in place
    assert "was cancelled; nothing was decided" in room.sender.latest("vote:1:cancelled").text
    async with db.transaction() as session:
        assert (await session.scalar(select(TopicVote))).status == "cancelled"
        assert list(await session.scalars(select(Ballot))) == []  # its votes no longer count
        assert (await session.scalar(select(Community))).next_topic is None

    await room.cmd("Ben", "vote cancel")
    assert "That vote was already cancelled." in room.said_to("Ben")
    await room.cmd("Cara", "vote 2")
    assert "No vote is open" in room.said_to("Cara")
    await room.cmd("Ann", "close")
    assert "Nothing is open to close." in room.said_to("Ann")

    await room.cmd("Ann", "vote")  # a new vote after a cancel
    assert "0 members have voted so far." in room.sender.latest("vote:2").text
    await room.cmd("Cara", "vote 5")
    await room.cmd("Ann", "close")
    assert "Our next lead topic: Exploring Certification Processes" in room.sender.latest("vote:2:result").text


async def test_cancelling_a_tied_vote_takes_the_pick_buttons_away(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "vote cancel")
    assert "No vote is open, so there is nothing to cancel." in room.said_to("Ann")
    await room.cmd("Ann", "vote open 1")
    await room.cmd("Ben", "vote 1")
    await room.cmd("Cara", "vote 2")
    await room.cmd("Ann", "close")
    await room.cmd("Ann", "vote cancel")
    tie = room.sender.latest("vote:1:tie")
    assert "a co-chair cancelled the vote" in tie.text and tie.buttons == ()
    await room.press("Ben", "close 1")
    assert "No vote is open" in room.said_to("Ben")
    async with db.transaction() as session:
        assert (await session.scalar(select(Community))).next_topic is None


# -- the same through the terminal and through Slack ------------------------------------------


async def test_cancel_and_an_empty_close_in_the_terminal(tmp_path):
    script = "\n".join(
        [
            "/as Ann",
            "/cop join",
            "/as Ben",
            "/cop join",
            "/as Ann",
            "/cop chairs set @Ann @Ben 6",
            "/cop vote",
            "/as Ben",
            "/cop vote more",
            "/cop vote 17",
            "/as Cara",
            "/cop vote cancel",
            "/as Ann",
            "/cop vote",
            "/cop vote cancel",
            "/cop vote cancel",
            "/cop vote",
            "/cop close",
        ]
    )
    out = io.StringIO()
    await run_console(Lines(script + "\n"), out, db_path=str(tmp_path / "cop.db"), community="North West")
    screen = out.getvalue()
    first_card = screen.split("Vote: what should our next session's lead topic be?", 1)[1].split("\n#", 1)[0]
    assert first_card.count("→ /cop ") == 6 and "[More topics → /cop vote more]" in first_card
    assert "17. Values-Driven Evaluation" in screen  # Ben's private list of every topic
    assert "Only a co-chair or today's lead can cancel the vote." in screen
    assert "The vote is already open, so here it is again." in screen and "1 member has voted so far." in screen
    updated = "(updated):\n  Vote: what should our next session's lead topic be?\n  A co-chair cancelled this vote"
    assert updated in screen
    assert "That vote was already cancelled." in screen
    assert "No votes were cast, so no new lead topic was chosen." in screen
    assert "Traceback" not in screen and "Sorry" not in screen


async def test_in_slack_the_card_is_compact_and_a_cancelled_vote_says_so(sqlite_db, clock):
    async with running_stack(sqlite_db, clock, {"U1": "Ann", "U2": "Ben", "U3": "Cara"}) as stack:
        slack = stack.slack
        await say(stack, "U1", "setup North West")
        for user in ("U2", "U3"):
            await say(stack, user, "join Peer Support Worker")
        await say(stack, "U1", "chairs set <@U1|ann> <@U2|ben> 12")
        await say(stack, "U1", "vote open")
        ballot = slack.find_post("what should our next session's lead topic be?")
        assert [b["value"] for b in ballot.buttons()] == [
            "vote 1",
            "vote 2",
            "vote 3",
            "vote 4",
            "vote more",
            "close vote",
        ]
        assert "…and 14 more" in ballot.text and "Peer Workers as Supervisors" not in ballot.text

        await press(stack, "U3", ballot, "vote more")
        assert "12. Peer Workers as Supervisors" in slack.ephemerals("U3")[-1].text
        await say(stack, "U3", "vote 12")
        assert "1 member has voted so far." in updates_of(stack, ballot)[-1].text
        await say(stack, "U3", "vote cancel")
        assert "Only a co-chair or today's lead can cancel the vote" in slack.ephemerals("U3")[-1].text

        await say(stack, "U2", "vote")
        again = slack.ephemerals("U2")[-1]
        assert "already open" in again.text and "1 member has voted so far." in again.text
        assert len([c for c in slack.posts() if "what should our next session" in c.text]) == 1

        await press(stack, "U2", ballot, "close vote")  # a button is the twin of `close vote`
        await say(stack, "U1", "vote cancel")
        assert "nothing to cancel" in slack.ephemerals("U1")[-1].text  # it was closed, not cancelled

        await say(stack, "U1", "vote")
        second = slack.find_post("what should our next session's lead topic be?")
        assert second is not ballot and "0 members have voted so far." in second.text
        await say(stack, "U2", "vote cancel")
        cancelled = updates_of(stack, second)[-1]
        assert "A co-chair cancelled this vote" in cancelled.text and "so far" not in cancelled.text
        assert cancelled.buttons() == []
        assert "was cancelled; nothing was decided" in slack.posts()[-1].text
        assert "Our next lead topic: Peer Workers as Supervisors" in updates_of(stack, ballot)[-1].text
