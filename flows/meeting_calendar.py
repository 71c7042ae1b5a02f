"""Dates of the quarterly rhythm, as pure functions: a rule such as "2nd Tuesday of Feb May Aug
Nov" as an RRULE, its meetings in the community's time zone (stored in UTC, right across DST
changes, Ireland's "negative DST" included), and working days from the `holidays` package with
weekends and a community's own days off skipped."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from dateutil.rrule import rrulestr

from bot.vocabulary.errors import UsageError

_MONTH_NAMES = "january february march april may june july august september october november december".split()
MONTHS = {name: n for n, full in enumerate(_MONTH_NAMES, 1) for name in (full, full[:3])}
WEEKDAYS = {"monday": "MO", "tuesday": "TU", "wednesday": "WE", "thursday": "TH", "friday": "FR"}
ORDINALS = {"1st": 1, "first": 1, "2nd": 2, "second": 2, "3rd": 3, "third": 3, "4th": 4, "fourth": 4, "last": -1}
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

RULE_HELP = (
    "Write the rule like `2nd Tuesday of Feb May Aug Nov 10:30` (first, 2nd, 3rd, 4th or last; "
    "a weekday; the months; the time)."
)
DST_GAP = "Please pick a time outside 02:00–03:00: clocks change then, so that hour can be skipped or happen twice."


@dataclass(frozen=True)
class QuarterlyRule:
    """A schedule rule: the RRULE (weekday, months) and the local time."""

    rrule: str
    at: time


def parse_time(text: str) -> time:
    found = _TIME.match(text.strip())
    if not found:
        raise UsageError(f"I couldn't read the time “{text[:20]}”; write it like 10:30.")
    at = time(int(found.group(1)), int(found.group(2)))
    if time(2, 0) <= at < time(3, 0):
        raise UsageError(DST_GAP)
    return at


def parse_date(text: str) -> date:
    """``2027-03-19`` → a date; "30 February" and friends get a clear answer."""
    if not _DATE.match(text.strip()):
        raise UsageError(f"I couldn't read the date “{text[:20]}”; write it like 2027-03-19.")
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"There is no such day as {text.strip()}.") from None


def parse_rule(words: str) -> QuarterlyRule:
    """``2nd Tuesday of Feb May Aug Nov 10:30`` → ``FREQ=YEARLY;BYMONTH=2,5,8,11;BYDAY=+2TU``."""
    tokens = [t.strip(",").lower() for t in words.split()]
    if len(tokens) < 5 or tokens[0] not in ORDINALS or tokens[1] not in WEEKDAYS or tokens[2] != "of":
        raise UsageError(RULE_HELP)
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
    return QuarterlyRule(f"FREQ=YEARLY;BYMONTH={by_month};BYDAY={ordinal:+d}{weekday}", at)


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
