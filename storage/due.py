"""Keeps `MeetingSchedule.next_due_at` honest: whenever a row that sets a community's rhythm is
added, changed or deleted — its schedule's settings, a schedule change, a day off, a co-chair
term, a channel binding, a meeting held (the first one dates the yearly review survey) — the
community's schedule is marked "look now", so the scheduler's next tick looks at it and stores
its real next moment. So is an action item that gets a due
date, a new date, an owner or a new status (its reminders, `flows.action_reminders`): one
UPDATE of the schedule row in that transaction; an action without a date costs nothing.

One mechanism for every writer: sessions of `RhythmSession` (what `storage.db.Database` makes)
watch the unit of work (`before_flush`) and the bulk statements that bypass it
(`do_orm_execute`: `update()`, `delete()`, `insert_ignore`). Nothing else needs to remember to
call anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, event, inspect, select, update
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.sql import ClauseElement

from storage.models import ActionItem, ChannelBinding, CoChairTerm, DayOff, Meeting, MeetingSchedule, ScheduleChange

# "Look now" is a moment before any clock, so the next tick sees it whatever the clock says (a
# terminal's `/clock` included); the scheduler then stores the real next moment.
LOOK_NOW = datetime(2000, 1, 1, tzinfo=UTC)
RHYTHM_ROWS = (ScheduleChange, DayOff, CoChairTerm, ChannelBinding, Meeting)  # a first meeting dates the review
_RHYTHM_TABLES = {model.__table__ for model in RHYTHM_ROWS}
_OWN_COLUMNS = {"next_due_at", "updated_at"}  # the scheduler's own bookkeeping: no reason to look again
_ACTIONS = ActionItem.__table__
_REMINDING_COLUMNS = ("due_on", "owner_id", "status")  # what moves an action's reminders


class RhythmSession(Session):
    """A session that marks a community "look now" when its rhythm changes (see the module)."""


def _schedule_changed(schedule: MeetingSchedule) -> bool:
    state = inspect(schedule)
    return any(attr.history.has_changes() for attr in state.attrs if attr.key not in _OWN_COLUMNS)


@event.listens_for(RhythmSession, "before_flush")
def _before_flush(session: Session, _context: UOWTransaction, _instances: object) -> None:
    communities: set[int] = set()
    for row in (*session.new, *session.dirty, *session.deleted):
        if isinstance(row, MeetingSchedule):
            if row in session.new or _schedule_changed(row):
                row.next_due_at = LOOK_NOW
        elif isinstance(row, RHYTHM_ROWS) and (
            row in session.new or row in session.deleted or session.is_modified(row)
        ):
            communities.add(row.community_id)
        elif isinstance(row, ActionItem) and _reminders_moved(session, row):
            communities.add(row.community_id)
    mark(session, communities)


def _reminders_moved(session: Session, action: ActionItem) -> bool:
    """A dated action, new or with a new date, owner or status: its reminders may be due sooner."""
    if action.due_on is None or action in session.deleted:
        return False
    if action in session.new:
        return True
    state = inspect(action)
    return any(state.attrs[key].history.has_changes() for key in _REMINDING_COLUMNS)


@event.listens_for(RhythmSession, "do_orm_execute")
def _bulk_statement(state: ORMExecuteState) -> None:
    if state.is_select or not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if table is _ACTIONS and state.is_insert:  # a step-6 answer kept as an action: only a dated one
        mark(state.session, _inserted_communities(state, dated=True))
        return
    if table not in _RHYTHM_TABLES:
        return
    column = table.c.community_id
    if state.is_insert:
        communities = _inserted_communities(state)
    else:
        where = state.statement.whereclause  # type: ignore[attr-defined]
        query = select(column).distinct() if where is None else select(column).where(where).distinct()
        communities = set(state.session.execute(query).scalars())
    mark(state.session, communities)


def _inserted_communities(state: ORMExecuteState, *, dated: bool = False) -> set[int]:
    """The communities of the rows inserted (``dated``: only of those with a due date)."""
    rows: Iterable[Any] = state.parameters if isinstance(state.parameters, list) else [state.parameters or {}]
    given = [row for row in rows if isinstance(row, dict) and "community_id" in row]
    if not given:  # `insert(...).values(...)`: the values are in the statement
        statement: ClauseElement = state.statement  # type: ignore[assignment]
        params = statement.compile(dialect=state.session.get_bind().dialect).params
        given = [params] if params.get("community_id") is not None else []
    return {row["community_id"] for row in given if not dated or row.get("due_on") is not None}


def mark(session: Session, communities: Iterable[int]) -> None:
    """Mark these communities' schedules "look now", in this transaction."""
    ids = set(communities)
    if not ids:
        return
    for row in list(session.identity_map.values()):
        if isinstance(row, MeetingSchedule) and row.community_id in ids:
            row.next_due_at = LOOK_NOW
    table: Table = MeetingSchedule.__table__  # type: ignore[assignment]
    session.connection().execute(
        update(table).where(table.c.community_id.in_(sorted(ids))).values(next_due_at=LOOK_NOW)
    )
