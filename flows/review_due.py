"""The review survey on the scheduler (`flows.announcements.community_due` calls `survey_due`):
the yearly post in the chosen month, claimed once across workers; the open survey's one private
reminder to those who have not answered (the channel gets only a count); its close on its last
day, with the results (`flows.review_survey.close`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.vocabulary.conversation import Button, Post
from flows import meeting_calendar as calendar
from flows.review_survey import (
    ANSWER_LABEL,
    CHANNEL_COUNT,
    COUNT,
    DEFAULT_DAYS,
    POST_AT,
    REMIND_DAYS_BEFORE,
    REMINDER,
    close,
    day_words,
    survey_key,
    survey_post,
)
from storage import review as store
from storage import schedule as schedules
from storage.models import Community, Meeting, MeetingSchedule, ReviewSurvey


@dataclass
class SurveyDue:
    """What the scheduler finds for one community: channel posts, private ones by platform,
    and the later moments to look again."""

    posts: list[Post]
    private: list[tuple[str, Post]]
    later: list[datetime]


async def yearly_day(
    session: AsyncSession, community: Community, schedule: MeetingSchedule, today: date
) -> date | None:
    """The 1st of the month the next yearly survey goes out: in the month the co-chairs chose,
    else in the month of the community's first meeting, a year on; never before a first meeting,
    never in a year that had one already. None: no meeting has been held yet."""
    first = await session.scalar(select(func.min(Meeting.held_on)).where(Meeting.community_id == community.id))
    if first is None:
        return None
    month = schedule.review_month or first.month
    start = max(today.year, first.year + (0 if schedule.review_month else 1))
    for year in range(start, start + 3):
        day = date(year, month, 1)
        if day <= first or (year == today.year and today.month > month):
            continue  # before the first meeting, or this year's month is past
        if await store.survey_of_year(session, community.id, year) is None:
            return day
    return None


def _at(day: date, schedule: MeetingSchedule) -> datetime:
    return calendar.to_utc(day, POST_AT, schedule.zone)


async def survey_due(
    session: AsyncSession, community: Community, schedule: MeetingSchedule, platforms: set[str], now: datetime
) -> SurveyDue:
    """The yearly survey post (claimed once), the open survey's reminder (once) and its close."""
    due = SurveyDue([], [], [])
    today = calendar.local(now, schedule.zone).date()
    survey = await store.open_survey(session, community.id)
    if survey is not None:
        await _open_survey_due(session, community, schedule, survey, today, platforms, now, due)
        return due
    first_day = await yearly_day(session, community, schedule, today)
    if first_day is None:
        return due
    if now < _at(first_day, schedule):
        due.later.append(_at(first_day, schedule))
        return due
    if not await schedules.claim_announcement(session, community.id, "review", first_day, now, now):
        return due
    started = await store.start_survey(session, community.id, today.year, today, today + timedelta(days=DEFAULT_DAYS))
    if started is None:
        return due
    due.later.append(_at(started.closes_on - timedelta(days=REMIND_DAYS_BEFORE), schedule))
    due.posts.append(survey_post(started))
    return due


async def _open_survey_due(
    session: AsyncSession,
    community: Community,
    schedule: MeetingSchedule,
    survey: ReviewSurvey,
    today: date,
    platforms: set[str],
    now: datetime,
    due: SurveyDue,
) -> None:
    closing = _at(survey.closes_on, schedule)
    if now >= closing:
        due.posts += await close(session, community, survey, today, now)
        return
    due.later.append(closing)
    remind = _at(survey.closes_on - timedelta(days=REMIND_DAYS_BEFORE), schedule)
    if survey.reminded or remind < _at(survey.opened_on, schedule) + timedelta(days=1):
        return  # reminded already, or too short a survey for a reminder
    if now < remind:
        due.later.append(remind)
        return
    if not await store.mark_reminded(session, survey.id):
        return
    count = COUNT.format(n=await store.responded_count(session, survey))
    due.posts.append(
        Post(CHANNEL_COUNT.format(until=day_words(survey.closes_on), count=count), key=f"{survey_key(survey.id)}:count")
    )
    for member in await store.not_responded(session, survey):
        if member.platform in platforms:
            post = Post(
                REMINDER.format(until=day_words(survey.closes_on)),
                buttons=(Button(ANSWER_LABEL, "review answer", "primary"),),
                key=f"{survey_key(survey.id)}:reminder",
                private_to=member.user_id,
                direct=True,
            )
            due.private.append((member.platform, post))
