"""Reading an action's due date (`flows.due_dates`): a table of phrases, and any text at all."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from flows.due_dates import DueDate, date_given, due_date, names_day

THURSDAY = date(2026, 11, 26)  # the meeting's day in these tests
FRIDAY = date(2026, 11, 27)

READ = [
    # text, today, the day read
    ("@Ben will draft a checklist by 2027-02-14", THURSDAY, date(2027, 2, 14)),
    ("I will ask my supervisor by 31/01/2027", THURSDAY, date(2027, 1, 31)),
    ("by 14/02/2027", THURSDAY, date(2027, 2, 14)),  # day first, as in Ireland
    ("by 01/02/2027", THURSDAY, date(2027, 2, 1)),  # the 1st of February, not 2 January
    ("by 14.02.2027.", THURSDAY, date(2027, 2, 14)),
    ("by 1/3/27", THURSDAY, date(2027, 3, 1)),
    ("by 1 March", THURSDAY, date(2027, 3, 1)),  # this year's has passed: next year's
    ("by 1st March 2027", THURSDAY, date(2027, 3, 1)),
    ("by the 1st of March", THURSDAY, date(2027, 3, 1)),
    ("by March", THURSDAY, date(2027, 3, 1)),
    ("by 4 December, then report back", THURSDAY, date(2026, 12, 4)),
    ("by Friday 4 December", THURSDAY, date(2026, 12, 4)),
    ("by 26 November", THURSDAY, THURSDAY),  # today is not past
    ("by 29 February", THURSDAY, date(2028, 2, 29)),
    ("by Friday", THURSDAY, FRIDAY),  # the next Friday after today
    ("by friday", FRIDAY, date(2026, 12, 4)),  # not today
    ("by this Fri", THURSDAY, FRIDAY),
    ("by next Friday", THURSDAY, date(2026, 12, 4)),  # the Friday of next week
    ("by next Monday", THURSDAY, date(2026, 11, 30)),
    ("by tomorrow", THURSDAY, FRIDAY),
    ("by next week", THURSDAY, date(2026, 12, 3)),
    ("by the end of the week", THURSDAY, FRIDAY),
    ("by the end of next week", THURSDAY, date(2026, 12, 4)),
    ("by next month", THURSDAY, date(2026, 12, 26)),
    ("by next month", date(2027, 1, 31), date(2027, 2, 28)),
    ("by the end of the month", THURSDAY, date(2026, 11, 30)),
    ("by end of month", date(2027, 2, 3), date(2027, 2, 28)),
    ("by the end of next month", THURSDAY, date(2026, 12, 31)),
    ("by the end of the year", THURSDAY, date(2026, 12, 31)),
    ("before 1 March", THURSDAY, date(2027, 3, 1)),
    ("due 2027-02-14", THURSDAY, date(2027, 2, 14)),
    ("draft it by 1 March to the team", THURSDAY, date(2027, 3, 1)),  # the longest reading
    ("checked by @Ben by Friday", THURSDAY, FRIDAY),  # "by @Ben" is no date
    ("meet on 14/02/2027", THURSDAY, date(2027, 2, 14)),  # a written date needs no "by"
]


@pytest.mark.parametrize(("text", "today", "day"), READ)
def test_a_date_is_read(text, today, day):
    found = due_date(text, today)
    assert found is not None and found.on == day and found.read


NOT_READ = [
    # text, the words quoted back to the member
    ("call the team by someday", "someday"),
    ("call the GP by 2027-13-45", "2027-13-45"),
    ("by the summer", "the summer"),
    ("by the 5th", "the 5th"),  # no month
    ("by 5pm", "5pm"),  # a time, not a day
    ("by 31 June", "31 June"),
]


@pytest.mark.parametrize(("text", "words"), NOT_READ)
def test_a_date_that_cannot_be_read_is_quoted_back(text, words):
    assert due_date(text, THURSDAY) == DueDate(words, None)


@pytest.mark.parametrize("text", ["by 2020-01-01", "by 01/01/2020", "by 25/11/2026"])
def test_a_past_date_is_read_but_not_kept(text):
    found = due_date(text, THURSDAY)
    assert found is not None and found.on is None and found.passed and found.read


@pytest.mark.parametrize(
    "text", ["I will talk to my supervisor", "learn by listening to others", "stand by me", "by @Ben", ""]
)
def test_no_date_at_all(text):
    assert due_date(text, THURSDAY) is None


@pytest.mark.parametrize(
    ("text", "day", "named"),
    [
        ("by 2027-02-14", date(2027, 2, 14), True),
        ("by 31/01/2027", date(2027, 1, 31), True),
        ("by 1 March", date(2027, 3, 1), True),
        ("by 1 March", date(2027, 3, 2), False),
        ("by Friday", FRIDAY, False),  # the summary says which Friday
        ("by next month", date(2026, 12, 26), False),
        ("no date here", FRIDAY, False),
    ],
)
def test_whether_a_text_already_writes_its_day(text, day, named):
    assert names_day(text, day) is named


@pytest.mark.parametrize(
    ("words", "found"),
    [
        ("by 1 March", DueDate("1 March", date(2027, 3, 1))),
        ("Friday", DueDate("Friday", FRIDAY)),
        ("by someday", DueDate("someday", None)),
        ("by 2020-01-01", DueDate("2020-01-01", None, passed=True)),
    ],
)
def test_a_date_typed_on_its_own(words, found):
    assert date_given(words, THURSDAY) == found


DAYS = st.one_of(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)), st.dates())
DATEISH = st.lists(
    st.sampled_from(
        ["by", "before", "due", "the", "end", "of", "next", "1st", "31", "29", "02", "2027", "/", "-", ".", ","]
        + [
            "March",
            "Feb",
            "Friday",
            "week",
            "month",
            "year",
            "someday",
            "@Ben",
            "9999",
            "0000",
            "１２",
            "٣",
            "\n",
            ":",
            "am",
        ]
    ),
    max_size=14,
).map(" ".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=300), DATEISH), DAYS)
@example("by next month, by tomorrow, by Friday by 1 March", date.max)
@example("by 0000-01-01 by next year", date.min)
def test_reading_never_raises_and_never_keeps_a_past_day(text, today):
    found = due_date(text, today)
    assert found is None or isinstance(found, DueDate)
    if found is not None and found.on is not None:
        assert found.on >= today
    given_alone = date_given(text, today)
    assert given_alone.on is None or given_alone.on >= today
    assert isinstance(names_day(text, today), bool)
