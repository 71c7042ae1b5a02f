"""Shared pieces of the tests that guard README "Security": hostile text a member may type, and
the check that what copbot shows never carries it raw."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from bot.request_body import read_body

# What a member may type to take over a screen: an ANSI clear-screen and a title change, NUL, a
# bell, a right-to-left override and a direction isolate.
HOSTILE = "ok \x1b[2J\x1b]0;pwned\x07 \x00 \u202eevil\u202c \u2066x\u2069 done"
RAW = "\x1b\x00\x07\u202e\u202c\u2066\u2069"  # none of these may reach a screen as they are
ESC_SHOWN = "␛[2J"  # ESC as its visible symbol


def raw_characters_in(text: str) -> list[str]:
    """The control and direction-override characters of ``HOSTILE`` found in ``text``."""
    return [ch for ch in RAW if ch in text]


def strings_in(value: object) -> list[str]:
    """Every string inside ``value`` (dicts, lists, and strings that hold JSON, as Slack's
    ``blocks`` and ``view`` arrive), for a check of everything a platform was asked to show."""
    if isinstance(value, str):
        if value[:1] in "[{":
            try:
                return [value, *strings_in(json.loads(value))]
            except ValueError:
                pass
        return [value]
    if isinstance(value, dict):
        return [s for key, inner in value.items() for s in (*strings_in(key), *strings_in(inner))]
    if isinstance(value, list | tuple):
        return [s for inner in value for s in strings_in(inner)]
    return []


def watch_read_body(monkeypatch: pytest.MonkeyPatch, where: str) -> asyncio.Future[BaseException | None]:
    """Wrap the endpoint's `read_body` (``where``: e.g. ``adapters.slack.app.read_body``); the
    future is set when a read has ended: to the error it ended in, or None when it handed on
    bytes to be parsed."""
    ended: asyncio.Future[BaseException | None] = asyncio.get_running_loop().create_future()

    async def watched(request: Any) -> bytes:
        try:
            raw = await read_body(request)
        except BaseException as error:
            ended.set_result(error)
            raise
        ended.set_result(None)
        return raw

    monkeypatch.setattr(where, watched)
    return ended
