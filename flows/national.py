"""The national office's verbs (`/cop national …`): every community at a glance, the member
lists, and an announcement to every community channel. Only the people `COPBOT_NATIONAL_OFFICE`
names reach them (`bot.vocabulary.national_office`); answers go privately to the asker.

    /cop national communities ─▶ each community's facts ─▶ one private post
    /cop national members     ─▶ the member list ─▶ a private post (text, and a CSV file where taken)
    /cop national announce    ─▶ the announcement (once per words and date) ─▶ each community
                                 channel claimed once ─▶ the outbox (active) / skipped (gone)
"""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.registry import Command, FlowRouter, Permission
from bot.vocabulary.conversation import Attachment, Place, Post
from bot.vocabulary.dates import long_day, parse_day
from bot.vocabulary.errors import NotAllowed, UsageError
from bot.vocabulary.text import number, plural, trimmed
from flows import kpi_report
from flows import meeting_calendar as calendar
from flows.schedule import upcoming
from flows.turn import Turn
from storage import national as store
from storage import outbox
from storage.models import Community

ONLY_NATIONAL = (
    "Only the national office can {what}. If you're with the national office, ask whoever runs copbot "
    "to add you to COPBOT_NATIONAL_OFFICE."
)
USAGE = (
    "Usage: /cop national communities · /cop national members [community] · /cop national report [year] [md|csv|xlsx] "
    "· /cop national announce <text> [on <date>]"
)
REPORT_USAGE = "Usage: /cop national report [year] [md|csv|xlsx] — e.g. `/cop national report 2027 csv`."
ANNOUNCE_USAGE = (
    "Usage: /cop national announce <text> [on <date>] — e.g. `/cop national announce Our annual event on 12 June`."
)
DATE_PASSED = "{day} has passed already: an announcement's date must be today or later."
NO_COMMUNITIES = "There are no communities yet."
NO_SUCH_COMMUNITY = "There is no community called “{name}”. The communities are: {names}."
NO_MEMBERS = "No members yet."
FROM_NATIONAL = "From the national office: {text}"
ON_DAY = " (on {day})"
SENT = "Sent to {sent}{skipped}."
SKIPPED = "; {n} {was} skipped (copbot is no longer in {it})"
ALREADY = "This announcement went out already — nobody gets it twice."
NATIONAL_EVENT = "National event: {text} — {day}."
TERM_SOON = timedelta(days=60)
MEMBER_COLUMNS = ("Name", "Role", "Community")
NO_ROLE = "no role given"


NATIONAL_NAME = "national"  # `/cop setup national`
NATIONAL_BOUND = (
    "This channel is now the national office's. Whoever is in it can use `/cop national …` here, and the "
    "answers are posted here for the whole office. Announcements never come here: they go to the communities."
)
NATIONAL_ALREADY = "This channel is the national office's already."
ONLY_NAMED_BIND = (
    "Only someone COPBOT_NATIONAL_OFFICE names can make a channel the national office's. "
    "Ask whoever runs copbot to add you to it."
)
COMMUNITY_HERE = (
    "This channel belongs to the {name} Community of Practice: the national office's channel must be one of its own."
)
NOT_FOR_COMMUNITIES = "This is the national office's channel: a community needs a channel of its own."


def _named(turn: Turn) -> bool:
    return turn.national_office.includes(turn.place.platform, turn.actor.user_id)


async def _is_national(turn: Turn) -> bool:
    """Someone the setting names, anywhere; or anyone in the national office's channel."""
    return _named(turn) or await store.is_national_channel(turn.session, turn.place)


NATIONAL_OFFICE = Permission("national office only", _is_national, ONLY_NATIONAL)

router = FlowRouter("national")


@router.verb(
    "national",
    "national communities | members [community] | report [year] [md|csv|xlsx] | announce <text> [on <date>]",
    "For the national office: every community at a glance, the member lists, the year's KPI report of every "
    "community (with its file where the platform takes files), an announcement to every community.",
    who=NATIONAL_OFFICE,
    action="see every community or announce to them all",
    needs_community=False,
    free_text=True,
)
async def national(turn: Turn, cmd: Command) -> list[Post]:
    form = cmd.args[0].lower() if cmd.args else ""
    rest = trimmed(cmd.rest)[len(form) :].strip() if form else ""
    in_office = await store.is_national_channel(turn.session, turn.place)
    if form == "communities":
        return [_answer(turn, in_office, await communities_view(turn.session, turn.now))]
    if form == "members":
        community = await community_from(turn.session, rest) if rest else None
        rows = await store.member_rows(turn.session, community)
        csv_file = Attachment("members.csv", "text/csv", members_csv(rows))
        return [_answer(turn, in_office, members_text(rows), attachment=csv_file)]
    if form == "report":
        return [await _kpi_report(turn, in_office, cmd.args[1:])]
    if form == "announce":
        words, day = announcement_words(rest, turn.today)
        sent = await send_announcement(turn.session, words, day, turn.now)
        return [_answer(turn, in_office, sent.sentence())]
    raise UsageError(USAGE)


