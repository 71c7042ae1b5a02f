"""How long a member's private receipt waits while another channel has a backlog: 50 posts
queued in one channel at Slack's pace (1 post a second), then a private "kept" in another
channel; the real delivery worker, a SQLite database and a sender that only records.

    python bench/receipt_latency.py [--posts 50] [--per-second 1]

Issue 15 asked that the receipt go out within 1 s; the worker delivers lanes concurrently.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.delivery import Pace
from bot.shell.runtime import Runtime
from bot.vocabulary.conversation import Place, Post
from storage.db import Database


class Recorder:
    """A platform that takes every post at once and notes when."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.count = 0

    async def send(self, place: Place, post: Post, thread_ref: str | None) -> str | None:
        self.count += 1
        self.at[post.text] = time.monotonic()
        return None if post.private_to else f"m{self.count}"

    async def update(self, place: Place, ref: str, post: Post) -> None:
        self.at[post.text] = time.monotonic()


async def measure(posts: int, per_second: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite:///{Path(folder) / 'bench.db'}")
        await db.migrate()
        runtime = Runtime(db, lambda: datetime.now(UTC))
        sender = Recorder()
        runtime.connect("slack", sender, Pace(limits=((1, 1.0 / per_second),)))
        await runtime.post(Place("slack", "C-backlog"), [Post(f"backlog {n}") for n in range(posts)])
        worker = asyncio.create_task(runtime.courier.run())
        while "backlog 0" not in sender.at:
            await asyncio.sleep(0.01)
        asked = time.monotonic()
        await runtime.post(Place("slack", "C-other"), [Post("kept ✓", private_to="U1", receipt=True)])
        while "kept ✓" not in sender.at:
            await asyncio.sleep(0.001)
        backlog_sent = sum(1 for text in sender.at if text.startswith("backlog"))
        runtime.courier.stop()
        await worker
        await db.dispose()
    return {
        "backlog posts": posts,
        "channel pace per second": per_second,
        "receipt latency ms": round((sender.at["kept ✓"] - asked) * 1000, 1),
        "backlog posts sent before the receipt": backlog_sent,
        "cores": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=50)
    parser.add_argument("--per-second", type=float, default=1.0)
    args = parser.parse_args()
    result = asyncio.run(measure(args.posts, args.per_second))
    print(f"a private receipt behind {args.posts} posts in another channel: {result['receipt latency ms']} ms")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
