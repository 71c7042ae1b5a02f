"""Teams adapter (botbuilder CloudAdapter): translates activities to neutral events and posts to Adaptive Cards."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohttp import web

    from bot.runtime import Runtime


def attach(app: "web.Application", runtime: "Runtime", env: Mapping[str, str]) -> str:
    """Add Teams' routes to ``app`` when configured; returns a status word for /healthz."""
    return "off"
