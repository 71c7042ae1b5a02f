"""Reflective practice on the lead topic, following Gibbs' six steps (`flows.gibbs`): one
instance of the stepped-prompt engine (`flows.stepped`, which draws the state diagram). What is
Gibbs' own: who may start one (a co-chair or today's lead), its topic (the one the group voted
for), and step 6, the group's action plan ("how would you deal with similar situations in
future?").

Every answer to step 6 is kept in the action plan. It becomes a tracked action (an
`ActionItem`, with an owner and a due date, counted and put on the next agenda) only when it
says so::

    answer to step 6 --"action: …"-----------------------------> ACTION (owner, date if given)
                     --an @owner and a date ("by 1 March")------> ACTION
                     --otherwise--> IN THE PLAN --"Make this an action" / `action <n>`--> ACTION
    ACTION --`action <n> by <date>`--> ACTION with that date (a co-chair adds a missing one)

The owner is the member named with @, else the author, else the group. Dates are read in the
community's time zone (`flows.due_dates`); one that cannot be read, or has passed, leaves the
action without a date and the member is told.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bot.registry import Answer, Command, FlowRouter
from bot.vocabulary.conversation import Button, Post
from bot.vocabulary.dates import long_day
from bot.vocabulary.errors import NotAllowed, UsageError
from bot.vocabulary.moments import stored_utc
from bot.vocabulary.text import number, trimmed
from flows import answers, attendance, due_dates, gibbs, meeting_calendar
from flows.stepped import NO_NAME, SteppedPrompts, Wording
from flows.turn import CO_CHAIRS_OR_TODAYS_LEAD, Turn, mention_tokens_in
from storage import actions
from storage import answers as found_answers
from storage import community as communities
from storage import reflections as store
from storage import schedule as schedules
from storage.models import ActionItem, Member, ReflectionAnswer

INTRO = (
    "Reflective practice on: {topic}\n"
    "We'll go through six steps together. Share what you feel comfortable sharing — passing is always fine."
)
STEP_TEXT = "Step {n} of {of} — {question}\n({name}) Topic: {topic}"
HOW = "Reply to this post to share, or press Share (you can leave your name off)."
MOVED_ON = "We have moved on from this step — late thoughts are still welcome here."
BACK_NOTE = "Back to step {n} — {question} Reply here or to the step's first post."
AGAIN_NOTE = "On to step {n} again — {question} Reply here or to the step's first post."
NO_TOPIC = "Which topic shall we reflect on? Type `/cop reflect <topic>` (or vote on a lead topic first)."
ALREADY = "A reflection on “{topic}” is already running (step {n} of 6)."
NOT_OPEN = "No reflection is running. A co-chair or today's lead can start one with `/cop reflect [topic]`."
LAST_STEP = "This is the last step. Type `/cop end` to close the reflection and post the summary."
SUMMARY = "Summary of our reflection on: {topic}"
LOOP_ONE = "1 action agreed; it will be on the next agenda."
LOOP = "{n} actions agreed; they will be on the next agenda."
NO_ACTIONS = "No actions were agreed this time."
THEN = "Next: the vote on our next lead topic (`/cop vote`), and who leads next (`/cop lead`)."
THE_GROUP = "the group"
LATE = "Thank you — kept under step {n} ({question})."
AFTER_END = "Thank you — kept under step {n} of the reflection on “{topic}”, which has ended."
PASS_STEP = "Thanks — passing is always fine."
MAX_TOPIC_CHARS = 300

# -- step 6: the action plan, and the actions tracked from it -----------------------------------
ACTION_PREFIX = "action:"
MAKE_ACTION = "Make this an action"
IN_THE_PLAN = (
    "Kept in our action plan — thank you. If it is something to follow up, with someone doing it by a date, "
    "it can be a tracked action: press Make this an action, or type `/cop action {n}`."
)
IN_THE_PLAN_ANON = (
    "Kept in our action plan — thank you. To make it a tracked action, type `/cop action <your code>` "
    "with the private code I'm sending you."
)
SPECIAL_MENTIONS = {"here", "channel", "everyone"}  # Slack's and Teams' mentions of everyone, not a person
OWNER_NOT_JOINED = "{who} hasn't joined this community, so I haven't made them its owner — they can type `/cop join`."
ACTION_MADE = "Kept as an action for {owner}{due} — it will be on the next agenda."
DUE = ", due {day}"
BAD_DATE = "I couldn't read the date “{raw}”; the action is kept without one — a co-chair can add it."
PAST_DATE = "The date “{raw}” has passed; the action is kept without one — a co-chair can add it."
ALREADY_ACTION = "Answer {n} is already an action for {owner}{due} — it counts once."
DATE_SET = "The action for {owner} (answer {n}) is now due {day}."
DATE_UNCHANGED = "I couldn't read the date “{raw}”, so the action's date is unchanged."
PAST_UNCHANGED = "The date “{raw}” has passed, so the action's date is unchanged."
NOT_YOURS = "Only the member who shared answer {n}, or a co-chair, can make it an action."
NOT_YOURS_ANON = (
    "Answer {n} was shared without a name: whoever holds its private code can make it an action "
    "(`/cop action <code>`), or a co-chair can."
)
NOT_THE_PLAN = "Only answers to step 6, the action plan, can become actions."
NO_SUCH_ANSWER = "I couldn't find answer {n} in our reflections. The summary's action plan shows the numbers."
NUMBER_IN_CHANNEL = "Here, use the private code I gave you; answer numbers work in the community's channel."
ACTION_USAGE = "Usage: /cop action <answer number or your private code> [by <date>]"
TRACKED = " — action for {owner}{due}"
ANSWER_NUMBER = " (answer {n})"
ACTION_HINT = (
    "An answer's author or a co-chair can still make it an action (`/cop action <answer number>`), "
    "or give an action its date (`/cop action <answer number> by <date>`)."
)

WORDS = Wording(
    intro=INTRO,
    step=STEP_TEXT,
    how=HOW,
    moved_on=MOVED_ON,
    back_note=BACK_NOTE,
    again_note=AGAIN_NOTE,
    not_open=NOT_OPEN,
    last_step=LAST_STEP,
    summary=SUMMARY,
    late=LATE,
    after_end=AFTER_END,
    start="a reflection, `/cop reflect [topic]` (a co-chair or today's lead)",
)


def without_prefix(text: str) -> str:
    """An answer's words without a leading ``action:`` (any case); unchanged if there is none,
    or nothing after it."""
    if text[: len(ACTION_PREFIX)].casefold() == ACTION_PREFIX and text[len(ACTION_PREFIX) :].strip():
        return text[len(ACTION_PREFIX) :].strip()
    return text


def asks_for_action(text: str) -> bool:
    return without_prefix(text) != text


def _kept_words(number: int, text: str) -> str:
    """What step 6 keeps of an answer: its words, without the ``action:`` that marked it."""
    return without_prefix(text) if number == gibbs.LAST else text


def _due(day: date | None) -> str:
    return DUE.format(day=long_day(day)) if day else ""


async def _local_day(session: Any, community_id: int, moment: datetime, now: datetime) -> date:
    """The day of ``moment`` in the community's time zone: what "today" is when reading a date."""
    schedule = await schedules.schedule_of(session, community_id, now)
    return meeting_calendar.local(stored_utc(moment), schedule.zone).date()


