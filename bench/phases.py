"""One measured phase: send a batch of requests at a fixed concurrency, then (for copbot) count
the rows they stored, wait until every post they caused is delivered, and count the outbound
API calls they cost."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from bench.load import Request, send_all
from bench.rows import RowCounter

STORE_TIMEOUT = 120.0  # seconds to wait for rows after the last acknowledgement
SETTLE_TIMEOUT = 120.0  # seconds to wait for the outbox to empty
QUIET_SECONDS = 0.3  # no new outbound call for this long: delivery is done


async def settle(base_url: str, calls: Callable[[], int], timeout: float = SETTLE_TIMEOUT) -> bool:
    """Wait until copbot's outbox is empty (/healthz) and the fake API saw no call for a moment."""
    deadline = time.monotonic() + timeout
    last, quiet_since = calls(), time.monotonic()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as client:
        while time.monotonic() < deadline:
            try:
                async with client.get(base_url + "/healthz") as response:
                    pending = (await response.json()).get("outbox", {}).get("pending", 1)
            except (aiohttp.ClientError, TimeoutError, ValueError):
                pending = 1
            now = calls()
            if now != last:
                last, quiet_since = now, time.monotonic()
            if pending == 0 and time.monotonic() - quiet_since >= QUIET_SECONDS:
                return True
            await asyncio.sleep(0.05)
    return False


async def measure(
    base_url: str,
    requests: list[Request],
    concurrency: int,
    *,
    counter: RowCounter | None = None,
    model: Any = None,
    expected_rows: int | None = None,
    calls: Callable[[], int] | None = None,
) -> dict[str, Any]:
    """Acknowledgements of ``requests``; with ``counter``: rows of ``model`` stored per second
    (first request to last row) and, with ``calls``, outbound calls per row once delivered."""
    before_rows = await counter.count(model) if counter is not None else 0
    before_calls = calls() if calls is not None else 0
    acks = await send_all(base_url, requests, concurrency)
    found: dict[str, Any] = acks.summary()
    if counter is None:
        return found
    expected = len(requests) if expected_rows is None else expected_rows
    seen, at = await counter.until(model, before_rows + expected, STORE_TIMEOUT)
    stored = seen - before_rows
    found["rows_expected"] = expected
    found["rows_stored"] = stored
    found["stored_per_s"] = round(stored / (at - acks.started), 1) if at > acks.started else 0.0
    found["store_seconds"] = round(at - acks.started, 3)
    if calls is not None:
        found["delivered"] = await settle(base_url, calls)
        found["calls_per_row"] = round((calls() - before_calls) / stored, 2) if stored else None
    return found
