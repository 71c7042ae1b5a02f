"""Real request bodies published by Slack (docs and bolt-python's own fixtures, in
`tests.fixtures.published`), signed and sent through the real stack: what copbot handles works,
what it has no use for is acknowledged and dropped, none of it is a 4xx or a 500."""

from __future__ import annotations

import copy
import json
import logging
from urllib.parse import urlencode

from sqlalchemy import select

from adapters.slack import translate
from storage.models import SupportStatement
from tests.fakes.slack_api import SlackRequests, running_stack
from tests.fixtures import published

FORM = "application/x-www-form-urlencoded"


def test_the_published_shapes_are_read_as_slack_means_them():
    kinds = {
        name: translate.request_kind(getattr(published, name)) for name in dir(published) if name.startswith("SLACK_")
    }
    assert kinds == {
        "SLACK_SLASH_COMMAND": "bolt",
        "SLACK_THREAD_REPLY_EVENT": "bolt",
        "SLACK_THREAD_BROADCAST_EVENT": "bolt",
        "SLACK_BLOCK_ACTIONS": "ignored",  # another app's button
        "SLACK_VIEW_SUBMISSION": "ignored",  # another app's window
        "SLACK_VIEW_CLOSED": "ignored",
        "SLACK_APP_UNINSTALLED_EVENT": "bolt",  # copbot marks the workspace's channels inactive
        "SLACK_TOKENS_REVOKED_EVENT": "bolt",
    }
    assert translate.removed_from(published.SLACK_APP_UNINSTALLED_EVENT) == "TXXXXXXXX"
    assert translate.removed_from(published.SLACK_TOKENS_REVOKED_EVENT) == "TXXXXXXXX"
    broadcast = published.SLACK_THREAD_BROADCAST_EVENT["event"]
    assert "parent_user_id" not in broadcast and translate.is_answer(broadcast, "UBOT")
    event = translate.command_event(published.SLACK_SLASH_COMMAND)
    assert (event.actor.user_id, event.place.channel_id, event.text) == ("U2147483697", "C2147483705", "help")


async def test_published_bodies_through_the_stack(sqlite_db, clock, caplog):
    caplog.set_level(logging.DEBUG)
    command = published.SLACK_SLASH_COMMAND
    async with running_stack(sqlite_db, clock, {"U2147483697": "Steve", "U111": "Ann"}) as stack:
        requests = SlackRequests(
            stack.client,
            stack.requests.secret,
            channel=command["channel_id"],
            team=command["team_id"],
            response_url=stack.slack.response_url,
        )
        # the slash command, as published (response_url pointed at the fake)
        body = urlencode({**command, "response_url": stack.slack.response_url})
        assert (await requests.send(body, FORM)).status == 200
        await stack.settle()
        assert "Here is what I can do" in stack.slack.ephemerals("U2147483697")[-1].text

        for text in ("setup North West", "support"):
            assert (await requests.send(urlencode({**command, "text": text}), FORM)).status == 200
            await stack.settle()
        prompt_ts = stack.slack.ts_of(stack.slack.find_post("I will support myself today"))

        # "Also send to #channel", as bolt-python's fixture has it, in the thread of our prompt
        broadcast = copy.deepcopy(published.SLACK_THREAD_BROADCAST_EVENT)
        event = broadcast["event"]
        event.update(channel=command["channel_id"], thread_ts=prompt_ts, text="asking for help")
        event["root"].update(ts=prompt_ts, thread_ts=prompt_ts)
        broadcast["team_id"] = command["team_id"]
        assert (await requests.send(json.dumps(broadcast), "application/json")).status == 200
        await stack.settle()

        # a plain thread reply in the same shape, from another member
        reply = copy.deepcopy(published.SLACK_THREAD_REPLY_EVENT)
        reply["event"].update(
            channel=command["channel_id"],
            thread_ts=prompt_ts,
            parent_user_id="UBOT",
            user="U2147483697",
            text="being open to learning",
        )
        reply["team_id"], reply["event_id"] = command["team_id"], "Ev112"  # both fixtures say Ev111
        assert (await requests.send(json.dumps(reply), "application/json")).status == 200
        await stack.settle()

        # what copbot does not use: acknowledged, nothing sent
        calls = len(stack.slack.calls)
        for name in ("SLACK_BLOCK_ACTIONS", "SLACK_VIEW_SUBMISSION", "SLACK_VIEW_CLOSED"):
            body = urlencode({"payload": json.dumps(getattr(published, name))})
            assert (await requests.send(body, FORM)).status == 200, name
        assert (
            await requests.send(json.dumps(published.SLACK_APP_UNINSTALLED_EVENT), "application/json")
        ).status == 200
        await stack.settle()
        assert len(stack.slack.calls) == calls

        # a published button press on one of copbot's own buttons (only the action changed)
        press = copy.deepcopy(published.SLACK_BLOCK_ACTIONS)
        press["channel"]["id"] = press["container"]["channel_id"] = command["channel_id"]
        press["actions"][0].update(action_id="cop:1", value="pass")
        press["user"]["id"] = "U111"
        assert (await requests.send(urlencode({"payload": json.dumps(press)}), FORM)).status == 200
        await stack.settle()
        assert any("kept it on the flipchart" in c.text for c in stack.slack.ephemerals("U111"))
    async with sqlite_db.transaction() as session:
        rows = sorted((await session.execute(select(SupportStatement.text, SupportStatement.passed))).all())
    assert rows == [("asking for help", False), ("being open to learning", False)]
    assert "Traceback" not in caplog.text and "Unhandled request" not in caplog.text
