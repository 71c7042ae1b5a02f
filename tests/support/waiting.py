"""Waiting for a condition in a test, never for a fixed time: `until` polls a check (plain or
async) and fails loudly, naming what it waited for, when the check is still false at the deadline.
The deadline only catches a hang; it is not a speed requirement (speed lives in `bench/`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

WAIT_SECONDS = 60.0  # generous: a loaded CI machine (two suites on 2 cores) is slow, not hung
POLL_SECONDS = 0.05
PATIENT_SECONDS = 30.0  # how long an event may wait for the database in tests (production: 2.5 s)


async def until(check: Callable[[], Any], what: str, seconds: float = WAIT_SECONDS) -> Any:
    """Poll ``check`` (sync or async) until it is truthy and return its value; an
    ``AssertionError`` naming ``what`` if it is not within ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {seconds:.0f} s: {what}")
        await asyncio.sleep(POLL_SECONDS)
