"""The Slack floor: a bare slack-bolt app on aiohttp whose listeners only acknowledge — as fast
as Bolt itself answers on this machine. Mounted as copbot mounts Bolt (tech notes: our own
aiohttp app, `to_bolt_request` → `async_dispatch` → `to_aiohttp_response`), same signing secret.

    python -m bench.floor_bolt --port 8101
    (env: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_API_URL — where auth.test is answered)

Run in its own process by `python -m bench`, so it never shares the benchmark's CPU core."""

from __future__ import annotations

import logging
import os
import re

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bench.floor_app import floor_app, serve


def build_app(token: str, secret: str, api_url: str) -> web.Application:
    client = AsyncWebClient(token=token, base_url=api_url)
    bolt = AsyncApp(signing_secret=secret, client=client, logger=logging.getLogger("bolt"))

    @bolt.command("/cop")
    async def command(ack: AsyncAck) -> None:
        await ack()

    @bolt.action(re.compile(".*"))
    async def action(ack: AsyncAck) -> None:
        await ack()

    @bolt.event("message")
    async def message() -> None:  # events are acknowledged by Bolt itself
        return None

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    return floor_app("/slack/events", events)


def main() -> None:
    env = os.environ
    serve(__doc__, lambda: build_app(env["SLACK_BOT_TOKEN"], env["SLACK_SIGNING_SECRET"], env["SLACK_API_URL"]))


if __name__ == "__main__":
    main()
