"""copbot as a separate process (``python -m bot.shell.cli``), for tests that need the real
thing: `copbot serve` killed with -9, two of them on one database, a database that fails under
it (`Server`, talking to the fake Slack Web API of the test process, `tests.fakes.slack_api`);
a command run to its end (`run_copbot`). Every one starts from `copbot_env`: this machine's
environment without any copbot, Slack, Teams or database setting, plus the test's own.

    server = Server(slack, tmp_path / "copbot.db", env={"COPBOT_DISPATCH_DEADLINE_SECONDS": "2.5"})
    await server.start()
    ...
    await server.halt(signal.SIGKILL)
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp

from tests.fakes.slack_api import BOT_TOKEN, SECRET, FakeSlackApi

ROOT = Path(__file__).parent.parent.parent
START_SECONDS = 90
STOP_SECONDS = 30


SETTINGS_PREFIXES = ("SLACK_", "Microsoft", "COPBOT_", "DATABASE_URL", "LOG_LEVEL")


def copbot_env(settings: Mapping[str, str] | None = None) -> dict[str, str]:
    """This environment without copbot's settings (a developer's own must not leak into a
    test), plus ``settings``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(SETTINGS_PREFIXES)}
    return {**clean, **(settings or {})}


def run_copbot(
    *args: str, settings: Mapping[str, str] | None = None, input: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``copbot <args>`` to its end with ``settings``; its exit code and output."""
    return subprocess.run(
        [sys.executable, "-m", "bot.shell.cli", *args],
        input=input,
        capture_output=True,
        text=True,
        env=copbot_env(settings),
        timeout=timeout,
        cwd=ROOT,
    )


_started: list[subprocess.Popen[bytes]] = []


def kill_leftovers() -> int:
    """Kill every `Server` process a test started and left running (a test that failed before
    its `halt`); how many there were. tests/conftest.py calls it after every test."""
    left = [process for process in _started if process.poll() is None]
    for process in left:
        process.kill()
        process.wait(timeout=STOP_SECONDS)
    _started.clear()
    return len(left)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """`copbot serve` as a separate process, talking to the fake Slack in this one. ``database``
    is a SQLite file or a database URL; ``env`` adds to (or overrides) the settings below."""

    def __init__(
        self,
        slack: FakeSlackApi,
        database: Path | str,
        lease_seconds: int = 2,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.port = _free_port()
        self.env = copbot_env(
            {
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": slack.api_url,
                "COPBOT_SLACK_PACE_PER_SECOND": "500",
                "COPBOT_OUTBOX_LEASE_SECONDS": str(lease_seconds),
                "COPBOT_DISPATCH_DEADLINE_SECONDS": "30",  # see tests/conftest.py patient_dispatch
                "DATABASE_URL": database if isinstance(database, str) else f"sqlite:///{database}",
                "LOG_LEVEL": "WARNING",
                **(env or {}),
            }
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.shell.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _started.append(self.process)
        # Until it answers, or exits: on a loaded machine importing and migrating can take a
        # while (19 s was seen with the load at 11 on 2 cores); the deadline only catches a hang.
        deadline = time.monotonic() + START_SECONDS
        async with aiohttp.ClientSession() as client:
            while time.monotonic() < deadline and self.process.poll() is None:
                try:
                    async with client.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError(f"copbot serve did not start (exit code {self.process.poll()})")

    async def health(self) -> dict[str, Any]:
        async with aiohttp.ClientSession() as client:
            async with client.get(f"{self.url}/healthz") as response:
                return dict(await response.json())

    async def halt(self, how: signal.Signals = signal.SIGTERM) -> float:
        """Send ``how`` and wait for the process to go, without blocking this event loop (the
        fakes the process may still be talking to run on it); returns the seconds it took. A
        process already gone is left as it is; one still there after `STOP_SECONDS` is a hang."""
        assert self.process is not None
        started = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(how)
        deadline = started + STOP_SECONDS
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                self.process.kill()
                self.process.wait(timeout=5)
                raise AssertionError(f"copbot serve did not stop on {how.name} within {STOP_SECONDS} s")
            await asyncio.sleep(0.02)
        return time.monotonic() - started
