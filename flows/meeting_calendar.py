"""Dates of the quarterly rhythm, as pure functions: a rule such as "2nd Tuesday of Feb May Aug
Nov" as an RRULE, its meetings in the community's time zone (stored in UTC, right across DST
changes, Ireland's "negative DST" included), and working days from the `holidays` package with
weekends and a community's own days off skipped."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from dateutil.rrule import rrulestr

from bot.vocabulary import dates
from bot.vocabulary.dates import MONTHS
from bot.vocabulary.errors import UsageError

WEEKDAYS = {"monday": "MO", "tuesday": "TU", "wednesday": "WE", "thursday": "TH", "friday": "FR"}
ORDINALS = {"1st": 1, "first": 1, "2nd": 2, "second": 2, "3rd": 3, "third": 3, "4th": 4, "fourth": 4, "last": -1}
RULE_FILLER = frozenset({"and", "at", "in"})  # "… of Feb, May, Aug and Nov at 10:30"

RULE_HELP = (
    "Write the rule like `2nd Tuesday of Feb May Aug Nov 10:30` (first, 2nd, 3rd, 4th or last; "
    "a weekday; the months; the time)."
)
DST_GAP = "Please pick a time outside 02:00–03:00: clocks change then, so that hour can be skipped or happen twice."
UNREADABLE_TIME = "I couldn't read the time “{text}”; write it like 10:30 (or 2:30pm)."
RULE_NEEDS_TIME = "Please end the rule with the time the meetings start, e.g. `/cop schedule quarterly {rule} {at}`."


@dataclass(frozen=True)
class QuarterlyRule:
    """A schedule rule: the RRULE (weekday, months), the local time, and the rule in words."""

    rrule: str
    at: time
    words: str = ""


def parse_time(text: str) -> time:
    """A meeting's time (`bot.vocabulary.dates.read_time`), outside the hour clocks change."""
    at = dates.read_time(text)
    if at is None:
        raise UsageError(UNREADABLE_TIME.format(text=text.strip()[:20]))
    if time(2, 0) <= at < time(3, 0):
        raise UsageError(DST_GAP)
    return at


def parse_date(text: str, today: date) -> date:
    """A meeting's day, read by the one date reader (`bot.vocabulary.dates.parse_day`):
    ``19/03/2027``, ``2027-03-19``, ``19 March`` …; "30 February" gets a clear answer."""
    return dates.parse_day(text, today)


def parse_rule(words: str, usual: str = "10:30") -> QuarterlyRule:
    """``2nd Tuesday of Feb May Aug Nov 10:30`` → ``FREQ=YEARLY;BYMONTH=2,5,8,11;BYDAY=+2TU``.
    A rule without its time is answered with the rule as written and ``usual`` (the time now)."""
    tokens = [t.strip(",").lower() for t in words.split()]
    tokens = [t for t in tokens if t and t not in RULE_FILLER]
    if len(tokens) < 4 or tokens[0] not in ORDINALS or tokens[1] not in WEEKDAYS or tokens[2] != "of":
        raise UsageError(RULE_HELP)
    if dates.read_time(tokens[-1]) is None and (tokens[-1] in MONTHS or len(tokens) < 5):
        rule = " ".join(w for w in words.split() if w.strip(",").lower() not in ("at",))
        raise UsageError(RULE_NEEDS_TIME.format(rule=rule[:80], at=usual))
    at = parse_time(tokens[-1])
    months = []
    for token in tokens[3:-1]:
        month = MONTHS.get(token)
        if month is None:
            raise UsageError(f"I don't know the month “{token[:20]}”. {RULE_HELP}")
        months.append(month)
    if not months:
        raise UsageError(RULE_HELP)
    ordinal, weekday = ORDINALS[tokens[0]], WEEKDAYS[tokens[1]]
    by_month = ",".join(str(m) for m in sorted(set(months)))
    rule_words = " ".join(t.capitalize() if t in MONTHS or t in WEEKDAYS else t for t in tokens[:-1])
    return QuarterlyRule(f"FREQ=YEARLY;BYMONTH={by_month};BYDAY={ordinal:+d}{weekday}", at, rule_words)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"I don't know the time zone “{name[:40]}”; write it like Europe/Dublin.") from None


def to_utc(day: date, at: time, zone_name: str) -> datetime:
    """A local day and time in the community's zone, as UTC."""
    return datetime.combine(day, at, tzinfo=zone(zone_name)).astimezone(UTC)


def local(moment: datetime, zone_name: str) -> datetime:
    return moment.astimezone(zone(zone_name))


def rule_days(rule: str, after: date, count: int) -> list[date]:
    """The next ``count`` days of ``rule`` after ``after``."""
    start = datetime.combine(after, time(0, 0))
    days, recurrence = [], rrulestr(rule, dtstart=start)
    for moment in recurrence.xafter(start, count=count, inc=False):
        days.append(moment.date())
    return days


@lru_cache(maxsize=64)
def _public_holidays(country: str, year: int) -> dict[date, str]:
    try:
        return dict(holidays.country_holidays(country, years=year))
    except NotImplementedError:
        raise UsageError(f"I don't know the public holidays of “{country[:10]}”; use a country code like IE.") from None


def holiday_name(day: date, country: str) -> str | None:
    return _public_holidays(country, day.year).get(day)


def is_working_day(day: date, country: str, days_off: Iterable[date] = ()) -> bool:
    return day.weekday() < 5 and holiday_name(day, country) is None and day not in set(days_off)


def why_not_working(day: date, country: str, days_off: Iterable[date] = ()) -> str | None:
    """Why ``day`` is not a working day ("a Saturday", "St Patrick's Day"), or None."""
    if day.weekday() >= 5:
        return f"a {day.strftime('%A')}"
    name = holiday_name(day, country)
    if name:
        return name
    if day in set(days_off):
        return "a day off for this community"
    return None


def working_days_before(day: date, count: int, country: str, days_off: Iterable[date] = ()) -> date:
    """The working day ``count`` working days before ``day``."""
    off = set(days_off)
    current = day
    for _ in range(count):
        current -= timedelta(days=1)
        while not is_working_day(current, country, off):
            current -= timedelta(days=1)
    return current


def next_working_day(day: date, country: str, days_off: Iterable[date] = ()) -> date:
    off = set(days_off)
    current = day + timedelta(days=1)
    while not is_working_day(current, country, off):
        current += timedelta(days=1)
    return current
