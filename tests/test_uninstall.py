"""copbot removed: Slack's app_uninstalled / tokens_revoked (signed, over HTTP), a Teams bot
removal (conversationUpdate, installationUpdate), or a channel gone on delivery (Slack
channel_not_found, Teams 403) mark the channels inactive and cancel their pending posts; the
announcements skip them; `/cop schedule` in another bound channel says so; a word from the
channel again makes it active."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from sqlalchemy import select

from bot.vocabulary.conversation import Place, Post
from bot.vocabulary.errors import DeliveryError
from storage.models import Announcement, ChannelBinding, OutboxPost
from tests.fakes.slack_api import TEAM_ID, running_stack
from tests.support.room import Room
from tests.support.teams_channel import BOT, CHANNEL, TENANT, TeamsChannel

RULE = "schedule quarterly 3rd Wednesday of Mar Jun Sep Dec 10:30"


async def _channels(db) -> dict[str, bool]:  # noqa: ANN001
    async with db.transaction() as session:
        return {c.channel_id: c.active for c in await session.scalars(select(ChannelBinding))}


def _removal(event: dict, team: str = TEAM_ID) -> str:
    """Slack's published wrapper of an app event (api.slack.com/events/app_uninstalled)."""
    return json.dumps(
        {
            "token": "XXYYZZ",
            "team_id": team,
            "api_app_id": "A1",
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{time.monotonic_ns()}",
            "event_time": int(time.time()),
        }
    )


async def test_slack_uninstall_makes_the_workspaces_channels_inactive(sqlite_db, clock):
    async with running_stack(sqlite_db, clock) as stack:
        requests = stack.requests
        await requests.command("U1", "setup North West")
        await requests.command("U1", RULE)
        requests.channel = "C2"
        await requests.command("U1", "setup North West")  # a second channel of the community
        requests.channel, requests.team = "C9", "T-other"
        await requests.command("U1", "setup North East")
        await requests.command("U1", RULE)
        await stack.settle()

        forged = await stack.client.post(
            "/slack/events", data=_removal({"type": "app_uninstalled"}).encode(), headers={"X-Slack-Signature": "v0=0"}
        )
        assert forged.status == 401
        user_only = _removal({"type": "tokens_revoked", "tokens": {"oauth": ["U1"]}})
        assert (await requests.send(user_only, "application/json")).status == 200
        await stack.settle()
        assert await _channels(sqlite_db) == {"C1": True, "C2": True, "C9": True}

        response = await requests.send(_removal({"type": "app_uninstalled"}), "application/json")
        assert response.status == 200
        await stack.settle()
        assert await _channels(sqlite_db) == {"C1": False, "C2": False, "C9": True}

        clock.now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # the call for items falls due
        before = {c: len(stack.slack.posts(c)) for c in ("C1", "C2", "C9")}
        await stack.runtime.announce_due()
        await stack.settle()
        assert len(stack.slack.posts("C9")) == before["C9"] + 1
        assert len(stack.slack.posts("C1")) == before["C1"] and len(stack.slack.posts("C2")) == before["C2"]
        async with sqlite_db.transaction() as session:
            claimed = list(await session.scalars(select(Announcement.community_id)))
        assert len(claimed) == 1  # North West's call is not used up while copbot is out


async def test_a_slack_channel_gone_on_delivery_is_marked_and_told_in_the_other(sqlite_db, clock):
    async with running_stack(sqlite_db, clock) as stack:
        requests = stack.requests
        await requests.command("U1", "setup North West")
        requests.channel = "C2"
        await requests.command("U1", "setup North West")
        await stack.settle()
        requests.channel = "C1"
        stack.slack.fail_next(1, status=200, error="channel_not_found", method="chat.postMessage")
        await requests.command("U1", "support")
        await stack.settle()
        assert await _channels(sqlite_db) == {"C1": False, "C2": True}

        requests.channel = "C2"
        await requests.command("U1", "schedule")
        await stack.settle()
        listing = stack.slack.posts("C2")[-1].text
        assert "copbot is no longer in the Slack channel C1" in listing

        requests.channel = "C1"  # copbot was added back and someone speaks to it there
        await requests.command("U1", "members")
        await stack.settle()
        assert await _channels(sqlite_db) == {"C1": True, "C2": True}


