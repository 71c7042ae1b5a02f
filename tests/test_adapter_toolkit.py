"""The pieces every adapter shares: the Retry-After parser and the work-in-hand tracker."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from bot.delivery import retry_after_seconds
from bot.work_in_hand import WorkInHand

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def test_retry_after_in_seconds_as_a_date_or_missing():
    assert retry_after_seconds({"Retry-After": "7"}) == 7.0
    assert retry_after_seconds({"retry-after": "2.5"}) == 2.5
    assert retry_after_seconds({"Retry-After": ["3"]}) == 3.0
    assert retry_after_seconds({"Retry-After": "Thu, 26 Nov 2026 10:00:30 GMT"}, now=NOW) == 30.0
    assert retry_after_seconds({"Retry-After": "-5"}) == 0.0
    for unreadable in ({}, {"Retry-After": "soon"}, {"Retry-After": None}, None, {"Retry-After": {"x": 1}}):
        assert retry_after_seconds(unreadable) is None


async def test_work_in_hand_waits_for_everything_and_logs_failures_by_kind(caplog):
    work = WorkInHand(logging.getLogger("test.work"))
    done: list[str] = []
    let_go = asyncio.Event()

    async def slow() -> None:
        await let_go.wait()
        done.append("slow")

    async def failing() -> None:
        raise ValueError("a member's private words")

    work.start(slow(), "slow work")
    work.start(failing(), "failing work")
    with work.inline("inline work"):
        assert work.count == 3
    idle = asyncio.create_task(work.idle())
    for _ in range(5):
        await asyncio.sleep(0)
    assert not idle.done()  # the slow work is still in hand
    let_go.set()
    await asyncio.wait_for(idle, 10)
    assert done == ["slow"] and work.count == 0
    assert "failing work failed: ValueError at test_adapter_toolkit.py" in caplog.text
    assert "private words" not in caplog.text
