"""The Teams floor: a bare botbuilder bot (CloudAdapter, local mode: no app id, no
authentication) that replies once to each message — as fast as botbuilder itself turns on this
machine. Its replies go to the activity's serviceUrl (the benchmark's fake Bot Connector).

    python -m bench.floor_botbuilder --port 8102

Run in its own process by `python -m bench`. (botbuilder is otherwise imported only in
adapters/; the floor measures botbuilder alone, so it cannot go through copbot's adapter.)"""

from __future__ import annotations

from aiohttp import web
from botbuilder.core import ActivityHandler, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication

from bench.floor_app import floor_app, serve


class LocalMode:
    """No credentials: the Bot Framework's unauthenticated local mode."""

    APP_ID = ""
    APP_PASSWORD = ""
    APP_TYPE = "MultiTenant"
    APP_TENANTID = ""


class ReplyOnce(ActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity("ok")


def build_app() -> web.Application:
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(LocalMode()))
    bot = ReplyOnce()

    async def messages(request: web.Request) -> web.Response:
        return await adapter.process(request, bot)

    return floor_app("/api/messages", messages)


def main() -> None:
    serve(__doc__, build_app)


if __name__ == "__main__":
    main()
