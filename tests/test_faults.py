"""Faults under a real `copbot serve` process, over real signed Slack requests (issue 16):

- killed with -9 in the middle of a reflection with 50 answers in flight: after the restart the
  meeting is at the same step and every acknowledged answer is there (an unacknowledged one may
  be missing, never half-written);
- two processes on one PostgreSQL taking alternate requests of one meeting: the same summary as
  one process;
- the database gone for 5 s: each request gets a 5xx (Slack sends it again) or is stored,
  nothing is half-written, and copbot recovers by itself;
- a slow database (1 s per statement): copbot answers a 5xx within Slack's 3 s, never hangs.

"Half-written" is checked on what the schema lets us see: every answer row has its whole text
and its event's claim (`ProcessedEvent`) and no claim of an answer is without its row. The last
two tests check, in this process, the two fixes these faults called for: a connection asyncpg
says was cut counts as the database out of reach (`storage.db.unreachable`), and a request's
look-ups and dispatch answer within one deadline however long the work takes to stop
(`Runtime.in_time`).
"""

from __future__ import annotations

import asyncio
import itertools
import re
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from adapters.teams import endpoint_of
from bot.shell.runtime import Runtime
from bot.vocabulary.errors import Unavailable
from storage.db import Database, unreachable
from storage.models import Member, OutboxPost, ProcessedEvent, Reflection, ReflectionAnswer, SupportStatement
from storage.states import SessionStatus
from tests.fakes.db_proxy import DatabaseProxy
from tests.fakes.slack_api import SECRET, Call, FakeSlackApi, SlackRequests, running_stack
from tests.support.serve import Server
from tests.support.teams_channel import PEOPLE as TEAMS_PEOPLE
from tests.support.teams_channel import TeamsChannel
from tests.support.waiting import WAIT_SECONDS, until

REQUEST_SECONDS = 30.0  # a request that takes longer than this is a hang
TOPIC = "Boundaries at work"
ANSWER = re.compile(r"answer (\d{3}) — .*")


def answer(n: int) -> str:
    """Answer number ``n``: long enough that a cut-off text would show."""
    return f"answer {n:03d} — what I noticed, what I felt, and what I would do next time ({n:03d} ends here)"


def event_id(n: int) -> str:
    return f"EvAnswer{n:05d}"


def user(n: int) -> str:
    return f"U{n:03d}"


# -- the meeting, as Slack sends it -----------------------------------------------------------


@asynccontextmanager
async def slack_to(server: Server, slack: FakeSlackApi, channel: str = "C1") -> AsyncIterator[SlackRequests]:
    """Signed Slack requests to ``server``, for ``channel``."""
    timeout = aiohttp.ClientTimeout(total=REQUEST_SECONDS)
    async with aiohttp.ClientSession(server.url, timeout=timeout) as session:
        yield SlackRequests(session, SECRET, channel=channel, response_url=slack.response_url)


def latest(slack: FakeSlackApi, text: str, channel: str = "C1") -> Call | None:
    return next((c for c in reversed(slack.posts(channel)) if text in c.text), None)


async def delivered(server: Server) -> None:
    """Every post decided so far is sent (and its message id kept: a thread can be answered)."""

    async def nothing_pending() -> bool:
        health = await server.health()
        return "outbox" in health and health["outbox"]["pending"] == 0

    await until(nothing_pending, "the outbox emptied")


async def command(requests: SlackRequests, who: str, text: str) -> None:
    response = await requests.command(who, text)
    assert response.status == 200, f"/cop {text.split()[0]}: {response.status}"


async def step_post(slack: FakeSlackApi, server: Server, number: int, channel: str = "C1") -> str:
    """The ts of step ``number``'s post, once it is posted and every post before it is sent."""
    post = await until(lambda: latest(slack, f"Step {number} of 6", channel), f"step {number} posted")
    await delivered(server)
    return slack.ts_of(post)


