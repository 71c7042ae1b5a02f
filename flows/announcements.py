"""What copbot posts by itself for each meeting, on the right working days and local times: the
call for agenda items, the agenda (the guide's standard template, or the first-meeting agenda),
a reminder the day before at the meeting's local time and 15 minutes before (with the joining
link), the next steps after the meeting, and a co-chair term's review (at its review date) and
its end.

`community_due(session, schedule_id, now)` looks at one community whose schedule is due (the
scheduler, `Runtime.announce_due`, finds them with one indexed query and gives each its own
transaction): it makes what is due, claims each announcement once per meeting across workers
(`storage.schedule.claim_announcement`, keyed on the meeting's identity, `Planned.occurrence`),
and stores when the community next needs a look (`MeetingSchedule.next_due_at`).

Each kind has its own window: an agenda may go out late, once, with a note, until the meeting
starts; a 15-minute reminder is never sent after the meeting started. One whose window passed
while copbot was down is skipped and logged once. A moved meeting is the same meeting: what was
announced for it is not announced again, unless its wording names the start (`Kind.tells_start`)
and the start changed; then it goes out again, within its window, saying the meeting moved.
A cancelled meeting needs no clean-up: announcements are made from the schedule as it is.

    due community ─▶ take_due (row locked) ─▶ meetings: claim each due kind ─┬─▶ posts
                                           ├▶ terms: claim each due review ──┤
                                           └▶ actions (`flows.action_reminders`): owners'
                                              reminders, the co-chairs' weekly digest ─┤ (private:
                                              one channel on the reader's platform)   │
                                           └▶ the yearly review survey (`flows.review_due`):
                                              its post, its one reminder, its close ──┘
                     next_due_at = the earliest moment still to come (NULL: nothing, or no channel)
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.vocabulary.conversation import Place, Post
from bot.vocabulary.moments import stored_utc
from bot.vocabulary.text import and_list, plural
from flows import action_reminders, agenda, national, review_due
from flows import meeting_calendar as calendar
from flows.invitation import meeting_invitation
from flows.schedule import Planned, upcoming
from storage import actions as action_store
from storage import agenda_items, channels, leads
from storage import schedule as store
from storage.models import Announcement, CoChairTerm, Community, MeetingSchedule, Member

log = logging.getLogger(__name__)

POST_AT = time(9, 0)  # the call for items and the agenda go out at 09:00 local on their day
LATE_NOTE = "(This is later than planned — sorry.)"
MOVED_NOTE = "(The meeting has moved since we last posted about it: this is its new date and time.)"
CALL = (
    "Our next meeting is on {when}. Any member may place an item on the agenda through the co-chairs: "
    "type `/cop agenda add <your item>` by {agenda_day}, when the agenda goes out."
)
EVE = "Reminder: we meet tomorrow, {when}.{about}{link}"
EVE_TOPIC = " We'll reflect on our lead topic: {topic}{led_by}."
EVE_LED_BY = ", led by {name}"
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
    """One kind of announcement: when it falls due for a meeting, until when it may go out, and
    whether its wording names the meeting's date or time (then a moved meeting gets it again)."""

    name: str
    due: Callable[[MeetingSchedule, Planned, Sequence[object]], datetime]
    until: Callable[[MeetingSchedule, Planned, Sequence[object]], datetime]
    tells_start: bool = True


def _on_working_day(days_before: Callable[[MeetingSchedule], int]) -> Callable[..., datetime]:
    def due(schedule: MeetingSchedule, meeting: Planned, off: Sequence[object]) -> datetime:
        day = calendar.working_days_before(meeting.day, days_before(schedule), schedule.country, off)  # type: ignore[arg-type]
        return calendar.to_utc(day, POST_AT, schedule.zone)

    return due


def _agenda_due(schedule: MeetingSchedule, meeting: Planned, off: Sequence[object]) -> datetime:
    return _on_working_day(lambda s: s.agenda_days)(schedule, meeting, off)


def _eve_due(schedule: MeetingSchedule, meeting: Planned, off: Sequence[object]) -> datetime:
    """The day before, at the meeting's local time (not 24 hours before: clocks change)."""
    at = calendar.local(meeting.starts_at, schedule.zone).time()
    return calendar.to_utc(meeting.day - timedelta(days=1), at, schedule.zone)


