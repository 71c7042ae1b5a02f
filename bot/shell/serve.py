"""Start `copbot serve`: check that something is configured, migrate the database, build the
web application, run it."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import timedelta

from aiohttp import web

from bot.courier import LEASE
from bot.request_body import is_loopback
from bot.shell.runtime import Runtime
from bot.shell.web import STATUS, build_app
from bot.vocabulary.errors import ConfigError
from storage.db import Database

LOOPBACK = "127.0.0.1"
LEASE_ENV = "COPBOT_OUTBOX_LEASE_SECONDS"
SHUTDOWN_SECONDS = 3.0  # SIGTERM: requests in hand get this long; then delivery stops (see web)
NOTHING_TO_SERVE = (
    "nothing is configured, so there is nothing to serve. For Slack set SLACK_BOT_TOKEN and "
    "SLACK_SIGNING_SECRET (docs/slack.md); for Teams set MicrosoftAppId and MicrosoftAppPassword "
    "(docs/teams.md), or COPBOT_TEAMS_LOCAL=1 to try Teams with the Bot Framework Emulator on this "
    "machine. `copbot chat` runs a community in the terminal with no setup."
)
LOCAL_ONLY = "Teams local mode (no authentication): listening on {host} only."


def _lease(env: Mapping[str, str]) -> timedelta:
    """How long a claimed post is this worker's (COPBOT_OUTBOX_LEASE_SECONDS; tests shorten it)."""
    raw = (env.get(LEASE_ENV) or "").strip()
    if not raw:
        return LEASE
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0.0
    if not 1 <= seconds <= 3600:
        raise ConfigError(f"{LEASE_ENV} must be a number of seconds from 1 to 3600.")
    return timedelta(seconds=seconds)


async def make_app(env: Mapping[str, str]) -> web.Application:
    """The application, or `ConfigError` when no endpoint is configured (never an open one)."""
    db = Database(env.get("DATABASE_URL"))
    app = build_app(Runtime(db, outbox_lease=_lease(env)), env)
    if all(app[STATUS].get(name) == "off" for name in ("slack", "teams")):
        await db.dispose()
        raise ConfigError(NOTHING_TO_SERVE)
    await db.migrate()
    return app


def run_server(host: str, port: int, env: Mapping[str, str]) -> int:
    loop = asyncio.new_event_loop()
    app = loop.run_until_complete(make_app(env))
    if app[STATUS].get("teams") == "local" and not is_loopback(host):
        host = LOOPBACK  # an unauthenticated endpoint is never reachable from another machine
    if app[STATUS].get("teams") == "local":
        print(LOCAL_ONLY.format(host=host), flush=True)
    web.run_app(
        app,
        host=host,
        port=port,
        loop=loop,
        print=lambda line: print(line, flush=True),
        shutdown_timeout=SHUTDOWN_SECONDS,
    )
    return 0
