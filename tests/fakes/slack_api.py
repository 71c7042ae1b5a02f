"""A local fake of the Slack Web API (and of Socket Mode's websocket) for tests.

An aiohttp server on 127.0.0.1 at a random port. Every call is recorded as a `Call` (method and
parameters, from the query, a form or a JSON body). It answers ``auth.test``,
``chat.postMessage`` (increasing ts), ``chat.update``, ``chat.postEphemeral``, ``views.open``,
``users.info``, ``apps.connections.open``, and channel canvases (``conversations.canvases.create``:
one per channel, else ``channel_canvas_already_exists``; ``canvases.edit`` with one ``replace``:
``canvas_not_found`` once `delete_canvas` removed it; `canvas_of` reads a channel's markdown);
`fail_next` makes the next calls answer 429 with
Retry-After (or any status / Slack error). Socket Mode: ``apps.connections.open`` hands out
``ws://127.0.0.1:<port>/socket``; `send_envelope` pushes an envelope to the connected client
and `acks` collects its acknowledgements.

    async with FakeSlackApi() as slack:
        env = {"SLACK_API_URL": slack.api_url, ...}
        ...
        assert slack.calls_to("chat.postMessage")[0].params["channel"] == "C1"
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
TEAM_ID = "T1"


@dataclass
class Call:
    """One request to the fake: ``method`` (e.g. ``chat.postMessage``) and its parameters."""

    method: str
    params: dict[str, Any]
    at: float
    status: int = 200
    token: str = ""

    @property
    def text(self) -> str:
        """The message's fallback text plus every text in its blocks (what a reader sees)."""
        parts = [str(self.params.get("text") or "")]
        parts += _texts(self.params.get("blocks"))
        parts += _texts(self.params.get("view"))
        return "\n".join(p for p in parts if p)

    def buttons(self) -> list[dict[str, Any]]:
        """Every button element in the message's blocks."""
        found: list[dict[str, Any]] = []
        for block in _as_list(self.params.get("blocks")):
            if block.get("type") == "actions":
                found += [e for e in block.get("elements", []) if e.get("type") == "button"]
        return found


@dataclass
class Failure:
    status: int
    error: str
    retry_after: float | None
    method: str | None


