"""Logging set-up. Logs never carry what members wrote: copbot's own messages name only ids and
counts, and third-party loggers that may dump request bodies (Bolt logs a whole request body at
INFO when a signature is invalid; botbuilder and aiohttp may log payloads) are held at WARNING."""

from __future__ import annotations

import logging
import os

# Loggers that can carry request bodies or SQL parameters (members' words) at INFO/DEBUG.
QUIET_LOGGERS = (
    "slack_bolt",
    "slack_sdk",
    "botbuilder",
    "botframework",
    "msrest",
    "aiohttp.access",
    "aiohttp.server",
    "alembic",
    "sqlalchemy",
    "aiosqlite",
    "asyncpg",
    "apscheduler",  # a line per tick
    "msal",  # Teams' token requests
    "urllib3",
    "requests_oauthlib",
)


def setup_logging(level: str | None = None) -> None:
    """Log to stderr (the terminal channel keeps stdout for the conversation)."""
    logging.basicConfig(
        level=(level or os.environ.get("LOG_LEVEL", "INFO")).upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    quiet_third_parties()


def quiet_third_parties() -> None:
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
