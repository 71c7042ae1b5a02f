"""The annual review survey ("Reviewing/Evaluating your COP"): the guide's questions, answered
by each member at their own pace and kept without names; results only when at least 3 answered.

The questions are data (`Step`s, as Gibbs' cycle is in `flows.stepped`), but the survey is not
a stepped session: the group does not move step by step; each member goes through the questions
alone — in one Slack window or one Teams card (`review send …`, the twin of the form), or one
question at a time in the terminal (`review answer`, then a line per question).

    (none) --review / review open [days] / the yearly post--> OPEN --review close / its last day--> CLOSED
    OPEN: each member sends one response; those who have not get one private reminder
    CLOSED: results (k ≥ 3) with a table and a chart; the annual reflective session offered as a topic

Anonymous by design (`storage.review`): *who responded* (survey, member) and *what was answered*
(one row per question's value, a random id, no time) share nothing. So a response cannot
be changed or taken back: members are told so before they answer.
"""

from __future__ import annotations

import dataclasses
import os
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.registry import Answer, Answerable, Command, FlowRouter, Forgetter
from bot.vocabulary.conversation import (
    MAX_ANSWER_CHARS,
    Attachment,
    Button,
    FormQuestion,
    Post,
    Questionnaire,
    Section,
)
from bot.vocabulary.errors import NotAllowed, NothingOpen, UsageError
from bot.vocabulary.text import number, trimmed
from flows import meeting_calendar as calendar
from flows.review_chart import ChartRow, alt_text, chart_png
from flows.stepped import Step
from flows.turn import CO_CHAIRS_OR_TODAYS_LEAD, Turn
from storage import review as store
from storage import schedule as schedules
from storage import shared_files
from storage.due import LOOK_NOW
from storage.models import Community, MeetingSchedule, ReviewSurvey
from storage.review import Given

# -- the guide's questions, in its words ---------------------------------------------------

SATISFACTION = (
    "very dissatisfied",
    "dissatisfied",
    "neither satisfied nor dissatisfied",
    "satisfied",
    "very satisfied",
)
QUALITY = ("very poor", "poor", "fair", "good", "very good")
RATE_IN = "Rate the functioning of your COP in: {area}"


@dataclass(frozen=True)
class SurveyQuestion:
    """One question: its step (number, the question as the guide asks it, a short name), the
    key its answers are kept under, and its scale's words (1…5), or none for free text."""

    step: Step
    key: str
    scale: tuple[str, ...] | None = None

    @property
    def text(self) -> str:
        return self.step.question

    @property
    def short(self) -> str:
        return self.step.name


def _rating(n: int, key: str, short: str, area: str) -> SurveyQuestion:
    return SurveyQuestion(Step(n, RATE_IN.format(area=area), short, ()), key, QUALITY)


QUESTIONS: tuple[SurveyQuestion, ...] = (
    SurveyQuestion(Step(1, "What is the most important role of the COP to this group?", "Role", ()), "role"),
    SurveyQuestion(
        Step(2, "How satisfied are you with the workings of the COP?", "Satisfaction", ()), "satisfaction", SATISFACTION
    ),
    _rating(3, "vision", "Shared vision", "shared vision and objectives"),
    _rating(4, "governance", "Governance", "effective and inclusive governance structures and practices"),
    _rating(5, "leadership", "Leadership", "clearly mapped and defined leadership structure"),
    _rating(6, "convening", "Convening", "convening opportunities and engagement methods fit your objectives"),
    _rating(
        7,
        "collaboration",
        "Collaboration",
        "aligned and coordinated collaboration and cooperation processes, methods and knowledge needs",
    ),
    _rating(
        8,
        "management",
        "Management mandate",
        "articulated community management mandate, roles and tasks applying hybrid interactions",
    ),
    _rating(9, "users", "User experience", "outlined user experience perspective, needs and satisfaction"),
    _rating(
        10,
        "measurement",
        "Measurement",
        "understanding of what to include and why in the community measurement considerations",
    ),
)
BY_KEY = {question.key: question for question in QUESTIONS}
RATED = tuple(question for question in QUESTIONS if question.scale)
QUESTIONNAIRE_QUESTIONS = tuple(
    FormQuestion(
        q.key,
        f"{q.step.number}. {q.text}",
        tuple(f"{n} {word}" for n, word in enumerate(q.scale, start=1)) if q.scale else (),
    )
    for q in QUESTIONS
)