async def _kpi_report(turn: Turn, in_office: bool, args: Sequence[str]) -> Post:
    """The year's KPI report of every community and the national total (`flows.kpi_report`):
    the Markdown table as the answer, and the file in the format asked for (default md)."""
    year, fmt = turn.today.year, "md"
    for arg in args:
        if number(arg) is not None and 2000 <= (number(arg) or 0) <= 2100:
            year = number(arg) or year
        elif arg.lower() in ("md", "csv", "xlsx"):
            fmt = arg.lower()
        else:
            raise UsageError(REPORT_USAGE)
    table = await kpi_report.national_report(turn.session, year, None, "md")
    if table.empty:
        return _answer(turn, in_office, table.text)
    made = table if fmt == "md" else await kpi_report.national_report(turn.session, year, None, fmt)
    encoding = "text" if fmt in ("md", "csv") else "base64"
    content = made.data.decode("utf-8") if encoding == "text" else base64.b64encode(made.data).decode("ascii")
    attachment = Attachment(made.filename, made.media_type, content, encoding)  # type: ignore[arg-type]
    return _answer(turn, in_office, table.data.decode("utf-8"), attachment=attachment)


def _answer(turn: Turn, in_office: bool, text: str, **extra: object) -> Post:
    """In the national office's channel, for the whole office; elsewhere, only to the asker."""
    return Post(text, **extra) if in_office else turn.private(text, **extra)  # type: ignore[arg-type]


async def setup_national(turn: Turn) -> list[Post]:
    """`/cop setup national`: bind this channel as the national office's, by someone the setting
    names (with the setting empty, nobody: the setting names the first one)."""
    if turn.community is not None:
        raise NotAllowed(COMMUNITY_HERE.format(name=turn.community.name))
    if not _named(turn):
        raise NotAllowed(ONLY_NAMED_BIND)
    if not await store.bind_national_channel(turn.session, turn.place, turn.now):
        return [turn.private(NATIONAL_ALREADY)]
    return [Post(NATIONAL_BOUND)]


async def refuse_a_community_here(turn: Turn) -> None:
    """A community is never set up in the national office's channel."""
    if await store.is_national_channel(turn.session, turn.place):
        raise NotAllowed(NOT_FOR_COMMUNITIES)


async def community_from(session: AsyncSession, name: str) -> Community:
    """The community of that name; `UsageError` naming the ones there are."""
    found = await store.community_named(session, name)
    if found is None:
        names = ", ".join(c.name for c in await store.all_communities(session)) or "none yet"
        raise UsageError(NO_SUCH_COMMUNITY.format(name=name[:60], names=names))
    return found


# The national view --------------------------------------------------------------------------


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def behind(facts: store.CommunityFacts, today: date) -> list[str]:
    """Why a community is behind, in plain words (none: it is on track)."""
    reasons = []
    if facts.last_meeting is None or facts.last_meeting < _quarter_start(today):
        reasons.append("no meeting this quarter")
    if not facts.chairs:
        reasons.append("no co-chairs")
    if facts.schedule is None or not facts.schedule.rule:
        reasons.append("no schedule")
    return reasons


async def community_lines(session: AsyncSession, facts: store.CommunityFacts, now: datetime) -> list[str]:
    today = now.date()
    last = long_day(facts.last_meeting) if facts.last_meeting else "none yet"
    nxt = "not set"
    if facts.schedule is not None and (coming := await upcoming(session, facts.schedule, now, count=1)):
        nxt = long_day(calendar.local(coming[0].starts_at, facts.schedule.zone).date())
    chairs = []
    for term, member in facts.chairs:
        ending = f", term ends {long_day(term.ends_on)} (within 60 days)" if term.ends_on - today <= TERM_SOON else ""
        chairs.append(f"{member.name or 'a member'}{ending}")
    roles = ", ".join(sorted(f"{role or NO_ROLE} {n}" for role, n in facts.roles.items()))
    reasons = behind(facts, today)
    head = f"{facts.community.name}" + (f" — BEHIND: {', '.join(reasons)}" if reasons else " — on track")
    return [
        head,
        f"  Last meeting: {last}. Next meeting: {nxt}.",
        f"  Co-chairs: {'; '.join(chairs) if chairs else 'none'}.",
        f"  Overdue actions: {facts.overdue_actions}.",
        f"  Members ({sum(facts.roles.values())}): {roles or 'none yet'}.",
    ]


