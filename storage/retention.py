"""How long copbot keeps its operational rows, and the purge the scheduler runs: rows that can
no longer prevent a duplicate go, and what could quote a member goes as soon as it may.

- processed event ids: 7 days. Slack retries an event 3 times within about 5 minutes (and a
  request signed more than 5 minutes ago is refused); Teams documents no window, and resends
  have been seen within minutes.
- sent or cancelled outbox posts: 1 day. They hold no content, their message ids live on in
  `post_refs`, and nothing is de-duplicated against them.
- undeliverable outbox posts: `undelivered` (30 days); /healthz counts them until then.
- undelivered posts' bodies: `undelivered` (30 days, `COPBOT_UNDELIVERED_DAYS`), for the
  co-chairs to see what did not go out; the reason stays.
- files copbot serves itself (a review chart for Teams): 30 days (`storage.shared_files`).
- announcement claims and schedule changes: 30 days after the meeting they concern (agenda
  claims 2 years, the record of when each agenda went out); `storage.schedule.purge` says why.
- what members wrote: `member_texts` (365 days, `COPBOT_RETENTION_DAYS`, or a community's own
  shorter period): the words are blanked, the rows counted in the KPIs stay
  (`storage.member_texts`). Undelivered bodies go after the shorter of the two windows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from storage import delivery, member_texts, outbox, schedule, shared_files
from storage.db import Database


@dataclass(frozen=True)
class Keep:
    """The retention windows (configurable where the README says so)."""

    processed_events: timedelta = timedelta(days=7)
    sent_posts: timedelta = timedelta(days=1)
    undelivered: timedelta = timedelta(days=30)
    member_texts: timedelta = timedelta(days=member_texts.DEFAULT_DAYS)


async def purge(db: Database, now: datetime, keep: Keep) -> dict[str, int]:
    """One transaction per kind of row, so a failure in one leaves the others done."""
    counts: dict[str, int] = {}
    async with db.transaction() as session:
        counts["processed events"] = await delivery.purge_processed_events(session, now - keep.processed_events)
    async with db.transaction() as session:
        counts["outbox posts"] = await outbox.purge(
            session, now, sent_after=keep.sent_posts, failed_after=keep.undelivered
        )
    async with db.transaction() as session:
        bodies = min(keep.undelivered, keep.member_texts)
        counts["undelivered bodies"] = await delivery.clear_old_bodies(session, now - bodies)
    async with db.transaction() as session:
        counts.update(await member_texts.purge(session, now, keep.member_texts))
    async with db.transaction() as session:
        counts.update(await schedule.purge(session, now))
    async with db.transaction() as session:
        counts["shared files"] = await shared_files.purge(session, now)
    return counts
