"""Teams adapter (botbuilder CloudAdapter): translates activities to neutral events and posts to Adaptive Cards."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from adapters.teams.app import TeamsEndpoint
    from bot.delivery import Pace
    from bot.shell.runtime import Runtime

PLATFORM = "teams"
ENDPOINT = web.AppKey("teams_endpoint", object)
ROUTE = "/api/messages"


def attach(app: web.Application, runtime: Runtime, env: Mapping[str, str], *, pace: Pace | None = None) -> str:
    """Add ``POST /api/messages`` to ``app`` when Teams is configured; returns a word for
    /healthz: "authenticated" (MicrosoftAppId set: every request needs a Bot Framework token),
    "local" (COPBOT_TEAMS_LOCAL=1 and no app id: the Emulator's unauthenticated mode, from this
    machine only) or "off" (neither: no route at all). ``pace`` overrides Teams' outbound
    limits (else ``COPBOT_TEAMS_PACE`` or 7/s and 60/30 s per conversation)."""
    from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication

    from adapters.teams.app import TeamsEndpoint
    from adapters.teams.sender import TeamsSender
    from adapters.teams.settings import TeamsSettings
    from bot.logs import quiet_third_parties

    quiet_third_parties()
    settings = TeamsSettings.from_env(env)
    if settings is None:
        return "off"
    auth = ConfigurationBotFrameworkAuthentication(settings)
    adapter = CloudAdapter(auth)
    sender = TeamsSender(adapter, settings.APP_ID, runtime.deliveries)
    runtime.connect("teams", sender, pace or settings.pace)
    endpoint = TeamsEndpoint(runtime, auth, sender, local=settings.local)
    app[ENDPOINT] = endpoint
    app.router.add_post(ROUTE, endpoint.messages)

    async def finish_pending(app: web.Application) -> None:
        await endpoint.work.idle()  # what was acknowledged is handled; its posts are in the outbox

    # on_shutdown runs before every cleanup_ctx exit: the pending core work still has its database.
    app.on_shutdown.append(finish_pending)
    return "local" if settings.local else "authenticated"


def endpoint_of(app: web.Application) -> TeamsEndpoint:
    """The running Teams endpoint (tests await ``endpoint_of(app).idle()``)."""
    return app[ENDPOINT]  # type: ignore[return-value]
