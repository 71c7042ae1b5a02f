"""`copbot serve`: one aiohttp application with the Slack and Teams endpoints and /healthz."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

from aiohttp import web

from bot.request_body import MAX_BODY_BYTES, error_policy
from bot.runtime import Runtime
from bot.scheduling import Scheduler

RUNTIME = web.AppKey("runtime", Runtime)
STATUS = web.AppKey("status", dict[str, str])
SCHEDULER = web.AppKey("scheduler", Scheduler)


async def healthz(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    database = await runtime.db.ping()
    body: dict[str, object] = {
        "database": "ok" if database else "down",
        "scheduler": request.app[SCHEDULER].status(),
    }
    platforms: dict[str, str] = request.app[STATUS]
    body.update(platforms)
    body.update(
        endpoints=sorted(
            f"{route.method} {route.resource.canonical}"
            for route in request.app.router.routes()
            if route.method == "POST" and route.resource is not None
        )
    )
    return web.json_response(body, status=200 if database else 503)


def build_app(runtime: Runtime, env: Mapping[str, str]) -> web.Application:
    """The web application; each adapter adds its routes when its settings are present."""
    from adapters import slack, teams

    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[error_policy])
    app[RUNTIME] = runtime
    app[STATUS] = {}
    app[SCHEDULER] = Scheduler()
    app.cleanup_ctx.append(app[SCHEDULER].lifecycle)
    app.router.add_get("/healthz", healthz)
    app[STATUS]["slack"] = slack.attach(app, runtime, env)
    app[STATUS]["teams"] = teams.attach(app, runtime, env)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        yield
        await runtime.drain()
        await runtime.db.dispose()

    app.cleanup_ctx.append(lifecycle)
    return app