async def test_pending_posts_are_cancelled_and_nothing_is_claimed_without_a_channel(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", RULE)
    await room.runtime.post(room.place, [Post("Waiting to go out")])  # kept, not sent yet
    assert await room.runtime.removed("slack", "slack: app_uninstalled", team_id="T1") == 1
    await room.runtime.drain()
    assert "Waiting to go out" not in room.sender.texts()
    async with db.transaction() as session:
        statuses = set(await session.scalars(select(OutboxPost.status)))
    assert "pending" not in statuses and "cancelled" in statuses
    clock.now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    assert await room.runtime.announce_due() == 0
    async with db.transaction() as session:
        assert list(await session.scalars(select(Announcement))) == []


async def test_a_permanent_failure_that_is_not_the_channel_leaves_it_active(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    room.sender.failures.append(DeliveryError("slack: msg_too_long", permanent=True))
    await room.runtime.post(room.place, [Post("Too long, say")])
    await room.runtime.drain()
    assert await _channels(db) == {"C1": True}
    room.sender.failures.append(DeliveryError("slack: not_in_channel", permanent=True, gone=True))
    await room.runtime.post(Place("slack", "C1", "T1"), [Post("Nobody hears this")])
    await room.runtime.drain()
    assert await _channels(db) == {"C1": False}


def _teams_removal(kind: str, **fields: object) -> dict:
    """Teams' activities when the bot is removed from a team (learn.microsoft.com, "Bot
    removed from team") or the app uninstalled."""
    return {
        "type": kind,
        "id": "f:removal",
        "timestamp": "2026-11-26T10:00:00.000Z",
        "channelId": "msteams",
        "from": {"id": "29:ann", "aadObjectId": "aad-ann"},
        "conversation": {"isGroup": True, "conversationType": "channel", "id": CHANNEL, "tenantId": TENANT},
        "recipient": BOT,
        "channelData": {
            "team": {"id": "19:team@thread.tacv2"},
            "eventType": "teamMemberRemoved",
            "tenant": {"id": TENANT},
        },
        **fields,
    }


async def test_teams_bot_removed_from_the_team_and_a_403_on_delivery(channel: TeamsChannel, sqlite_db):
    await channel.say("Ann", "@copbot setup North West")
    someone_else = _teams_removal("conversationUpdate", membersRemoved=[{"id": "29:ben"}])
    someone_else["serviceUrl"] = channel.fake.service_url
    assert await channel.post(someone_else) in (200, 201)
    await channel.idle()
    assert await _channels(sqlite_db) == {CHANNEL: True}

    removed = _teams_removal("conversationUpdate", membersRemoved=[{"id": BOT["id"]}])
    removed["serviceUrl"] = channel.fake.service_url
    assert await channel.post(removed) in (200, 201)
    await channel.idle()
    assert await _channels(sqlite_db) == {CHANNEL: False}

    await channel.say("Ann", "@copbot members")  # added back: active again
    assert await _channels(sqlite_db) == {CHANNEL: True}
    uninstalled = _teams_removal("installationUpdate", action="remove")
    uninstalled["serviceUrl"] = channel.fake.service_url
    assert await channel.post(uninstalled) in (200, 201)
    await channel.idle()
    assert await _channels(sqlite_db) == {CHANNEL: False}

    await channel.say("Ann", "@copbot members")
    channel.fake.fail_next(1, status=403, retry_after=None)
    await channel.say("Ann", "@copbot support")
    assert await _channels(sqlite_db) == {CHANNEL: False}
