"""Slack adapter (slack-bolt): translates Slack requests to neutral events and posts to Block Kit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohttp import web

    from bot.runtime import Runtime


def attach(app: "web.Application", runtime: "Runtime", env: Mapping[str, str]) -> str:
    """Add Slack's routes to ``app`` when configured; returns a status word for /healthz."""
    return "off"
