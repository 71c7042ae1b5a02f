"""POST /api/messages fed real published activities and hostile ones: Teams is off unless
configured, local mode is this machine's only and answers no address a request chooses, a token
must vouch for the serviceUrl, and whatever is malformed is a 4xx, never a 500."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from botframework.connector.auth import AuthenticateRequestResult, ClaimsIdentity
from sqlalchemy import func, select

from adapters.teams import endpoint_of
from adapters.teams.translate import to_incoming
from bot.shell.runtime import Runtime
from bot.shell.web import build_app
from storage.models import Community, ConversationRef, ProcessedEvent, ReflectionAnswer, SupportStatement
from tests.fakes.bot_connector import FakeBotConnector
from tests.fixtures import published
from tests.fixtures.payloads import replaced, without
from tests.support.app import client_for
from tests.support.app import count_rows as _count
from tests.support.security import HOSTILE, raw_characters_in, strings_in, watch_read_body
from tests.support.teams_channel import APP_ID, FAST, LOCAL, PEOPLE, TeamsChannel
from tests.support.teams_channel import start_client as _client
from tests.support.waiting import PATIENT_SECONDS

PUBLISHED = {name: getattr(published, name) for name in dir(published) if name.startswith("TEAMS_")}


def _at(fake: FakeBotConnector, activity: dict[str, Any]) -> dict[str, Any]:
    """A published activity sent to our fake connector instead of Microsoft's."""
    return {**copy.deepcopy(activity), "serviceUrl": fake.service_url}


# -- secure by default -------------------------------------------------------------------------


@pytest.mark.parametrize("env", [{}, {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}])
async def test_teams_is_off_unless_configured(sqlite_db, clock, env_clean, env):
    """Guards README "Security", `POST /api/messages` "(only with `MicrosoftAppId`, or
    `COPBOT_TEAMS_LOCAL=1`)", and `GET /healthz`: "Says which platforms are on (`"slack"`,
    `"teams"`) and lists `"endpoints"`." Proved in a scratch copy: with the platforms left out
    of ``healthz``'s answer, or every route listed as an endpoint (bot/shell/web.py), this fails."""
    app = build_app(Runtime(sqlite_db, clock), env)
    async with client_for(app) as client:
        health = await (await client.get("/healthz")).json()
        assert health["teams"] == "off"
        assert health["endpoints"] == (["POST /slack/events"] if env else [])
        response = await client.post("/api/messages", json=published.TEAMS_CHANNEL_MESSAGE_WITH_MENTION)
        assert response.status in (404, 405)
    assert await _count(sqlite_db, Community) == 0 and await _count(sqlite_db, ConversationRef) == 0


def _serve(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "Microsoft", "COPBOT_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot.shell.cli", "serve", "--port", "0", *args],
        capture_output=True,
        text=True,
        env={**clean, **env},
        timeout=timeout,
        cwd=Path(__file__).parent.parent,
    )


def test_serve_with_nothing_configured_says_how_instead_of_serving(tmp_path):
    """Guards README "Security": "With nothing configured it does not start; it says which
    variables to set." Proved: with the ``NOTHING_TO_SERVE`` check in ``make_app``
    (bot/shell/serve.py) removed in a scratch copy, `copbot serve` starts and this test fails."""
    done = _serve({"DATABASE_URL": f"sqlite:///{tmp_path}/c.db"})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    message = done.stderr.strip()
    assert message.startswith("copbot: nothing is configured")
    assert "SLACK_BOT_TOKEN" in message and "MicrosoftAppId" in message and "COPBOT_TEAMS_LOCAL" in message