async def _member_named(turn: Turn, community_id: int, token: str) -> Member | None:
    """The member an @ token names (a platform mention, or ``@Name``), who has joined."""
    if turn.community is not None and turn.community.id == community_id:
        return await turn.resolve_member(token)
    found = await communities.find_member(turn.session, community_id, token)
    return found if found is not None and found.active else None


async def _named_owner(turn: Turn, community_id: int, text: str) -> Member | None:
    """The first member the text names with @ who has joined."""
    for token in mention_tokens_in(text):
        named = await _member_named(turn, community_id, token)
        if named is not None:
            return named
    return None


async def _owner_of(turn: Turn, community_id: int, answer: ReflectionAnswer) -> tuple[int | None, str | None]:
    """Who owns an answer's action: the member it names with @, else its author, else the group."""
    named = await _named_owner(turn, community_id, answer.text)
    if named is not None:
        return named.id, named.name
    if answer.member_id is not None:
        author = await turn.session.get(Member, answer.member_id)
        return answer.member_id, author.name if author else None
    return None, None


def _made(owner: str | None, due: due_dates.DueDate | None) -> str:
    """The member's receipt for a new action, with a sentence about a date that was not kept."""
    text = ACTION_MADE.format(owner=owner or THE_GROUP, due=_due(due.on if due else None))
    if due is not None and due.on is None:
        text += "\n" + (PAST_DATE if due.passed else BAD_DATE).format(raw=due.words)
    return text


