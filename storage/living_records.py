"""Each Slack channel's living record (its canvas): noticing what changes it, queuing it to be
drawn again through the outbox, and what is kept about it (the canvas id, or why there is none).

Noticing: sessions of `storage.due.RhythmSession` (every `Database.transaction`) note the
communities whose actions, schedule, meetings, next lead or name changed, or whose meeting
ended (the scheduler's "next steps" announcement) — in the unit of work (`before_flush`) and
in bulk statements (`do_orm_execute`) — and `queue_changed` runs just before the commit: one
outbox row per channel, in the channel's record lane (`storage.outbox.RECORD_LANE`, apart from
its posts, so a slow or refused canvas never holds a message back), due `SETTLE` after the
first change. Changes made while it waits add nothing (the row is the slot, the
record is drawn when sent, with the latest state): a burst of changes is one canvas call.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, event, inspect, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from bot.vocabulary.conversation import Place, Post, post_to_json
from storage.due import RhythmSession, _inserted_communities
from storage.models import (
    ActionItem,
    Announcement,
    ChannelBinding,
    Community,
    LeadTurn,
    LivingRecord,
    Meeting,
    MeetingSchedule,
    OutboxPost,
    Reflection,
    ScheduleChange,
    SupportRound,
    TopicVote,
)
from storage.outbox import RECORD_KEY, RECORD_LANE, lane_of
from storage.states import OutboxStatus, where
from storage.upsert import insert_for, insert_ignore

RECORD_PLATFORMS = ("slack",)  # where a channel has a living record (Teams and the terminal: none)
SETTLE = timedelta(minutes=1)  # the first change waits this long; the minute's changes go in one call
# The rows the record is drawn from (a meeting's parts opening, moving and closing redraw its
# minutes; an answer alone does not), and the scheduler's announcements: the "next steps" one,
# two hours after a meeting's start, is the meeting's end (the next meeting is another one then).
# A channel bound (`/cop setup`) is not one: its record is made at the first change that gives
# it something to show (a schedule, an action).
WATCHED = (
    ActionItem,
    MeetingSchedule,
    ScheduleChange,
    Meeting,
    LeadTurn,
    Announcement,
    SupportRound,
    Reflection,
    TopicVote,
)
# Bulk statements: the schedule's only one is the scheduler's own mark (`storage.schedule.put_off`).
_BULK_WATCHED = {model.__table__ for model in WATCHED if model is not MeetingSchedule}
_CHANGED = "living_records_changed"  # session.info: the communities whose record changed
_OWN_COLUMNS = {"next_due_at", "updated_at"}  # the scheduler's bookkeeping: the record shows neither


def changed_communities(session: Session) -> set[int]:
    """The communities whose record this session's transaction changed so far."""
    found: set[int] = session.info.setdefault(_CHANGED, set())
    return found


def _really_changed(session: Session, row: Any) -> bool:
    if row in session.new or row in session.deleted:
        return True
    if not session.is_modified(row):
        return False
    if isinstance(row, MeetingSchedule):  # the scheduler's own marks change nothing the record shows
        return any(attr.history.has_changes() for attr in inspect(row).attrs if attr.key not in _OWN_COLUMNS)
    return True


@event.listens_for(RhythmSession, "before_flush")
def _note_changes(session: Session, _context: UOWTransaction, _instances: object) -> None:
    found = changed_communities(session)
    for row in (*session.new, *session.dirty, *session.deleted):
        if isinstance(row, Community):
            if row in session.dirty and session.is_modified(row) and row.id is not None:
                found.add(row.id)
        elif isinstance(row, WATCHED) and _really_changed(session, row) and row.community_id is not None:
            found.add(row.community_id)


@event.listens_for(RhythmSession, "do_orm_execute")
def _note_bulk_changes(state: ORMExecuteState) -> None:
    if state.is_select or not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if table not in _BULK_WATCHED:
        return
    if state.is_insert:
        communities = _inserted_communities(state)
    else:
        condition = state.statement.whereclause  # type: ignore[attr-defined]
        query = select(table.c.community_id).distinct()
        communities = set(state.session.execute(query if condition is None else query.where(condition)).scalars())
    changed_communities(state.session).update(communities)


async def queue_changed(session: AsyncSession, now: datetime) -> None:
    """Just before the commit: queue the records of the communities this transaction changed."""
    await session.flush()
    found = session.sync_session.info.pop(_CHANGED, None)
    if found:
        await queue(session, found, now)
        await session.flush()
        session.sync_session.info.pop(_CHANGED, None)  # its own rows are no change to the record


