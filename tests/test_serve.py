"""`copbot serve`: /healthz, and configuration errors reported in one line."""

from __future__ import annotations

import asyncio

from aiohttp import web
from sqlalchemy import text

from bot.delivery import Pace
from bot.shell.runtime import Runtime
from bot.shell.web import build_app
from bot.vocabulary.conversation import Place, Post
from bot.vocabulary.errors import DeliveryError
from storage.db import Database
from tests.fakes.recording_sender import RecordingSender
from tests.support.app import client_for
from tests.support.serve import run_copbot
from tests.support.waiting import WAIT_SECONDS


async def test_healthz_reports_database_and_scheduler(sqlite_db, clock, env_clean):
    app = build_app(Runtime(sqlite_db, clock), {})
    async with client_for(app) as client:
        response = await client.get("/healthz")
        body = await response.json()
    assert response.status == 200
    assert body["database"] == "ok"
    assert body["scheduler"] == {"running": True, "jobs": 2}  # the announcements and the housekeeping
    assert body["slack"] == "off"


def test_half_set_configuration_is_one_clear_line(tmp_path):
    settings = {"SLACK_BOT_TOKEN": "xoxb-test", "DATABASE_URL": f"sqlite:///{tmp_path}/c.db"}
    done = run_copbot("serve", "--port", "0", settings=settings)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("copbot:")]
    assert len(lines) == 1 and "SLACK_SIGNING_SECRET" in lines[0]


async def test_stopping_lets_a_scheduled_tick_in_hand_finish_before_the_database_closes(sqlite_db, clock, env_clean):
    """The first tick runs at start; it is still in its transaction when copbot is told to stop
    (the app's shutdown has begun), and it finishes before the database is closed."""
    runtime = Runtime(sqlite_db, clock)
    ticking, stopping, finished = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def slow_tick() -> int:
        async with runtime.db.transaction() as session:
            ticking.set()
            await stopping.wait()  # copbot is told to stop meanwhile
            await session.execute(text("SELECT 1"))
        finished.set()
        return 0

    async def told_to_stop(_app: web.Application) -> None:
        stopping.set()

    runtime.announce_due = slow_tick  # type: ignore[method-assign]
    app = build_app(runtime, {})
    app.on_shutdown.append(told_to_stop)  # shutdown comes before the cleanup that stops the scheduler
    client = client_for(app)
    await client.start_server()
    try:
        await asyncio.wait_for(ticking.wait(), WAIT_SECONDS)
    finally:
        await asyncio.wait_for(client.close(), WAIT_SECONDS)
    assert finished.is_set()


async def test_healthz_is_503_with_the_reason_when_the_database_does_not_answer(clock, env_clean):
    """Guards README "Security", `GET /healthz`: "It answers 503 with "problems" when the
    database does not answer". The database here is a PostgreSQL address nobody listens on.
    Proved: with the ping's result ignored in ``healthz`` (bot/shell/web.py) this test fails."""
    nowhere = Database("postgresql://copbot@127.0.0.1:1/nothing")  # port 1: refused at once
    app = build_app(Runtime(nowhere, clock), {})
    async with client_for(app) as client:
        response = await client.get("/healthz")
        body = await response.json()
    assert response.status == 503
    assert body["database"] == "down"
    assert "the database does not answer" in body["problems"]
    assert "outbox" not in body  # nothing is made up about what could not be read


async def test_healthz_reports_pending_overdue_and_undeliverable_posts(sqlite_db, clock, env_clean):
    """Guards README "Security", `GET /healthz`: "It also reports the database and the outbox:
    pending posts, the oldest one's age, the longest overdue one's, and undeliverable posts",
    and 503 when "a post has been due and unsent for 10 minutes" (an undeliverable post alone is
    reported, not a 503). Proved: with ``storage.outbox.health`` counting nothing (pending or
    undeliverable 0) or the overdue check removed from ``healthz``, this test fails."""
    runtime = Runtime(sqlite_db, clock)
    slack = RecordingSender()
    runtime.connect("slack", slack, Pace(limits=()))
    async with client_for(build_app(runtime, {})) as client:

        async def health() -> tuple[int, dict[str, object]]:
            response = await client.get("/healthz")
            return response.status, await response.json()

        status, body = await health()
        assert status == 200 and body["outbox"] == {
            "pending": 0,
            "oldest_pending_seconds": 0.0,
            "oldest_due_seconds": 0.0,
            "undeliverable": 0,
        }
        # Two posts to a platform nobody delivers here: pending, and due from the start.
        await runtime.post(Place("teams", "19:abc"), [Post("first"), Post("second")])
        clock.advance(minutes=5)
        slack.failures.append(DeliveryError("channel_not_found", permanent=True))
        await runtime.post(Place("slack", "C1"), [Post("refused for good")])
        await runtime.drain()  # a round finished: only the outbox can make /healthz unhappy
        status, body = await health()
        assert status == 200 and "problems" not in body
        assert body["outbox"] == {
            "pending": 2,
            "oldest_pending_seconds": 300.0,
            "oldest_due_seconds": 300.0,
            "undeliverable": 1,
        }
        clock.advance(minutes=6)
        await runtime.drain()
        status, body = await health()
        assert status == 503
        assert body["problems"] == ["a post has been due for 660 s and is not sent"]
        assert body["outbox"] == {
            "pending": 2,
            "oldest_pending_seconds": 660.0,
            "oldest_due_seconds": 660.0,
            "undeliverable": 1,
        }
