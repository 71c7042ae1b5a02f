"""Nothing acknowledged is lost, nothing decided is sent twice: a burst of answers then ``end``,
two delivery workers on one PostgreSQL, and a `copbot serve` process killed (-9) or stopped
(SIGTERM) with posts waiting, then started again."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.courier import MAX_LANES
from bot.delivery import Pace
from bot.shell.runtime import Runtime
from bot.vocabulary.conversation import Place, Post
from storage.db import Database
from storage.models import OutboxPost, ReflectionAnswer
from storage.states import OutboxStatus
from tests.fakes.recording_sender import RecordingSender
from tests.fakes.slack_api import SECRET, FakeSlackApi, SlackRequests, running_stack
from tests.support.serve import Server
from tests.support.waiting import WAIT_SECONDS, until


async def test_a_burst_of_100_answers_then_end_keeps_all_100(db, clock):
    async with running_stack(db, clock) as stack:
        for text in ("setup North West", "reflect Boundaries at work"):
            assert (await stack.requests.command("U1", text)).status == 200
            await stack.settle()
        step_ts = stack.slack.ts_of(stack.slack.find_post("Step 1 of 6"))
        replies = [stack.requests.reply(f"U{n:03d}", f"answer number {n:03d}", step_ts) for n in range(100)]
        answered = await asyncio.gather(*replies)
        assert {r.status for r in answered} == {200}
        # Every answer was acknowledged, so every one is kept before the chair's `end` arrives.
        assert (await stack.requests.command("U1", "end")).status == 200
        await stack.settle()
        summary = stack.slack.find_post("Summary of our reflection").text
    assert all(f"answer number {n:03d}" in summary for n in range(100))
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(ReflectionAnswer)) == 100


class GatedSender(RecordingSender):
    """Counts what it was asked to send, by text, from any worker; the first post of each
    channel waits at the shared gate until the test opens it."""

    def __init__(self, name: str, seen: dict[str, int], gate: dict[str, str], opened: asyncio.Event) -> None:
        super().__init__()
        self.name, self.seen, self.gate, self.opened = name, seen, gate, opened

    async def send(self, place: Place, post: Post, thread_ref: str | None) -> str | None:
        self.seen[post.text] = self.seen.get(post.text, 0) + 1
        if post.text.endswith(".0"):
            self.gate[place.channel_id] = self.name
            await self.opened.wait()
        return await super().send(place, post, thread_ref)


async def test_two_workers_on_one_database_send_each_post_once(postgres_db, clock):
    """Guards README "Delivery guarantee": "each post goes out once and each channel's posts in
    order, across ... several workers". The interleaving is forced, not hoped for: worker A
    holds as many lanes as it may (`MAX_LANES`), each mid-send, before worker B starts; B takes
    the lanes left and is mid-send in them too; only then do the sends finish."""
    db = postgres_db
    channels = MAX_LANES + 4
    seen: dict[str, int] = {}
    gate: dict[str, str] = {}
    opened = asyncio.Event()
    senders = {name: GatedSender(name, seen, gate, opened) for name in ("A", "B")}
    workers = {}
    for name, sender in senders.items():
        runtime = Runtime(Database(db.url.replace("+asyncpg", "")), clock)
        runtime.connect("slack", sender, Pace(limits=()))
        workers[name] = runtime
    try:
        for c in range(channels):
            place = Place("slack", f"C{c:02d}")
            await workers["A"].post(place, [Post(f"announcement C{c:02d}.{i}", key=f"a:{c}:{i}") for i in range(5)])
        first = asyncio.create_task(workers["A"].courier.drain())
        await until(lambda: len(gate) == MAX_LANES, "worker A mid-send in as many lanes as it holds")
        second = asyncio.create_task(workers["B"].courier.drain())
        await until(lambda: len(gate) == channels, "worker B mid-send in the lanes A left")
        assert sorted(gate.values()).count("B") == channels - MAX_LANES  # both at once, lanes apart
        opened.set()
        await asyncio.gather(first, second)
        await asyncio.gather(*(w.courier.drain() for w in workers.values()))
    finally:
        opened.set()
        for worker in workers.values():
            await worker.db.dispose()
    assert len(seen) == channels * 5 and set(seen.values()) == {1}
    for c in range(channels):
        channel = f"C{c:02d}"
        texts = [t for s in senders.values() for t in s.sent_texts(channel)]
        assert texts == [f"announcement {channel}.{i}" for i in range(5)], channel  # one worker, in order
    async with db.transaction() as session:
        statuses = list(await session.scalars(select(OutboxPost.status)))
        contents = list(await session.scalars(select(OutboxPost.content)))
    assert statuses == [OutboxStatus.SENT] * channels * 5
    assert contents == [None] * channels * 5  # sent rows keep no member text


# -- a real `copbot serve` process, killed and restarted ------------------------------------------


async def _commands(requests: SlackRequests, people: int) -> None:
    """A community, then one channel post each for ``people`` members (the agenda they ask for)."""
    assert (await requests.command("U0", "setup North West")).status == 200
    for n in range(1, people + 1):
        assert (await requests.command(f"U{n}", "meeting", f"person{n}")).status == 200


async def _pending(database: Path) -> int:
    db = Database(f"sqlite:///{database}")
    try:
        async with db.transaction() as session:
            waiting = (OutboxStatus.PENDING, OutboxStatus.SENDING)
            return int(await session.scalar(select(func.count(OutboxPost.id)).where(OutboxPost.status.in_(waiting))))
    finally:
        await db.dispose()


async def _nothing_pending(*servers: Server) -> bool:
    healths = [await server.health() for server in servers]
    return all(health["outbox"]["pending"] == 0 for health in healths)


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["kill -9", "SIGTERM"])
async def test_posts_waiting_when_the_process_stops_go_out_once_after_the_restart(tmp_path, how):
    database = tmp_path / "copbot.db"
    async with FakeSlackApi() as slack:
        slack.fail_next(100_000, status=500, retry_after=None, error="internal_error", method="chat.postMessage")
        first = Server(slack, database)
        await first.start()
        async with aiohttp.ClientSession(f"http://127.0.0.1:{first.port}") as client:
            requests = SlackRequests(client, SECRET, response_url=slack.response_url)
            await _commands(requests, people=24)
        assert await _pending(database) == 25  # acknowledged: every post decided is kept
        tried = lambda: [c for c in slack.calls if c.method == "chat.postMessage"]  # noqa: E731
        await slack.wait_for(tried, timeout=WAIT_SECONDS)  # the worker is sending, and Slack fails
        await first.halt(how)
        if how == signal.SIGTERM:
            assert first.process is not None and first.process.returncode == 0  # it stopped by itself
        assert await _pending(database) == 25
        slack._failures.clear()  # Slack is well again

        second = Server(slack, database)
        await second.start()
        try:
            await until(lambda: _nothing_pending(second), "every waiting post delivered after the restart")
            health = await second.health()
        finally:
            await second.halt()
    delivered = [c for c in slack.calls if c.method == "chat.postMessage" and c.status == 200]
    texts = [c.text for c in delivered]
    assert len(delivered) == 25
    assert sum("Welcome to the North West" in t for t in texts) == 1
    assert sum(t.startswith("Our first meeting, in order") for t in texts) == 24
    assert health["outbox"] == {
        "pending": 0,
        "oldest_pending_seconds": 0.0,
        "oldest_due_seconds": 0.0,
        "undeliverable": 0,
    }


async def test_429_then_500_for_a_while_every_post_once_and_the_latest_update_last(sqlite_db, clock):
    async with running_stack(sqlite_db, clock, {"U1": "Ann", "U2": "Ben", "U3": "Cara"}) as stack:
        assert (await stack.requests.command("U1", "setup North West")).status == 200
        await stack.settle()
        stack.slack.fail_next(1, status=429, retry_after=30, method="chat.postMessage")  # longer than a send holds
        stack.slack.fail_next(12, status=500, retry_after=None, error="internal_error")
        for user, text in (("U1", "support"), ("U2", "join"), ("U3", "join")):
            assert (await stack.requests.command(user, text)).status == 200
        prompt = None
        for _ in range(30):  # Slack is down for a while: the clock moves on, the worker retries
            await stack.settle()
            if prompt is None and any("I will support myself" in c.text for c in stack.slack.posts()):
                prompt = stack.slack.ts_of(stack.slack.find_post("I will support myself"))
                for user in ("U2", "U3"):
                    await stack.requests.reply(user, f"statement of {user}", prompt)
            health = await stack.runtime.outbox_health()
            if health.pending == 0 and prompt is not None:
                break
            clock.advance(minutes=5)
        assert health.pending == 0 and health.undeliverable == 0
        delivered = [c for c in stack.slack.calls if c.method == "chat.postMessage" and c.status == 200]
        texts = [c.text for c in delivered]
        assert sum("I will support myself today" in t for t in texts) == 1
        # (Slack's users.info failed too: the names are the ones the commands carried)
        welcomes = [t for t in texts if "Glad you're here" in t]
        shown = welcomes + [c.text for c in stack.slack.calls_to("chat.update") if "Glad you're here" in c.text]
        assert len(welcomes) == 1 and "Welcome, u2 and u3!" in shown[-1]  # one welcome, updated: not one each
        updates = [c for c in stack.slack.calls_to("chat.update") if c.params.get("ts") == prompt and c.status == 200]
        assert updates and "2 of the 3 here have shared" in updates[-1].text  # the latest tally is the one shown


async def test_two_serve_processes_on_one_postgresql_send_each_post_once(postgres_db):
    url = postgres_db.url.replace("+asyncpg", "")
    async with FakeSlackApi() as slack:
        slack.fail_next(100_000, status=503, retry_after=None, error="service_unavailable", method="chat.postMessage")
        servers = [Server(slack, url, lease_seconds=60), Server(slack, url, lease_seconds=60)]
        await asyncio.gather(*(server.start() for server in servers))
        try:
            sessions = [aiohttp.ClientSession(f"http://127.0.0.1:{server.port}") for server in servers]
            try:
                channels = [
                    SlackRequests(s, SECRET, channel=f"C{n}", response_url=slack.response_url)
                    for n, s in enumerate(sessions)
                ]
                for n, requests in enumerate(channels):
                    assert (await requests.command("U0", f"setup Region {n}")).status == 200
                for person in range(1, 41):  # each person asks both channels for the agenda, via both servers
                    for requests in channels:
                        assert (await requests.command(f"U{person}", "meeting", f"person{person}")).status == 200
            finally:
                for session in sessions:
                    await session.close()
            slack._failures.clear()
            await until(lambda: _nothing_pending(*servers), "both servers delivered everything")
        finally:
            await asyncio.gather(*(server.halt() for server in servers))
    delivered = [c for c in slack.calls if c.method == "chat.postMessage" and c.status == 200]
    assert len(delivered) == 82
    per_channel: dict[str, list[str]] = {}
    for call in delivered:
        per_channel.setdefault(call.params["channel"], []).append(call.text)
    for channel, texts in per_channel.items():
        assert len(texts) == 41 and "Welcome to the Region" in texts[0], channel
        assert sum(t.startswith("Our first meeting, in order") for t in texts) == 40  # each once
