"""Teams through the real stack: Bot Framework activities POSTed to the running aiohttp app,
what the bot sent captured by the local fake Bot Connector."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import jwt
import pytest
from botframework.connector.auth import JwtTokenExtractor, MicrosoftAppCredentials
from sqlalchemy import select

from bot.shell.runtime import Runtime
from bot.vocabulary.conversation import Place, Post
from storage.db import Database
from storage.models import (
    Community,
    ConversationRef,
    LeadTurn,
    ProcessedEvent,
    ReflectionAnswer,
    SupportStatement,
    TopicVote,
    UndeliveredPost,
)
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.token_server import TokenServer, new_rsa_key, use_in_botbuilder
from tests.support.app import count_rows
from tests.support.teams_channel import APP_ID, CHANNEL, FAST, LOCAL, TeamsChannel, next_id, start_client

# -- the whole meeting --------------------------------------------------------------------------


async def test_a_whole_meeting_in_a_teams_channel(
    channel: TeamsChannel, sqlite_db: Database, fake: FakeBotConnector
) -> None:
    health = await channel.client.get("/healthz")
    assert (await health.json())["teams"] == "local"

    await channel.say("Ann", "@copbot setup North West")
    for who in ("Ann", "Ben", "Cara"):
        await channel.say(who, "@copbot join Peer Support Worker")
    await channel.say("Ann", "@copbot chairs set @Ann @Ben 12")
    assert channel.cards_with("Ann") and channel.cards_with("Ben")
    chairs = channel.public()[-1].card_text
    assert "Ann" in chairs and "Ben" in chairs

    # 1. the support round: one card, its tally updated in place
    await channel.say("Ann", "@copbot support")
    support = channel.latest_card("I will support myself today")
    support_id = channel.message_id(support)
    await channel.say("Ben", "taking standing breaks every 10 mins", in_chain_of=support_id)
    await channel.press("Cara", support, "Share", answer="asking for help", anonymous="false")
    await channel.press("Ann", channel.latest_card("I will support myself today"), "Close the round")
    support_sends = [
        c
        for c in channel.public()
        if c.kind in ("send", "reply") and "I will support myself today" in c.card_text and c.buttons()
    ]
    assert len(support_sends) == 1, "the support prompt is posted once, then updated"
    updates = [c for c in channel.public() if c.kind == "update" and c.activity_id == support_id]
    assert updates, "the live tally is updated in place (PUT)"
    async with sqlite_db.transaction() as session:
        statements = sorted(await session.scalars(select(SupportStatement.text)))
    assert statements == ["asking for help", "taking standing breaks every 10 mins"]

    # 2. reflection: six steps, answers in each step's reply chain, one on the card without a name
    await channel.say("Ann", "@copbot reflect Boundaries at work")
    for step in range(1, 7):
        card = channel.latest_card(f"Step {step} of 6")
        step_id = channel.message_id(card)
        if step == 3:
            await channel.press("Ben", card, "Share", answer="It went better than I feared", anonymous="true")
        else:
            await channel.say("Cara", f"My answer to step {step}", in_chain_of=step_id)
        if step == 2:
            await channel.say("Ben", "@copbot Felt unsure at first", in_chain_of=step_id)  # a reply with a mention
        if step < 6:
            await channel.press("Ann", channel.latest_card(f"Step {step} of 6"), "Next step")
        else:
            await channel.press("Ann", channel.latest_card("Step 6 of 6"), "End and summarise")
    async with sqlite_db.transaction() as session:
        answers = list(await session.scalars(select(ReflectionAnswer).order_by(ReflectionAnswer.id)))
    assert [a.step for a in answers] == [1, 2, 2, 3, 4, 5, 6]
    anonymous = [a for a in answers if a.step == 3][0]
    assert anonymous.member_id is None, "shared without a name: no author stored"
    echo = channel.cards_with("It went better than I feared")[0]
    assert echo.kind == "reply" and "Ben" not in echo.card_text, "shown in the step's chain, without a name"
    receipt = channel.private_to("Ben")
    assert "Only you see this code" in receipt, "the anonymous code goes to Ben in a 1:1 chat"
    summary = channel.latest_card("Summary of our reflection").card_text
    assert "My answer to step 1" in summary and "Felt unsure at first" in summary

    # 3. the vote: buttons on one card, the card updated in place
    await channel.say("Ann", "@copbot vote open 2")
    vote = channel.latest_card("what should our next session")
    vote_id = channel.message_id(vote)
    topic = vote.buttons()[2]["title"]
    await channel.press("Ben", vote, topic)
    await channel.press("Cara", channel.latest_card("what should our next session"), topic)
    vote_sends = [
        c for c in channel.public() if c.kind in ("send", "reply") and "what should our next session" in c.card_text
    ]
    assert len(vote_sends) == 1
    assert [c for c in channel.public() if c.kind == "update" and c.activity_id == vote_id]
    await channel.press("Ann", channel.latest_card("what should our next session"), "Close the vote")
    assert channel.cards_with("Our next lead topic")
    async with sqlite_db.transaction() as session:
        assert (await session.scalar(select(TopicVote))).status == "closed"

    # 4. who leads next: Cara volunteers on the card (which changes in place), a co-chair confirms
    await channel.say("Ann", "@copbot lead")
    lead_card = channel.latest_card("Who would like to lead")
    await channel.press("Cara", lead_card, "I'll lead")
    assert len(channel.cards_with("Who would like to lead")) == 2  # the card, then its update
    volunteered = channel.latest_card("Who would like to lead")
    assert volunteered.kind == "update" and channel.message_id(volunteered) == channel.message_id(lead_card)
    assert "Cara has volunteered" in volunteered.card_text
    await channel.press("Ann", channel.latest_card("Cara"), "Confirm")
    async with sqlite_db.transaction() as session:
        turns = list(await session.scalars(select(LeadTurn)))
    assert [t.status for t in turns if t.status != "proposed"][-1] == "confirmed"
    assert "Cara" in [c for c in channel.public() if c.kind != "update"][-1].card_text

    # nothing was left undelivered, and every card was a real Adaptive Card
    assert await count_rows(sqlite_db, UndeliveredPost) == 0
    for call in fake.delivered():
        if call.kind in ("send", "reply", "update"):
            assert call.card and call.card["type"] == "AdaptiveCard"


async def test_channel_chatter_is_neither_handled_nor_kept(
    channel: TeamsChannel, sqlite_db: Database, fake: FakeBotConnector
) -> None:
    await channel.say("Ann", "@copbot setup North West")
    before = (await count_rows(sqlite_db, ProcessedEvent), len(fake.calls))
    await channel.say("Ben", "anyone for lunch?")  # a new post, no command
    await channel.say("Ben", "yes please", in_chain_of="1699999999999")  # a chain that is not the bot's
    assert (await count_rows(sqlite_db, ProcessedEvent), len(fake.calls)) == before


async def test_a_card_submitted_twice_counts_once(channel: TeamsChannel, sqlite_db: Database) -> None:
    await channel.say("Ann", "@copbot setup North West")
    await channel.say("Ann", "@copbot support")
    card = channel.latest_card("I will support myself today")
    first = await channel.press("Ben", card, "Share", answer="being open to learning", anonymous="true")
    again = dict(first, id=next_id())  # Teams gives the second click a new activity id
    assert await channel.post(again) == 201
    await channel.post(first)  # and a redelivery of the same activity
    await channel.idle()
    async with sqlite_db.transaction() as session:
        assert list(await session.scalars(select(SupportStatement.text))) == ["being open to learning"]
    assert channel.private_to("Ben").count("Only you see this code") == 1


async def test_member_text_cannot_inject_markup_or_mentions(channel: TeamsChannel, fake: FakeBotConnector) -> None:
    await channel.say("Ann", "@copbot setup North West")
    await channel.say("Ann", "@copbot support")
    support_id = channel.message_id(channel.latest_card("I will support myself today"))
    hostile = "**shouting** [click me](https://evil.example) &lt;at&gt;everyone&lt;/at&gt; <at>Ann</at>"
    await channel.say("Ben", hostile, in_chain_of=support_id)
    await channel.say("Ann", "@copbot close support")
    shown = [c for c in fake.delivered() if "shouting" in json.dumps(c.card)]
    assert shown
    for call in shown:
        assert "msteams" not in call.body.get("entities", []) and not call.body.get("entities")
        text = call.card_text
        for markup in (r"(?<!\\)\*(?<!\\)\*", r"(?<!\\)\]\(", r"(?<!\\)<at"):
            assert not re.search(markup, text), f"unescaped {markup} in {text!r}"
        assert "\\*\\*shouting\\*\\*" in text and "\\[click me\\]" in text
        assert "entities" not in json.dumps(call.card.get("msteams", {}))  # type: ignore[union-attr]


# -- proactive posts and restarts ---------------------------------------------------------------


async def test_a_proactive_post_after_a_restart(
    sqlite_db: Database, clock: Any, fake: FakeBotConnector, env_clean: None
) -> None:
    client = await start_client(sqlite_db, clock, LOCAL)
    first = TeamsChannel(client, fake)
    await first.say("Ann", "@copbot setup North West")
    await client.close()

    runtime = Runtime(sqlite_db, clock)  # a new process over the same database
    from aiohttp import web

    from adapters.teams import attach

    attach(web.Application(), runtime, LOCAL)
    calls_before = len(fake.calls)
    await runtime.post(
        Place("teams", CHANNEL, "19:team@thread.tacv2"), [Post("Reminder: we meet on Thursday.", key="reminder:1")]
    )
    await runtime.drain()
    sent = fake.calls[calls_before:]
    assert [(c.kind, c.conversation_id) for c in sent] == [("send", CHANNEL)]
    assert "Reminder: we meet on Thursday." in sent[0].card_text
    async with sqlite_db.transaction() as session:
        stored = json.loads(await session.scalar(select(ConversationRef.reference)))
    assert stored["serviceUrl"] == fake.service_url and "user" not in stored


# -- rate limits ---------------------------------------------------------------------------------


async def test_a_429_is_delivered_later(channel: TeamsChannel, sqlite_db: Database, fake: FakeBotConnector) -> None:
    await channel.say("Ann", "@copbot setup North West")
    fake.fail_next(1, status=429, retry_after="1")
    await channel.say("Ann", "@copbot support")
    attempts = [c for c in fake.calls if "I will support myself today" in c.card_text]
    assert attempts[0].answered_with == 429 and attempts[-1].answered_with < 300
    assert len(attempts) == 2
    assert await count_rows(sqlite_db, UndeliveredPost) == 0


async def test_a_post_that_cannot_be_delivered_is_recorded(
    channel: TeamsChannel, sqlite_db: Database, fake: FakeBotConnector
) -> None:
    await channel.say("Ann", "@copbot setup North West")
    fake.fail_next(1, status=403, retry_after=None)  # the bot was removed from the team
    await channel.say("Ann", "@copbot support")
    async with sqlite_db.transaction() as session:
        undelivered = list(await session.scalars(select(UndeliveredPost)))
    assert [u.key for u in undelivered] == ["support:1"] and "403" in undelivered[0].reason


# -- authentication -------------------------------------------------------------------------------


async def test_with_an_app_id_unauthenticated_forged_and_unverifiable_requests_get_401(
    sqlite_db: Database,
    clock: Any,
    fake: FakeBotConnector,
    env_clean: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Guards README "Security", `POST /api/messages`: "Then the Bot Framework token: no token,
    a forged token or an unverifiable one is a 401." botbuilder's own check runs for real, its
    signing keys fetched from a local key server (tests/fakes/token_server.py) instead of
    Microsoft's. Forged: signed with HS256 under the published key's id (by someone who knows
    the id but not the key), and signed by another RSA key under that id. Unverifiable: a
    correctly signed token while the keys cannot be fetched. Each is refused for its own reason
    (the error type copbot logs), and the same activity with a correctly signed token is taken,
    so no 401 here comes from a check that refuses everything. Proved: with
    ``TeamsEndpoint.messages`` (adapters/teams/app.py) going on after the check raised, in a
    scratch copy, the refused requests are taken and this test fails."""
    caplog.set_level(logging.INFO)
    # copbot's own posts carry a token from Microsoft Entra, which a test cannot reach.
    monkeypatch.setattr(MicrosoftAppCredentials, "get_access_token", lambda self, force_refresh=False: "outbound")
    keys = await TokenServer().start()
    use_in_botbuilder(monkeypatch, keys)
    env = {**FAST, "MicrosoftAppId": APP_ID, "MicrosoftAppPassword": "secret"}
    client = await start_client(sqlite_db, clock, env)
    try:
        assert (await (await client.get("/healthz")).json())["teams"] == "authenticated"
        teams = TeamsChannel(client, fake)
        body = teams.activity("Ann", "@copbot setup North West")

        def refused_for(headers: dict[str, str]) -> str:
            """Why copbot refused the last request (the error type it logged)."""
            found = re.findall(r"teams: rejected an unauthenticated request \((\w+)\)", caplog.text)
            assert found, headers
            return found[-1]

        claims = keys.claims(APP_ID, fake.service_url)
        hs256 = jwt.encode(
            claims, "a key that is not the Bot Connector signing key", algorithm="HS256", headers={"kid": keys.key.kid}
        )
        another_key = keys.mint(claims, signed_by=new_rsa_key())
        reasons = {}
        for name, headers in {
            "no token": {},
            "not a token": {"Authorization": "Bearer not.a.token"},
            "not a bearer token": {"Authorization": "Basic YW5uOnNlY3JldA=="},
            "forged with HS256": {"Authorization": f"Bearer {hs256}"},
            "forged with another key": {"Authorization": f"Bearer {another_key}"},
        }.items():
            assert await teams.post(body, headers) == 401, name
            reasons[name] = refused_for(headers)
        assert reasons == {
            "no token": "PermissionError",
            "not a token": "DecodeError",
            "not a bearer token": "PermissionError",
            "forged with HS256": "Exception",  # botbuilder: "Token signing algorithm not in allowed list"
            "forged with another key": "InvalidSignatureError",
        }
        assert keys.requests[:2] == ["/v1/.well-known/openid-configuration", "/v1/.well-known/keys"]

        # Unverifiable: a correctly signed token, and the keys cannot be fetched.
        await keys.close()
        monkeypatch.setattr(JwtTokenExtractor, "metadataCache", {})
        assert await teams.post(body, {"Authorization": f"Bearer {keys.mint(claims)}"}) == 401
        assert refused_for({}) == "ConnectionError"  # the key server's port is closed
        await teams.idle()
        for model in (Community, ConversationRef, ProcessedEvent):
            assert await count_rows(sqlite_db, model) == 0
        assert fake.calls == []

        # The same activity, its token correctly signed and the keys reachable: taken.
        again = await TokenServer(keys=[keys.key]).start()
        try:
            use_in_botbuilder(monkeypatch, again)
            assert await teams.post(body, {"Authorization": f"Bearer {again.mint(claims)}"}) == 201
            await teams.idle()
        finally:
            await again.close()
        assert await count_rows(sqlite_db, Community) == 1
    finally:
        await client.close()


async def test_local_mode_rejects_what_is_not_an_activity(channel: TeamsChannel) -> None:
    response = await channel.client.post("/api/messages", data="hello", headers={"Content-Type": "text/plain"})
    assert response.status == 415
    response = await channel.client.post(
        "/api/messages", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status == 400


async def test_logs_never_carry_what_members_wrote(channel: TeamsChannel, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await channel.say("Ann", "@copbot setup North West")
    await channel.say("Ann", "@copbot support")
    card = channel.latest_card("I will support myself today")
    await channel.say("Ben", "my private worry about the ward", in_chain_of=channel.message_id(card))
    await channel.press("Cara", card, "Share", answer="my secret plan", anonymous="true")
    await channel.say("Ben", "gossip nobody asked the bot about")
    await channel.say("Ann", "@copbot frobnicate the sensitive thing")
    logged = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    for words in ("private worry", "secret plan", "gossip", "sensitive thing"):
        assert words not in logged
