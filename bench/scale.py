"""Scale (issue 16, point 5): a database with many communities — each with a quarterly
schedule, a Slack channel and 50 members, bulk-inserted through SQLAlchemy Core — then
`copbot serve`'s start time (process start to /healthz 200) and resident memory, and its memory
before and after a meeting with many answers (and after a short idle)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from bench import slack_scenario
from bench.databases import database_url
from bench.load import send_all
from bench.phases import settle
from bench.processes import Child
from bench.rows import RowCounter
from bench.scheduler_tick import populate
from bench.targets import SERVE, serve_env
from storage.db import Database
from storage.models import Community, Member, ReflectionAnswer
from tests.fakes.slack_api import FakeSlackApi

MEMBERS_PER_COMMUNITY = 50
CHUNK = 4000  # member rows per INSERT (8 columns: under both databases' parameter limits)
IDLE_SECONDS = 10.0


async def populated(url: str, communities: int) -> float:
    """Migrate and fill the database; returns the seconds it took. Nothing is due for a month,
    as in a running installation between meetings."""
    started = time.perf_counter()
    now = datetime.now(UTC)
    db = Database(url)
    try:
        await db.migrate()
        await populate(db, communities, now, now + timedelta(days=30))
        async with db.engine.begin() as conn:
            ids = list(await conn.scalars(select(Community.id)))
            per_insert = CHUNK // MEMBERS_PER_COMMUNITY
            for start in range(0, len(ids), per_insert):  # built a chunk at a time: memory stays small
                rows = [
                    {
                        "community_id": c,
                        "platform": "slack",
                        "user_id": f"U{c}M{k}",
                        "name": f"Member {k}",
                        "role": "Peer Support Worker",
                        "active": True,
                        "lead_opt_out": False,
                        "joined_at": now,
                    }
                    for c in ids[start : start + per_insert]
                    for k in range(MEMBERS_PER_COMMUNITY)
                ]
                await conn.execute(insert(Member), rows)
    finally:
        await db.dispose()
    return time.perf_counter() - started


async def meeting(server: Child, slack: FakeSlackApi, counter: RowCounter, answers: int, concurrency: int) -> None:
    """A reflection in a channel of its own with ``answers`` thread replies from up to 200 members, then `end`."""
    bench = slack_scenario.SlackBench(server.url, slack, "CSCALE")
    await bench.ask("setup Scale Meeting")
    step = await bench.ask("reflect Memory", "Step 1 of 6")
    assert step is not None
    people = [slack_scenario.member(n) for n in range(1, 201)]
    replies = [bench.reply(people[n % len(people)], f"answer {n:05d}", step) for n in range(answers)]
    before = await counter.count(ReflectionAnswer)
    await send_all(server.url, replies, concurrency)
    await counter.until(ReflectionAnswer, before + answers, 120)
    await bench.ask("end", slack_scenario.SUMMARY)
    await settle(server.url, bench.calls)


async def measure(kind: str, communities: int, answers: int, concurrency: int, idle: float) -> dict[str, Any]:
    """Fill a throwaway ``kind`` database, start `copbot serve` on it, hold a meeting."""
    found: dict[str, Any] = {"communities": communities, "members": communities * MEMBERS_PER_COMMUNITY}
    async with database_url(kind) as url:
        found["populate_s"] = round(await populated(url, communities), 1)
        slack = await FakeSlackApi().start()
        server = Child(SERVE, serve_env(slack, url))
        counter = RowCounter(url)
        try:
            found["start_s"] = round(await server.start(), 2)
            found["rss_start_mb"] = round(server.rss_mb(), 1)
            await meeting(server, slack, counter, answers, concurrency)
            found["meeting_answers"] = answers
            found["rss_after_meeting_mb"] = round(server.rss_mb(), 1)
            await asyncio.sleep(idle)
            found["rss_after_idle_mb"] = round(server.rss_mb(), 1)
            found["idle_s"] = idle
        finally:
            server.stop()
            await counter.close()
            await slack.close()
    return found
