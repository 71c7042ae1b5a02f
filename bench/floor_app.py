"""What both floors share: an aiohttp app with one POST route and /healthz, and a `main` that
serves it on 127.0.0.1 at ``--port``."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def floor_app(path: str, handler: Handler) -> web.Application:
    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post(path, handler)
    app.router.add_get("/healthz", healthz)
    return app


def serve(description: str | None, build: Callable[[], web.Application]) -> None:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    web.run_app(build(), host="127.0.0.1", port=args.port, print=None, access_log=None)
