"""Slack adapter (slack-bolt): translates Slack requests to neutral events and posts to Block Kit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING

from aiohttp import web

from adapters.slack.app import SlackAdapter
from adapters.slack.settings import SlackSettings
from bot.delivery import Pace

if TYPE_CHECKING:
    from bot.shell.runtime import Runtime

PLATFORM = "slack"
EVENTS_PATH = "/slack/events"
SLACK = web.AppKey("slack", SlackAdapter)


def attach(
    app: web.Application,
    runtime: Runtime,
    env: Mapping[str, str],
    *,
    pace: Pace | None = None,
) -> str:
    """Add Slack's routes to ``app`` when configured; returns a status word for /healthz.

    "off" when neither SLACK_BOT_TOKEN nor SLACK_SIGNING_SECRET is set; "http" serves
    POST /slack/events; "socket-mode" (SLACK_APP_TOKEN set too) connects out to Slack instead.
    Half-set configuration raises `bot.vocabulary.errors.ConfigError`. ``pace`` overrides Slack's pace
    (else COPBOT_SLACK_PACE_PER_SECOND, default 1 message per second per channel).
    """
    settings = SlackSettings.from_env(env)
    if settings is None:
        return "off"
    adapter = SlackAdapter(runtime, settings)
    runtime.connect("slack", adapter.sender, pace or settings.pace)
    app[SLACK] = adapter
    app.on_startup.append(_startup(adapter))
    app.on_shutdown.append(_shutdown(adapter))
    if settings.socket_mode:
        app.cleanup_ctx.append(_socket_mode(adapter))
        return "socket-mode"
    app.router.add_post(EVENTS_PATH, adapter.handle_http)
    return "http"


def _socket_mode(adapter: SlackAdapter):  # noqa: ANN202 - an aiohttp cleanup context
    async def socket_mode(app: web.Application) -> AsyncIterator[None]:
        await adapter.connect_socket_mode()
        yield
        await adapter.close()

    return socket_mode


def _startup(adapter: SlackAdapter):  # noqa: ANN202 - an aiohttp signal handler
    async def startup(app: web.Application) -> None:
        await adapter.open()

    return startup


def _shutdown(adapter: SlackAdapter):  # noqa: ANN202 - an aiohttp signal handler
    async def shutdown(app: web.Application) -> None:
        await adapter.close()

    return shutdown
