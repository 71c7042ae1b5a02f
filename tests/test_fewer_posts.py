"""Fewer posts in the channel: the scripted meeting (`docs/meeting.txt`) through the terminal
makes fewer channel posts and private messages than before issue 11 (22 posts, 13 private
messages), and a thread answer's "kept" is a reaction in Slack and nothing in Teams."""

from __future__ import annotations

from bench.meeting_posts import SCRIPT, main
from tests.support.teams_channel import PEOPLE, TeamsChannel


async def test_the_scripted_meeting_makes_fewer_posts():
    found = await main(SCRIPT)
    assert found["channel posts"] <= 19, found  # 22 before: joiners share a welcome, the lead post is updated
    assert found["private messages"] <= 13, found  # a "kept" is a mark, not a message
    assert found["kept marks"] == 2, found


async def test_teams_a_kept_answer_sends_no_private_chat_message(channel: TeamsChannel):
    await channel.say("Ann", "@copbot setup North West")
    await channel.say("Ben", "@copbot join")
    await channel.say("Ann", "@copbot support")
    card = channel.latest_card("I will support myself today")
    before = len(channel.fake.direct_messages(PEOPLE["Ben"][0]))
    await channel.say("Ben", "asking for help", in_chain_of=channel.message_id(card))
    assert len(channel.fake.direct_messages(PEOPLE["Ben"][0])) == before  # no 1:1 "thank you"
    assert "1 of the 2 here has shared so far" in channel.latest_card("I will support myself today").card_text
