"""A local fake Bot Connector service (the Teams side of the Bot Framework) for tests: aiohttp on
127.0.0.1 with a random port, recording every call the bot makes, able to fail the next calls."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class ConnectorCall:
    """One request the bot made: ``kind`` is reply | send | update | create | member."""

    kind: str
    method: str
    conversation_id: str
    activity_id: str | None  # the replied-to (reply) or updated (update) activity
    body: dict[str, Any]
    answered_with: int = 200
    message_id: str | None = None  # the id the fake gave a new message (send, reply)

    @property
    def card(self) -> dict[str, Any] | None:
        """The Adaptive Card in the activity, if any."""
        for attachment in self.body.get("attachments") or []:
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                return attachment.get("content")
        return None

    @property
    def card_text(self) -> str:
        """Every TextBlock's text in the card, one per line (still escaped)."""
        card = self.card or {}
        return "\n".join(b.get("text", "") for b in card.get("body", []) if b.get("type") == "TextBlock")

    def buttons(self) -> list[dict[str, Any]]:
        """Every Action.Submit on the card (action sets in the body and top-level actions)."""
        card = self.card or {}
        actions = list(card.get("actions", []))
        for element in card.get("body", []):
            if element.get("type") == "ActionSet":
                actions += element.get("actions", [])
        return [a for a in actions if a.get("type") == "Action.Submit"]


@dataclass
class Member:
    teams_id: str
    aad_object_id: str
    name: str


@dataclass
class FakeBotConnector:
    """Start with ``await fake.start()``; ``fake.service_url`` goes into test activities."""

    calls: list[ConnectorCall] = field(default_factory=list)
    members: dict[str, Member] = field(default_factory=dict)
    chats: dict[str, list[str]] = field(default_factory=dict)  # created conversation id → member ids
    _failures: list[tuple[int, str | None]] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1000))
    _server: TestServer | None = None

    # -- control -------------------------------------------------------------------------

    def add_member(self, teams_id: str, aad_object_id: str, name: str) -> None:
        member = Member(teams_id, aad_object_id, name)
        self.members[teams_id] = member
        self.members[aad_object_id] = member

    def fail_next(self, count: int, status: int = 429, retry_after: str | None = "1") -> None:
        """Answer the next ``count`` calls with ``status`` (and a Retry-After header if given)."""
        self._failures += [(status, retry_after)] * count

    def delivered(self, kind: str | None = None) -> list[ConnectorCall]:
        """Calls that succeeded (optionally of one kind)."""
        return [c for c in self.calls if c.answered_with < 300 and (kind is None or c.kind == kind)]

    def direct_messages(self, teams_id: str) -> list[ConnectorCall]:
        """What was sent into 1:1 conversations the bot created with ``teams_id``."""
        mine = {cid for cid, members in self.chats.items() if members == [teams_id]}
        return [c for c in self.delivered("send") if c.conversation_id in mine]

    @property
    def service_url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return str(self._server.make_url("/"))

    async def start(self) -> FakeBotConnector:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._send)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self._reply)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._update)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self._member)
        self._server = TestServer(app, host="127.0.0.1", port=0)
        await self._server.start_server()
        return self

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()

    # -- handlers ------------------------------------------------------------------------

    async def _record(self, request: web.Request, kind: str) -> tuple[ConnectorCall, web.Response | None]:
        body = json.loads(await request.text() or "{}")
        call = ConnectorCall(
            kind=kind,
            method=request.method,
            conversation_id=request.match_info.get("conversation", ""),
            activity_id=request.match_info.get("activity"),
            body=body,
        )
        self.calls.append(call)
        if self._failures:
            status, retry_after = self._failures.pop(0)
            call.answered_with = status
            headers = {"Retry-After": retry_after} if retry_after else {}
            error = {"error": {"code": "Throttled" if status == 429 else "Failed", "message": "fake failure"}}
            return call, web.json_response(error, status=status, headers=headers)
        return call, None

    async def _send(self, request: web.Request) -> web.Response:
        return await self._new_message(request, "send")

    async def _reply(self, request: web.Request) -> web.Response:
        return await self._new_message(request, "reply")

    async def _new_message(self, request: web.Request, kind: str) -> web.Response:
        call, failure = await self._record(request, kind)
        if failure:
            return failure
        call.answered_with = 201
        call.message_id = f"m{next(self._ids)}"
        return web.json_response({"id": call.message_id}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        call, failure = await self._record(request, "update")
        return failure or web.json_response({"id": call.activity_id}, status=200)

    async def _create(self, request: web.Request) -> web.Response:
        call, failure = await self._record(request, "create")
        if failure:
            return failure
        conversation_id = f"a:dm-{next(self._ids)}"
        self.chats[conversation_id] = [m.get("id") for m in call.body.get("members") or []]
        return web.json_response({"id": conversation_id, "activityId": None}, status=201)

    async def _member(self, request: web.Request) -> web.Response:
        call, failure = await self._record(request, "member")
        if failure:
            return failure
        member = self.members.get(request.match_info["member"])
        if member is None:
            call.answered_with = 404
            return web.json_response({"error": {"code": "MemberNotFoundInConversation", "message": "no"}}, status=404)
        return web.json_response({"id": member.teams_id, "aadObjectId": member.aad_object_id, "name": member.name})
