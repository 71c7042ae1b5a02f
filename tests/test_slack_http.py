"""POST /slack/events through the real stack: signatures, retries, 429s, what is dropped, config."""

from __future__ import annotations

import logging
import time

import pytest
from sqlalchemy import func, select

from adapters.slack import attach
from bot.logs import setup_logging
from bot.vocabulary.errors import ConfigError
from storage.models import Community, ProcessedEvent, SupportStatement
from tests.fakes.slack_api import BOT_TOKEN, SECRET, running_stack
from tests.support.app import count_rows

CANARY = "Canary-7f3a-the-words-a-member-wrote"


async def test_healthz_reports_slack_over_http(sqlite_db, clock):
    async with running_stack(sqlite_db, clock) as stack:
        response = await stack.client.get("/healthz")
        assert response.status == 200
        body = await response.json()
        assert body["slack"] == "http" and body["database"] == "ok"


async def test_slack_variables_in_the_process_environment_do_not_change_bolt(sqlite_db, clock, caplog, monkeypatch):
    for name, value in {
        "SLACK_BOT_TOKEN": "xoxb-other",
        "SLACK_CLIENT_ID": "1.2",
        "SLACK_CLIENT_SECRET": "s",
        "SLACK_VERIFICATION_TOKEN": "v",
    }.items():
        monkeypatch.setenv(name, value)
    async with running_stack(sqlite_db, clock) as stack:
        assert (await stack.requests.command("U1", "setup North West")).status == 200
        await stack.settle()
        assert [c.token for c in stack.slack.posts()] == [BOT_TOKEN]
    assert "will be unused" not in caplog.text and "OAuth" not in caplog.text
    import os

    assert os.environ["SLACK_CLIENT_ID"] == "1.2"  # put back as it was


async def test_forged_tampered_and_stale_requests_get_401_and_change_nothing(sqlite_db, clock, caplog, capsys):
    setup_logging("DEBUG")  # what `copbot serve` does, at the most talkative level: the worst case
    caplog.set_level(logging.DEBUG)
    async with running_stack(sqlite_db, clock) as stack:
        requests = stack.requests
        body = requests.command_body("U1", f"setup {CANARY}")
        form = "application/x-www-form-urlencoded"

        forged = await stack.client.post(
            "/slack/events",
            data=body,
            headers={
                "Content-Type": form,
                "X-Slack-Request-Timestamp": str(int(time.time())),
                "X-Slack-Signature": "v0=" + "0" * 64,
            },
        )
        tampered_headers = requests.signed_headers(requests.command_body("U1", "help"), content_type=form)
        tampered = await stack.client.post("/slack/events", data=body, headers=tampered_headers)
        unsigned = await stack.client.post("/slack/events", data=body, headers={"Content-Type": form})
        stale = await requests.send(body, form, timestamp=int(time.time()) - 6 * 60)
        stale_event = await requests.send(
            requests.event_body(requests.reply_event("U1", CANARY, "1.0")),
            "application/json",
            timestamp=int(time.time()) - 6 * 60,
        )
        for response in (forged, tampered, unsigned, stale, stale_event):
            assert response.status == 401
        await stack.settle()

        assert await count_rows(sqlite_db, Community) == 0
        assert await count_rows(sqlite_db, ProcessedEvent) == 0
        assert [c.method for c in stack.slack.calls] == []  # not even auth.test

        fresh = await requests.send(body, form)  # the same request, properly signed, works
        assert fresh.status == 200
        await stack.settle()
        assert await count_rows(sqlite_db, Community) == 1
    captured = capsys.readouterr()
    assert CANARY not in caplog.text
    assert CANARY not in captured.out + captured.err
    assert "Invalid request signature" not in caplog.text


async def test_channel_chatter_is_dropped_before_the_core_and_the_log(sqlite_db, clock, caplog):
    caplog.set_level(logging.DEBUG)
    async with running_stack(sqlite_db, clock) as stack:
        requests = stack.requests
        await requests.command("U1", "setup North West")
        await stack.settle()
        welcome_ts = stack.slack.ts_of(stack.slack.posts()[0])
        events = [
            {"type": "message", "user": "U1", "text": CANARY, "ts": "1.1"},  # plain channel message
            {
                "type": "message",
                "user": "U1",
                "text": CANARY,
                "ts": "1.2",
                "thread_ts": "1.0",
                "parent_user_id": "U9",
            },  # a thread of someone else
            {"type": "message", "subtype": "message_changed", "message": {"text": CANARY}, "ts": "1.3"},
            {
                "type": "message",
                "user": "UBOT",
                "bot_id": "BBOT",
                "text": CANARY,
                "ts": "1.4",
                "thread_ts": welcome_ts,
                "parent_user_id": "UBOT",
            },  # the bot itself
        ]
        processed = await count_rows(sqlite_db, ProcessedEvent)
        calls = len(stack.slack.calls)
        for event in events:
            assert (await requests.event(event)).status == 200
        await stack.settle()
        assert await count_rows(sqlite_db, ProcessedEvent) == processed  # never reached the core
        assert len(stack.slack.calls) == calls
    assert CANARY not in caplog.text