KINDS = (
    Kind("call", _on_working_day(lambda s: s.call_days), _agenda_due),
    Kind("agenda", _agenda_due, lambda s, m, o: m.starts_at),
    Kind("eve", _eve_due, lambda s, m, o: m.starts_at - timedelta(minutes=15)),
    Kind("soon", lambda s, m, o: m.starts_at - timedelta(minutes=15), lambda s, m, o: m.starts_at),
    Kind(
        "next-steps",
        lambda s, m, o: m.starts_at + timedelta(hours=2),
        lambda s, m, o: m.starts_at + timedelta(days=2),
        tells_start=False,  # says what is open and when we meet next, not when this one was
    ),
)
LOOK_BACK = timedelta(days=2)  # meetings started this recently still have their next steps to come
MEETINGS_AHEAD = 3  # the meetings looked at each time (from LOOK_BACK ago)
LATE_AFTER = timedelta(hours=1)  # later than this after its time, a post says it is late
TERM_LOOK_BACK = timedelta(days=14)  # a term's review or end may still be announced this late


async def community_due(session: AsyncSession, schedule_id: int, now: datetime) -> list[tuple[Place, list[Post]]]:
    """Look at one due community: its schedule is locked for this transaction (nothing, if another
    worker has it or it is no longer due). Every announcement due now is claimed and returned
    with the places it goes to; ``next_due_at`` says when to look again."""
    schedule = await store.take_due(session, schedule_id, now)
    if schedule is None:
        return []
    community = await session.get(Community, schedule.community_id)
    places = await channels.active_channels(session, schedule.community_id)
    if community is None or not places:
        schedule.next_due_at = None  # copbot is in none of its channels: nothing is claimed, nothing is lost
        return []
    posts, later = await _meetings_due(session, community, schedule, now)
    term_posts, term_later = await _term_reviews(session, community, schedule, now)
    reminders = await action_reminders.actions_due(
        session, community, schedule, {channel.platform for channel in places}, now
    )
    survey = await review_due.survey_due(session, community, schedule, {channel.platform for channel in places}, now)
    later += term_later + reminders.later + survey.later
    schedule.next_due_at = min(later) if later else None
    posts += term_posts + survey.posts
    reminders.posts.extend(survey.private)
    made = []
    reached: set[str] = set()
    for channel in places:
        # A private post goes to one channel of the community on its reader's platform.
        private = [post for platform, post in reminders.posts if platform == channel.platform]
        here = posts + ([] if channel.platform in reached else private)
        reached.add(channel.platform)
        if here:
            made.append((Place(channel.platform, channel.channel_id, channel.team_id), here))
    return made


async def _meetings_due(
    session: AsyncSession, community: Community, schedule: MeetingSchedule, now: datetime
) -> tuple[list[Post], list[datetime]]:
    """The posts due now for the coming meetings, and the moments later ones fall due."""
    off = await store.days_off(session, community.id)
    meetings = await upcoming(session, schedule, now - LOOK_BACK, count=MEETINGS_AHEAD)
    claimed = await store.claims(session, community.id, [meeting.occurrence for meeting in meetings])
    posts: list[Post] = []
    later = [meetings[0].starts_at + LOOK_BACK] if len(meetings) == MEETINGS_AHEAD else []  # the next comes into view
    for meeting in meetings:
        for kind in KINDS:
            claim = claimed.get((kind.name, meeting.occurrence))
            if claim is not None and (not kind.tells_start or stored_utc(claim.due_for) == meeting.starts_at):
                continue  # made (or passed over) for this meeting as it is
            due_at = kind.due(schedule, meeting, off)
            if due_at > now:
                later.append(due_at)
                continue
            note = await _claim(
                session, community, kind, meeting, claim, due_at, kind.until(schedule, meeting, off), now
            )
            if note is not None:
                posts.append(await _post(session, community, schedule, meeting, kind.name, now, note, off))
    return posts, later


async def _claim(
    session: AsyncSession,
    community: Community,
    kind: Kind,
    meeting: Planned,
    claim: Announcement | None,
    due_at: datetime,
    until: datetime,
    now: datetime,
) -> str | None:
    """Claim a due announcement: None if there is nothing to post (another worker has it, or its
    window passed), else the note it carries ("" for none): late, or the meeting moved."""
    passed, late = now > until, now - due_at > LATE_AFTER
    if claim is None:
        if not await store.claim_announcement(
            session, community.id, kind.name, meeting.occurrence, meeting.starts_at, now, skipped=passed
        ):
            return None
        if passed:
            log.info("announcement %s of community %d skipped: its window had passed", kind.name, community.id)
            return None
        return LATE_NOTE if late else ""
    # Announced for another start (the meeting moved): told again, once, if there is still time.
    if not await store.claim_again(session, claim, meeting.starts_at, skipped=claim.skipped and passed):
        return None
    if passed:
        return None
    if claim.skipped:  # it never went out: this is the first time, not a correction
        return LATE_NOTE if late else ""
    return MOVED_NOTE


