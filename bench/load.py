"""The load generator: sends prepared HTTP requests at a fixed concurrency and measures each
acknowledgement (status and latency). Every request has a timeout, so a stuck server shows as
errors, never as a hang."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp

REQUEST_TIMEOUT = 30.0  # seconds; Slack itself gives up after 3


@dataclass(frozen=True)
class Request:
    """One prepared request: body bytes and headers built just before sending (``headers()``
    signs with a fresh timestamp)."""

    path: str
    body: bytes
    headers: Callable[[], dict[str, str]]


@dataclass
class Acks:
    """What one load run saw: when it started and ended, each request's latency and status."""

    started: float = 0.0
    ended: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # 0: no answer (timeout or connection error)

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def ok(self) -> int:
        return sum(1 for s in self.statuses if 200 <= s < 300)

    @property
    def per_second(self) -> float:
        return self.ok / (self.ended - self.started) if self.ended > self.started else 0.0

    def percentile(self, p: float) -> float:
        """The p-th percentile latency in ms (nearest rank)."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]

    def summary(self) -> dict[str, float | int]:
        return {
            "requests": self.count,
            "acknowledged": self.ok,
            "errors": self.count - self.ok,
            "acks_per_s": round(self.per_second, 1),
            "p50_ms": round(self.percentile(50), 1),
            "p99_ms": round(self.percentile(99), 1),
            "mean_ms": round(1000 * statistics.fmean(self.latencies), 1) if self.latencies else 0.0,
            "seconds": round(self.ended - self.started, 3),
        }


async def send_all(base_url: str, requests: list[Request], concurrency: int) -> Acks:
    """Send every request, at most ``concurrency`` in flight, in order of the list."""
    acks = Acks()
    queue = iter(requests)
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    async with aiohttp.ClientSession(base_url, connector=connector, timeout=timeout) as session:

        async def worker() -> None:
            for request in queue:
                sent = time.perf_counter()
                try:
                    async with session.post(request.path, data=request.body, headers=request.headers()) as response:
                        await response.read()
                        status = response.status
                except (aiohttp.ClientError, TimeoutError):
                    status = 0
                acks.latencies.append(time.perf_counter() - sent)
                acks.statuses.append(status)

        acks.started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        acks.ended = time.perf_counter()
    return acks


async def send_one(base_url: str, request: Request) -> int:
    """One request on its own (setting up a meeting); returns the status (0: no answer)."""
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    async with aiohttp.ClientSession(base_url, timeout=timeout) as session:
        try:
            async with session.post(request.path, data=request.body, headers=request.headers()) as response:
                await response.read()
                return response.status
        except (aiohttp.ClientError, TimeoutError):
            return 0
