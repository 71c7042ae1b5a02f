"""The Bot Framework token check, for real and offline: tokens minted here, signed with an RSA key
whose JWKS a local token server publishes (tests/fakes/token_server.py), POSTed over HTTP to the
real `copbot serve` app with an app id. botbuilder's own check runs unchanged; the only thing a
test changes is where it fetches the signing keys (``ChannelValidation.open_id_metadata_endpoint``,
botbuilder's hook for that, instead of login.botframework.com).

A correctly signed token is accepted and its activity handled; each kind of wrong one is refused,
and the reason is checked twice: the type copbot logs, and what botbuilder's check raises when
called the way the endpoint calls it (`adapters.teams.app._authenticate`)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
from aiohttp.test_utils import TestClient
from botbuilder.schema import Activity
from botframework.connector.auth import MicrosoftAppCredentials
from sqlalchemy import select

from adapters.teams import endpoint_of
from adapters.teams.app import _authenticate
from storage.db import Database
from storage.models import Community, ConversationRef, ProcessedEvent
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.token_server import TokenServer, new_rsa_key, use_in_botbuilder
from tests.support.app import count_rows
from tests.support.teams_channel import APP_ID, FAST, TeamsChannel, start_client

ENV = {**FAST, "MicrosoftAppId": APP_ID, "MicrosoftAppPassword": "secret"}
REJECTED = "teams: rejected an unauthenticated request"
NOT_VOUCHED = "a token that does not vouch for the activity's serviceUrl was refused"


@pytest.fixture
async def tokens(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[TokenServer]:
    """The local token server, and botbuilder's channel check fetching its keys there."""
    server = await TokenServer().start()
    use_in_botbuilder(monkeypatch, server)
    yield server
    await server.close()


@pytest.fixture
def outbound_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """The other direction: copbot's posts carry a token it gets from Microsoft Entra with its
    app password (msal, login.microsoftonline.com), which a test cannot reach. Not what this
    file is about: the credentials hand out a fixed token instead, so posts reach the fake."""
    monkeypatch.setattr(MicrosoftAppCredentials, "get_access_token", lambda self, force_refresh=False: "outbound")


@pytest.fixture
async def teams(
    sqlite_db: Database, clock: Any, fake: FakeBotConnector, tokens: TokenServer, outbound_token: None, env_clean: None
) -> AsyncIterator[TeamsChannel]:
    """A Teams channel on the real app with an app id: every request needs a valid token."""
    client: TestClient = await start_client(sqlite_db, clock, ENV)
    assert (await (await client.get("/healthz")).json())["teams"] == "authenticated"
    # botbuilder's public-cloud check, as in production (no parameterized or emulator settings).
    auth = endpoint_of(client.app).auth
    assert type(auth._inner).__name__ == "_PublicCloudBotFrameworkAuthentication"
    yield TeamsChannel(client, fake)
    await client.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- accepted ----------------------------------------------------------------------------------


async def test_a_correctly_signed_token_is_accepted_and_its_activity_handled(
    teams: TeamsChannel, tokens: TokenServer, fake: FakeBotConnector, sqlite_db: Database, caplog: Any
) -> None:
    caplog.set_level(logging.INFO)
    body = teams.activity("Ann", "@copbot setup North West")
    token = tokens.mint(tokens.claims(APP_ID, fake.service_url))

    assert await teams.post(body, bearer(token)) == 201
    await teams.idle()

    assert tokens.requests == ["/v1/.well-known/openid-configuration", "/v1/.well-known/keys"]
    assert await count_rows(sqlite_db, Community) == 1
    async with sqlite_db.transaction() as session:
        stored = json.loads(await session.scalar(select(ConversationRef.reference)))
    assert stored["serviceUrl"] == fake.service_url
    assert fake.delivered(), "copbot answered in the channel, through the fake Bot Connector"
    assert REJECTED not in caplog.text and NOT_VOUCHED not in caplog.text

    # The next message, with its own token: the keys come from botbuilder's cache.
    join = teams.activity("Ben", "@copbot join Peer Support Worker")
    assert await teams.post(join, bearer(tokens.mint(tokens.claims(APP_ID, fake.service_url)))) == 201
    await teams.idle()
    assert len(tokens.requests) == 2
    assert await count_rows(sqlite_db, ProcessedEvent) >= 2


# -- refused -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Forgery:
    """How to make a wrong token from the token server and the fake's serviceUrl; the status
    copbot answers; the error type it logs; what botbuilder's check raises (type, message)."""

    make: Callable[[TokenServer, str], str]
    status: int
    logged: str
    raised: type[BaseException]
    message: str
    keys_fetched: bool = True  # whether the check got as far as the signing keys


def _claims(**overrides: Any) -> Callable[[TokenServer, str], str]:
    return lambda tokens, service_url: tokens.mint(tokens.claims(APP_ID, service_url, **overrides))


def _expired(tokens: TokenServer, service_url: str) -> str:
    an_hour_ago = int(time.time()) - 3600  # well past botbuilder's five minutes of clock leeway
    return tokens.mint(
        tokens.claims(APP_ID, service_url, iat=an_hour_ago - 3600, nbf=an_hour_ago - 3600, exp=an_hour_ago)
    )


