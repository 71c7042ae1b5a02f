"""A local stand-in for the Bot Framework's token signing service, for tests: aiohttp on
127.0.0.1 serving OpenID metadata and a JWKS made from RSA keys generated here, and minting
tokens signed with them the way the Bot Connector signs the ones it sends a bot.

Point botbuilder's channel token check at it with `use_in_botbuilder` (tests only): it sets
``ChannelValidation.open_id_metadata_endpoint``, the hook botbuilder itself reads instead of
Microsoft's metadata URL, and gives botbuilder an empty key cache. Everything else in the check
(issuer, signature, expiry, audience, endorsements, the serviceurl claim) stays botbuilder's own."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from botframework.connector.auth import ChannelValidation, JwtTokenExtractor
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"  # what the Bot Connector's tokens carry


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class SigningKey:
    kid: str
    private: rsa.RSAPrivateKey
    endorsements: list[str]

    def jwk(self) -> dict[str, Any]:
        public = RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        return {**public, "kid": self.kid, "use": "sig", "endorsements": self.endorsements}


@dataclass
class TokenServer:
    """Start with ``await server.start()``. ``mint(...)`` makes a token signed with the
    published key (``kid`` "bf-key-1", endorsed for ``msteams``); ``publish`` adds a key."""

    keys: list[SigningKey] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # paths asked for, in order
    _server: TestServer | None = None

    def __post_init__(self) -> None:
        if not self.keys:
            self.keys.append(SigningKey("bf-key-1", new_rsa_key(), ["msteams"]))

    @property
    def key(self) -> SigningKey:
        return self.keys[0]

    def publish(self, kid: str, endorsements: list[str]) -> SigningKey:
        key = SigningKey(kid, new_rsa_key(), endorsements)
        self.keys.append(key)
        return key

    # -- serving ---------------------------------------------------------------------------

    @property
    def metadata_url(self) -> str:
        return self._url("/v1/.well-known/openid-configuration")

    def _url(self, path: str) -> str:
        assert self._server is not None, "start() the token server first"
        return str(self._server.make_url(path))

    async def start(self) -> TokenServer:
        app = web.Application()
        app.router.add_get("/v1/.well-known/openid-configuration", self._metadata)
        app.router.add_get("/v1/.well-known/keys", self._jwks)
        self._server = TestServer(app, host="127.0.0.1", port=0)
        await self._server.start_server()
        return self

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()

    async def _metadata(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        return web.json_response(
            {
                "issuer": BOT_FRAMEWORK_ISSUER,
                "authorization_endpoint": "https://invalid.botframework.com",
                "jwks_uri": self._url("/v1/.well-known/keys"),
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            }
        )

    async def _jwks(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        return web.json_response({"keys": [key.jwk() for key in self.keys]})

    # -- tokens ----------------------------------------------------------------------------

    def claims(self, app_id: str, service_url: str, **overrides: Any) -> dict[str, Any]:
        """The claims of a Bot Connector token for ``app_id`` vouching for ``service_url``
        (an override of None drops that claim)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": BOT_FRAMEWORK_ISSUER,
            "aud": app_id,
            "serviceurl": service_url,
            "nbf": now - 60,
            "iat": now - 60,
            "exp": now + 3600,
            "jti": uuid.uuid4().hex,
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def mint(
        self,
        claims: dict[str, Any],
        *,
        signed_by: rsa.RSAPrivateKey | None = None,
        kid: str | None = None,
        algorithm: str = "RS256",
    ) -> str:
        """``claims`` signed with the published key (or ``signed_by``), its header naming
        ``kid`` (default: the published key's)."""
        key = signed_by if signed_by is not None else self.key.private
        headers = {"kid": kid if kid is not None else self.key.kid, "x5t": self.key.kid}
        return jwt.encode(claims, key, algorithm=algorithm, headers=headers)


def use_in_botbuilder(monkeypatch: pytest.MonkeyPatch, server: TokenServer) -> None:
    """botbuilder's channel token check fetches its keys from ``server`` (until the test ends)."""
    monkeypatch.setattr(ChannelValidation, "open_id_metadata_endpoint", server.metadata_url)
    monkeypatch.setattr(JwtTokenExtractor, "metadataCache", {})