def _as_list(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return value if isinstance(value, list) else []


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    found: list[str] = []
    if isinstance(value, dict):
        text = value.get("text")
        if isinstance(text, str):
            found.append(text)
        for key, inner in value.items():
            if key != "text" or not isinstance(inner, str):
                found += _texts(inner)
    elif isinstance(value, list):
        for inner in value:
            found += _texts(inner)
    return found


@dataclass
class FakeSlackApi:
    """The fake. Use as ``async with FakeSlackApi() as slack`` (or `start` / `close`)."""

    user_names: dict[str, str] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    acks: list[dict[str, Any]] = field(default_factory=list)
    uploads: dict[str, bytes] = field(default_factory=dict)
    port: int = 0

    def __post_init__(self) -> None:
        self._failures: list[Failure] = []
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._sockets: list[web.WebSocketResponse] = []
        self._connected = asyncio.Event()
        self._changed = asyncio.Condition()
        self._gates: dict[str, asyncio.Event] = {}
        self.held: dict[str, int] = {}  # calls now waiting at a gate (`hold`), by method
        self.canvases: dict[str, str] = {}  # canvas id → its markdown
        self.channel_canvas: dict[str, str] = {}  # channel id → its canvas id

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> FakeSlackApi:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_get("/socket", self._socket)
        app.router.add_post("/response/{path:.*}", self._response)
        app.router.add_post("/upload/{file_id}", self._upload)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        for socket in list(self._sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlackApi:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    @property
    def response_url(self) -> str:
        """Where slash commands' ``response_url`` points (recorded as method "response_url")."""
        return f"http://127.0.0.1:{self.port}/response/commands/1"

    # -- what tests arrange ----------------------------------------------------------------

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 429,
        retry_after: float | None = 1,
        error: str = "ratelimited",
        method: str | None = None,
    ) -> None:
        """Answer the next ``count`` calls (of ``method``, or any but auth.test) with ``status``."""
        for _ in range(count):
            self._failures.append(Failure(status, error, retry_after, method))

    def hold(self, method: str) -> asyncio.Event:
        """Calls to ``method`` wait (a slow Slack) until the returned event is set."""
        return self._gates.setdefault(method, asyncio.Event())

    def delete_canvas(self, channel: str) -> None:
        """A member deletes the channel's canvas (its id answers canvas_not_found from now on)."""
        canvas_id = self.channel_canvas.pop(channel)
        del self.canvases[canvas_id]

    # -- what tests read -------------------------------------------------------------------

    def canvas_of(self, channel: str) -> str | None:
        """The markdown of the channel's canvas, as Slack keeps it (None: it has none)."""
        canvas_id = self.channel_canvas.get(channel)
        return self.canvases.get(canvas_id) if canvas_id else None

    def canvas_calls(self) -> list[Call]:
        """Every call to the canvas methods, whatever Slack answered."""
        return [c for c in self.calls if c.method in ("conversations.canvases.create", "canvases.edit")]

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.status == 200]

    def posts(self, channel: str | None = None) -> list[Call]:
        """Successful chat.postMessage calls (optionally to one channel)."""
        return [c for c in self.calls_to("chat.postMessage") if channel is None or c.params.get("channel") == channel]

    def ephemerals(self, user: str | None = None) -> list[Call]:
        return [c for c in self.calls_to("chat.postEphemeral") if user is None or c.params.get("user") == user]

    def find_post(self, contains: str) -> Call:
        """The latest chat.postMessage whose text contains ``contains``."""
        for call in reversed(self.posts()):
            if contains in call.text:
                return call
        raise AssertionError(f"no chat.postMessage contains {contains!r}")

    def ts_of(self, call: Call) -> str:
        return str(call.params["_ts"])

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Wait until ``predicate()`` is truthy (re-checked on every call); return its value."""
        deadline = time.monotonic() + timeout
        async with self._changed:
            while True:
                value = predicate()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("the fake Slack API did not see what was expected in time")
                try:
                    await asyncio.wait_for(self._changed.wait(), left)
                except TimeoutError:
                    pass

    # -- Socket Mode -----------------------------------------------------------------------

    async def wait_connected(self, timeout: float = 5.0) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def send_envelope(self, envelope: dict[str, Any]) -> None:
        """Push one Socket Mode envelope (``envelope_id``, ``type``, ``payload``, …)."""
        await self.wait_connected()
        await self._sockets[-1].send_str(json.dumps(envelope))

    # -- the server ------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    params.update(body)
            else:
                params.update(dict(await request.post()))
        for key in ("blocks", "view"):
            if isinstance(params.get(key), str):
                try:
                    params[key] = json.loads(params[key])
                except ValueError:
                    pass
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        if method in self._gates and not self._gates[method].is_set():
            self.held[method] = self.held.get(method, 0) + 1
            async with self._changed:
                self._changed.notify_all()
            try:
                await self._gates[method].wait()
            finally:
                self.held[method] -= 1
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        failure = self._take_failure(method)
        call = Call(method, params, time.monotonic(), failure.status if failure else 200, token)
        if failure is not None:
            await self._record(call)
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            if failure.status >= 500:
                return web.Response(status=failure.status, text="upstream failure", headers=headers)
            return web.json_response({"ok": False, "error": failure.error}, status=failure.status, headers=headers)
        body = self._answer(method, params)
        await self._record(call)
        return web.json_response(body)

    async def _upload(self, request: web.Request) -> web.Response:
        """files.uploadV2's second step: the bytes, to the URL getUploadURLExternal gave."""
        file_id = request.match_info["file_id"]
        self.uploads[file_id] = await request.read()
        return web.Response(text=f"OK - {len(self.uploads[file_id])}")

    def files_shared(self) -> list[tuple[Call, bytes]]:
        """Each completed upload with its bytes (files.completeUploadExternal)."""
        shared = []
        for call in self.calls_to("files.completeUploadExternal"):
            files = call.params.get("files")
            files = json.loads(files) if isinstance(files, str) else files
            for item in files or []:
                shared.append((call, self.uploads.get(item.get("id"), b"")))
        return shared

    async def _response(self, request: web.Request) -> web.Response:
        await self._record(Call("response_url", await request.json(), time.monotonic(), 200, ""))
        return web.Response(text="ok")

    def _take_failure(self, method: str) -> Failure | None:
        if method == "auth.test":
            return None
        for i, failure in enumerate(self._failures):
            if failure.method in (None, method):
                return self._failures.pop(i)
        return None

    async def _record(self, call: Call) -> None:
        self.calls.append(call)
        async with self._changed:
            self._changed.notify_all()

    def _next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://fake.slack.test/",
                "team": "Test",
                "user": "copbot",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        if method == "chat.postMessage":
            ts = self._next_ts()
            params["_ts"] = ts
            return {
                "ok": True,
                "channel": params.get("channel"),
                "ts": ts,
                "message": {"ts": ts, "user": BOT_USER_ID, "bot_id": BOT_ID, "text": params.get("text")},
            }
        if method == "chat.update":
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts"), "text": params.get("text")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "views.open":
            return {"ok": True, "view": {"id": f"V{next(self._ts)}", "type": "modal"}}
        if method == "users.info":
            user = str(params.get("user", ""))
            name = self.user_names.get(user, "")
            return {
                "ok": True,
                "user": {
                    "id": user,
                    "name": name.lower().replace(" ", "."),
                    "real_name": name,
                    "profile": {"display_name": name, "real_name": name},
                },
            }
        if method == "reactions.add":
            return {"ok": True}
        if method == "conversations.canvases.create":
            channel = str(params.get("channel_id", ""))
            if channel in self.channel_canvas:
                return {"ok": False, "error": "channel_canvas_already_exists"}
            canvas_id = f"F0CANVAS{next(self._ts):04d}"
            self.channel_canvas[channel] = canvas_id
            self.canvases[canvas_id] = str((params.get("document_content") or {}).get("markdown", ""))
            return {"ok": True, "canvas_id": canvas_id}
        if method == "canvases.edit":
            canvas_id = str(params.get("canvas_id", ""))
            changes = params.get("changes") or []
            if canvas_id not in self.canvases:
                return {"ok": False, "error": "canvas_not_found"}
            if len(changes) != 1 or changes[0].get("operation") != "replace" or "section_id" in changes[0]:
                return {"ok": False, "error": "invalid_arguments"}
            self.canvases[canvas_id] = str(changes[0]["document_content"]["markdown"])
            return {"ok": True}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts)}"
            return {"ok": True, "upload_url": f"http://127.0.0.1:{self.port}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = params.get("files")
            files = json.loads(files) if isinstance(files, str) else files
            return {"ok": True, "files": [{"id": f.get("id"), "title": f.get("title")} for f in files or []]}
        if method == "apps.connections.open":
            return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"}
        return {"ok": False, "error": "unknown_method"}

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_str(json.dumps({"type": "hello", "num_connections": 1}))
        self._connected.set()
        try:
            async for message in socket:
                if message.type == WSMsgType.TEXT:
                    self.acks.append(json.loads(message.data))
                    async with self._changed:
                        self._changed.notify_all()
        finally:
            self._sockets.remove(socket)
        return socket


def slack_signed(
    body: bytes | str, content_type: str, secret: str = SECRET, timestamp: int | None = None
) -> dict[str, str]:
    """Headers with Slack's v0 signature over the raw bytes, made at ``timestamp`` (Unix
    seconds; now by default). By hand, not slack_sdk's `SignatureVerifier`: that one decodes
    the body as UTF-8 first, and hostile tests sign bytes that are not."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    raw = body.encode() if isinstance(body, str) else body
    digest = hmac.new(secret.encode(), b"v0:%d:" % timestamp + raw, hashlib.sha256).hexdigest()
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": "v0=" + digest,
    }


def event_callback(event: object, *, team: str = "T1", event_id: str = "Ev1", **extra: object) -> dict[str, Any]:
    """The Events API envelope around ``event`` (which hostile tests make any shape)."""
    return {"type": "event_callback", "team_id": team, "event_id": event_id, "event": event, **extra}


class SlackRequests:
    """Slack's side of the conversation with our app: builds the requests Slack would send to
    POST /slack/events (slash commands, Events API callbacks, button presses, modal
    submissions), signs them with the signing secret, and posts them with ``client`` (an aiohttp
    test client, or anything with ``post(path, data=, headers=)``)."""

    def __init__(
        self,
        client: Any,
        secret: str,
        *,
        channel: str = "C1",
        team: str = TEAM_ID,
        path: str = "/slack/events",
        response_url: str = "https://hooks.slack.test/commands/1",
    ) -> None:
        self.client = client
        self.response_url = response_url
        self.secret = secret
        self.channel = channel
        self.team = team
        self.path = path
        self._ids = itertools.count(1)

    def signed_headers(
        self, body: str, timestamp: int | None = None, content_type: str = "application/json"
    ) -> dict[str, str]:
        return slack_signed(body, content_type, self.secret, timestamp)

    async def send(
        self, body: str, content_type: str, *, headers: dict[str, str] | None = None, timestamp: int | None = None
    ) -> Any:
        all_headers = self.signed_headers(body, timestamp, content_type)
        all_headers.update(headers or {})
        return await self.client.post(self.path, data=body.encode(), headers=all_headers)

    # -- payloads ----------------------------------------------------------------------------

    def command_body(self, user: str, text: str, user_name: str = "") -> str:
        from urllib.parse import urlencode

        return urlencode(
            {
                "token": "legacy",
                "team_id": self.team,
                "team_domain": "test",
                "channel_id": self.channel,
                "channel_name": "cop",
                "user_id": user,
                "user_name": user_name or user.lower(),
                "command": "/cop",
                "text": text,
                "api_app_id": "A1",
                "response_url": self.response_url,
                "trigger_id": f"trigger.{next(self._ids)}",
            }
        )

    def event_body(self, event: dict[str, Any], event_id: str | None = None) -> str:
        inner = {"team": self.team, "channel": self.channel, "channel_type": "channel", "event_ts": event.get("ts", "")}
        wrapped = event_callback(
            {**inner, **event},
            team=self.team,
            event_id=event_id or f"Ev{next(self._ids):08d}",
            token="legacy",
            api_app_id="A1",
            event_time=int(time.time()),
            authorizations=[{"team_id": self.team, "user_id": BOT_USER_ID, "is_bot": True}],
        )
        return json.dumps(wrapped)

    def reply_event(
        self, user: str, text: str, thread_ts: str, *, parent_user_id: str = BOT_USER_ID, **extra: Any
    ) -> dict[str, Any]:
        ts = f"1800000000.{next(self._ids):06d}"
        return {
            "type": "message",
            "user": user,
            "text": text,
            "ts": ts,
            "thread_ts": thread_ts,
            "parent_user_id": parent_user_id,
            **extra,
        }

    def action_body(self, user: str, message_ts: str, element: dict[str, Any], user_name: str = "") -> str:
        from urllib.parse import urlencode

        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": user_name or user.lower(), "team_id": self.team},
            "api_app_id": "A1",
            "token": "legacy",
            "team": {"id": self.team, "domain": "test"},
            "channel": {"id": self.channel, "name": "cop"},
            "trigger_id": f"trigger.{next(self._ids)}",
            "container": {"type": "message", "message_ts": message_ts, "channel_id": self.channel},
            "message": {"type": "message", "ts": message_ts, "user": BOT_USER_ID, "bot_id": BOT_ID},
            "response_url": "https://hooks.slack.test/actions/1",
            "actions": [
                {
                    "type": "button",
                    "block_id": "b1",
                    "action_id": element["action_id"],
                    "value": element.get("value", ""),
                    "text": element.get("text"),
                    "action_ts": f"{time.time():.6f}.{next(self._ids)}",
                }
            ],
        }
        return urlencode({"payload": json.dumps(payload)})

    def view_submission_body(self, user: str, view: dict[str, Any], values: dict[str, Any], user_name: str = "") -> str:
        from urllib.parse import urlencode

        payload = {
            "type": "view_submission",
            "team": {"id": self.team, "domain": "test"},
            "user": {"id": user, "username": user_name or user.lower(), "team_id": self.team},
            "api_app_id": "A1",
            "token": "legacy",
            "trigger_id": f"trigger.{next(self._ids)}",
            "view": {
                **view,
                "id": f"V{next(self._ids)}",
                "team_id": self.team,
                "type": "modal",
                "state": {"values": values},
                "hash": "h",
            },
        }
        return urlencode({"payload": json.dumps(payload)})

    # -- the usual requests --------------------------------------------------------------------

    async def command(self, user: str, text: str, user_name: str = "") -> Any:
        return await self.send(self.command_body(user, text, user_name), "application/x-www-form-urlencoded")

    async def reply(
        self,
        user: str,
        text: str,
        thread_ts: str,
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        **extra: Any,
    ) -> Any:
        body = self.event_body(self.reply_event(user, text, thread_ts, **extra), event_id)
        headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"} if retry_num else None
        return await self.send(body, "application/json", headers=headers)

    async def event(self, event: dict[str, Any], event_id: str | None = None) -> Any:
        return await self.send(self.event_body(event, event_id), "application/json")

    async def press(self, user: str, message_ts: str, element: dict[str, Any]) -> Any:
        return await self.send(self.action_body(user, message_ts, element), "application/x-www-form-urlencoded")

    async def submit(self, user: str, view: dict[str, Any], text: str, *, anonymous: bool = False) -> Any:
        values: dict[str, Any] = {"answer": {"text": {"type": "plain_text_input", "value": text}}}
        if any(b.get("block_id") == "anonymous" for b in view.get("blocks", [])):
            chosen = [{"value": "anonymous", "text": {"type": "plain_text", "text": "Post without my name"}}]
            values["anonymous"] = {"choice": {"type": "checkboxes", "selected_options": chosen if anonymous else []}}
        body = self.view_submission_body(user, view, values)
        return await self.send(body, "application/x-www-form-urlencoded")


@dataclass
class SlackStack:
    """The real aiohttp app (`bot.shell.web.build_app`) on 127.0.0.1 talking to the fake Slack API."""

    slack: FakeSlackApi
    client: Any  # aiohttp.test_utils.TestClient
    requests: SlackRequests
    app: Any
    runtime: Any

    @property
    def adapter(self) -> Any:
        from adapters.slack import SLACK

        return self.app[SLACK]

    async def settle(self) -> None:
        """Wait until every acknowledged request is handled and its posts delivered."""
        await self.adapter.settle()


def slack_env(slack: FakeSlackApi, **extra: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "COPBOT_SLACK_PACE_PER_SECOND": "500",
        **extra,
    }


def running_stack(  # noqa: ANN201
    db: Any, clock: Any, user_names: dict[str, str] | None = None, *, slack: FakeSlackApi | None = None, **env: str
):
    """``async with running_stack(db, clock) as stack:`` — fake Slack, app, signed requests.
    ``slack``: a fake already running, shared (a restart, or a second worker, against one Slack)."""
    from contextlib import asynccontextmanager

    from bot.shell.runtime import Runtime
    from bot.shell.web import build_app
    from tests.support.app import client_for

    @asynccontextmanager
    async def shared() -> AsyncIterator[FakeSlackApi]:
        if slack is not None:
            yield slack
            return
        async with FakeSlackApi(user_names=dict(user_names or {})) as fresh:
            yield fresh

    @asynccontextmanager
    async def stack():  # noqa: ANN202
        async with shared() as fake:
            runtime = Runtime(db, clock)
            app = build_app(runtime, slack_env(fake, **env))
            client = client_for(app)
            await client.start_server()
            try:
                requests = SlackRequests(client, SECRET, response_url=fake.response_url)
                yield SlackStack(fake, client, requests, app, runtime)
            finally:
                await client.close()

    return stack()
