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
    assert body["scheduler"] == {"running": True, "jobs": 1}  # the scheduled announcements
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