def test_local_mode_listens_on_loopback_only_and_says_so(tmp_path):
    """Guards README "Security", `POST /api/messages`: "In local mode there is no token: the
    server listens on `127.0.0.1` only", even when told ``--host 0.0.0.0``. Proved: with the
    switch to ``LOOPBACK`` in ``run_server`` (bot/shell/serve.py) removed in a scratch copy,
    this test fails."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/c.db", "COPBOT_TEAMS_LOCAL": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.shell.cli", "serve", "--host", "0.0.0.0", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parent.parent,
        env={**{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "Microsoft"))}, **env},
    )
    try:
        assert process.stdout is not None
        first, second = process.stdout.readline(), process.stdout.readline()
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert "Teams local mode (no authentication): listening on 127.0.0.1 only." in first
    assert "127.0.0.1" in second and "0.0.0.0" not in second


def test_local_mode_with_an_app_id_is_a_configuration_error(tmp_path):
    done = _serve(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path}/c.db",
            "COPBOT_TEAMS_LOCAL": "1",
            "MicrosoftAppId": APP_ID,
            "MicrosoftAppPassword": "pw",
        }
    )
    assert done.returncode == 2 and "COPBOT_TEAMS_LOCAL" in done.stderr and "Traceback" not in done.stderr


async def test_healthz_lists_what_is_served(channel: TeamsChannel):
    """Guards README "Security", `GET /healthz`: "Says which platforms are on (`"slack"`,
    `"teams"`) and lists `"endpoints"`." (Proved with test_teams_is_off_unless_configured.)"""
    health = await (await channel.client.get("/healthz")).json()
    assert health["teams"] == "local" and health["slack"] == "off"
    assert health["endpoints"] == ["POST /api/messages"]


async def test_local_mode_refuses_another_machine(sqlite_db, clock, env_clean):
    """Guards README "Security", `POST /api/messages`: "In local mode [...] refuses other
    machines (403)". The request is given to the endpoint directly with a peer address of
    another machine (192.0.2.7): no test can connect from one, and tests/conftest.py refuses
    any connection that is not to 127.x. Proved: with the ``is_loopback(request.remote)`` check
    in ``TeamsEndpoint.messages`` removed in a scratch copy, this test fails."""
    app = build_app(Runtime(sqlite_db, clock), LOCAL)
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: (
        ("192.0.2.7", 50000) if name == "peername" else default
    )
    request = make_mocked_request(
        "POST", "/api/messages", headers={"Content-Type": "application/json"}, transport=transport, app=app
    )
    response = await endpoint_of(app).messages(request)
    assert response.status == 403
    assert await _count(sqlite_db, Community) == 0


async def test_local_mode_never_posts_to_an_address_the_request_chose(channel: TeamsChannel, sqlite_db, fake):
    """Guards README "Security", `POST /api/messages`: "In local mode [...] refuses [...] any
    non-local `serviceUrl` (403)". Proved: with the local-mode ``serviceUrl`` check in
    ``TeamsEndpoint.messages`` removed in a scratch copy, the published activities are taken
    (201) and this test fails."""
    # The published activity as it is: its serviceUrl is Microsoft's (another machine).
    for name, activity in PUBLISHED.items():
        assert await channel.post(activity) == 403, name
    evil = channel.activity("Ann", "@copbot setup North West", serviceUrl="http://169.254.169.254/latest/")
    assert await channel.post(evil) == 403
    await channel.idle()
    for model in (Community, ConversationRef, ProcessedEvent):
        assert await _count(sqlite_db, model) == 0
    assert fake.calls == []


async def test_an_unauthenticated_request_never_repoints_a_stored_conversation(channel: TeamsChannel, sqlite_db, fake):
    """Guards README "Security", `POST /api/messages`: "In local mode [...] never repoints a
    stored conversation." Proved: with ``_keep_address`` saving with ``repoint=True`` in local
    mode in a scratch copy, the stored serviceUrl moves and this test fails."""
    await channel.say("Ann", "@copbot setup North West")
    async with sqlite_db.transaction() as session:
        before = await session.scalar(select(ConversationRef.reference))
    other = FakeBotConnector()
    await other.start()
    try:
        moved = channel.activity("Ben", "@copbot join", serviceUrl=other.service_url)
        assert await channel.post(moved) == 201
        await channel.idle()
    finally:
        await other.close()
    async with sqlite_db.transaction() as session:
        assert await session.scalar(select(ConversationRef.reference)) == before
    assert json.loads(before)["serviceUrl"] == fake.service_url


class VouchingAuth:
    """Microsoft's token check, as if it had passed: a validated identity whose ``serviceurl``
    claim is ``vouched`` (the keys it is signed with cannot be had offline). Everything after
    the check is the real code, with the real connector factory."""

    def __init__(self, real: Any, vouched: str | None) -> None:
        self.real = real
        self.vouched = vouched

    async def authenticate_request(self, activity: Any, header: str) -> AuthenticateRequestResult:
        if header != "Bearer valid":
            raise PermissionError("Unauthorized")
        claims = {"aud": APP_ID, "iss": "https://api.botframework.com"}
        if self.vouched is not None:
            claims["serviceurl"] = self.vouched
        result = AuthenticateRequestResult()
        result.claims_identity = ClaimsIdentity(claims, True)
        result.audience = "https://api.botframework.com"
        result.connector_factory = self.real.create_connector_factory(result.claims_identity)
        return result


