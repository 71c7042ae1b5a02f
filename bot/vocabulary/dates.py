"""The one reader of the dates and times members type, for every command: `/cop schedule add`,
an action's "by 1 March", the terminal's `/clock`; and the two ways copbot writes a day. Day
first, as in Ireland ("31/01/2027"), and year first when the year leads ("2027-01-31"); month
names ("1 March 2027", "1st of March"); phrases relative to today ("Friday", "next month", "the
end of the week"). `dateutil` reads the calendar dates; the relative phrases are the small tables
below. Pure functions of the text and ``today`` (the day it was written, in the community's
time zone)."""

from __future__ import annotations

import re
from datetime import date, datetime, time

from dateutil import parser as dateparser
from dateutil.relativedelta import FR, MO, SA, SU, TH, TU, WE, relativedelta, weekday

from bot.vocabulary.errors import UsageError

MONTH_NAMES = "january february march april may june july august september october november december".split()
MONTHS = {name: n for n, full in enumerate(MONTH_NAMES, 1) for name in (full, full[:3])}

# Phrases relative to today (after "the" is dropped): how far each one reaches.
RELATIVE: dict[str, relativedelta] = {
    "today": relativedelta(),
    "tomorrow": relativedelta(days=+1),
    "end of week": relativedelta(weekday=FR),
    "end of this week": relativedelta(weekday=FR),
    "next week": relativedelta(weeks=+1),
    "end of next week": relativedelta(weeks=+1, weekday=FR),
    "next month": relativedelta(months=+1),
    "end of month": relativedelta(day=31),
    "end of this month": relativedelta(day=31),
    "end of next month": relativedelta(months=+1, day=31),
    "next year": relativedelta(years=+1),
    "end of year": relativedelta(month=12, day=31),
    "end of this year": relativedelta(month=12, day=31),
}
# "by Friday" and "by this Fri": the first such day after today; "by next Friday": that day of next week.
WEEKDAYS: dict[str, weekday] = {
    name: day
    for day, names in (
        (MO, ("monday", "mon")),
        (TU, ("tuesday", "tue", "tues")),
        (WE, ("wednesday", "wed")),
        (TH, ("thursday", "thu", "thur", "thurs")),
        (FR, ("friday", "fri")),
        (SA, ("saturday", "sat")),
        (SU, ("sunday", "sun")),
    )
    for name in names
}
WEEK_OF: dict[str, relativedelta] = {
    "": relativedelta(days=+1),
    "this": relativedelta(days=+1),
    "coming": relativedelta(days=+1),
    "on": relativedelta(days=+1),
    "next": relativedelta(days=+1, weekday=MO(+1)),  # from next week's Monday
}
FILLER = frozenset({"the"})

# Two defaults that differ in year, month and day: what a phrase leaves out comes out different.
_DEFAULTS = (datetime(1904, 1, 1), datetime(1908, 3, 3))  # leap years, months of 31 days
_YEARS_AHEAD = 8  # "29 February" without a year: the next one is at most eight years away
_YEAR_FIRST = re.compile(r"^\d{4}[-/.]")  # "2027-03-04" is the 4th of March, not the 3rd of April
_NUMERIC = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}$")
_TIME = re.compile(r"^(\d{1,2})(?:[:.h]([0-5]\d))?\s*(am|pm|a\.m\.|p\.m\.)?$", re.IGNORECASE)

DATE_FORMS = "19/03/2027, 2027-03-19 or 19 March 2027"
UNREADABLE_DATE = "I couldn't read “{text}” as a date; write it like " + DATE_FORMS + "."
NO_SUCH_DAY = "There is no such day as {text}."
NO_DATE = "Which day? Write it like " + DATE_FORMS + "."
MAX_QUOTED = 40  # characters of an unreadable date quoted back to the member


def _words(phrase: str) -> list[str]:
    return [word for word in phrase.casefold().replace(",", " ").split() if word not in FILLER]


def relative_day(phrase: str, today: date) -> date | None:
    """A phrase of the tables ("next month", "the end of the week", "Friday") as a day."""
    words = _words(phrase)
    key, which = " ".join(words), " ".join(words[:-1])
    try:
        if key in RELATIVE:
            return today + RELATIVE[key]
        if words and words[-1] in WEEKDAYS and which in WEEK_OF:
            return today + WEEK_OF[which] + relativedelta(weekday=WEEKDAYS[words[-1]](+1))
    except (ValueError, OverflowError):  # past the last day a calendar holds
        return None
    return None


def calendar_day(phrase: str, today: date, *, month_alone: bool = True) -> date | None:
    """A calendar date ("2027-02-14", "14/02/2027", "1st March 2027", "1 March") as a day. A
    date without a year is the next such day from ``today``; one without a month is not read;
    a month alone ("by March") is its first day, unless ``month_alone`` is False."""
    words = [word for word in _words(phrase) if word not in WEEKDAYS]  # "Friday 4 December"
    if not words:
        return None
    text = " ".join(words)
    year_first = bool(_YEAR_FIRST.match(text))
    try:
        first, second = (
            dateparser.parse(text, dayfirst=not year_first, yearfirst=year_first, default=d, ignoretz=True)
            for d in _DEFAULTS
        )
    except (ValueError, OverflowError, ArithmeticError):
        return None
    if first.month != second.month:
        return None  # "by 10", "by 5pm": no month, so no date
    if first.day != second.day and not month_alone:
        return None
    day = first.day if first.day == second.day else 1  # "by March": its first day
    years = [first.year] if first.year == second.year else range(today.year, today.year + _YEARS_AHEAD + 1)
    for year in years:
        try:
            found = date(year, first.month, day)
        except ValueError:
            continue
        if first.year == second.year or found >= today:
            return found
    return None


def read_day(phrase: str, today: date, *, month_alone: bool = True) -> date | None:
    """One phrase ("Friday", "1 March", "31/01/2027", "2027-01-31") as a day, or None."""
    return relative_day(phrase, today) or calendar_day(phrase, today, month_alone=month_alone)


def parse_day(text: str, today: date) -> date:
    """A day typed in a command; a `UsageError` saying what was wrong and how to write it."""
    phrase = " ".join(text.split())
    if not phrase:
        raise UsageError(NO_DATE)
    day = read_day(phrase, today, month_alone=False)
    if day is not None:
        return day
    if _NUMERIC.match(phrase) or (
        any(w.strip(".") in MONTHS for w in _words(phrase)) and any(c.isdigit() for c in phrase)
    ):
        raise UsageError(NO_SUCH_DAY.format(text=phrase[:MAX_QUOTED]))  # shaped like a date: "30 February"
    raise UsageError(UNREADABLE_DATE.format(text=phrase[:MAX_QUOTED]))


def read_time(text: str) -> time | None:
    """A time of day: ``10:30``, ``9.30``, ``14h00``, ``2pm``, ``2:30pm``; None for anything else."""
    found = _TIME.match(text.strip())
    if not found:
        return None
    hour, minute, half = int(found.group(1)), int(found.group(2) or 0), (found.group(3) or "").lower()
    if found.group(2) is None and not half:
        return None  # "10" alone is not a time
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half.startswith("p") else 0)
    if hour > 23:
        return None
    return time(hour, minute)


def long_day(day: date) -> str:
    """A day as a sentence says it: "Sunday 31 January 2027"."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def short_day(day: date) -> str:
    """A day in a list: "Sun 31 Jan 2027"."""
    return f"{day:%a} {day.day} {day:%b %Y}"
