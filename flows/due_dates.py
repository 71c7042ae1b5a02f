"""The due date of an action, read from what a member wrote: "by 1 March", "by 31/01/2027"
(day first, as in Ireland), "by Friday", "by the end of the month". Pure functions of the text
and ``today`` (the day it was written, in the community's time zone). The dates themselves are
read by the one date reader every command uses (`bot.vocabulary.dates`); this module finds
them in an answer ("by …", "before …", "due …").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from bot.vocabulary.dates import MONTH_NAMES, calendar_day, read_day

# The words that introduce a date: "by 1 March", "before Friday", "due 2027-02-14".
_LEAD = re.compile(r"\b(?:no later than|due(?:\s+(?:by|on))?|before|by)\s+", re.IGNORECASE)
# A calendar date written with numbers anywhere in the text ("2027-02-14", "31/01/2027").
_NUMERIC_DATE = re.compile(r"(?<![\d/.-])\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}(?![\d/-])")
# Where the words of a date end: a clause's punctuation, or a full stop before a space.
_CLAUSE_END = re.compile(r"[,;:!?()\[\]{}\n]|\.(?:\s|$)")
MAX_WORDS = 6  # "the end of next month", "1st of March 2027 at"
MAX_PHRASES = 12  # enough for any answer; a long text is not read to its end
MAX_QUOTED = 40  # characters of an unreadable date quoted back to the member

# Words that show an unreadable phrase was meant as a date ("by someday", "by the summer"),
# so the member is told; "by listening" is not one.
_MONTHS = MONTH_NAMES
DATE_HINTS = frozenset(
    {"week", "weeks", "weekend", "month", "months", "year", "years", "end", "next", "soon", "quarter"}
    | {"summer", "spring", "autumn", "winter", "christmas", "easter"}
    | set(_MONTHS)
    | {month[:3] for month in _MONTHS}
)


@dataclass(frozen=True)
class DueDate:
    """A date found in an action: the words as written, the day they name, and whether that
    day has passed already. ``on`` is None when the words could not be read or have passed."""

    words: str
    on: date | None
    passed: bool = False

    @property
    def read(self) -> bool:
        """Whether the words name a day (one in the past included)."""
        return self.on is not None or self.passed


def _phrases(text: str) -> list[list[str]]:
    """The words after each "by"/"before"/"due", up to the end of their clause."""
    found = []
    for lead in list(_LEAD.finditer(text))[:MAX_PHRASES]:
        rest = text[lead.end() :]
        end = _CLAUSE_END.search(rest)
        words = (rest[: end.start()] if end else rest).split()[:MAX_WORDS]
        if words:
            found.append(words)
    return found


def _looks_like_a_date(words: list[str]) -> bool:
    return any(
        word in DATE_HINTS or "day" in word or any(ch.isdigit() for ch in word)
        for word in (w.casefold().strip(".") for w in words[:3])
    )


def _longest_reading(words: list[str], today: date) -> tuple[str, date] | None:
    for size in range(len(words), 0, -1):
        phrase = " ".join(words[:size])
        day = read_day(phrase, today)
        if day is not None:
            return phrase, day
    return None


def due_date(text: str, today: date) -> DueDate | None:
    """The due date an action gives: the first "by <date>" (or "before"/"due") that reads, else
    a numeric date anywhere; an unreadable one that was meant as a date ("by someday"); or None
    when the text gives no date at all. Never raises."""
    phrases = _phrases(text)
    readings = [_longest_reading(words, today) for words in phrases]
    readings += [_longest_reading([match.group()], today) for match in _NUMERIC_DATE.finditer(text[:4000])]
    for reading in readings:
        if reading is not None:
            phrase, day = reading
            return DueDate(phrase, day) if day >= today else DueDate(phrase, None, passed=True)
    for words in phrases:
        if _looks_like_a_date(words):
            return DueDate(" ".join(words)[:MAX_QUOTED], None)
    return None


def names_day(text: str, day: date) -> bool:
    """Whether the text already writes ``day`` as a calendar date ("by 2027-02-14", "by 1
    March"): then a summary need not say it again. "by Friday" does not write its day."""
    candidates = _phrases(text) + [[m.group()] for m in _NUMERIC_DATE.finditer(text[:4000])]
    for words in candidates:
        for size in range(len(words), 0, -1):
            if calendar_day(" ".join(words[:size]), day) == day:
                return True
    return False


def date_given(words: str, today: date) -> DueDate:
    """A date typed on its own, as in `/cop action 12 by 1 March` ("by" may be left out)."""
    phrase = words.strip()
    lead = _LEAD.match(phrase)
    if lead:
        phrase = phrase[lead.end() :]
    day = read_day(phrase, today)
    if day is None:
        return DueDate(phrase[:MAX_QUOTED], None)
    return DueDate(phrase, day) if day >= today else DueDate(phrase, None, passed=True)