@pytest.mark.parametrize("vouched", [None, "https://smba.trafficmanager.net/emea/", "{service}x"])
async def test_a_token_must_vouch_for_the_service_url(sqlite_db, clock, fake, env_clean, vouched):
    """Guards README "Security", `POST /api/messages`: "It must also vouch for the activity's
    `serviceUrl` (botbuilder refuses one that does not with 401; copbot checks again, 403)",
    copbot's 403: botbuilder's check is stood in for by one that passes (botbuilder's own 401 is
    shown in tests/test_teams_token.py, "serviceurl of another service", "no serviceurl").
    Proved: with copbot's ``vouched_service_url`` comparison in ``TeamsEndpoint.messages``
    removed in a scratch copy, the activity is taken (201) and this test fails."""
    client = await _client(sqlite_db, clock, {**FAST, "MicrosoftAppId": APP_ID, "MicrosoftAppPassword": "pw"})
    try:
        endpoint = endpoint_of(client.app)
        endpoint.auth = VouchingAuth(endpoint.auth, vouched.format(service=fake.service_url) if vouched else None)
        teams = TeamsChannel(client, fake)
        body = teams.activity("Ann", "@copbot setup North West")
        assert await teams.post(body, {"Authorization": "Bearer valid"}) == 403
        await teams.idle()
    finally:
        await client.close()
    for model in (Community, ConversationRef, ProcessedEvent):
        assert await _count(sqlite_db, model) == 0
    assert fake.calls == []


async def test_a_vouched_service_url_is_kept_for_later_posts(sqlite_db, clock, fake, env_clean):
    client = await _client(sqlite_db, clock, {**FAST, "MicrosoftAppId": APP_ID, "MicrosoftAppPassword": "pw"})
    try:
        endpoint = endpoint_of(client.app)
        endpoint.auth = VouchingAuth(endpoint.auth, fake.service_url)
        teams = TeamsChannel(client, fake)
        conversation_update = _at(fake, published.TEAMS_CONVERSATION_UPDATE)
        assert await teams.post(conversation_update, {"Authorization": "Bearer valid"}) == 201
        assert (
            await teams.post(teams.activity("Ann", "@copbot setup North West"), {"Authorization": "Bearer valid"})
            == 201
        )
        await teams.idle()
    finally:
        await client.close()
    async with sqlite_db.transaction() as session:
        stored = json.loads(await session.scalar(select(ConversationRef.reference)))
    assert stored["serviceUrl"] == fake.service_url
    assert await _count(sqlite_db, Community) == 1


# -- malformed and odd activities --------------------------------------------------------------


async def test_malformed_activities_are_a_400_and_change_nothing(channel: TeamsChannel, sqlite_db, fake, caplog):
    """Guards README "Security", `POST /api/messages`: "then the same body rules (400). An
    activity needs a type, a sender id, a conversation id and an http(s) `serviceUrl`." Proved
    in a scratch copy: with ``check_depth`` left out of ``json_object``
    (bot/request_body.py), the deep activity is taken (201); with the type check, the
    ``is_readable`` check or the ``serviceUrl`` check of ``TeamsEndpoint.messages`` removed,
    an activity without it is a 201 or a 403, and this test fails."""
    caplog.set_level(logging.DEBUG)
    good = channel.activity("Ann", "@copbot setup North West")
    raw_bodies = [
        b'{"type": "message", "text": "cut off',
        b'{"type": "message", "text": "\xff\xfe"}',
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        json.dumps({**good, "x": json.loads("[" * 200 + "]" * 200)}).encode(),
        b"[1, 2]",
        b'"message"',
    ]
    for raw in raw_bodies:
        response = await channel.client.post("/api/messages", data=raw, headers={"Content-Type": "application/json"})
        assert response.status == 400, raw[:40]
    activities = [
        without(good, "from"),
        replaced(good, ("from",), {"name": "no id"}),
        without(good, "conversation"),
        replaced(good, ("conversation",), {"id": ""}),
        without(good, "serviceUrl"),
        replaced(good, ("serviceUrl",), "file:///etc/passwd"),
        replaced(good, ("serviceUrl",), ["not", "a", "url"]),
        without(good, "type"),
        replaced(good, ("from",), "not an object"),
    ]
    for number, activity in enumerate(activities):
        assert await channel.post(activity) == 400, number
    await channel.idle()
    for model in (Community, ConversationRef, ProcessedEvent):
        assert await _count(sqlite_db, model) == 0
    assert fake.calls == []
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_odd_but_harmless_fields_are_tolerated(channel: TeamsChannel, sqlite_db):
    odd = channel.activity("Ann", "@copbot setup North West")
    odd["channelData"]["tenant"] = "tenant-as-a-string"
    odd["channelData"]["team"] = ["a", "list"]
    odd["entities"].append({"type": 5, "mentioned": "nobody"})
    odd["entities"].append({"type": "mention", "mentioned": {"id": ["x"]}, "text": None})
    assert await channel.post(odd) == 201
    await channel.idle()
    assert await _count(sqlite_db, Community) == 1
    assert channel.cards_with("Welcome to the North West")


