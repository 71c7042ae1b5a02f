"""Start `copbot serve`: migrate the database, build the web application, run it."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from aiohttp import web

from bot.runtime import Runtime
from bot.web import build_app
from storage.db import Database


async def make_app(env: Mapping[str, str]) -> web.Application:
    db = Database(env.get("DATABASE_URL"))
    await db.migrate()
    return build_app(Runtime(db), env)


def run_server(host: str, port: int, env: Mapping[str, str]) -> int:
    loop = asyncio.new_event_loop()
    app = loop.run_until_complete(make_app(env))
    web.run_app(app, host=host, port=port, loop=loop, print=lambda line: print(line, flush=True))
    return 0
