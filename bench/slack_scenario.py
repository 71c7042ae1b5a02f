"""The Slack workload, sent the same way to copbot and to the bare Bolt floor: slash commands
(members join), thread replies to one reflection step, button votes, and a 100-member burst
followed by the co-chair's `end` (copbot only: the time until the summary holds every answer)."""

from __future__ import annotations

import time
from typing import Any

from bench.load import Request, send_all, send_one
from bench.phases import measure, settle
from bench.rows import RowCounter
from bench.sizes import Sizes
from storage.models import Ballot, Member, ReflectionAnswer
from tests.fakes.slack_api import SECRET, FakeSlackApi, SlackRequests

CHAIR = "U0CHAIR"
SUMMARY = "Summary of our reflection"
WAIT = 60.0  # seconds for a post copbot was asked for
FLOOR_TS = "1700000000.000001"  # the floor acknowledges anything: any thread or message ts will do


def member(n: int) -> str:
    return f"U{n:05d}"


class SlackBench:
    """Builds signed requests for one channel and runs the phases against ``base_url``."""

    def __init__(self, base_url: str, slack: FakeSlackApi, channel: str) -> None:
        self.base_url = base_url
        self.slack = slack
        self.channel = channel
        self.signer = SlackRequests(None, SECRET, channel=channel, response_url=slack.response_url)

    def _request(self, body: str, content_type: str) -> Request:
        return Request("/slack/events", body.encode(), lambda: self.signer.signed_headers(body, None, content_type))

    def command(self, user: str, text: str) -> Request:
        return self._request(self.signer.command_body(user, text), "application/x-www-form-urlencoded")

    def reply(self, user: str, text: str, thread_ts: str) -> Request:
        return self._request(self.signer.event_body(self.signer.reply_event(user, text, thread_ts)), "application/json")

    def press(self, user: str, message_ts: str, button: dict[str, Any]) -> Request:
        return self._request(self.signer.action_body(user, message_ts, button), "application/x-www-form-urlencoded")

    def calls(self) -> int:
        return len(self.slack.calls)

    async def ask(self, text: str, expect: str | None = None) -> str | None:
        """The co-chair's command, acknowledged; with ``expect``: the ts of the post containing it."""
        seen = len(self.slack.calls)
        status = await send_one(self.base_url, self.command(CHAIR, text))
        if status != 200:
            raise RuntimeError(f"/cop {text.split()[0]} answered {status}")
        if expect is None:
            return None
        call = await self.slack.wait_for(lambda: self._posted_since(seen, expect), WAIT)
        return self.slack.ts_of(call)

    def _posted_since(self, seen: int, words: str) -> Any:
        for call in self.slack.calls[seen:]:
            if call.method == "chat.postMessage" and call.params.get("channel") == self.channel and words in call.text:
                return call
        return None

    def topic_buttons(self, ts: str) -> list[dict[str, Any]]:
        post = next(c for c in self.slack.posts(self.channel) if c.params.get("_ts") == ts)
        return [b for b in post.buttons() if str(b.get("value", "")).startswith("vote ") and b["value"] != "vote more"]


async def run(bench: SlackBench, sizes: Sizes, counter: RowCounter | None) -> dict[str, Any]:
    """Every phase; with ``counter`` (copbot) the meeting is real, else (the floor) only acks."""
    members = [member(n) for n in range(1, max(sizes.members, sizes.burst) + 1)]
    copbot = counter is not None
    calls = bench.calls if copbot else None
    results: dict[str, Any] = {}
    if copbot:
        await bench.ask("setup Bench Region")
        await settle(bench.base_url, bench.calls)
    joins = [bench.command(m, "join Peer Support Worker") for m in members[: sizes.members]]
    results["slash_commands"] = await measure(
        bench.base_url, joins, sizes.concurrency, counter=counter, model=Member, calls=calls
    )

    step = await bench.ask("reflect Load", "Step 1 of 6") if copbot else FLOOR_TS
    assert step is not None
    replies = [bench.reply(members[n % sizes.members], f"answer {n:05d}", step) for n in range(sizes.replies)]
    results["thread_replies"] = await measure(
        bench.base_url, replies, sizes.concurrency, counter=counter, model=ReflectionAnswer, calls=calls
    )

    if copbot:
        await bench.ask("end", SUMMARY)
    results["burst"] = await burst(bench, members[: sizes.burst], counter)

    ballot = await bench.ask("vote open", "lead topic") if copbot else FLOOR_TS
    assert ballot is not None
    any_topic = [{"action_id": f"cop:{i}", "value": f"vote {i + 1}"} for i in range(4)]
    buttons = bench.topic_buttons(ballot) if copbot else any_topic
    presses = [
        bench.press(m, ballot, buttons[t]) for t in range(sizes.votes_per_member) for m in members[: sizes.members]
    ]
    results["button_votes"] = await measure(
        bench.base_url, presses, sizes.concurrency, counter=counter, model=Ballot, calls=calls
    )
    return results


async def burst(bench: SlackBench, people: list[str], counter: RowCounter | None) -> dict[str, Any]:
    """``people`` answer one step all at once; copbot: then `end`, timed until the summary holds all."""
    copbot = counter is not None
    step = await bench.ask("reflect Burst", "Step 1 of 6") if copbot else FLOOR_TS
    assert step is not None
    texts = [f"burst answer {n:03d}" for n in range(len(people))]
    requests = [bench.reply(p, t, step) for p, t in zip(people, texts, strict=True)]
    before = await counter.count(ReflectionAnswer) if counter is not None else 0
    acks = await send_all(bench.base_url, requests, len(requests))
    found: dict[str, Any] = {
        "members": len(people),
        "p99_ms": round(acks.percentile(99), 1),
        "max_ms": round(1000 * max(acks.latencies), 1),
        "errors": acks.count - acks.ok,
    }
    if counter is None:
        return found
    seen, at = await counter.until(ReflectionAnswer, before + len(people), WAIT)
    found["stored"] = seen - before
    found["all_stored_s"] = round(at - acks.started, 3)
    await settle(bench.base_url, bench.calls)
    seen_calls = len(bench.slack.calls)
    ended = time.perf_counter()
    await send_one(bench.base_url, bench.command(CHAIR, "end"))

    def summary_holds_all() -> bool:
        posted = "\n".join(c.text for c in bench.slack.calls[seen_calls:] if c.params.get("channel") == bench.channel)
        return SUMMARY in posted and all(t in posted for t in texts)

    try:
        await bench.slack.wait_for(summary_holds_all, WAIT)
        found["end_to_summary_s"] = round(time.perf_counter() - ended, 3)
    except AssertionError:
        found["end_to_summary_s"] = None
    await settle(bench.base_url, bench.calls)
    return found
