"""`copbot serve`: one aiohttp application with the Slack and Teams endpoints and /healthz."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Protocol

from aiohttp import web

from bot.request_body import MAX_BODY_BYTES, error_policy
from bot.shell.runtime import Runtime
from bot.shell.scheduling import Scheduler
from storage import shared_files

log = logging.getLogger(__name__)
ANNOUNCE_EVERY_SECONDS = 60  # the scheduled posts' tick: each is due to the minute
HOUSEKEEPING_EVERY_SECONDS = 3600  # the purge of operational rows (storage.retention)
OVERDUE_LIMIT_SECONDS = 600  # /healthz: a post due this long and not sent means delivery is stuck
STOP_DELIVERY_SECONDS = 4.0  # SIGTERM: the process is gone well within 10 s
RUNTIME = web.AppKey("runtime", Runtime)
STATUS = web.AppKey("status", dict[str, str])
SCHEDULER = web.AppKey("scheduler", Scheduler)


async def healthz(request: web.Request) -> web.Response:
    """200 when copbot can do its work; 503 with the reasons when it cannot: the database is
    down, the delivery worker has not finished a round lately (2 minutes), the scheduler has not
    finished its announcements tick lately (5 minutes), or a post is long overdue (10 minutes)."""
    runtime = request.app[RUNTIME]
    database = await runtime.db.ping()
    problems: list[str] = [] if database else ["the database does not answer"]
    body: dict[str, object] = {
        "database": "ok" if database else "down",
        "scheduler": request.app[SCHEDULER].status(),
    }
    if database:
        health = await runtime.outbox_health()
        body["outbox"] = {
            "pending": health.pending,
            "oldest_pending_seconds": round(health.oldest_pending_seconds, 1),
            "oldest_due_seconds": round(health.oldest_due_seconds, 1),
            "undeliverable": health.undeliverable,
        }
        if health.oldest_due_seconds > OVERDUE_LIMIT_SECONDS:
            problems.append(f"a post has been due for {int(health.oldest_due_seconds)} s and is not sent")
    for stuck in (runtime.courier.stale(runtime.clock()), request.app[SCHEDULER].stale()):
        if stuck:
            problems.append(stuck)
    body["delivery"] = {"worker": runtime.courier.name, "lanes_held": len(runtime.courier.held())}
    platforms: dict[str, str] = request.app[STATUS]
    body.update(platforms)
    body.update(
        endpoints=sorted(
            f"{route.method} {route.resource.canonical}"
            for route in request.app.router.routes()
            if route.method == "POST" and route.resource is not None
        )
    )
    if problems:
        body["problems"] = problems
    return web.json_response(body, status=503 if problems else 200)


async def shared_file(request: web.Request) -> web.Response:
    """A file copbot serves itself (`storage.shared_files`): its unguessable token is the only
    key, so an unknown, malformed or expired one is a bare 404."""
    runtime = request.app[RUNTIME]
    async with runtime.db.reading() as session:
        found = await shared_files.shared(session, request.match_info["token"], runtime.clock())
    if found is None:
        raise web.HTTPNotFound()
    media_type, content = found
    headers = {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"}
    return web.Response(body=content, content_type=media_type, headers=headers)


class Platform(Protocol):
    """A platform adapter as the web server sees it (the package ``adapters.<name>``): its name,
    and ``attach``, which adds its routes when its settings are present and returns the word
    /healthz shows ("off" when it is not configured)."""

    PLATFORM: str

    def attach(self, app: web.Application, runtime: Runtime, env: Mapping[str, str]) -> str: ...


def platforms() -> tuple[Platform, ...]:
    """Every platform copbot serves. A new one is an adapter package and a line here."""
    from adapters import slack, teams

    return (slack, teams)


def build_app(
    runtime: Runtime,
    env: Mapping[str, str],
    serve: Sequence[Platform] | None = None,
    scheduler: Scheduler | None = None,
) -> web.Application:
    """The web application, with the routes of each platform (``serve``, default: all) and the
    scheduler's jobs (on ``scheduler``, given by tests to move its clock)."""
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[error_policy])
    app[RUNTIME] = runtime
    app[STATUS] = {}
    app[SCHEDULER] = scheduler or Scheduler()
    app[SCHEDULER].every(ANNOUNCE_EVERY_SECONDS, runtime.announce_due, "announcements")
    app[SCHEDULER].every(HOUSEKEEPING_EVERY_SECONDS, runtime.housekeeping, "housekeeping")
    app.router.add_get("/healthz", healthz)
    if env.get("COPBOT_PUBLIC_URL", "").strip():
        app.router.add_get("/files/{token}", shared_file)  # a chart a Teams card shows from a URL
    for platform in platforms() if serve is None else serve:
        app[STATUS][platform.PLATFORM] = platform.attach(app, runtime, env)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        yield
        await runtime.db.dispose()

    async def delivery(app: web.Application) -> AsyncIterator[None]:
        worker = asyncio.create_task(runtime.courier.run())
        yield
        runtime.courier.stop()  # what is not sent stays in the outbox for the next start
        try:
            await asyncio.wait_for(worker, STOP_DELIVERY_SECONDS)
        except (TimeoutError, asyncio.CancelledError):
            log.warning("delivery stopped mid-send; the post goes out again after the next start")

    app.cleanup_ctx.append(lifecycle)
    app.cleanup_ctx.append(delivery)
    app.cleanup_ctx.append(app[SCHEDULER].lifecycle)  # the last started is the first stopped
    return app
