"""Issue 19 in Slack and Teams: the open actions reviewed in the meeting on one post updated in
place (Done / Keep / Drop for the owner, the co-chairs and today's lead), and the list, through
the real Bolt and botbuilder stacks against the local fakes."""

from __future__ import annotations

from sqlalchemy import select

from storage.db import Database
from storage.models import ActionItem
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.slack_api import running_stack
from tests.support.slack_meeting import PEOPLE, press, press_on, say, updates_of
from tests.support.teams_channel import TeamsChannel


async def _statuses(db: Database) -> list[tuple[int, str]]:
    async with db.transaction() as session:
        rows = await session.execute(select(ActionItem.number, ActionItem.status).order_by(ActionItem.number))
        return [tuple(row) for row in rows.all()]  # type: ignore[misc]


async def test_slack_the_review_is_one_post_updated_in_place(sqlite_db, clock):
    async with running_stack(sqlite_db, clock, PEOPLE) as stack:
        slack = stack.slack
        await say(stack, "U1", "setup North West")
        for user in ("U2", "U3"):
            await say(stack, user, "join")
        await say(stack, "U1", "chairs set <@U1|ann> <@U2|ben> 12")
        await say(stack, "U3", "actions add Ask the team about peer supervision by 1 March 2027")
        await say(stack, "U1", "actions add Book the room for the spring meeting <@U2|ben>")
        assert "Kept as action 1 for Cara, due Mon 1 Mar 2027." in slack.ephemerals("U3")[-1].text
        await say(stack, "U3", "actions")
        listing = slack.ephemerals("U3")[-1].text
        assert "1. Ask the team about peer supervision by 1 March 2027 — Cara, due Mon 1 Mar 2027" in listing
        assert "2. Book the room for the spring meeting @Ben — Ben" in listing

        await say(stack, "U1", "actions review")
        review = slack.find_post("Reviewing our actions — 1 of 2 still open")
        await press(stack, "U3", review, "actions review keep 1")  # Cara owns action 1: she may keep it
        [moved] = updates_of(stack, review)
        assert "2 of 2 still open" in moved.text and "Book the room" in moved.text
        await press_on(stack, "U3", review, moved, "actions review done 2")  # not Cara's
        assert "Only Ben, a co-chair or today's lead can mark action 2 done." in slack.ephemerals("U3")[-1].text
        assert len(updates_of(stack, review)) == 1  # the post stays where it was
        await press_on(stack, "U2", review, moved, "actions review done 2")
        await press_on(stack, "U2", review, moved, "actions review done 2")  # a double click
        final = updates_of(stack, review)[-1]
        assert "That's every open action reviewed. 1 still open" in final.text
        assert not final.buttons()
        assert "Action 2 was already done by Ben" in slack.ephemerals("U2")[-1].text
        assert [c for c in slack.posts() if "Reviewing our actions" in c.text] == [review]
        assert await _statuses(sqlite_db) == [(1, "open"), (2, "done")]


async def test_teams_the_review_card_is_updated_and_a_stranger_changes_nothing(
    channel: TeamsChannel, sqlite_db: Database, fake: FakeBotConnector
) -> None:
    await channel.say("Ann", "@copbot setup North West")
    for who in ("Ben", "Cara"):
        await channel.say(who, "@copbot join")
    await channel.say("Ann", "@copbot chairs set @Ann @Ben 12")
    await channel.say("Cara", "@copbot actions add Ask the team about peer supervision")
    await channel.say("Ann", "@copbot actions review")
    card = channel.latest_card("Reviewing our actions — 1 of 1 still open")
    await channel.press("Ben", card, "Drop")  # a co-chair may
    updated = channel.latest_card("That's every open action reviewed")
    assert updated.kind == "update" and updated.activity_id == channel.message_id(card)
    await channel.press("Cara", card, "Done")  # a stale card: the action was dropped already
    assert "Action 1 was already dropped by Ben" in channel.private_to("Cara")
    assert await _statuses(sqlite_db) == [(1, "dropped")]
