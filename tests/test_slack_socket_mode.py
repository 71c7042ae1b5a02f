"""Socket Mode (SLACK_APP_TOKEN set): copbot connects out to a local websocket fake, takes
commands and events from envelopes, acknowledges each, and de-duplicates redeliveries."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from sqlalchemy import func, select

from storage.models import ProcessedEvent, SupportStatement
from tests.fakes.slack_api import running_stack

APP_TOKEN = "xapp-1-test"


def _envelope(envelope_id: str, kind: str, payload: dict, retry: int = 0) -> dict:
    return {
        "envelope_id": envelope_id,
        "type": kind,
        "payload": payload,
        "accepts_response_payload": kind != "events_api",
        "retry_attempt": retry,
        "retry_reason": "timeout" if retry else "",
    }


async def test_socket_mode_commands_events_and_redelivery(sqlite_db, clock):
    async with running_stack(sqlite_db, clock, {"U1": "Ann", "U2": "Ben"}, SLACK_APP_TOKEN=APP_TOKEN) as stack:
        slack, requests = stack.slack, stack.requests
        health = await (await stack.client.get("/healthz")).json()
        assert health["slack"] == "socket-mode"
        assert (await stack.client.post("/slack/events", data=b"{}")).status == 404  # no public URL
        await slack.wait_connected()
        (opened,) = slack.calls_to("apps.connections.open")
        assert opened.token == APP_TOKEN

        for n, (user, text) in enumerate((("U1", "setup North West"), ("U2", "join"), ("U1", "support")), 1):
            payload = dict(parse_qsl(requests.command_body(user, text)))
            await slack.send_envelope(_envelope(f"cmd-{n}", "slash_commands", payload))
            await slack.wait_for(lambda n=n: any(a.get("envelope_id") == f"cmd-{n}" for a in slack.acks))
            await stack.settle()
        prompt = slack.find_post("I will support myself today by")

        body = json.loads(
            requests.event_body(
                requests.reply_event("U2", "asking for help", slack.ts_of(prompt)), event_id="EvSOCKET1"
            )
        )
        await slack.send_envelope(_envelope("ev-1", "events_api", body))
        await slack.send_envelope(_envelope("ev-2", "events_api", body, retry=1))  # redelivered
        await slack.wait_for(lambda: {"ev-1", "ev-2"} <= {a.get("envelope_id") for a in slack.acks})
        await stack.settle()

        async with sqlite_db.transaction() as session:
            assert await session.scalar(select(func.count()).select_from(SupportStatement)) == 1
            assert (
                await session.scalar(
                    select(func.count()).select_from(ProcessedEvent).where(ProcessedEvent.event_id == "EvSOCKET1")
                )
                == 1
            )
        assert (
            "1 of the 2 here has shared so far"
            in [c for c in slack.calls_to("chat.update") if c.params["ts"] == slack.ts_of(prompt)][-1].text
        )
        assert slack.posts()[0].token == "xoxb-test-token"
