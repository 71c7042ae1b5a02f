"""One policy for what arrives over HTTP, for every endpoint: the size is checked before the body
is read, the bytes are checked (signature or token) before anything is parsed, and whatever is
malformed gets a 4xx. An error nobody foresaw is a bare 500 whose log line names its type and
place, never a traceback or a body (bodies hold what members wrote)."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.client_exceptions import ClientPayloadError

log = logging.getLogger("copbot.http")

MAX_BODY_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 64  # real Slack and Teams payloads nest about 10 deep


def where(error: BaseException) -> str:
    """Where an error was raised (file:line), for a log line: never its message, which may quote
    what a member wrote."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "?"
    frame = frames[-1]
    return f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}"


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` (an address or a name) is this machine."""
    if not host:
        return False
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bad_request(reason: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=reason, content_type="text/plain")


async def read_body(request: web.Request) -> bytes:
    """The raw body: 413 when it is declared larger than we take (before reading it), 400 when
    it cannot be read whole. A sender that goes away mid-way usually gets nothing: aiohttp
    cancels the handler while it reads, and nothing of the body goes on."""
    declared = request.content_length
    if declared is not None and declared > MAX_BODY_BYTES:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY_BYTES, actual_size=declared)
    try:
        return await request.read()
    except web.HTTPException:
        raise
    except (ClientPayloadError, ConnectionError, asyncio.IncompleteReadError, EOFError, ValueError) as error:
        raise bad_request(f"incomplete body ({type(error).__name__})") from None


def utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request("the body is not UTF-8") from None


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            break
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def json_object(text: str) -> dict[str, Any]:
    """``text`` as a JSON object: 400 when it is not JSON, not an object, or absurdly nested."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise bad_request("the body is not JSON") from None
    if not isinstance(value, dict):
        raise bad_request("the body is not a JSON object")
    check_depth(value)
    return value


def check_depth(value: Any) -> None:
    """400 for parsed JSON nested deeper than any real payload."""
    if _depth(value) > MAX_JSON_DEPTH:
        raise bad_request("the JSON is nested too deeply")


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_policy(request: web.Request, handler: Handler) -> web.StreamResponse:
    """4xx answers pass through; anything unforeseen becomes a bare 500 and one log line."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except asyncio.CancelledError:
        raise
    except Exception as error:  # noqa: BLE001 - the log gets the kind and place, never the body
        log.error("%s %s failed: %s at %s", request.method, request.path, type(error).__name__, where(error))
        return web.Response(status=500, text="internal error", content_type="text/plain")