async def reflection(requests: SlackRequests, slack: FakeSlackApi, server: Server) -> str:
    """A community and a reflection on its first step; the step's ts."""
    await command(requests, "U1", "setup North West")
    await command(requests, "U1", f"reflect {TOPIC}")
    return await step_post(slack, server, 1, requests.channel)


async def summary(requests: SlackRequests, slack: FakeSlackApi) -> str:
    await command(requests, "U1", "end")
    post = await until(lambda: latest(slack, "Summary of our reflection", requests.channel), "the summary posted")
    return str(post.text)


# -- what the database kept -------------------------------------------------------------------


async def kept(db: Database) -> Counter[int]:
    """How many times each answer is stored, after checking that none is half-written: every
    answer row has its whole text, and the answers' event claims are exactly their rows."""
    async with db.reading() as session:
        texts = list(await session.scalars(select(ReflectionAnswer.text)))
        claims = set(await session.scalars(select(ProcessedEvent.event_id).where(ProcessedEvent.platform == "slack")))
    stored: Counter[int] = Counter()
    for text in texts:
        found = ANSWER.fullmatch(text)
        assert found and text == answer(int(found[1])), f"an answer row is not a whole answer: {text[:40]!r}"
        stored[int(found[1])] += 1
    answer_claims = {int(c.removeprefix("EvAnswer")) for c in claims if c.startswith("EvAnswer")}
    assert answer_claims == set(stored), "an answer's event claim and its row were not kept together"
    return stored


async def open_step(db: Database) -> int:
    async with db.reading() as session:
        rows = list(await session.scalars(select(Reflection)))
    assert len(rows) == 1 and rows[0].status == SessionStatus.OPEN, [r.status for r in rows]
    return rows[0].step