async def _term_reviews(
    session: AsyncSession, community: Community, schedule: MeetingSchedule, now: datetime
) -> tuple[list[Post], list[datetime]]:
    """A co-chair term's review (at 6 months of 12, or at a 6-month term's end) and its end,
    each once: the co-chairs whose date it is are named together in one post. Returns them, and
    the moments later ones fall due."""
    since = calendar.local(now, schedule.zone).date() - TERM_LOOK_BACK
    dates: dict[tuple[str, date], list[CoChairTerm]] = {}
    for term in await store.current_terms(session, community.id):
        dates.setdefault(("term-review", term.review_on), []).append(term)
        if term.ends_on != term.review_on:  # a term reviewed at its end is announced once
            dates.setdefault(("term-end", term.ends_on), []).append(term)
    posts, later = [], []
    for (kind, day), terms in sorted(dates.items(), key=lambda item: item[0][1]):
        due_for = calendar.to_utc(day, POST_AT, schedule.zone)
        if day < since:
            continue
        if due_for > now:
            later.append(due_for)
            continue
        if not await store.claim_announcement(session, community.id, kind, day, due_for, now):
            continue
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
    return posts, later


async def _eve_about(session: AsyncSession, community: Community) -> str:
    """What the reminder says tomorrow's meeting is about: the lead topic chosen last time, and
    who leads it ("" while no topic is chosen)."""
    if not community.next_topic:
        return ""
    lead = await leads.next_lead(session, community.id)
    led_by = EVE_LED_BY.format(name=lead.name) if lead is not None and lead.name else ""
    return EVE_TOPIC.format(topic=community.next_topic, led_by=led_by)


async def _post(
    session: AsyncSession,
    community: Community,
    schedule: MeetingSchedule,
    meeting: Planned,
    kind: str,
    now: datetime,
    note: str,
    off: Sequence[date],
) -> Post:
    link = JOIN.format(link=schedule.join_link) if schedule.join_link else ""
    key = f"meeting:{community.id}:{meeting.starts_at:%Y%m%dT%H%M}:{kind}"
    when = agenda.when(schedule, meeting.starts_at)
    if kind == "call":
        agenda_day = calendar.working_days_before(meeting.day, schedule.agenda_days, schedule.country, off)
        text = CALL.format(when=when, agenda_day=f"{agenda_day:%A} {agenda_day.day} {agenda_day:%B}")
    elif kind == "agenda":
        planned = [m.starts_at for m in await upcoming(session, schedule, now, count=8)]
        items = await agenda_items.settle(session, community.id, meeting.starts_at, now, planned)
        names = [item.text for item in items]
        posted = await agenda.meeting_agenda(session, community, schedule, meeting, names, now, key=key)
        ics = meeting_invitation(community, schedule, meeting.starts_at, posted, now)
        text = f"{posted.text}\n{note}" if note else posted.text
        return dataclasses.replace(posted, text=text, attachment=ics)
    elif kind == "eve":
        text = EVE.format(when=when, about=await _eve_about(session, community), link=link)
    elif kind == "soon":
        text = SOON.format(at=calendar.local(meeting.starts_at, schedule.zone).strftime("%H:%M"), link=link)
    else:
        coming = await upcoming(session, schedule, now, count=1)
        actions = await action_store.open_actions(session, community.id)
        recap = (
            f"{plural(actions, 'action')} {'is' if actions == 1 else 'are'} open."
            if actions
            else "No actions are open."
        )
        text = NEXT_STEPS.format(actions=recap, next=agenda.when(schedule, coming[0].starts_at) if coming else NO_NEXT)
        # The national office's event (the annual national event), repeated until it has passed.
        events = await national.national_events(session, calendar.local(now, schedule.zone).date())
        text = "\n".join([text, *events])
        report = await agenda.report_back(session, community, schedule, meeting.day, now)
        return Post(f"{text}\n{note}" if note else text, sections=report, key=key)
    return Post(f"{text}\n{note}" if note else text, key=key)