async def test_retried_event_is_stored_once(sqlite_db, clock):
    async with running_stack(sqlite_db, clock, {"U1": "Ann", "U2": "Ben"}) as stack:
        requests, slack = stack.requests, stack.slack
        await requests.command("U1", "setup North West")
        await requests.command("U2", "join")
        await requests.command("U2", "support")
        await stack.settle()
        prompt_ts = slack.ts_of(slack.find_post("I will support myself today"))

        first = await requests.reply("U1", "asking for help", prompt_ts, event_id="EvRETRY1")
        retry = await requests.reply("U1", "asking for help", prompt_ts, event_id="EvRETRY1", retry_num=1)
        again = await requests.reply("U1", "asking for help", prompt_ts, event_id="EvRETRY1", retry_num=2)
        assert first.status == retry.status == again.status == 200
        await stack.settle()

        assert await count_rows(sqlite_db, SupportStatement) == 1
        async with sqlite_db.transaction() as session:
            seen = await session.scalar(
                select(func.count()).select_from(ProcessedEvent).where(ProcessedEvent.event_id == "EvRETRY1")
            )
        assert seen == 1
        thanks = slack.calls_to("reactions.add")  # "kept": a ✓ on the member's message
        assert len(thanks) == 1 and not [c for c in slack.ephemerals("U1") if "on the flipchart" in c.text]
        assert thanks[0].params["name"] == "white_check_mark" and thanks[0].params["channel"] == "C1"


async def test_429_is_delivered_after_the_wait(sqlite_db, clock):
    async with running_stack(sqlite_db, clock) as stack:
        stack.slack.fail_next(1, status=429, retry_after=1, method="chat.postMessage")
        response = await stack.requests.command("U1", "setup North West")
        assert response.status == 200  # acknowledged at once; delivery happens after the ack
        await stack.settle()
        attempts = [c for c in stack.slack.calls if c.method == "chat.postMessage"]
        assert [c.status for c in attempts] == [429, 200]
        assert attempts[1].at - attempts[0].at >= 0.95
        assert "North West" in attempts[1].text
        assert await stack.runtime.deliveries.undelivered("slack") == []


async def test_undeliverable_post_is_recorded_not_dropped(sqlite_db, clock):
    async with running_stack(sqlite_db, clock) as stack:
        stack.slack.fail_next(1, status=200, retry_after=None, error="not_in_channel", method="chat.postMessage")
        await stack.requests.command("U1", "setup North West")
        await stack.settle()
        undelivered = await stack.runtime.deliveries.undelivered("slack")
        assert len(undelivered) == 1 and "not_in_channel" in undelivered[0].reason
        assert len([c for c in stack.slack.calls if c.method == "chat.postMessage"]) == 1  # not retried
        # the member who typed the command is told, privately, through its response_url
        told = stack.slack.calls_to("response_url")
        assert len(told) == 1 and "/invite @copbot" in told[0].params["text"]
        assert told[0].params["response_type"] == "ephemeral"


async def test_ack_comes_before_the_slow_work(sqlite_db, clock):
    # Slack's 3 s are never spent on Slack: the command is acknowledged while its post is
    # still waiting for a Slack that does not answer.
    async with running_stack(sqlite_db, clock) as stack:
        slack_answers = stack.slack.hold("chat.postMessage")
        response = await stack.requests.command("U1", "setup North West")
        assert response.status == 200
        assert stack.slack.posts() == []  # acknowledged, not yet posted
        slack_answers.set()
        await stack.settle()
        assert len(stack.slack.posts()) == 1


@pytest.mark.parametrize(
    "env, word",
    [
        ({"SLACK_BOT_TOKEN": BOT_TOKEN}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_SIGNING_SECRET": SECRET}, "SLACK_BOT_TOKEN"),
        ({"SLACK_APP_TOKEN": "xapp-1"}, "SLACK_APP_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxp-user", "SLACK_SIGNING_SECRET": SECRET}, "xoxb-"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_APP_TOKEN": "xoxb-x"}, "xapp-"),
        (
            {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SECRET, "COPBOT_SLACK_PACE_PER_SECOND": "0"},
            "COPBOT_SLACK_PACE_PER_SECOND",
        ),
    ],
)
def test_half_set_configuration_is_one_clear_line(env, word):
    from aiohttp import web

    with pytest.raises(ConfigError) as raised:
        attach(web.Application(), object(), env)  # type: ignore[arg-type]
    message = str(raised.value)
    assert word in message and "\n" not in message


def test_no_configuration_is_off():
    from aiohttp import web

    assert attach(web.Application(), object(), {}) == "off"  # type: ignore[arg-type]


async def test_request_url_verification_answers_the_challenge(sqlite_db, clock):
    import json

    async with running_stack(sqlite_db, clock) as stack:
        body = json.dumps({"token": "legacy", "challenge": "challenge-abc", "type": "url_verification"})
        response = await stack.requests.send(body, "application/json")
        assert response.status == 200 and "challenge-abc" in await response.text()
