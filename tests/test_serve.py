"""`copbot serve`: /healthz, and configuration errors reported in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from bot.shell.runtime import Runtime
from bot.shell.web import build_app


async def test_healthz_reports_database_and_scheduler(sqlite_db, clock, env_clean):
    app = build_app(Runtime(sqlite_db, clock), {})
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/healthz")
        body = await response.json()
    assert response.status == 200
    assert body["database"] == "ok"
    assert body["scheduler"] == {"running": True, "jobs": 2}  # the announcements and the housekeeping
    assert body["slack"] == "off"


def test_half_set_configuration_is_one_clear_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "Microsoft"))}
    env.update({"SLACK_BOT_TOKEN": "xoxb-test", "DATABASE_URL": f"sqlite:///{tmp_path}/c.db"})
    done = subprocess.run(
        [sys.executable, "-m", "bot.shell.cli", "serve", "--port", "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=Path(__file__).parent.parent,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("copbot:")]
    assert len(lines) == 1 and "SLACK_SIGNING_SECRET" in lines[0]


async def test_stopping_lets_a_scheduled_tick_in_hand_finish_before_the_database_closes(sqlite_db, clock, env_clean):
    import asyncio

    from sqlalchemy import text

    runtime = Runtime(sqlite_db, clock)
    finished = asyncio.Event()

    async def slow_tick() -> int:
        async with runtime.db.transaction() as session:
            await asyncio.sleep(0.3)  # copbot is told to stop meanwhile
            await session.execute(text("SELECT 1"))
        finished.set()
        return 0

    runtime.announce_due = slow_tick  # type: ignore[method-assign]
    client = TestClient(TestServer(build_app(runtime, {}), host="127.0.0.1"))
    await client.start_server()
    await asyncio.sleep(0.05)  # the first tick runs at start
    await asyncio.wait_for(client.close(), 10)
    assert finished.is_set()