async def test_bytes_that_are_not_utf8_are_a_400(channel: TeamsChannel, sqlite_db, fake):
    """Guards README "Security", `POST /api/messages`: "then the same body rules (400)", here
    "Bytes that are not UTF-8": a whole, well-formed activity whose text holds bytes that are
    not UTF-8 is a 400 and changes nothing. Proved: with ``utf8`` (bot/request_body.py)
    decoding with replacement characters in a scratch copy, it is taken (201) and this fails."""
    good = json.dumps(channel.activity("Ann", "@copbot setup North West")).encode()
    assert b"North West" in good
    raw = good.replace(b"North West", b"North \xff\xfe West")
    response = await channel.client.post("/api/messages", data=raw, headers={"Content-Type": "application/json"})
    assert response.status == 400
    await channel.idle()
    for model in (Community, ConversationRef, ProcessedEvent):
        assert await _count(sqlite_db, model) == 0
    assert fake.calls == []
    assert await channel.post(json.loads(good)) == 201  # the same activity in UTF-8 is taken


async def test_an_invoke_copbot_does_not_use_gets_an_empty_200(channel: TeamsChannel, sqlite_db, fake):
    """Guards README "Security", `POST /api/messages`: "Invokes copbot does not use get an empty
    200." Empty: no content but JSON's ``null``, what botbuilder itself answers for an invoke
    response without a body; nothing is kept or sent. Proved in a scratch copy: with the
    invoke branch of ``TeamsEndpoint.on_activity`` removed, the answer is a 201; with it
    answering a message activity as its body, this test fails."""
    response = await channel.client.post("/api/messages", json=_at(fake, published.TEAMS_INVOKE))
    assert response.status == 200
    assert (await response.read()).strip() in (b"", b"null")
    await channel.idle()
    for model in (Community, ConversationRef, ProcessedEvent):
        assert await _count(sqlite_db, model) == 0
    assert fake.calls == []


def test_every_published_activity_translates_without_an_exception():
    from botbuilder.schema import Activity

    for name, body in PUBLISHED.items():
        incoming = to_incoming(Activity().deserialize(copy.deepcopy(body)))
        if name == "TEAMS_CHANNEL_MESSAGE_WITH_MENTION":
            # "@ridotest reply to thread" in a reply chain: an answer, kept only if the chain is copbot's
            assert incoming is not None and incoming.needs_thread_check
            assert incoming.event.text == "reply to thread"  # type: ignore[union-attr]
        if name == "TEAMS_PERSONAL_MESSAGE":
            assert incoming is not None and type(incoming.event).__name__ == "CommandEvent"
        if name in ("TEAMS_INVOKE", "TEAMS_CONVERSATION_UPDATE"):
            assert incoming is None


# -- answers on cards and in reply chains -------------------------------------------------------


@pytest.mark.parametrize(
    "inputs",
    [
        {"answer": ["a", "b"], "anonymous": "false"},
        {"answer": 42, "anonymous": "false"},
        {"answer": {"text": "x"}, "anonymous": "false"},
        {"answer": "fine words", "anonymous": "yes"},
        {"answer": "fine words", "anonymous": True},
        {"answer": "fine words", "anonymous": ["true"]},
    ],
)
async def test_a_card_submit_with_the_wrong_types_is_refused_privately(channel: TeamsChannel, sqlite_db, inputs):
    """Guards README "Security", `POST /api/messages`: "A card value of the wrong type is refused
    privately and not stored." Proved in a scratch copy: with the type check in ``_from_submit``
    (adapters/teams/translate.py) removed, or the refusal posted to the channel instead of
    privately (``TeamsEndpoint._handle``), this test fails."""
    await channel.say("Ann", "@copbot setup North West")
    await channel.say("Ann", "@copbot support")
    await channel.press("Ben", channel.latest_card("I will support myself today"), "Share", **inputs)
    assert "couldn't read what that card sent" in channel.private_to("Ben")
    assert await _count(sqlite_db, SupportStatement) == 0


