"""The topic vote on its own: guide topics, proposals, budget, toggling, hidden results, ties."""

from __future__ import annotations

from sqlalchemy import select

from flows.topic_vote import GUIDE_TOPICS
from storage.models import Ballot, Community
from tests.room import Room


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
    # the chosen topic is not a candidate next time
    await room.cmd("Ann", "vote")
    assert "Navigating Ethics" not in room.sender.latest("vote:2").plain_text()


async def test_bad_votes_get_friendly_answers(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ben", "vote 3")
    assert "No vote is open" in room.said_to("Ben")
    await room.cmd("Ann", "vote")
    await room.cmd("Ben", "vote 99")
    await room.cmd("Ben", "vote Community Conversation")
    await room.cmd("Ann", "close")
    said = room.said_to("Ben")
    assert "couldn't find topic" in said and "matches several topics" in said
    assert "Nobody has voted yet" in room.said_to("Ann")
    await room.cmd("Ben", "propose " + "x" * 500)
    assert "under 200 characters" in room.said_to("Ben")
    await room.cmd("Ben", "propose peer work in the community")
    assert "already on the list" in room.said_to("Ben")
