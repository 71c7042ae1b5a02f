"""How long copbot keeps what members wrote, and the purge that blanks it after that: the words
go, the rows stay, so every count the KPI report reads (meetings, attendance, reflections and
their answers, actions by status, topics chosen, review responses and ratings) is unchanged.

What is blanked, once older than the community's period (`Community.retention_days`, else the
deployment's, ``COPBOT_RETENTION_DAYS``, default 365 days; the shorter of the two wins):
- support statements (the text; a pass stays a pass) and reflection answers (the text: the row,
  and the action agreed from it, stay — deleting the answer would delete its action);
- actions done or dropped that long ago: their wording, resources and reason (an open action
  keeps its words: it is the group's working record, recapped on every agenda until closed);
- agenda items members placed, and the review survey's free-text answers (by the day the survey
  closed: an answer keeps no time of its own).
Topic titles, the Terms of Reference and the vision are the group's own documents, not a
member's account, and stay; forget-me removes who proposed or set them.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    ActionItem,
    AgendaItem,
    Community,
    Reflection,
    ReflectionAnswer,
    ReviewAnswer,
    ReviewSurvey,
    SupportRound,
    SupportStatement,
)
from storage.states import ActionStatus

DEFAULT_DAYS = 365
SHORTEST_DAYS = 90  # a community's own period: at least a quarter, so the next meeting can recap the last
LONGEST_DAYS = 365


def _count(result: object) -> int:
    return getattr(result, "rowcount", 0) or 0


async def set_community_days(session: AsyncSession, community: Community, days: int | None) -> None:
    """The co-chairs' own period (None: the deployment's)."""
    community.retention_days = days


async def _cutoffs(session: AsyncSession, now: datetime, keep: timedelta) -> dict[datetime, list[int]]:
    """The communities grouped by the moment before which what their members wrote goes."""
    groups: dict[datetime, list[int]] = defaultdict(list)
    for community_id, days in (await session.execute(select(Community.id, Community.retention_days))).all():
        period = keep if days is None else min(keep, timedelta(days=days))
        groups[now - period].append(community_id)
    return groups


async def purge(session: AsyncSession, now: datetime, keep: timedelta) -> dict[str, int]:
    """Blank what members wrote before each community's cut-off; how many rows, by kind."""
    counts = dict.fromkeys(
        ("support statements", "reflection answers", "closed actions", "agenda items", "review free text"), 0
    )
    for before, ids in (await _cutoffs(session, now, keep)).items():
        rounds = select(SupportRound.id).where(SupportRound.community_id.in_(ids))
        counts["support statements"] += _count(
            await session.execute(
                update(SupportStatement)
                .where(
                    SupportStatement.round_id.in_(rounds),
                    SupportStatement.updated_at < before,
                    SupportStatement.text.is_not(None),
                )
                .values(text=None)
            )
        )
        reflections = select(Reflection.id).where(Reflection.community_id.in_(ids))
        counts["reflection answers"] += _count(
            await session.execute(
                update(ReflectionAnswer)
                .where(
                    ReflectionAnswer.reflection_id.in_(reflections),
                    ReflectionAnswer.created_at < before,
                    ReflectionAnswer.text != "",
                )
                .values(text="")
            )
        )
        counts["closed actions"] += _count(
            await session.execute(
                update(ActionItem)
                .where(
                    ActionItem.community_id.in_(ids),
                    ActionItem.status.in_((ActionStatus.DONE.value, ActionStatus.DROPPED.value)),
                    ActionItem.closed_at < before,
                    (ActionItem.text != "") | ActionItem.resources.is_not(None) | ActionItem.close_reason.is_not(None),
                )
                .values(text="", resources=None, close_reason=None)
            )
        )
        counts["agenda items"] += _count(
            await session.execute(
                update(AgendaItem)
                .where(AgendaItem.community_id.in_(ids), AgendaItem.created_at < before, AgendaItem.text != "")
                .values(text="")
            )
        )
        surveys = select(ReviewSurvey.id).where(
            ReviewSurvey.community_id.in_(ids), ReviewSurvey.closed_on < before.date()
        )
        counts["review free text"] += _count(
            await session.execute(
                update(ReviewAnswer)
                .where(ReviewAnswer.survey_id.in_(surveys), ReviewAnswer.text.is_not(None))
                .values(text=None)
            )
        )
    return counts