# -- what copbot says (one place, to review and translate) ----------------------------------

DEFAULT_DAYS, MAX_DAYS = 14, 60
AT_LEAST = 3  # results, and each line of them, only when at least this many answered
REMIND_DAYS_BEFORE = 3  # the one reminder goes this many days before the survey closes
POST_AT = time(9, 0)  # the yearly post, the reminder and the close happen at 09:00 local
REFLECTIVE_TOPIC = "The value of our COP: the annual reflective session"
OPENED = (
    "Our yearly review of the COP is open until {until}. It asks what our COP's most important role is, "
    "how satisfied you are, and eight ratings from 1 to 5 — about 5 minutes. Your answers are kept without "
    "your name, and results are shared only if at least 3 of us answer."
)
ANSWER_LABEL = "Answer the review"
NOT_CHANGEABLE = "Your answers can't be changed once sent, because they're kept without your name."
ANSWER_INTRO = "Thank you for taking part. " + NOT_CHANGEABLE + " Type `pass` to leave any question out."
QUESTION = "Question {n} of {of}: {text}"
SCALE_LINE = "Type a number from 1 to 5: {words}."
FREE_LINE = "Type your answer in a few words."
THANKS = "Thank you — your answers are kept, without your name. Results come when the review closes."
ALREADY_SENT = "You've sent your answers already — thank you. " + NOT_CHANGEABLE + " Nothing else was kept."
NONE_OPEN = "No review survey is open. A co-chair or today's lead opens one with `/cop review`."
ALREADY_OPEN = "The review is already open until {until} — {count}. `/cop review close` closes it."
DONE_THIS_YEAR = "This year's review was held already (it closed on {closed}). The next is due next year."
COUNT = "{n} answered so far"
NOT_A_RATING = "Please answer question {n} with a number from 1 to 5 ({words}) — “{given}” isn't one. Nothing was kept."
EMPTY = "I didn't find an answer in that, so nothing was kept. Type your answer, or `pass` to leave it out."
TOO_LONG = f"That is longer than I can keep ({MAX_ANSWER_CHARS} characters). Could you shorten it?"
NOTHING_GIVEN = "That response had no answers, so nothing was kept. Answer at least one question, or simply close it."
DAYS_USAGE = f"Usage: /cop review open [days] — how many days it stays open, 1 to {MAX_DAYS} (default {DEFAULT_DAYS})."
USAGE = "Usage: /cop review | review open [days] | review close | review answer"
UNREADABLE = "I couldn't read that response, so nothing was kept. Please send it again."
REMINDER = (
    "A gentle reminder: our yearly review of the COP closes on {until}. If you'd like to take part, it takes "
    "about 5 minutes and your answers are kept without your name. Passing is always fine."
)
CHANNEL_COUNT = "Our yearly review closes on {until}: {count}. Thank you to everyone who has."
CLOSED_FEW = (
    "Our yearly review is closed. Fewer than {k} of us answered, so no results are shown: with so few, "
    "answers could point to who gave them. The answers stay without names."
)
PUBLIC_URL = "COPBOT_PUBLIC_URL"  # copbot's https address: the chart is served there too
RESULTS = "Our yearly review of the COP {year}: {count} answered. Thank you. The chart is with this post{beside}."
BESIDE = ", beside last year's"
TABLE_HEADING = "Ratings (1 to 5): the middle answer, and what most said"
LINE = "{question} — median {median} ({word}); {spread}; {count} answered"
LINE_FEW = "{question} — fewer than {k} answered"
WORDS_HEADING = "What is the most important role of the COP to this group? (in A–Z order, without names)"
WORDS_FEW = f"Fewer than {AT_LEAST} wrote an answer, so none is shown."
OFFERED = (
    "The guide asks for a yearly reflective session on the value of our COP: “{topic}” is now among the "
    "topics for our next lead-topic vote."
)