async def _track(
    turn: Turn, community_id: int, answer: ReflectionAnswer, due: due_dates.DueDate | None
) -> tuple[bool, str | None]:
    """Make an answer an action. (made now, its owner's name); False when it already was one."""
    owner_id, owner = await _owner_of(turn, community_id, answer)
    made = await actions.add_action(turn.session, community_id, answer, owner_id, due.on if due else None, turn.now)
    return made, owner


async def _not_joined(turn: Turn, community_id: int, text: str) -> str:
    """A sentence naming who the answer mentions but has not joined (a mention makes nobody a
    member, nor an action's owner); "" when everyone mentioned has."""
    missing = []
    for token in mention_tokens_in(text):
        if token.casefold() not in SPECIAL_MENTIONS and await _member_named(turn, community_id, token) is None:
            missing.append(turn.mention_names.get(token) or token.replace("_", " "))
    return "\n" + OWNER_NOT_JOINED.format(who=" and ".join(dict.fromkeys(missing))) if missing else ""


async def _from_step_6(turn: Turn, row: Any, step: int, kept: Any, given: Answer) -> list[Post]:
    """An answer to step 6 is in the plan; it is tracked when it says so (``action:``, or an
    @owner and a date). Its author is told which, privately."""
    if step != gibbs.LAST:
        return []
    today = await _local_day(turn.session, row.community_id, turn.now, turn.now)
    due = due_dates.due_date(kept.text, today)
    named = await _named_owner(turn, row.community_id, kept.text)
    not_joined = await _not_joined(turn, row.community_id, kept.text)
    if not asks_for_action(given.text) and not (named is not None and due is not None and due.read):
        if kept.member_id is None:
            return [turn.private(IN_THE_PLAN_ANON + not_joined)]
        return [
            turn.private(
                IN_THE_PLAN.format(n=kept.id) + not_joined, buttons=(Button(MAKE_ACTION, f"action {kept.id}"),)
            )
        ]
    _, owner = await _track(turn, row.community_id, kept, due)
    return [turn.private(_made(owner, due) + not_joined)]


async def _plan_lines(session: Any, row: Any) -> tuple[str, ...]:
    """Step 6 in the summary: every answer once, each tracked action marked with its owner,
    and with its date unless the answer already writes it."""
    lines = []
    for entry in await actions.action_plan(session, row.id, gibbs.LAST):
        line = f"{entry.author or NO_NAME}: {entry.text}"
        if entry.tracked:
            shown = entry.due_on if entry.due_on and not due_dates.names_day(entry.text, entry.due_on) else None
            line += TRACKED.format(owner=entry.owner or THE_GROUP, due=_due(shown))
        lines.append(line + ANSWER_NUMBER.format(n=entry.answer_id))
    return tuple(lines)


async def _closing_the_loop(session: Any, row: Any) -> tuple[str, tuple[()]]:
    """How many actions were agreed, counted once each."""
    plan = await actions.action_plan(session, row.id, gibbs.LAST)
    agreed = sum(entry.tracked for entry in plan)
    loop = LOOP_ONE if agreed == 1 else LOOP.format(n=agreed) if agreed else NO_ACTIONS
    hint = any(not entry.tracked or entry.due_on is None for entry in plan)
    return f"\n{loop}" + (f"\n{ACTION_HINT}" if hint else "") + f"\n{THEN}", ()


REFLECTION = SteppedPrompts(
    "reflection",
    gibbs.STEPS,
    WORDS,
    store.ReflectionStore(),
    after_answer=_from_step_6,
    summary_end=_closing_the_loop,
    shape_answer=_kept_words,
    step_lines={gibbs.LAST: _plan_lines},
)


router = FlowRouter("reflection")


