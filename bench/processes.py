"""Child processes the benchmark starts (`copbot serve`, the floors): started on a free loopback
port, waited for with a deadline, their memory read from /proc, and always stopped."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60.0  # seconds: a process not answering by then is a failure, never a hang


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_mb(pid: int) -> float:
    """The process's resident memory (VmRSS) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


class Child:
    """One child process serving HTTP on ``port``; ``ready_path`` answers 200 once it is up
    (any HTTP answer counts when ``ready_path`` is None)."""

    def __init__(self, args: Sequence[str], env: Mapping[str, str], ready_path: str | None = "/healthz") -> None:
        self.port = free_port()
        self.args = [sys.executable, *args, "--port", str(self.port)]
        self.env = {**_clean(os.environ), **env}
        self.ready_path = ready_path
        self.process: subprocess.Popen[bytes] | None = None
        self.start_seconds = 0.0
        self._log = tempfile.TemporaryFile()  # stderr: a file, so a chatty child never blocks on a pipe

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self) -> float:
        """Start and wait until ready; returns the seconds from process start to ready."""
        started = time.monotonic()
        self.process = subprocess.Popen(self.args, env=self.env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=self._log)
        deadline = started + START_TIMEOUT
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    code = self.process.returncode
                    raise RuntimeError(f"{' '.join(self.args[1:4])} exited ({code}): {self.log_tail()}")
                try:
                    async with client.get(self.url + (self.ready_path or "/")) as response:
                        if self.ready_path is None or response.status == 200:
                            self.start_seconds = time.monotonic() - started
                            return self.start_seconds
                except (aiohttp.ClientError, TimeoutError):
                    pass
                await asyncio.sleep(0.02)
        self.stop()
        raise RuntimeError(f"{' '.join(self.args[1:4])} was not ready within {START_TIMEOUT:.0f} s")

    def log_tail(self, chars: int = 2000) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-chars:]

    def rss_mb(self) -> float:
        return rss_mb(self.pid)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s; safe to call twice."""
        if self.process is None or self.process.poll() is not None:
            self._log.close()
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        finally:
            self._log.close()

    async def __aenter__(self) -> Child:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop()


def _clean(environ: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without any Slack, Teams or copbot settings of the caller."""
    return {k: v for k, v in environ.items() if not k.startswith(("SLACK_", "Microsoft", "COPBOT_", "DATABASE_URL"))}