@asynccontextmanager
async def sqlite(path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite:///{path}")
    try:
        yield db
    finally:
        await db.dispose()


def once_each(stored: Counter[int], numbers: Iterable[int]) -> None:
    numbers = set(numbers)
    assert set(stored) >= numbers, f"acknowledged but not kept: {sorted(numbers - set(stored))}"
    assert set(stored.values()) <= {1}, f"kept twice: {sorted(n for n, c in stored.items() if c > 1)}"


# -- kill -9 with 50 answers in flight ----------------------------------------------------------

MEMBERS = 50
FIRST_ACKS = 10  # answers acknowledged before the rest are sent


async def test_kill_9_in_a_reflection_with_50_answers_in_flight_keeps_every_acknowledged_one(tmp_path):
    database = tmp_path / "copbot.db"
    async with FakeSlackApi() as slack:
        first = Server(slack, database)
        await first.start()
        try:
            async with slack_to(first, slack) as requests:
                step = await reflection(requests, slack, first)
                acked = await answers_then_kill_9(requests, step, first)
        finally:
            await first.halt(signal.SIGKILL)
        assert FIRST_ACKS <= len(acked) < MEMBERS, "the kill came with no answer in flight"
        async with sqlite(database) as db:
            once_each(await kept(db), acked)
            assert await open_step(db) == 1

        second = Server(slack, database)  # the same database, as after a crash
        await second.start()
        try:
            async with slack_to(second, slack) as requests:
                again = [  # Slack sends each again, with its event id
                    requests.reply(user(n), answer(n), step, event_id=event_id(n), retry_num=1)
                    for n in set(range(MEMBERS)) - acked
                ]
                assert {response.status for response in await asyncio.gather(*again)} == {200}
                async with sqlite(database) as db:
                    assert await kept(db) == Counter(range(MEMBERS))
                    assert await open_step(db) == 1  # the meeting is where it was
                await command(requests, "U1", "next")
                await step_post(slack, second, 2)
                text = await summary(requests, slack)
        finally:
            await second.halt()
    assert all(answer(n) in text for n in range(MEMBERS))


async def answers_then_kill_9(requests: SlackRequests, step: str, server: Server) -> set[int]:
    """50 answers at once: the first 10 acknowledged, then the other 40, and kill -9 as soon as
    the first of those is acknowledged, when copbot is in the middle of the rest (the next
    group's transaction, a name to look up, a request half read). Returns the answers
    acknowledged (a 200 from copbot)."""
    acked: set[int] = set()
    first_acked, kill = asyncio.Event(), asyncio.Event()

    async def send(n: int) -> None:
        if n >= FIRST_ACKS:
            await first_acked.wait()
        try:
            response = await requests.reply(user(n), answer(n), step, event_id=event_id(n))
        except aiohttp.ClientError:
            return  # cut off by the kill: not acknowledged
        if response.status == 200:
            acked.add(n)
            if len(acked) == FIRST_ACKS:
                first_acked.set()
            elif len(acked) > FIRST_ACKS:
                kill.set()

    sending = asyncio.gather(*(send(n) for n in range(MEMBERS)))
    try:
        await asyncio.wait_for(kill.wait(), WAIT_SECONDS)
        assert server.process is not None
        server.process.kill()
        await asyncio.wait_for(asyncio.shield(sending), WAIT_SECONDS)
    finally:
        sending.cancel()
    return acked


# -- two processes on one PostgreSQL --------------------------------------------------------------

PEOPLE = {f"U{n}": name for n, name in enumerate(("Ann", "Ben", "Cara", "Dev", "Eve", "Finn", "Gus", "Hana"), 1)}


async def meeting(sides: list[SlackRequests], slack: FakeSlackApi, server: Server, name: str) -> str:
    """A whole reflection, each request to the next of ``sides`` in turn (the answers to a step
    all at once); the summary."""
    turns = itertools.cycle(sides)

    def side() -> SlackRequests:
        return next(turns)

    channel = sides[0].channel
    await command(side(), "U1", f"setup {name}")
    for who in list(PEOPLE)[1:]:
        await command(side(), who, "join")
    await command(side(), "U1", f"reflect {TOPIC}")
    for number in (1, 2):
        ts = await step_post(slack, server, number, channel)
        replies = [
            side().reply(who, f"{name}: step {number} from {person}", ts, event_id=f"Ev{channel}{number}{who}")
            for who, person in PEOPLE.items()
        ]
        assert {r.status for r in await asyncio.gather(*replies)} == {200}
        if number == 1:
            await command(side(), "U1", "next")
    return await summary(side(), slack)


async def test_two_serve_processes_on_one_postgresql_give_the_summary_of_one(postgres_db):
    url = postgres_db.url.replace("+asyncpg", "")
    async with FakeSlackApi(user_names=PEOPLE) as slack:
        servers = [Server(slack, url), Server(slack, url)]
        await asyncio.gather(*(server.start() for server in servers))
        try:
            async with slack_to(servers[0], slack, "C1") as alone:
                one = await meeting([alone], slack, servers[0], "North West")
            async with slack_to(servers[0], slack, "C2") as left, slack_to(servers[1], slack, "C2") as right:
                two = await meeting([left, right], slack, servers[1], "South East")
        finally:
            await asyncio.gather(*(server.halt() for server in servers))
    assert sorted(two.replace("South East", "North West").splitlines()) == sorted(one.splitlines())
    for person in PEOPLE.values():
        assert two.count(f"{person}: South East: step 1 from {person}") == 1
        assert two.count(f"{person}: South East: step 2 from {person}") == 1


# -- PostgreSQL behind a proxy that fails ----------------------------------------------------------


@asynccontextmanager
async def behind_proxy(postgres_url: str) -> AsyncIterator[tuple[DatabaseProxy, str]]:
    """A proxy in front of the test database, and the URL copbot uses to reach it through it."""
    direct = make_url(postgres_url)
    async with DatabaseProxy(direct.port or 5432, direct.host or "127.0.0.1") as proxy:
        through = direct.set(drivername="postgresql", host="127.0.0.1", port=proxy.port)
        yield proxy, through.render_as_string(hide_password=False)


async def sent_until_stored(requests: SlackRequests, n: int, step: str) -> None:
    """Answer ``n`` sent again and again, as Slack retries, until copbot acknowledges it."""

    async def stored() -> bool:
        response = await requests.reply(user(n), answer(n), step, event_id=event_id(n), retry_num=1)
        return bool(response.status == 200)

    await until(stored, f"answer {n} acknowledged")


async def test_the_database_gone_for_5_s_gives_5xx_or_stored_and_copbot_recovers(postgres_db):
    async with FakeSlackApi() as slack, behind_proxy(postgres_db.url) as (proxy, url):
        server = Server(slack, url)
        await server.start()
        try:
            async with slack_to(server, slack) as requests:
                step = await reflection(requests, slack, server)
                statuses: dict[int, int] = {}

                async def send(n: int) -> None:
                    statuses[n] = (await requests.reply(user(n), answer(n), step, event_id=event_id(n))).status

                for n in range(5):
                    await send(n)
                proxy.down_on(answer(5).encode())  # gone in the middle of keeping the next ten answers
                gone = time.monotonic()
                await asyncio.gather(*(send(n) for n in range(5, 15)))
                assert not proxy.is_up
                n = 15
                while time.monotonic() - gone < 5:  # two at a time, a few times a second
                    await asyncio.gather(send(n), send(n + 1), asyncio.sleep(0.2))
                    n += 2
                assert (await server.health())["database"] == "down"
                proxy.up()
                await sent_until_stored(requests, n, step)  # by itself: no restart
                for later in range(n + 1, n + 6):
                    await send(later)
                    assert statuses[later] == 200
                refused = sorted(k for k, status in statuses.items() if status != 200)
                assert {statuses[k] for k in refused} <= {500, 502, 503, 504}, statuses
                assert refused, "nothing was refused while the database was gone"
                for k in refused:
                    await sent_until_stored(requests, k, step)
                stored = await kept(postgres_db)
                once_each(stored, range(n + 6))
                text = await summary(requests, slack)
        finally:
            await server.halt()
    assert all(answer(k) in text for k in range(n + 6))


async def test_a_slow_database_gets_a_5xx_at_the_deadline(postgres_db):
    """A database that takes 1 s a statement: each answer gets a 5xx at the dispatch deadline
    (2.5 s, inside Slack's 3 s; `test_the_deadline_is_2_5_s_unless_set` holds the number, and
    how long it took is measured by `bench`, not here) instead of waiting for the database, and
    each retry, once the database is quick again, is kept once."""
    async with FakeSlackApi() as slack, behind_proxy(postgres_db.url) as (proxy, url):
        server = Server(slack, url, env={"COPBOT_DISPATCH_DEADLINE_SECONDS": "2.5"})
        await server.start()
        try:
            async with slack_to(server, slack) as requests:
                step = await reflection(requests, slack, server)
                proxy.delay = 1.0  # each statement waits 1 s
                statuses: dict[int, int] = {}

                async def send(n: int) -> None:
                    response = await requests.reply(user(n), answer(n), step, event_id=event_id(n))
                    statuses[n] = response.status

                await asyncio.gather(*(send(n) for n in range(3)))
                proxy.delay = 0
                for n in range(3):
                    await sent_until_stored(requests, n, step)
                once_each(await kept(postgres_db), range(3))
        finally:
            await server.halt()
    assert all(status >= 500 for status in statuses.values()), statuses


# -- the two fixes these faults called for, without a process ----------------------------------


def test_a_connection_asyncpg_says_was_cut_counts_as_the_database_out_of_reach():
    class ClosedWhileConnecting(Exception):
        sqlstate = "08003"  # connection_does_not_exist

    assert unreachable(DBAPIError("SELECT 1", None, Exception("cut"), connection_invalidated=True))
    assert unreachable(DBAPIError(None, None, ClosedWhileConnecting("connection was closed")))
    assert unreachable(ConnectionResetError())
    assert not unreachable(DBAPIError("SELECT 1", None, Exception("a bug")))
    assert not unreachable(ValueError())


async def test_in_time_answers_at_the_deadline_however_long_the_work_takes_to_stop(sqlite_db):
    runtime = Runtime(sqlite_db, dispatch_deadline=0.2)
    stopped = asyncio.Event()

    async def slow_to_stop() -> None:
        try:
            await asyncio.sleep(30)
        finally:
            await asyncio.sleep(1)  # a rollback over a slow database
            stopped.set()

    with pytest.raises(Unavailable):
        await runtime.in_time(slow_to_stop())
    assert not stopped.is_set()  # answered at the deadline, not once the work had stopped
    await asyncio.wait_for(stopped.wait(), WAIT_SECONDS)  # cancelled, and left to stop by itself

    async def cut() -> None:
        raise ConnectionResetError

    with pytest.raises(Unavailable):
        await runtime.in_time(cut())
    assert await runtime.in_time(asyncio.sleep(0, "kept")) == "kept"


# -- not acknowledged unless kept: Slack 500, Teams 503 (README "Delivery guarantee") -----------


class CommitsFail:
    """``db``'s transactions, made to fail at their commit while ``down`` (the database stopped
    answering just as the work was to be kept): what they wrote is rolled back."""

    def __init__(self, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
        self.down = False
        self.failed = 0
        real = db.transaction

        @asynccontextmanager
        async def transaction() -> AsyncIterator[Any]:
            async with real() as session:
                yield session
                if self.down:
                    self.failed += 1
                    raise OperationalError("COMMIT", {}, ConnectionResetError("the database stopped answering"))

        monkeypatch.setattr(db, "transaction", transaction)


async def counts(db: Database, *models: Any) -> tuple[int, ...]:
    async with db.reading() as session:
        return tuple([int(await session.scalar(select(func.count()).select_from(m)) or 0) for m in models])


async def test_slack_gets_a_500_when_the_event_could_not_be_committed_and_its_retry_is_kept_once(
    sqlite_db, clock, monkeypatch
):
    """Guards README "Delivery guarantee": "copbot acknowledges Slack or Teams only after the
    event's effect and every post it decided are committed to the database" and, from "Group
    commit", "If the database does not answer [...] nothing is acknowledged: Slack gets a 500
    [...] so they send the event again, and a retried event is handled once". The commit itself
    fails (nothing kept): a 200 would be an acknowledgement of nothing. When the 200 comes, the
    answer and its posts are already rows. Proved: with Bolt told to answer before the listener
    is done (``process_before_response=False`` in adapters/slack/app.py) this test fails."""
    async with running_stack(sqlite_db, clock, {"U1": "Ann", "U2": "Ben"}) as stack:
        requests, slack = stack.requests, stack.slack
        for who, text in (("U1", "setup North West"), ("U2", "join"), ("U1", "support")):
            assert (await requests.command(who, text)).status == 200
        await stack.settle()
        prompt = slack.ts_of(slack.find_post("I will support myself today"))
        commits = CommitsFail(sqlite_db, monkeypatch)
        before = await counts(sqlite_db, SupportStatement, ProcessedEvent, OutboxPost)

        commits.down = True
        refused = await requests.reply("U2", "asking for help", prompt, event_id="EvKEPT")
        assert refused.status == 500 and commits.failed  # not acknowledged: Slack sends it again
        assert await counts(sqlite_db, SupportStatement, ProcessedEvent, OutboxPost) == before  # nothing kept

        commits.down = False
        kept = await requests.reply("U2", "asking for help", prompt, event_id="EvKEPT", retry_num=1)
        assert kept.status == 200
        statements, events, posts = await counts(sqlite_db, SupportStatement, ProcessedEvent, OutboxPost)
        assert (statements, events) == (before[0] + 1, before[1] + 1) and posts > before[2]  # kept, with its posts
        again = await requests.reply("U2", "asking for help", prompt, event_id="EvKEPT", retry_num=2)
        assert again.status == 200
        await stack.settle()
        assert await counts(sqlite_db, SupportStatement, ProcessedEvent) == (before[0] + 1, before[1] + 1)
        assert len(slack.calls_to("reactions.add")) == 1  # handled once: one ✓


async def test_teams_gets_a_503_when_the_event_could_not_be_committed_and_its_retry_is_kept_once(
    channel: TeamsChannel, sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guards README "Delivery guarantee": "copbot acknowledges Slack or Teams only after the
    event's effect and every post it decided are committed to the database" and, from "Group
    commit", "If the database does not answer [...] nothing is acknowledged: [...] Teams a 503,
    so they send the event again, and a retried event is handled once". Proved: with
    adapters/teams/app.py answering 201 before the event is handled (``_take`` started as a task),
    or answering Unavailable with a 500, this test fails."""
    await channel.say("Ann", "@copbot setup North West")  # the channel's address is kept by now
    commits = CommitsFail(sqlite_db, monkeypatch)
    before = await counts(sqlite_db, Member, ProcessedEvent, OutboxPost)
    join = channel.activity("Ben", "@copbot join Peer Support Worker")

    commits.down = True
    assert await channel.post(join) == 503  # not acknowledged: Teams sends it again
    assert commits.failed
    assert await counts(sqlite_db, Member, ProcessedEvent, OutboxPost) == before  # nothing kept

    commits.down = False
    assert await channel.post(join) == 201
    members, events, posts = await counts(sqlite_db, Member, ProcessedEvent, OutboxPost)
    assert (members, events) == (before[0] + 1, before[1] + 1) and posts > before[2]  # kept, with its posts
    assert await channel.post(join) == 201  # Teams' retry of the same activity
    await channel.idle()
    assert await counts(sqlite_db, Member, ProcessedEvent) == (before[0] + 1, before[1] + 1)
    async with sqlite_db.reading() as session:
        joined = list(await session.scalars(select(Member.user_id).where(Member.user_id == TEAMS_PEOPLE["Ben"][1])))
    assert joined == [TEAMS_PEOPLE["Ben"][1]]


async def test_the_deadline_counts_from_the_requests_look_ups(sqlite_db, clock, channel, monkeypatch):
    """Guards README "Delivery guarantee" (from "Group commit"): "If the database does not
    answer, or not within 2.5 s (counted from the start of the request's look-ups, such as "is
    this thread one of copbot's posts?"), nothing is acknowledged: Slack gets a 500 and Teams a
    503". The look-up never answers here: each platform gets its 5xx at the deadline rather
    than no answer. Proved: with the look-up done before ``in_time`` in adapters/slack/app.py
    (``on_message``) or adapters/teams/app.py (``_take``), this test fails (no answer)."""
    never = asyncio.Event()

    async def hangs(*_: object) -> str | None:
        await never.wait()
        return None

    async with running_stack(sqlite_db, clock) as stack:
        assert (await stack.requests.command("U1", "setup North West")).status == 200
        await stack.settle()
        welcome = stack.slack.ts_of(stack.slack.posts()[0])
        stack.runtime.dispatch_deadline = 0.2
        monkeypatch.setattr(stack.runtime.deliveries, "key_for", hangs)
        reply = stack.requests.reply("U1", "an answer", welcome, event_id="EvSLOW")
        assert (await asyncio.wait_for(reply, WAIT_SECONDS)).status == 500

    await channel.say("Ann", "@copbot setup South East")  # (a name not taken on Slack above)
    root = channel.message_id(channel.public()[0])
    runtime = endpoint_of(channel.client.app).runtime
    runtime.dispatch_deadline = 0.2
    monkeypatch.setattr(runtime.deliveries, "key_for", hangs)
    answer_in_chain = channel.activity("Ben", "an answer", root=root)
    assert await asyncio.wait_for(channel.post(answer_in_chain), WAIT_SECONDS) == 503


def test_the_deadline_is_2_5_s_unless_set():
    """Guards README "Delivery guarantee" (from "Group commit"): "or not within 2.5 s": the
    default of `bot.shell.runtime.DISPATCH_DEADLINE`, read in a fresh interpreter (the tests'
    own patch, `patient_dispatch` in tests/conftest.py, raises it here). Proved: with the
    default set to 3.0, this test fails."""
    import subprocess
    import sys

    code = "from bot.shell.runtime import DISPATCH_DEADLINE; print(DISPATCH_DEADLINE)"
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert float(found.stdout) == 2.5
