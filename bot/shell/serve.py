"""Start `copbot serve`: check that something is configured, migrate the database, build the
web application, run it."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta

from aiohttp import web

from bot.courier import LEASE
from bot.request_body import is_loopback
from bot.shell.runtime import Runtime
from bot.shell.web import STATUS, build_app
from bot.vocabulary.errors import ConfigError
from bot.vocabulary.national_office import national_office_from_env
from storage.db import Database
from storage.retention import Keep

LOOPBACK = "127.0.0.1"
LEASE_ENV = "COPBOT_OUTBOX_LEASE_SECONDS"
UNDELIVERED_ENV = "COPBOT_UNDELIVERED_DAYS"
RETENTION_ENV = "COPBOT_RETENTION_DAYS"
DEADLINE_ENV = "COPBOT_DISPATCH_DEADLINE_SECONDS"
SHUTDOWN_SECONDS = 3.0  # SIGTERM: requests in hand get this long; then delivery stops (see web)
NOTHING_TO_SERVE = (
    "nothing is configured, so there is nothing to serve. For Slack set SLACK_BOT_TOKEN and "
    "SLACK_SIGNING_SECRET (docs/slack.md); for Teams set MicrosoftAppId and MicrosoftAppPassword "
    "(docs/teams.md), or COPBOT_TEAMS_LOCAL=1 to try Teams with the Bot Framework Emulator on this "
    "machine. `copbot chat` runs a community in the terminal with no setup."
)
LOCAL_ONLY = "Teams local mode (no authentication): listening on {host} only."


def _number(env: Mapping[str, str], name: str, low: float, high: float, unit: str) -> float | None:
    """A numeric setting from ``low`` to ``high``; None when unset; `ConfigError` in one line when not."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ConfigError(f"{name} must be a number of {unit} from {low:g} to {high:g}.")
    return value


def _lease(env: Mapping[str, str]) -> timedelta:
    """How long a worker's claim on a lane lasts unrenewed (COPBOT_OUTBOX_LEASE_SECONDS; tests shorten it)."""
    seconds = _number(env, LEASE_ENV, 1, 3600, "seconds")
    return LEASE if seconds is None else timedelta(seconds=seconds)


def keep_from(env: Mapping[str, str]) -> Keep:
    """How long undelivered posts keep their body (COPBOT_UNDELIVERED_DAYS, default 30) and
    what members wrote is kept (COPBOT_RETENTION_DAYS, default 365)."""
    keep = Keep()
    undelivered = _number(env, UNDELIVERED_ENV, 1, 365, "days")
    if undelivered is not None:
        keep = replace(keep, undelivered=timedelta(days=undelivered))
    texts = _number(env, RETENTION_ENV, 1, 3650, "days")
    if texts is not None:
        keep = replace(keep, member_texts=timedelta(days=texts))
    return keep


async def make_app(env: Mapping[str, str]) -> web.Application:
    """The application, or `ConfigError` when no endpoint is configured (never an open one)."""
    db = Database(env.get("DATABASE_URL"))
    app = build_app(
        Runtime(
            db,
            outbox_lease=_lease(env),
            keep=keep_from(env),
            dispatch_deadline=_number(env, DEADLINE_ENV, 0.5, 60, "seconds"),
            national_office=national_office_from_env(env),
        ),
        env,
    )
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