FORM_TITLE = "Our yearly review"
FORM_NOTE = NOT_CHANGEABLE + " Leave out any question you'd rather not answer."
FORM_SEND = "Send my answers"
# Where private posts cannot be answered one by one, the review is answered in its form.
IN_ITS_FORM = {
    "slack": "In Slack the review is answered in one window: press “Answer the review” on the review post in "
    "the channel.",
    "teams": "In Teams the review is answered in its card: fill it in on the review post in the channel.",
}

QUESTIONNAIRE = Questionnaire("review send", FORM_TITLE, QUESTIONNAIRE_QUESTIONS, FORM_NOTE, ANSWER_LABEL, FORM_SEND)

router = FlowRouter("review survey")


def survey_key(survey_id: int) -> str:
    return f"review:{survey_id}"


def _question_key(survey_id: int, n: int) -> str:
    return f"review:{survey_id}:q:{n}"


def _owns(key: str) -> bool:
    return key.startswith("review:") and ":q:" in key


def day_words(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


async def _zone_today(session: AsyncSession, community_id: int, now: datetime) -> tuple[MeetingSchedule, date]:
    schedule = await schedules.schedule_of(session, community_id, now)
    return schedule, calendar.local(now, schedule.zone).date()


# -- opening --------------------------------------------------------------------------------


@router.verb(
    "review",
    "review | review open [days] | review close | review answer",
    "The yearly review of our COP (the guide's survey): co-chairs or today's lead open it (`review`, or "
    f"`review open [days]`, default {DEFAULT_DAYS}) and close it (`review close`); each member answers at "
    "their own pace, without their name. Results are shared when it closes, if at least 3 answered. "
    "Co-chairs set its month with `/cop schedule review <month>`.",
    chair_forms={"open": "open the review", "close": "close the review"},
    forms_who=CO_CHAIRS_OR_TODAYS_LEAD,
)
async def review(turn: Turn, cmd: Command) -> list[Post]:
    community = turn.require_community()
    form = cmd.args[0].lower() if cmd.args else ""
    if form == "":
        survey = await store.open_survey(turn.session, community.id)
        if survey is not None:
            return [turn.private(await _status(turn.session, survey))]
        if not await turn.may_run_the_meeting():
            raise NotAllowed(CO_CHAIRS_OR_TODAYS_LEAD.refusal.format(what="open the review"))
        return await _open(turn, DEFAULT_DAYS)
    if form == "open":
        days = number(cmd.args[1]) if len(cmd.args) > 1 else DEFAULT_DAYS
        if days is None or not 1 <= days <= MAX_DAYS or len(cmd.args) > 2:
            raise UsageError(DAYS_USAGE)
        return await _open(turn, days)
    if form == "close":
        survey = await store.open_survey(turn.session, community.id)
        if survey is None:
            raise NothingOpen(NONE_OPEN)
        _, today = await _zone_today(turn.session, community.id, turn.now)
        return await close(turn.session, community, survey, today, turn.now)
    if form == "answer":
        return await _start_answering(turn)
    if form == "send":
        return await _send(turn, cmd.rest.split(None, 1)[1] if len(cmd.args) > 1 else "")
    raise UsageError(USAGE)


async def _status(session: AsyncSession, survey: ReviewSurvey) -> str:
    count = COUNT.format(n=await store.responded_count(session, survey))
    return ALREADY_OPEN.format(until=day_words(survey.closes_on), count=count)


async def _open(turn: Turn, days: int) -> list[Post]:
    community = turn.require_community()
    survey = await store.open_survey(turn.session, community.id)
    if survey is not None:
        return [turn.private(await _status(turn.session, survey))]
    schedule, today = await _zone_today(turn.session, community.id, turn.now)
    started = await store.start_survey(turn.session, community.id, today.year, today, today + timedelta(days=days))
    if started is None:
        held = await store.survey_of_year(turn.session, community.id, today.year)
        closed = held.closed_on if held is not None and held.closed_on else today
        return [turn.private(DONE_THIS_YEAR.format(closed=day_words(closed)))]
    schedule.next_due_at = LOOK_NOW  # its reminder and its close are the scheduler's
    return [survey_post(started)]


def survey_post(survey: ReviewSurvey) -> Post:
    """The survey in the channel: its questionnaire (Slack's window, Teams' card: `review send`),
    and its button (`review answer`), which asks one question at a time where there is no form."""
    text = OPENED.format(until=day_words(survey.closes_on)) + "\n" + NOT_CHANGEABLE
    return Post(
        text,
        buttons=(Button(ANSWER_LABEL, "review answer", "primary"),),
        key=survey_key(survey.id),
        questionnaire=QUESTIONNAIRE,
    )


# -- answering one question at a time (the terminal: Slack and Teams answer in their form) --


async def _open_for(turn: Turn) -> ReviewSurvey:
    survey = await store.open_survey(turn.session, turn.require_community().id)
    if survey is None:
        raise NothingOpen(NONE_OPEN)
    return survey


def _question_post(turn: Turn, survey: ReviewSurvey, n: int, intro: str = "") -> Post:
    question = QUESTIONS[n]
    how = SCALE_LINE.format(words=_scale_words(question)) if question.scale else FREE_LINE
    text = QUESTION.format(n=n + 1, of=len(QUESTIONS), text=question.text) + "\n" + how
    return turn.private(f"{intro}\n{text}" if intro else text, key=_question_key(survey.id, n))


def _scale_words(question: SurveyQuestion) -> str:
    assert question.scale is not None
    return ", ".join(f"{n} {word}" for n, word in enumerate(question.scale, start=1))


async def _start_answering(turn: Turn) -> list[Post]:
    survey = await _open_for(turn)
    if turn.place.platform in IN_ITS_FORM:  # a private post there cannot be answered in its thread
        return [turn.private(IN_ITS_FORM[turn.place.platform])]
    member = await turn.member()
    done = await store.progress(turn.session, survey.id, member.id)
    if done is None:
        await store.claim_response(turn.session, survey.id, member.id, 0)
        return [_question_post(turn, survey, 0, ANSWER_INTRO)]
    if done >= len(QUESTIONS):
        return [turn.private(ALREADY_SENT)]
    return [_question_post(turn, survey, done)]


async def _answering(turn: Turn) -> tuple[ReviewSurvey, int] | None:
    """The open survey and the question the actor is on, if they are part-way through."""
    if turn.community is None:
        return None
    survey = await store.open_survey(turn.session, turn.community.id)
    if survey is None:
        return None
    done = await store.progress(turn.session, survey.id, (await turn.member()).id)
    if done is None or done >= len(QUESTIONS):
        return None
    return survey, done


async def _open_key(turn: Turn) -> str | None:
    found = await _answering(turn)
    return _question_key(found[0].id, found[1]) if found else None


async def _opened_at(turn: Turn) -> datetime | None:
    """Part-way through the survey, a plain line answers its question before anything else."""
    return turn.now if await _answering(turn) else None


def read_rating(question: SurveyQuestion, text: str) -> int:
    """A typed rating 1–5; `UsageError` saying so otherwise ("five", "7", "")."""
    value = number(text.strip().rstrip("."))
    if value is None or not 1 <= value <= 5:
        words = _scale_words(question)
        raise UsageError(NOT_A_RATING.format(n=question.step.number, words=words, given=text.strip()[:20]))
    return value


async def _answer_one(turn: Turn, key: str, given: Answer) -> list[Post] | None:
    found = await _answering(turn)
    if found is None or _question_key(found[0].id, found[1]) != key:
        return None  # answered already (a double send), or the survey closed
    survey, n = found
    question = QUESTIONS[n]
    text = trimmed(given.text)
    if not text:
        raise UsageError(EMPTY)
    if len(text) > MAX_ANSWER_CHARS:
        raise UsageError(TOO_LONG)
    value = Given(rating=read_rating(question, text)) if question.scale else Given(text=turn.readable(text))
    return await _next(turn, survey, n, {question.key: value})


async def _pass_one(turn: Turn, key: str) -> list[Post]:
    found = await _answering(turn)
    if found is None or _question_key(found[0].id, found[1]) != key:
        raise NothingOpen(NONE_OPEN)
    return await _next(turn, *found, {})


async def _next(turn: Turn, survey: ReviewSurvey, n: int, answer: Mapping[str, Given]) -> list[Post]:
    member = await turn.member()
    if not await store.move_on(turn.session, survey.id, member.id, n):
        return [turn.private(ALREADY_SENT)]
    await store.keep_answers(turn.session, survey.id, answer)
    if n + 1 >= len(QUESTIONS):
        return [turn.private(THANKS)]
    return [_question_post(turn, survey, n + 1)]


router.answerable(
    Answerable(
        "review survey",
        _owns,
        _open_key,
        _answer_one,
        _pass_one,
        priority=5,
        opened_at=_opened_at,
        kept_as=lambda key: "your answer to the review",
        marks_attendance=False,  # answering the review is not being at a meeting
    )
)


# -- a whole response at once: Slack's window, Teams' card (`review send …`) ----------------

SKIPPED = "-"
WORDS_MARK = "|"


def send_command(ratings: Sequence[int | None], words: str) -> str:
    """The command a form sends: ``review send 4 5 - 3 … | the words`` (``-``: left out)."""
    shown_ratings = " ".join(str(r) if r is not None else SKIPPED for r in ratings)
    return f"review send {shown_ratings} {WORDS_MARK} {words}".rstrip()


def read_response(rest: str) -> dict[str, Given]:
    """``4 5 - 3 … | words`` → each question's answer; `UsageError` for a bad rating or none at all."""
    ratings_part, _, words = rest.partition(WORDS_MARK)
    tokens = ratings_part.split()
    if len(tokens) > len(RATED):
        raise UsageError(UNREADABLE)
    answers: dict[str, Given] = {}
    for question, token in zip(RATED, tokens, strict=False):
        if token != SKIPPED:
            answers[question.key] = Given(rating=read_rating(question, token))
    words = trimmed(words)
    if len(words) > MAX_ANSWER_CHARS:
        raise UsageError(TOO_LONG)
    if words:
        answers["role"] = Given(text=words)
    if not answers:
        raise UsageError(NOTHING_GIVEN)
    return answers


async def _send(turn: Turn, rest: str) -> list[Post]:
    survey = await _open_for(turn)
    answers = read_response(rest)  # read before anything is kept: a bad one keeps nothing
    member = await turn.member()
    if not await store.claim_response(turn.session, survey.id, member.id, len(QUESTIONS)):
        return [turn.private(ALREADY_SENT)]
    if "role" in answers:
        answers["role"] = Given(text=turn.readable(answers["role"].text or ""))
    await store.keep_answers(turn.session, survey.id, answers)
    return [turn.private(THANKS)]


# -- closing: the results ---------------------------------------------------------------------


def spread(values: Sequence[int]) -> str:
    """What most said, in words: the narrowest run of ratings that more than half gave
    ("most said 4–5"; "all said 4" when everyone did)."""
    n = len(values)
    for width in range(5):
        for low in range(5 - width, 0, -1):  # the higher run first, when two are as narrow
            high = low + width
            inside = sum(low <= v <= high for v in values)
            if inside * 2 > n:
                who = "all" if inside == n else "most"
                return f"{who} said {low}" if width == 0 else f"{who} said {low}–{high}"
    return "answers were spread"


def _median(values: Sequence[int]) -> float:
    return float(statistics.median(values))


def _number(value: float) -> str:
    return f"{value:g}"


def _word(question: SurveyQuestion, median: float) -> str:
    assert question.scale is not None
    low, high = int(median), int(median + 0.5)
    if low == high or median == int(median):
        return question.scale[int(median) - 1]
    return f"between {question.scale[low - 1]} and {question.scale[high - 1]}"


def table_lines(found: Mapping[str, Sequence[int]]) -> tuple[str, ...]:
    lines = []
    for question in RATED:
        values = found.get(question.key, [])
        name = question.text.removeprefix(RATE_IN.format(area="")).rstrip("?")
        name = name[:1].upper() + name[1:]
        if len(values) < AT_LEAST:
            lines.append(LINE_FEW.format(question=name, k=AT_LEAST))
            continue
        median = _median(values)
        lines.append(
            LINE.format(
                question=name,
                median=_number(median),
                word=_word(question, median),
                spread=spread(values),
                count=len(values),
            )
        )
    return tuple(lines)


def _medians(found: Mapping[str, Sequence[int]]) -> dict[str, float | None]:
    return {q.key: _median(found[q.key]) if len(found.get(q.key, [])) >= AT_LEAST else None for q in RATED}


async def close(
    session: AsyncSession, community: Community, survey: ReviewSurvey, today: date, now: datetime
) -> list[Post]:
    """Close the survey: the results (if at least 3 answered), and the reflective session offered."""
    count = await store.close_survey(session, survey, today)
    if count is None:
        return []  # closed already, by another worker or co-chair
    await store.offer_topic(session, community.id, REFLECTIVE_TOPIC, now)
    offered = Post(OFFERED.format(topic=REFLECTIVE_TOPIC), key=f"{survey_key(survey.id)}:offered")
    if count < AT_LEAST:
        return [Post(CLOSED_FEW.format(k=AT_LEAST), key=f"{survey_key(survey.id)}:results"), offered]
    found = await store.ratings(session, survey.id)
    words = await store.words(session, survey.id)
    before = await store.survey_of_year(session, community.id, survey.year - 1)
    last: dict[str, float | None] | None = None
    if before is not None and before.closed_on is not None and (before.responses or 0) >= AT_LEAST:
        last = _medians(await store.ratings(session, before.id))
    now_medians = _medians(found)
    rows = [ChartRow(q.short, now_medians[q.key], last[q.key] if last is not None else None) for q in RATED]
    last_year = survey.year - 1 if last is not None else None
    png = chart_png(rows, survey.year, last_year)
    chart = Attachment.binary(f"cop-review-{survey.year}.png", "image/png", png, alt_text(rows, survey.year, last_year))
    chart = await _served_too(session, chart, now)
    sections = (
        Section(TABLE_HEADING, table_lines(found)),
        Section(WORDS_HEADING, tuple(words) if len(words) >= AT_LEAST else (WORDS_FEW,)),
    )
    text = RESULTS.format(year=survey.year, count=count, beside=BESIDE if last is not None else "")
    results = Post(text, sections=sections, attachment=chart, key=f"{survey_key(survey.id)}:results")
    return [results, offered]


async def _served_too(session: AsyncSession, chart: Attachment, now: datetime) -> Attachment:
    """Where copbot has a public address (``COPBOT_PUBLIC_URL``, set for Teams), the chart is
    also served there, at an unguessable address that expires: a Teams card shows an image too
    large for a data URI from it."""
    public = os.environ.get(PUBLIC_URL, "").strip().rstrip("/")
    if not public.startswith("https://"):
        return chart
    token = await shared_files.share(session, chart.media_type, chart.data(), now)
    return dataclasses.replace(chart, url=f"{public}/files/{token}")


router.forgetter(Forgetter("review responses", ("review_responders",), store.forget_responses))
