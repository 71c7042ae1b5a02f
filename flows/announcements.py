"""What copbot posts by itself for each meeting, on the right working days and local times: the
call for agenda items, the agenda (the guide's standard template, or the first-meeting agenda),
a reminder the day before and 15 minutes before (with the joining link), the next steps after
the meeting, and a co-chair term's review (at its review date) and its end.

`due(session, now)` is called by the scheduler (and by tests, with the clock moved on). Each
announcement is claimed once, across workers, in `storage.schedule.claim_announcement`, and its
posts go to the outbox in the same transaction. Each kind has its own window: an agenda may go
out late, once, with a note, until the meeting starts; a 15-minute reminder is never sent after
the meeting started. One whose window passed while copbot was down is skipped and logged once.
A moved or cancelled meeting needs no clean-up: announcements are made from the schedule as it
is when they fall due.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.vocabulary.conversation import Place, Post
from bot.vocabulary.text import and_list, plural
from flows import agenda
from flows import meeting_calendar as calendar
from flows.invitation import meeting_invitation
from flows.schedule import Planned, upcoming
from storage import agenda_items, channels
from storage import answers as answer_store
from storage import schedule as store
from storage.models import CoChairTerm, Community, MeetingSchedule, Member

log = logging.getLogger(__name__)

POST_AT = time(9, 0)  # the call for items and the agenda go out at 09:00 local on their day
LATE_NOTE = "(This is later than planned — sorry.)"
CALL = (
    "Our next meeting is on {when}. Any member may place an item on the agenda through the co-chairs: "
    "type `/cop agenda add <your item>` by {agenda_day}, when the agenda goes out."
)
EVE = "Reminder: we meet tomorrow, {when}. Share if you'd like — passing is always fine.{link}"
SOON = "We start in 15 minutes ({at}).{link}"
NEXT_STEPS = "Thank you for today's meeting. {actions} Our next meeting: {next}."
NO_NEXT = "not set yet (a co-chair sets it with `/cop schedule`)"
TERM_WORD, TERMS_WORD = "term as co-chair", "terms as co-chairs"
ENDS, END = "ends", "end"
TERM_REVIEW = (
    "{name}'s {term} {ends_verb} today ({ends}): time for the review the Terms of Reference ask for. "
    "The group agrees on the next co-chairs, and a co-chair records them with `/cop chairs set @a @b [6|12]`."
)
TERM_MIDWAY = (
    "Today is the review of {name}'s {term} that the Terms of Reference ask for: how is it going? The "
    "{months}-month term runs until {ends}; if the group agrees on a change, a co-chair records it with "
    "`/cop chairs set @a @b [6|12]`."
)
JOIN = " Join: {link}"


@dataclass(frozen=True)
class Kind:
    """One kind of announcement: when it falls due for a meeting, until when it may go out."""

    name: str
    due: Callable[[MeetingSchedule, Planned, Sequence[object]], datetime]
    until: Callable[[MeetingSchedule, Planned, Sequence[object]], datetime]


def _on_working_day(days_before: Callable[[MeetingSchedule], int]) -> Callable[..., datetime]:
    def due(schedule: MeetingSchedule, meeting: Planned, off: Sequence[object]) -> datetime:
        day = calendar.working_days_before(meeting.day, days_before(schedule), schedule.country, off)  # type: ignore[arg-type]
        return calendar.to_utc(day, POST_AT, schedule.zone)

    return due


def _agenda_due(schedule: MeetingSchedule, meeting: Planned, off: Sequence[object]) -> datetime:
    return _on_working_day(lambda s: s.agenda_days)(schedule, meeting, off)


KINDS = (
    Kind("call", _on_working_day(lambda s: s.call_days), _agenda_due),
    Kind("agenda", _agenda_due, lambda s, m, o: m.starts_at),
    Kind("eve", lambda s, m, o: m.starts_at - timedelta(days=1), lambda s, m, o: m.starts_at - timedelta(minutes=15)),
    Kind("soon", lambda s, m, o: m.starts_at - timedelta(minutes=15), lambda s, m, o: m.starts_at),
    Kind(
        "next-steps", lambda s, m, o: m.starts_at + timedelta(hours=2), lambda s, m, o: m.starts_at + timedelta(days=2)
    ),
)
LOOK_BACK = timedelta(days=2)  # meetings started this recently still have their next steps to come


async def due(session: AsyncSession, now: datetime) -> list[tuple[Place, list[Post]]]:
    """Every announcement due now, claimed, its posts written to the outbox; returns them."""
    made: list[tuple[Place, list[Post]]] = []
    for schedule in await store.schedules(session):
        community = await session.get(Community, schedule.community_id)
        places = await channels.active_channels(session, schedule.community_id)
        if community is None or not places:
            continue  # copbot is in none of its channels: nothing is claimed, nothing is lost
        posts = await _community_due(session, community, schedule, now)
        posts += await _term_reviews(session, community, schedule, now)
        if posts:
            for channel in places:
                place = Place(channel.platform, channel.channel_id, channel.team_id)
                made.append((place, posts))
    return made


async def _claimed(
    session: AsyncSession,
    community: Community,
    kind: str,
    due_for: datetime,
    due_at: datetime,
    until: datetime,
    now: datetime,
) -> bool | None:
    """True: post it now; None: not due yet, or already made; False: its window passed."""
    if due_at > now:
        return None
    if now > until:
        if await store.claim_announcement(session, community.id, kind, due_for, now, skipped=True):
            log.info("announcement %s of community %d skipped: its window had passed", kind, community.id)
        return None
    return await store.claim_announcement(session, community.id, kind, due_for, now) or None


async def _community_due(
    session: AsyncSession, community: Community, schedule: MeetingSchedule, now: datetime
) -> list[Post]:
    off = await store.days_off(session, community.id)
    meetings = await upcoming(session, schedule, now - LOOK_BACK, count=3)
    posts: list[Post] = []
    for meeting in meetings:
        for kind in KINDS:
            due_at, until = kind.due(schedule, meeting, off), kind.until(schedule, meeting, off)
            if await _claimed(session, community, kind.name, meeting.starts_at, due_at, until, now):
                late = now - due_at > timedelta(hours=1)
                posts.append(await _post(session, community, schedule, meeting, kind.name, now, late))
    return posts


async def _term_reviews(
    session: AsyncSession, community: Community, schedule: MeetingSchedule, now: datetime
) -> list[Post]:
    """A co-chair term's review (at 6 months of 12, or at a 6-month term's end) and its end,
    each once: the co-chairs whose date it is are named together in one post."""
    today = calendar.local(now, schedule.zone).date()
    since = today - timedelta(days=14)
    due: dict[tuple[str, date], list[CoChairTerm]] = {}
    for term in await store.reviewed_terms(session, community.id, since, today):
        due.setdefault(("term-review", term.review_on), []).append(term)
    for term in await store.ending_terms(session, community.id, since, today):
        if term.ends_on != term.review_on:  # a term reviewed at its end is announced once
            due.setdefault(("term-end", term.ends_on), []).append(term)
    posts = []
    for (kind, day), terms in sorted(due.items(), key=lambda item: item[0][1]):
        due_for = calendar.to_utc(day, POST_AT, schedule.zone)
        if await _claimed(session, community, kind, due_for, due_for, due_for + timedelta(days=14), now):
            names = [member.name for term in terms if (member := await session.get(Member, term.member_id))]
            first = terms[0]
            text = TERM_REVIEW if kind == "term-end" or first.review_on == first.ends_on else TERM_MIDWAY
            posts.append(
                Post(
                    text.format(
                        name=and_list(names) or "A co-chair",
                        term=TERM_WORD if len(terms) == 1 else TERMS_WORD,
                        ends_verb=ENDS if len(terms) == 1 else END,
                        ends=first.ends_on.isoformat(),
                        months=first.months,
                    ),
                    key=f"term:{first.id}:{kind}",
                )
            )
    return posts


async def _post(
    session: AsyncSession,
    community: Community,
    schedule: MeetingSchedule,
    meeting: Planned,
    kind: str,
    now: datetime,
    late: bool,
) -> Post:
    link = JOIN.format(link=schedule.join_link) if schedule.join_link else ""
    key = f"meeting:{community.id}:{meeting.starts_at:%Y%m%dT%H%M}:{kind}"
    when = agenda.when(schedule, meeting.starts_at)
    if kind == "call":
        off = await store.days_off(session, community.id)
        agenda_day = calendar.working_days_before(meeting.day, schedule.agenda_days, schedule.country, off)
        text = CALL.format(when=when, agenda_day=f"{agenda_day:%A} {agenda_day.day} {agenda_day:%B}")
    elif kind == "agenda":
        planned = [m.starts_at for m in await upcoming(session, schedule, now, count=8)]
        items = await agenda_items.settle(session, community.id, meeting.starts_at, now, planned)
        names = [item.text for item in items]
        posted = await agenda.meeting_agenda(session, community, schedule, meeting, names, now, key=key)
        ics = meeting_invitation(community, schedule, meeting.starts_at, posted, now)
        text = f"{posted.text}\n{LATE_NOTE}" if late else posted.text
        return dataclasses.replace(posted, text=text, attachment=ics)
    elif kind == "eve":
        text = EVE.format(when=when, link=link)
    elif kind == "soon":
        text = SOON.format(at=calendar.local(meeting.starts_at, schedule.zone).strftime("%H:%M"), link=link)
    else:
        coming = await upcoming(session, schedule, now, count=1)
        actions = await answer_store.open_actions(session, community.id)
        recap = (
            f"{plural(actions, 'action')} {'is' if actions == 1 else 'are'} open."
            if actions
            else "No actions are open."
        )
        text = NEXT_STEPS.format(actions=recap, next=agenda.when(schedule, coming[0].starts_at) if coming else NO_NEXT)
    return Post(f"{text}\n{LATE_NOTE}" if late else text, key=key)