@router.verb(
    "reflect",
    "reflect [topic]",
    "Start reflective practice (Gibbs' six steps) on a topic, or on the lead topic.",
    who=CO_CHAIRS_OR_TODAYS_LEAD,
    action="start a reflection",
    free_text=True,
    menu="reflect [topic]: start the six reflection steps (co-chairs)",
)
async def start(turn: Turn, cmd: Command) -> list[Post]:
    community = turn.require_community()
    running = await store.open_reflection(turn.session, community.id)
    if running is not None:
        return [turn.private(ALREADY.format(topic=running.topic, n=running.step))]
    meeting = await communities.meeting_today(turn.session, community, turn.today)
    await attendance.mark_present(turn)
    topic = " ".join(trimmed(cmd.rest).split()) or meeting.lead_topic or community.next_topic or ""
    if not topic:
        raise UsageError(NO_TOPIC)
    if len(topic) > MAX_TOPIC_CHARS:
        raise UsageError(f"That topic is too long — please keep it under {MAX_TOPIC_CHARS} characters.")
    reflection = await store.start_reflection(turn.session, community.id, meeting.id, topic, turn.now)
    return REFLECTION.begin(reflection)


# -- `action`: an answer in the plan becomes a tracked action (the receipt's button) ----------


async def _answer_to_track(turn: Turn, which: str) -> ReflectionAnswer:
    """The answer ``which`` names: by its private code (whoever holds it), or by its number (its
    author or a co-chair; a co-chair for one shared without a name)."""
    which = which.lstrip("#")
    if answers.looks_like_code(which):
        community_id = turn.community.id if turn.community is not None else None
        found = await found_answers.find_by_code(turn.session, community_id, answers.code_hash(which))
        if isinstance(found, ReflectionAnswer):
            return found
        if found is not None:
            raise UsageError(NOT_THE_PLAN)
    n = number(which)
    if n is None:
        raise UsageError(answers.BAD_CODE if answers.looks_like_code(which) else ACTION_USAGE)
    if turn.community is None:
        raise UsageError(NUMBER_IN_CHANNEL)
    answer = await store.reflection_answer(turn.session, turn.community.id, n)
    if answer is None:
        raise UsageError(NO_SUCH_ANSWER.format(n=n))
    if answer.member_id != (await turn.member()).id and not await turn.is_chair():
        raise NotAllowed((NOT_YOURS_ANON if answer.member_id is None else NOT_YOURS).format(n=n))
    return answer


async def _redate(turn: Turn, action: ActionItem, n: int, given: due_dates.DueDate | None) -> list[Post]:
    """An answer that is an action already: a second press says so; `by <date>` sets its date."""
    owner = await turn.session.get(Member, action.owner_id) if action.owner_id else None
    name = owner.name if owner is not None else THE_GROUP
    if given is None:
        return [turn.private(ALREADY_ACTION.format(n=n, owner=name, due=_due(action.due_on)))]
    if given.on is None:
        return [turn.private((PAST_UNCHANGED if given.passed else DATE_UNCHANGED).format(raw=given.words))]
    action.due_on = given.on
    return [turn.private(DATE_SET.format(owner=name, n=n, day=long_day(given.on)))]


@router.verb(
    "action",
    "action <answer number or code> [by <date>]",
    "Make an answer to step 6 (the action plan) a tracked action with an owner and a due date: the answer's "
    "author, whoever holds its private code, or a co-chair. `by <date>` gives or changes its date.",
    needs_community=False,
    private_menu="action <code> [by <date>]: make an answer shared without your name a tracked action",
)
async def make_action(turn: Turn, cmd: Command) -> list[Post]:
    which, _, when = cmd.rest.strip().partition(" ")
    if not which:
        raise UsageError(ACTION_USAGE)
    answer = await _answer_to_track(turn, which)
    if answer.step != gibbs.LAST:
        raise UsageError(NOT_THE_PLAN)
    community_id = await store.community_of(turn.session, answer)
    today = await _local_day(turn.session, community_id, turn.now, turn.now)
    given = due_dates.date_given(when, today) if when.strip() else None
    existing = await actions.action_of(turn.session, answer.id)
    if existing is not None:
        return await _redate(turn, existing, answer.id, given)
    if given is None:  # the date the answer gives, read from the day it was written
        written = await _local_day(turn.session, community_id, answer.created_at, turn.now)
        given = due_dates.due_date(answer.text, written)
    made, owner = await _track(turn, community_id, answer, given)
    if not made:  # pressed twice at once: the other press made it
        other = await actions.action_of(turn.session, answer.id)
        assert other is not None
        return await _redate(turn, other, answer.id, None)
    return [turn.private(_made(owner, given))]


router.stepped(REFLECTION)  # with its forgetters: answers (and the actions made of them), step moves
router.answerable(REFLECTION.answerable(PASS_STEP, priority=10))