async def queue(session: AsyncSession, community_ids: Iterable[int], now: datetime) -> int:
    """Have the living record of each active channel of these communities drawn `SETTLE` from
    ``now`` (where the platform has one and the channel has not refused it). Returns the channels."""
    ids = sorted(set(community_ids))
    if not ids:
        return 0
    refused = and_(
        LivingRecord.platform == ChannelBinding.platform, LivingRecord.channel_id == ChannelBinding.channel_id
    )
    rows = await session.execute(
        select(ChannelBinding.platform, ChannelBinding.channel_id, ChannelBinding.team_id)
        .outerjoin(LivingRecord, refused)
        .where(
            ChannelBinding.community_id.in_(ids),
            ChannelBinding.platform.in_(RECORD_PLATFORMS),
            ChannelBinding.active.is_(True),
            LivingRecord.refused.is_(None),
        )
    )
    places = [Place(platform, channel, team or "") for platform, channel, team in rows.all()]
    for place in places:
        await wanted_by(session, place, now + SETTLE, now)
    return len(places)


async def wanted_by(session: AsyncSession, place: Place, when: datetime, now: datetime) -> None:
    """The channel's record is to be drawn by ``when``: the row already waiting keeps its turn
    (or comes forward to ``when``); else one is queued. Two transactions queuing at once leave
    one row (the unique index on a waiting slot; the second one's insert does nothing)."""
    pending = and_(
        OutboxPost.platform == place.platform,
        OutboxPost.channel_id == place.channel_id,
        OutboxPost.slot == RECORD_KEY,
        OutboxPost.status == OutboxStatus.PENDING,
    )
    moved = await session.execute(
        update(OutboxPost)
        .where(pending)
        .values(not_before=case((OutboxPost.not_before > when, when), else_=OutboxPost.not_before))
        .execution_options(synchronize_session=False)
    )
    if getattr(moved, "rowcount", 0):
        return
    lane = await lane_of(session, place.platform, place.channel_id, RECORD_LANE)
    marker = Post(text="", key=RECORD_KEY, replace=True)  # what to draw is read when it is sent
    statement = (
        insert_for(session)(OutboxPost)
        .values(
            lane_id=lane,
            platform=place.platform,
            channel_id=place.channel_id,
            team_id=place.team_id,
            key=RECORD_KEY,
            slot=RECORD_KEY,
            private=False,
            content=post_to_json(marker),
            status=OutboxStatus.PENDING.value,
            not_before=when,
            attempts=0,
            faults=0,
            created_at=now,
        )
        .on_conflict_do_nothing(
            index_elements=["platform", "channel_id", "slot"],
            # As a literal, the index's own condition: with a parameter, PostgreSQL's generic plan
            # (from the sixth run of a prepared statement on) finds no index to match.
            index_where=text(where(OutboxStatus.PENDING)),
        )
    )
    await session.execute(statement)


# -- what is kept about a channel's record ------------------------------------------------------


async def record_of(session: AsyncSession, place: Place) -> LivingRecord | None:
    return await session.scalar(
        select(LivingRecord).where(LivingRecord.platform == place.platform, LivingRecord.channel_id == place.channel_id)
    )


async def _row(session: AsyncSession, place: Place) -> LivingRecord:
    await insert_ignore(
        session,
        LivingRecord,
        {"platform": place.platform, "channel_id": place.channel_id, "remade": False},
        ("platform", "channel_id"),
    )
    found = await record_of(session, place)
    assert found is not None
    return found


async def drawn(session: AsyncSession, place: Place, canvas_id: str, now: datetime) -> None:
    """The record went out: keep the canvas id it lives in."""
    row = await _row(session, place)
    row.canvas_id, row.drawn_at = canvas_id, now


async def deleted(session: AsyncSession, place: Place) -> bool:
    """copbot's canvas was deleted: True (forget it, make a new one) the first time; False
    after it was made again once (then it is refused: see `refuse`)."""
    row = await _row(session, place)
    if row.remade:
        return False
    row.canvas_id, row.remade = None, True
    return True


async def refuse(session: AsyncSession, place: Place, why: str, now: datetime) -> bool:
    """The channel will have no record (``why``): True the first time only (say so then)."""
    row = await _row(session, place)
    if row.refused is not None:
        return False
    row.refused, row.refused_at = why, now
    await session.execute(
        update(OutboxPost)
        .where(
            OutboxPost.platform == place.platform,
            OutboxPost.channel_id == place.channel_id,
            OutboxPost.slot == RECORD_KEY,
            OutboxPost.status == OutboxStatus.PENDING,
        )
        .values(status=OutboxStatus.CANCELLED.value, content=None, reason=f"no living record: {why}")
        .execution_options(synchronize_session=False)
    )
    return True