async def communities_view(session: AsyncSession, now: datetime) -> str:
    """Every community: last and next meeting, co-chairs (and terms ending within 60 days),
    overdue actions, members by role, and whether it is behind."""
    found = await store.all_communities(session)
    if not found:
        return NO_COMMUNITIES
    lines = [f"Communities of Practice ({len(found)}):"]
    for community in found:
        lines += await community_lines(session, await store.facts_of(session, community, now.date()), now)
    return "\n".join(lines)


# Member lists -------------------------------------------------------------------------------


def members_csv(rows: Sequence[store.MemberRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(MEMBER_COLUMNS)
    for row in rows:
        writer.writerow([spreadsheet_cell(row.name), spreadsheet_cell(row.role), spreadsheet_cell(row.community)])
    return out.getvalue()


def spreadsheet_cell(value: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula (a name starting with ``=``)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def members_text(rows: Sequence[store.MemberRow]) -> str:
    if not rows:
        return NO_MEMBERS
    lines = [f"Members ({len(rows)}) — name, role, community:"]
    lines += [f"{row.name} — {row.role or NO_ROLE} — {row.community}" for row in rows]
    return "\n".join(lines)


# National announcements ---------------------------------------------------------------------


def announcement_words(text: str, today: date) -> tuple[str, date | None]:
    """The words and the optional date (``… on 12 June``); `UsageError` when empty or past."""
    words = " ".join(trimmed(text).split())
    day = None
    head, sep, tail = words.rpartition(" on ")
    if sep and head.strip():
        try:
            day = parse_day(tail, today)
        except UsageError as unread:
            if str(unread).startswith("There is no such day"):
                raise  # shaped like a date ("on 30 February"): say so rather than send it without one
            day = None  # "on" belonged to the words ("a talk on boundaries")
        else:
            words = head.strip()
    if not words:
        raise UsageError(ANNOUNCE_USAGE)
    if day is not None and day < today:
        raise UsageError(DATE_PASSED.format(day=long_day(day)))
    return words, day


@dataclass(frozen=True)
class Sent:
    """What one sending of a national announcement did."""

    sent: int
    skipped: int
    already: int

    def sentence(self) -> str:
        if not self.sent and not self.skipped and self.already:
            return ALREADY
        skipped = (
            SKIPPED.format(
                n=self.skipped, was="was" if self.skipped == 1 else "were", it="it" if self.skipped == 1 else "them"
            )
            if self.skipped
            else ""
        )
        return SENT.format(sent=plural(self.sent, "community channel"), skipped=skipped)


def announcement_post(text: str, day: date | None, announcement_id: int) -> Post:
    words = FROM_NATIONAL.format(text=text) + (ON_DAY.format(day=long_day(day)) if day else "")
    return Post(words, key=f"national:{announcement_id}")


async def send_announcement(session: AsyncSession, text: str, day: date | None, now: datetime) -> Sent:
    """Send to every active community channel once (a claim row per channel, across workers and
    presses), through the outbox; a channel copbot is no longer in is skipped and counted."""
    announcement = await store.national_announcement(session, text, day, now)
    post = announcement_post(announcement.text, announcement.event_on, announcement.id)
    sent = skipped = already = 0
    for channel in await store.every_channel(session):
        if not await store.claim_post(session, announcement.id, channel.id, now, skipped=not channel.active):
            already += 1
        elif not channel.active:
            skipped += 1
        else:
            await outbox.enqueue(session, Place(channel.platform, channel.channel_id, channel.team_id), [post], now)
            sent += 1
    return Sent(sent, skipped, already)


async def national_events(session: AsyncSession, today: date) -> list[str]:
    """What a community's next-steps post repeats: each national event still to come."""
    return [
        NATIONAL_EVENT.format(text=event.text, day=long_day(event.event_on))
        for event in await store.coming_events(session, today)
        if event.event_on is not None
    ]
