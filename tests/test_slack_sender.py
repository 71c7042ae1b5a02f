"""The Slack sender against the fake Web API: which call for which post, and Slack's failures
mapped to what the outbox needs (wait, retry, or record)."""

from __future__ import annotations

import pytest

from adapters.slack.app import make_client
from adapters.slack.sender import SlackSender
from adapters.slack.settings import SlackSettings
from bot.vocabulary.conversation import Place, Post
from bot.vocabulary.errors import DeliveryError
from tests.fakes.slack_api import BOT_TOKEN, SECRET, FakeSlackApi

PLACE = Place("slack", "C1", "T1")


@pytest.fixture
async def slack():
    async with FakeSlackApi() as fake:
        yield fake


@pytest.fixture
def sender(slack: FakeSlackApi) -> SlackSender:
    settings = SlackSettings(BOT_TOKEN, SECRET, api_url=slack.api_url)
    return SlackSender(make_client(settings), pause=0.0)


async def test_post_thread_ephemeral_and_update(slack, sender):
    ts = await sender.send(PLACE, Post("Hello"), None)
    assert ts == slack.ts_of(slack.posts()[0])
    reply_ts = await sender.send(PLACE, Post("In the thread"), ts)
    assert slack.posts()[1].params["thread_ts"] == ts and reply_ts != ts
    assert await sender.send(PLACE, Post("Only you", private_to="U2"), None) is None
    (ephemeral,) = slack.ephemerals()
    assert ephemeral.params["user"] == "U2" and ephemeral.params["channel"] == "C1"
    await sender.update(PLACE, ts, Post("Hello again"))
    (update,) = slack.calls_to("chat.update")
    assert update.params["ts"] == ts and "Hello again" in update.text
    assert slack.posts()[0].params["unfurl_links"] is False


async def test_429_carries_retry_after(slack, sender):
    slack.fail_next(status=429, retry_after=7)
    with pytest.raises(DeliveryError) as raised:
        await sender.send(PLACE, Post("x"), None)
    assert raised.value.retry_after == 7 and not raised.value.permanent


@pytest.mark.parametrize("status, error", [(500, "internal_error"), (503, "service_unavailable"), (200, "fatal_error")])
async def test_transient_failures_are_retryable(slack, sender, status, error):
    slack.fail_next(status=status, error=error, retry_after=None)
    with pytest.raises(DeliveryError) as raised:
        await sender.send(PLACE, Post("x"), None)
    assert not raised.value.permanent and raised.value.retry_after is None


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel", "is_archived", "invalid_blocks"])
async def test_permanent_failures_are_not_retried(slack, sender, error):
    slack.fail_next(status=200, error=error, retry_after=None)
    with pytest.raises(DeliveryError) as raised:
        await sender.send(PLACE, Post("x"), None)
    assert raised.value.permanent and error in raised.value.reason


async def test_connection_failure_is_transient(slack):
    port = slack.port
    await slack.close()
    settings = SlackSettings(BOT_TOKEN, SECRET, api_url=f"http://127.0.0.1:{port}/api/")
    with pytest.raises(DeliveryError) as raised:
        await SlackSender(make_client(settings)).send(PLACE, Post("x"), None)
    assert not raised.value.permanent and "connection" in raised.value.reason


async def test_reason_never_quotes_the_post(slack, sender):
    slack.fail_next(status=200, error="msg_too_long", retry_after=None)
    with pytest.raises(DeliveryError) as raised:
        await sender.send(PLACE, Post("a member's private words"), None)
    assert "private words" not in raised.value.reason
