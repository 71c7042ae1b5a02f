"""How long the scheduler's minute tick takes when nothing is due: 10,000 communities (by
default) with a quarterly schedule and a channel, bulk-inserted, on SQLite and on PostgreSQL;
the tick (`Runtime.announce_due`) runs several times and the median and slowest tick and the
SQL statements per tick are printed, then the same as JSON with the machine's core count.

    python bench/scheduler_tick.py [--communities 10000] [--ticks 7] [--catch-up]

PostgreSQL: ``COPBOT_BENCH_POSTGRES`` (default postgresql://postgres@127.0.0.1:5432/test) is
used to create a throwaway database, dropped at the end; if it cannot be reached, only SQLite
is measured. ``--catch-up`` also times the catch-up after the migration, when every schedule is
marked "look now" and each community is looked at once (over as many ticks as that takes).
Issue 15 asked for under 0.5 s per tick with nothing due.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event, insert, select, update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from bot.shell.runtime import Runtime  # noqa: E402
from storage import schedule as schedules  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.due import LOOK_NOW  # noqa: E402
from storage.models import ChannelBinding, Community, MeetingSchedule  # noqa: E402

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # nothing of "3rd Wednesday of Mar Jun Sep Dec" is due
RULE = "FREQ=YEARLY;BYMONTH=3,6,9,12;BYDAY=+3WE"
POSTGRES = os.environ.get("COPBOT_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
CHUNK = 2000  # rows per INSERT: under both databases' limit on parameters


async def populate(
    db: Database, count: int, now: datetime, next_due_at: datetime | None = LOOK_NOW, *, first: int = 0
) -> list[int]:
    """``count`` communities (numbered from ``first``), each with one Slack channel and a
    quarterly schedule at 10:30 Dublin time, inserted in bulk (no ORM events); returns their
    schedule ids."""
    schedule_ids: list[int] = []
    async with db.engine.begin() as conn:
        for start in range(first, first + count, CHUNK):
            numbers = range(start, min(start + CHUNK, first + count))
            made = await conn.execute(
                insert(Community).returning(Community.id, sort_by_parameter_order=True),
                [{"name": f"Community {n}", "vote_budget": 3, "created_at": now} for n in numbers],
            )
            ids = list(made.scalars())
            await conn.execute(
                insert(ChannelBinding),
                [
                    {"community_id": i, "platform": "slack", "channel_id": f"C{i}", "team_id": "T1", "created_at": now}
                    for i in ids
                ],
            )
            schedules = await conn.execute(
                insert(MeetingSchedule).returning(MeetingSchedule.id, sort_by_parameter_order=True),
                [
                    {
                        "community_id": i,
                        "rule": RULE,
                        "at": "10:30",
                        "zone": "Europe/Dublin",
                        "country": "IE",
                        "agenda_days": 5,
                        "call_days": 10,
                        "updated_at": now,
                        "next_due_at": next_due_at,
                    }
                    for i in ids
                ],
            )
            schedule_ids += list(schedules.scalars())
    return schedule_ids


class StatementCount:
    """Counts the SQL statements an engine sends (a `before_cursor_execute` listener)."""

    def __init__(self, db: Database) -> None:
        self.count = 0
        event.listen(db.engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: object) -> None:
        self.count += 1


async def _settle(db: Database, runtime: Runtime, schedule_ids: list[int], catch_up: bool) -> float | None:
    """Bring every schedule to its real next moment: each looked at once (``catch_up``, timed),
    or the first one looked at and its answer given to the identical rest."""
    if catch_up:
        started = time.perf_counter()
        while True:  # a tick stops taking batches after ANNOUNCE_TICK_SECONDS: the next goes on
            await runtime.announce_due()
            async with db.transaction() as session:
                if not await schedules.due_batch(session, NOW, None, 1):
                    return time.perf_counter() - started
    async with db.transaction() as session:
        await session.execute(
            update(MeetingSchedule).where(MeetingSchedule.id == schedule_ids[0]).values(next_due_at=LOOK_NOW)
        )
    await runtime.announce_due()
    async with db.transaction() as session:
        found = await session.scalar(select(MeetingSchedule.next_due_at).where(MeetingSchedule.id == schedule_ids[0]))
        await session.execute(update(MeetingSchedule).values(next_due_at=found))
    return None


async def measure(url: str, communities: int, ticks: int, catch_up: bool) -> dict[str, object]:
    db = Database(url)
    try:
        await db.migrate()
        schedule_ids = await populate(db, communities, NOW, LOOK_NOW if catch_up else None)
        runtime = Runtime(db, lambda: NOW)
        first = await _settle(db, runtime, schedule_ids, catch_up)
        counter = StatementCount(db)
        seconds, statements = [], []
        for _ in range(ticks):
            before, started = counter.count, time.perf_counter()
            kept = await runtime.announce_due()
            seconds.append(time.perf_counter() - started)
            statements.append(counter.count - before)
            assert kept == 0, "nothing should be due"
        found: dict[str, object] = {
            "communities": communities,
            "ticks": ticks,
            "median_s": round(statistics.median(seconds), 4),
            "max_s": round(max(seconds), 4),
            "statements_per_tick": max(statements),
        }
        if first is not None:
            found["catch_up_s"] = round(first, 2)
        return found
    finally:
        await db.dispose()


async def _with_postgres(work: object) -> dict[str, object] | str:
    """Run ``work(url)`` in a throwaway PostgreSQL database; a sentence if there is none here."""
    import asyncpg

    base, _, _ = POSTGRES.rpartition("/")
    name = f"copbot_bench_{os.getpid()}"
    admin = POSTGRES.replace("postgresql://", "postgres://")
    try:
        conn = await asyncpg.connect(admin, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        return f"not measured: PostgreSQL not reachable at {POSTGRES} ({type(error).__name__})"
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        return await work(f"{base}/{name}")  # type: ignore[operator, no-any-return]
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


async def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description="Time the scheduler's tick with nothing due.")
    parser.add_argument("--communities", type=int, default=10_000)
    parser.add_argument("--ticks", type=int, default=7)
    parser.add_argument("--catch-up", action="store_true", help="also time the catch-up after the migration")
    args = parser.parse_args(argv)
    results: dict[str, object] = {"cores": os.cpu_count()}
    with tempfile.TemporaryDirectory() as folder:
        results["sqlite"] = await measure(f"sqlite:///{folder}/bench.db", args.communities, args.ticks, args.catch_up)
    results["postgresql"] = await _with_postgres(lambda url: measure(url, args.communities, args.ticks, args.catch_up))
    for name in ("sqlite", "postgresql"):
        found = results[name]
        if isinstance(found, dict):
            print(
                f"{name}: {found['communities']} communities, nothing due: median {found['median_s']} s, "
                f"max {found['max_s']} s, {found['statements_per_tick']} SQL statements per tick"
                + (f"; catch-up after the migration {found['catch_up_s']} s" if "catch_up_s" in found else "")
            )
        else:
            print(f"{name}: {found}")
    print(json.dumps(results))
    return results


if __name__ == "__main__":
    asyncio.run(main())
