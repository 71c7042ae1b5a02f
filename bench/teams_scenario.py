"""The Teams workload, sent the same way to copbot and to the bare botbuilder floor: messages in
one reflection step's reply chain, Adaptive Card submits (votes), and a 100-member burst followed
by the co-chair's `end` (copbot only: the time until the summary card holds every answer)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from bench.load import Request, send_all, send_one
from bench.phases import measure, settle
from bench.rows import RowCounter
from bench.sizes import Sizes
from storage.models import Ballot, ReflectionAnswer
from tests.fakes.bot_connector import ConnectorCall, FakeBotConnector
from tests.support.teams_channel import TeamsChannel

CHAIR = "Ann"  # one of tests.support.teams_channel.PEOPLE: she sets the community up, so she chairs it
SUMMARY = "Summary of our reflection"
WAIT = 60.0
FLOOR_ID = "1700000000001"  # the floor replies to anything: any chain will do
JSON = {"Content-Type": "application/json"}


def person(n: int) -> dict[str, str]:
    return {"id": f"29:m{n:05d}", "aadObjectId": f"aad-m{n:05d}", "name": f"Member {n}"}


class TeamsBench:
    """Builds Teams activities for one channel and runs the phases against ``base_url``."""

    def __init__(self, base_url: str, fake: FakeBotConnector) -> None:
        self.base_url = base_url
        self.fake = fake
        self.channel = TeamsChannel(None, fake)  # type: ignore[arg-type]  # only its activity builder is used

    def _request(self, body: dict[str, Any]) -> Request:
        return Request("/api/messages", json.dumps(body).encode(), lambda: dict(JSON))

    def message(self, n: int, text: str, root: str) -> Request:
        who = person(n)
        return self._request(self.channel.activity(CHAIR, text, root=root, **{"from": who}))

    def submit(self, n: int, card_id: str, data: dict[str, Any]) -> Request:
        who = person(n)
        body = self.channel.activity(CHAIR, "", root=card_id, replyToId=card_id, value=data, **{"from": who})
        return self._request(body)

    def calls(self) -> int:
        return len(self.fake.calls)

    async def ask(self, text: str, expect: str | None = None) -> ConnectorCall | None:
        """The co-chair's command (an @mention); with ``expect``: the card posted containing it."""
        seen = len(self.fake.calls)
        status = await send_one(self.base_url, self._request(self.channel.activity(CHAIR, f"@copbot {text}")))
        if not 200 <= status < 300:
            raise RuntimeError(f"@copbot {text.split()[0]} answered {status}")
        return None if expect is None else await self.posted_since(seen, expect)

    async def posted_since(self, seen: int, words: str) -> ConnectorCall:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            for call in self.fake.calls[seen:]:
                if call.kind in ("send", "reply") and call.message_id and words in call.card_text:
                    return call
            await asyncio.sleep(0.02)
        raise RuntimeError(f"no card with {words!r} within {WAIT:.0f} s")


async def run(bench: TeamsBench, sizes: Sizes, counter: RowCounter | None) -> dict[str, Any]:
    """Every phase; with ``counter`` (copbot) the meeting is real, else (the floor) only acks."""
    for n in range(1, max(sizes.members, sizes.burst) + 1):
        who = person(n)
        bench.fake.add_member(who["id"], who["aadObjectId"], who["name"])
    copbot = counter is not None
    calls = bench.calls if copbot else None
    results: dict[str, Any] = {}
    if copbot:
        await bench.ask("setup Bench Teams")
        await settle(bench.base_url, bench.calls)

    step = await bench.ask("reflect Load", "Step 1 of 6") if copbot else None
    step_id = step.message_id if step else FLOOR_ID
    assert step_id is not None
    messages = [bench.message(1 + n % sizes.members, f"answer {n:05d}", step_id) for n in range(sizes.replies)]
    results["messages"] = await measure(
        bench.base_url, messages, sizes.concurrency, counter=counter, model=ReflectionAnswer, calls=calls
    )

    if copbot:
        await bench.ask("end", SUMMARY)
    results["burst"] = await burst(bench, sizes.burst, counter)

    vote = await bench.ask("vote open", "lead topic") if copbot else None
    vote_id = vote.message_id if vote else FLOOR_ID
    assert vote_id is not None
    topics = [
        b["data"]
        for b in (vote.buttons() if vote else [])
        if str(b["data"].get("cop", "")).startswith("vote ") and b["data"]["cop"] != "vote more"
    ] or [{"cop": f"vote {i + 1}", "v": "floor"} for i in range(4)]
    submits = [
        bench.submit(n, vote_id, topics[t]) for t in range(sizes.votes_per_member) for n in range(1, sizes.members + 1)
    ]
    results["card_submits"] = await measure(
        bench.base_url, submits, sizes.concurrency, counter=counter, model=Ballot, calls=calls
    )
    return results


async def burst(bench: TeamsBench, people: int, counter: RowCounter | None) -> dict[str, Any]:
    """``people`` members answer one step at once; copbot: then `end`, timed until the summary holds all."""
    copbot = counter is not None
    step = await bench.ask("reflect Burst", "Step 1 of 6") if copbot else None
    step_id = step.message_id if step else FLOOR_ID
    assert step_id is not None
    texts = [f"burst answer {n:03d}" for n in range(people)]
    requests = [bench.message(n + 1, text, step_id) for n, text in enumerate(texts)]
    before = await counter.count(ReflectionAnswer) if counter is not None else 0
    acks = await send_all(bench.base_url, requests, len(requests))
    found: dict[str, Any] = {
        "members": people,
        "p99_ms": round(acks.percentile(99), 1),
        "max_ms": round(1000 * max(acks.latencies), 1),
        "errors": acks.count - acks.ok,
    }
    if counter is None:
        return found
    seen, at = await counter.until(ReflectionAnswer, before + people, WAIT)
    found["stored"] = seen - before
    found["all_stored_s"] = round(at - acks.started, 3)
    await settle(bench.base_url, bench.calls)
    seen_calls = len(bench.fake.calls)
    ended = time.perf_counter()
    await bench.ask("end")
    deadline = time.monotonic() + WAIT
    found["end_to_summary_s"] = None
    while time.monotonic() < deadline:
        shown = "\n".join(c.card_text for c in bench.fake.calls[seen_calls:] if c.answered_with < 300)
        if SUMMARY in shown and all(t in shown for t in texts):
            found["end_to_summary_s"] = round(time.perf_counter() - ended, 3)
            break
        await asyncio.sleep(0.02)
    await settle(bench.base_url, bench.calls)
    return found
