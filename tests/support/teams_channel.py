"""A Teams channel driven through the real stack, for tests: people post, reply in chains and
press card buttons on the running aiohttp app; what the bot sent is in the fake Bot Connector."""

from __future__ import annotations

import itertools
from typing import Any

from aiohttp.test_utils import TestClient

from adapters.teams import endpoint_of
from bot.shell.runtime import Runtime
from bot.shell.web import build_app
from storage.db import Database
from tests.fakes.bot_connector import ConnectorCall, FakeBotConnector
from tests.support.app import client_for

CHANNEL = "19:north-west@thread.tacv2"
TENANT = "tenant-1"
BOT = {"id": "28:copbot-app", "name": "copbot"}
APP_ID = "11111111-2222-3333-4444-555555555555"
FAST = {"COPBOT_TEAMS_PACE": "1000/1"}
LOCAL = {**FAST, "COPBOT_TEAMS_LOCAL": "1"}  # the Emulator's unauthenticated mode, asked for
PEOPLE = {name: (f"29:{name.lower()}", f"aad-{name.lower()}") for name in ("Ann", "Ben", "Cara")}
_ids = itertools.count(1_700_000_000_000)


def next_id() -> str:
    """A fresh Teams message id."""
    return str(next(_ids))


class TeamsChannel:
    """One Teams channel: people post, reply in chains and press card buttons; ``fake`` holds
    what the bot sent."""

    def __init__(self, client: TestClient, fake: FakeBotConnector) -> None:
        self.client = client
        self.fake = fake
        for name, (teams_id, aad) in PEOPLE.items():
            fake.add_member(teams_id, aad, name)

    def activity(self, who: str, text: str = "", *, root: str | None = None, **extra: Any) -> dict[str, Any]:
        teams_id, aad = PEOPLE[who]
        message_id = next_id()
        entities = []
        if "@copbot" in text:
            text = text.replace("@copbot", "<at>copbot</at>")
            entities.append({"type": "mention", "text": "<at>copbot</at>", "mentioned": BOT})
        for name, (other_id, _) in PEOPLE.items():
            if f"@{name}" in text:
                text = text.replace(f"@{name}", f"<at>{name}</at>")
                entities.append(
                    {"type": "mention", "text": f"<at>{name}</at>", "mentioned": {"id": other_id, "name": name}}
                )
        body = {
            "type": "message",
            "id": message_id,
            "timestamp": "2026-11-26T10:00:00.000Z",
            "channelId": "msteams",
            "serviceUrl": self.fake.service_url,
            "from": {"id": teams_id, "aadObjectId": aad, "name": who},
            "recipient": BOT,
            "conversation": {
                "id": f"{CHANNEL};messageid={root or message_id}",
                "conversationType": "channel",
                "isGroup": True,
                "tenantId": TENANT,
            },
            "channelData": {
                "teamsChannelId": CHANNEL,
                "team": {"id": "19:team@thread.tacv2"},
                "tenant": {"id": TENANT},
            },
            "text": text,
            "entities": entities,
        }
        body.update(extra)
        return body

    async def post(self, body: dict[str, Any], headers: dict[str, str] | None = None) -> int:
        response = await self.client.post("/api/messages", json=body, headers=headers or {})
        await response.read()
        return response.status

    async def say(self, who: str, text: str, *, in_chain_of: str | None = None) -> None:
        """A message; ``in_chain_of`` = a bot message id: a reply in that post's reply chain."""
        assert await self.post(self.activity(who, text, root=in_chain_of)) == 201
        await self.idle()

    async def press(self, who: str, card: ConnectorCall | str, title: str, **inputs: str) -> dict[str, Any]:
        """Press the card's button titled ``title`` (with the card's inputs filled in)."""
        call = card if isinstance(card, ConnectorCall) else self.latest_card(card)
        card_id = self.message_id(call)
        action = next(a for a in call.buttons() if a["title"] == title)
        value = {**action["data"], **inputs}
        body = self.activity(who, "", root=card_id, replyToId=card_id, value=value)
        assert await self.post(body) == 201
        await self.idle()
        return body

    async def idle(self) -> None:
        await endpoint_of(self.client.app).idle()

    # -- what the bot sent -----------------------------------------------------------------

    def public(self) -> list[ConnectorCall]:
        return [
            c for c in self.fake.delivered() if c.conversation_id == CHANNEL and c.kind in ("send", "reply", "update")
        ]

    def message_id(self, call: ConnectorCall) -> str:
        """The Teams message id a posted (or updated) card has."""
        found = call.activity_id if call.kind == "update" else call.message_id
        assert found, f"{call.kind} has no message id"
        return found

    def cards_with(self, words: str) -> list[ConnectorCall]:
        return [c for c in self.public() if words in c.card_text]

    def latest_card(self, words: str) -> ConnectorCall:
        found = self.cards_with(words)
        assert found, f"no card with {words!r}; sent: {[c.card_text[:60] for c in self.public()]}"
        return found[-1]

    def private_to(self, who: str) -> str:
        """Everything sent to ``who`` in 1:1 chats (the bot opens one per private post)."""
        return "\n".join(c.card_text for c in self.fake.direct_messages(PEOPLE[who][0]))


async def start_client(db: Database, clock: Any, env: dict[str, str]) -> TestClient:
    """The real application (`bot.shell.web.build_app`) served on 127.0.0.1."""
    app = build_app(Runtime(db, clock), env)
    client = client_for(app)
    await client.start_server()
    return client