async def test_reply_chain_answers_pass_mentions_and_addressed_words(channel: TeamsChannel, sqlite_db):
    """Guards README "Security", the core, for every platform: "A reply of just `pass` is a
    pass" and "Mentions in kept text are stored as names (`@Ana_Lopez`), never as platform
    ids", through Teams. Proved in a scratch copy: with ``is_pass`` (flows/answers.py) never
    true, or the mention kept as its Teams id, this test fails."""
    await channel.say("Ann", "@copbot setup North West")
    await channel.say("Ann", "@copbot support")
    support_id = channel.message_id(channel.latest_card("I will support myself today"))
    await channel.say("Cara", "pass", in_chain_of=support_id)
    await channel.say("Ben", "asking @Ann for help", in_chain_of=support_id)
    await channel.say("Ann", "@copbot close support", in_chain_of=support_id)  # a command, in the chain
    async with sqlite_db.transaction() as session:
        rows = (await session.execute(select(SupportStatement.text, SupportStatement.passed))).all()
    assert sorted(rows, key=str) == sorted([(None, True), ("asking @Ann for help", False)], key=str)
    assert PEOPLE["Ann"][1] not in str(rows)  # a name, not Ann's Entra id

    await channel.say("Ann", "@copbot reflect Boundaries")
    step_id = channel.message_id(channel.latest_card("Step 1 of 6"))
    await channel.say("Ben", "@copbot help me think this through: a ward round went badly", in_chain_of=step_id)
    await channel.say("Cara", "@copbot next", in_chain_of=step_id)  # not a chair: a refusal, not an answer
    async with sqlite_db.transaction() as session:
        answers = list(await session.scalars(select(ReflectionAnswer.text)))
    assert answers == ["help me think this through: a ward round went badly"]
    assert "Only a co-chair" in channel.private_to("Cara")


async def test_a_chain_that_is_not_copbots_stays_unseen(channel: TeamsChannel, sqlite_db, fake):
    await channel.say("Ann", "@copbot setup North West")
    before = (await _count(sqlite_db, ProcessedEvent), len(fake.calls))
    await channel.say("Ben", "@copbot help me with lunch", in_chain_of="1699999999999")
    assert (await _count(sqlite_db, ProcessedEvent), len(fake.calls)) == before
    assert await _count(sqlite_db, ConversationRef) == 1
    async with sqlite_db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Community)) == 1


async def test_an_unforeseen_error_is_a_bare_500_logged_by_type_and_place(
    channel: TeamsChannel, sqlite_db, caplog, monkeypatch
):
    """Guards README "Security", every endpoint: "Anything unforeseen is a bare 500 whose log line
    names only the error's type and place, never a traceback or a body" (``error_policy`` in
    bot/request_body.py), on POST /api/messages over real HTTP. Proved: with ``error_policy``
    taken out of the app's middlewares, or logging with ``log.exception``, this test fails."""
    caplog.set_level(logging.DEBUG)
    canary = "Canary-91c4-what-a-member-wrote"

    def unforeseen(activity: object) -> None:
        raise LookupError(f"a bug that quotes {canary}")

    monkeypatch.setattr("adapters.teams.app.to_incoming", unforeseen)
    response = await channel.client.post("/api/messages", json=channel.activity("Ann", f"@copbot setup {canary}"))
    assert response.status == 500
    assert await response.text() == "internal error"  # bare: no type, no message, no trace
    monkeypatch.undo()
    assert await channel.post(channel.activity("Ann", "@copbot setup North West")) == 201  # the server goes on
    await channel.idle()
    assert await _count(sqlite_db, Community) == 1
    [line] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert line.name == "copbot.http" and line.exc_info is None
    assert re.fullmatch(r"POST /api/messages failed: LookupError at test_teams_hostile\.py:\d+", line.getMessage())
    assert canary not in caplog.text and "Traceback" not in caplog.text and "a bug that quotes" not in caplog.text