def _not_yet_valid(tokens: TokenServer, service_url: str) -> str:
    in_an_hour = int(time.time()) + 3600
    return tokens.mint(tokens.claims(APP_ID, service_url, iat=in_an_hour, nbf=in_an_hour, exp=in_an_hour + 3600))


def _signed_by_another_key(tokens: TokenServer, service_url: str) -> str:
    # Same kid as the published key, so the check finds that key and the signature fails.
    return tokens.mint(tokens.claims(APP_ID, service_url), signed_by=new_rsa_key())


def _key_endorsed_for_another_channel(tokens: TokenServer, service_url: str) -> str:
    webchat = tokens.publish("bf-key-webchat", ["webchat"])
    return tokens.mint(tokens.claims(APP_ID, service_url), signed_by=webchat.private, kid=webchat.kid)


def _unknown_kid(tokens: TokenServer, service_url: str) -> str:
    return tokens.mint(tokens.claims(APP_ID, service_url), kid="not-a-published-key")


def _unsigned(tokens: TokenServer, service_url: str) -> str:
    return jwt.encode(tokens.claims(APP_ID, service_url), None, algorithm="none", headers={"kid": tokens.key.kid})


FORGERIES = {
    # botbuilder drops a token whose issuer is not the Bot Framework's before looking at its
    # signature ("no valid identity").
    "wrong issuer": Forgery(
        _claims(iss="https://api.botframework.example"),
        401,
        "PermissionError",
        PermissionError,
        "No valid identity",
        keys_fetched=False,
    ),
    "wrong audience": Forgery(
        _claims(aud="99999999-8888-7777-6666-555555555555"), 401, "PermissionError", PermissionError, "Invalid AppId"
    ),
    "no audience": Forgery(_claims(aud=None), 401, "PermissionError", PermissionError, "Invalid AppId"),
    "expired": Forgery(_expired, 401, "ExpiredSignatureError", jwt.ExpiredSignatureError, "expired"),
    "not yet valid": Forgery(_not_yet_valid, 401, "ImmatureSignatureError", jwt.ImmatureSignatureError, "not yet"),
    "bad signature": Forgery(
        _signed_by_another_key, 401, "InvalidSignatureError", jwt.InvalidSignatureError, "Signature verification"
    ),
    "unsigned": Forgery(_unsigned, 401, "Exception", Exception, "algorithm not in allowed list"),
    "key not endorsed for msteams": Forgery(
        _key_endorsed_for_another_channel, 401, "Exception", Exception, "Could not validate endorsement"
    ),
    # botbuilder 4.17 looks the kid up with `[...][0]`: an unknown key is an IndexError.
    "unknown key id": Forgery(_unknown_kid, 401, "IndexError", IndexError, "list index out of range"),
    # botbuilder's own check compares the serviceurl claim with the activity's serviceUrl and
    # refuses first (401); copbot's 403 for the same thing is a second line behind it.
    "serviceurl of another service": Forgery(
        _claims(serviceurl="https://smba.trafficmanager.net/emea/"),
        401,
        "PermissionError",
        PermissionError,
        "service_url claim do not match",
    ),
    "no serviceurl": Forgery(_claims(serviceurl=None), 401, "PermissionError", PermissionError, "service_url claim"),
}


@pytest.mark.parametrize("forgery", FORGERIES.values(), ids=FORGERIES.keys())
async def test_each_wrong_token_is_refused_for_its_own_reason(
    forgery: Forgery, teams: TeamsChannel, tokens: TokenServer, fake: FakeBotConnector, sqlite_db: Database, caplog: Any
) -> None:
    caplog.set_level(logging.INFO)
    body = teams.activity("Ann", "@copbot setup North West")
    token = forgery.make(tokens, fake.service_url)

    assert await teams.post(body, bearer(token)) == forgery.status
    await teams.idle()
    assert f"{REJECTED} ({forgery.logged})" in caplog.text
    fetched = ["/v1/.well-known/openid-configuration", "/v1/.well-known/keys"]
    assert tokens.requests[:2] == (fetched if forgery.keys_fetched else [])

    # The same check, called as the endpoint calls it: what botbuilder raised, and why.
    auth = endpoint_of(teams.client.app).auth
    with pytest.raises(forgery.raised, match=forgery.message) as raised:
        await _authenticate(auth, Activity().deserialize(body), f"Bearer {token}")
    assert type(raised.value).__name__ == forgery.logged

    for model in (Community, ConversationRef, ProcessedEvent):
        assert await count_rows(sqlite_db, model) == 0
    assert fake.calls == []


async def test_the_same_token_is_accepted_once_the_refusals_are_undone(
    teams: TeamsChannel, tokens: TokenServer, fake: FakeBotConnector, sqlite_db: Database
) -> None:
    """The refusals above are about the token, not the request: a good token with the same
    activity goes through (so a refused case cannot pass because every request fails)."""
    body = teams.activity("Ann", "@copbot setup North West")
    wrong = tokens.mint(tokens.claims(APP_ID, fake.service_url, aud="someone-else"))
    assert await teams.post(body, bearer(wrong)) == 401
    assert await teams.post(body, bearer(tokens.mint(tokens.claims(APP_ID, fake.service_url)))) == 201
    await teams.idle()
    assert await count_rows(sqlite_db, Community) == 1