async def test_a_body_cut_off_mid_way_leaves_no_trace_and_the_server_goes_on(
    channel: TeamsChannel, sqlite_db, fake, caplog, monkeypatch
):
    """Guards README "Security", every endpoint (here POST /api/messages): "A body cut off
    mid-way is a 400, or, when its sender has gone, dropped before it is parsed." The client
    declares 4000 bytes, sends fewer and goes away; the test waits until the endpoint's read of
    the body has ended and checks it ended in a 400 or in aiohttp stopping the handler, never in
    bytes handed on to be parsed; nothing is kept or logged, and the server goes on. Proved:
    with ``read_body`` (bot/request_body.py) handing on bytes after the read failed or was
    stopped, in a scratch copy, this test fails."""
    caplog.set_level(logging.DEBUG)
    answered = watch_read_body(monkeypatch, "adapters.teams.app.read_body")
    whole = json.dumps(channel.activity("Ann", "@copbot setup North West")).encode()
    server = channel.client.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        head = (
            "POST /api/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n"
        )
        writer.write(head.encode() + whole[: len(whole) // 2])
        await writer.drain()
        writer.write_eof()
        outcome = await asyncio.wait_for(answered, PATIENT_SECONDS)  # a guard, not a speed measure
    finally:
        writer.close()
    assert isinstance(outcome, web.HTTPBadRequest | asyncio.CancelledError), outcome
    monkeypatch.undo()
    for model in (Community, ConversationRef, ProcessedEvent):
        assert await _count(sqlite_db, model) == 0
    assert await channel.post(channel.activity("Ann", "@copbot setup North West")) == 201  # the server goes on
    await channel.idle()
    assert await _count(sqlite_db, Community) == 1
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_control_and_direction_override_characters_are_never_shown_raw_in_teams(
    channel: TeamsChannel, sqlite_db, fake
):
    """Guards README "Security", what is shown: "Control characters (ESC, NUL, …) are shown as
    visible symbols (`␛`) and direction overrides are removed, on every platform", here Teams:
    answers full of them, in a reply chain and on the card, are kept, and nothing copbot sends
    the Bot Connector (cards, updates, private messages) carries them raw; ESC reads as ␛.
    Proved: with ``shown`` (bot/vocabulary/text.py) returning the text as it is, or keeping
    direction overrides, in a scratch copy, this test fails."""
    await channel.say("Ann", "@copbot setup North West")
    await channel.say("Ann", "@copbot support")
    support = channel.latest_card("I will support myself today")
    await channel.say("Ben", HOSTILE, in_chain_of=channel.message_id(support))
    await channel.press("Cara", support, "Share", answer="mine: " + HOSTILE, anonymous="false")
    await channel.say("Ann", "@copbot close support")
    assert await _count(sqlite_db, SupportStatement) == 2  # both kept (NUL as U+FFFD)
    closing = channel.latest_card("Ben").card_text
    assert "␛" in closing and "mine: ok ␛" in closing
    for call in fake.calls:
        for text in strings_in(call.body):
            assert not raw_characters_in(text), (call.kind, text)


async def test_a_declared_size_over_the_limit_is_a_413_before_the_body_is_read(channel: TeamsChannel, sqlite_db):
    """Guards README "Security", every endpoint (here POST /api/messages): "The declared size
    comes first: more than 1 MiB is a 413 before the body is read." Only a few bytes of a
    declared 2 MB are sent and the connection stays open; the 413 arrives all the same. Proved:
    with the Content-Length check in ``read_body`` (bot/request_body.py) removed, the server
    waits for the body and this test fails."""
    server = channel.client.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        head = (
            "POST /api/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Content-Length: 2000000\r\n\r\n"
        )
        writer.write(head.encode() + b'{"type": "message", "text": "')
        await writer.drain()
        # A guard, not a speed measure: a server waiting for the rest of the body never answers.
        status = await asyncio.wait_for(reader.readline(), PATIENT_SECONDS)
    finally:
        writer.close()
    assert status.startswith(b"HTTP/1.1 413"), status
    whole = b'{"text": "' + b"x" * (1024 * 1024) + b'"}'  # a whole body over the limit: 413 too
    response = await channel.client.post("/api/messages", data=whole, headers={"Content-Type": "application/json"})
    assert response.status == 413
    assert await channel.post(channel.activity("Ann", "@copbot setup North West")) == 201  # the server goes on
    await channel.idle()
    assert await _count(sqlite_db, Community) == 1
