"""Reflective practice on the lead topic, following Gibbs' six steps (see flows/gibbs.py).

States (the reflection's ``status`` and ``step`` columns)::

    (none) --reflect--> STEP 1 --next--> STEP 2 ... --next--> STEP 6 --end--> ENDED
                        STEP n <--back-- STEP n+1
    Every step has its own post; a reply to a step's post is kept under that step, even when
    the chair has moved on or the reflection has ended (a late answer is never misfiled).
    Step 6 answers become action items.
"""

from __future__ import annotations

import re
from datetime import date

from dateutil import parser as dateparser

from bot.conversation import AnswerForm, Button, Post, Section
from bot.errors import NothingOpen, UsageError
from bot.registry import Answer, Answerable, Command, FlowRouter, Forgetter, Permission
from bot.text import number as typed_number
from bot.text import trimmed
from flows import gibbs
from flows.turn import CO_CHAIRS, Turn, mention_tokens_in
from storage import answers as store
from storage import community as communities
from storage import leads
from storage.models import Reflection
from storage.states import ReflectionStatus

INTRO = (
    "Reflective practice on: {topic}\n"
    "We'll go through six steps together. Share what you feel comfortable sharing — passing is always fine."
)
STEP_TEXT = "Step {n} of 6 — {question}\n({name}) Topic: {topic}"
HOW = "Reply to this post to share, or press Share (you can leave your name off)."
MOVED_ON = "We have moved on from this step — late thoughts are still welcome here."
BACK_NOTE = "Back to step {n} — {question} Reply here or to the step's first post."
NO_TOPIC = "Which topic shall we reflect on? Type `/cop reflect <topic>` (or vote on a lead topic first)."
ALREADY = "A reflection on “{topic}” is already running (step {n} of 6)."
NOT_OPEN = "No reflection is running. A co-chair or today's lead can start one with `/cop reflect [topic]`."
LAST_STEP = "This is the last step. Type `/cop end` to close the reflection and post the summary."
FIRST_STEP = "We are at the first step already."
STALE_BUTTON = "We have already moved on — nothing changed."
SUMMARY = "Summary of our reflection on: {topic}"
ACTIONS_HEADING = "Action plan"
LOOP = "{n} action{s} agreed; they will be on the next agenda."
NO_ACTIONS = "No actions were agreed this time."
THEN = "Next: the vote on our next lead topic (`/cop vote`), and who leads next (`/cop lead`)."
NO_NAME = "Shared without a name"
THE_GROUP = "the group"
ECHO_NAMED = "{name} shared: {text}"
ECHO_ANON = "Shared without a name: {text}"
LATE = "Thank you — kept under step {n} ({question})."
AFTER_END = "Thank you — kept under step {n} of the reflection on “{topic}”, which has ended."
BAD_DATE = "I couldn't read the date “{raw}”, so the action has no due date (write it like 2027-02-14)."
ONLY_CHAIR_OR_LEAD = "Only a co-chair or today's lead can start a reflection. Type `/cop chairs` to see who they are."
PASS_STEP = "Thanks — passing is always fine."

_DUE = re.compile(r"\bby\s+(\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4})", re.IGNORECASE)


def step_key(reflection: Reflection, number: int) -> str:
    return f"reflection:{reflection.id}:step:{number}"


def parse_step_key(key: str) -> tuple[int, int] | None:
    """``reflection:<id>:step:<n>[:…]`` → (id, n)."""
    parts = key.split(":")
    if len(parts) >= 4 and parts[0] == "reflection" and parts[2] == "step":
        try:
            return int(parts[1]), int(parts[3])
        except ValueError:
            return None
    return None


def _step_post(reflection: Reflection, number: int, *, current: bool, replace: bool = False) -> Post:
    spec = gibbs.step(number)
    text = STEP_TEXT.format(n=number, question=spec.question, name=spec.name, topic=reflection.topic)
    buttons: tuple[Button, ...] = ()
    if current:
        text += "\n" + HOW
        if number > 1:
            buttons += (Button("Back", f"back {number}"),)
        buttons += (
            (Button("Next step", f"next {number}", "primary"),)
            if number < gibbs.LAST
            else (Button("End and summarise", f"end {reflection.id}", "primary"),)
        )
    else:
        text += "\n" + MOVED_ON
    return Post(
        text,
        sections=(Section("Some questions to help:", spec.guidance),),
        buttons=buttons,
        form=AnswerForm(spec.question, allow_anonymous=True),
        key=step_key(reflection, number),
        replace=replace,
    )


async def _chair_or_todays_lead(turn: Turn) -> bool:
    if await turn.is_chair():
        return True
    lead = await leads.lead_before(turn.session, turn.require_community().id, turn.today)
    return lead is not None and lead.id == (await turn.member()).id


CO_CHAIRS_OR_TODAYS_LEAD = Permission(
    "co-chairs only", _chair_or_todays_lead, ONLY_CHAIR_OR_LEAD, also="or today's lead"
)

router = FlowRouter("reflection")


def _step_number(cmd: Command) -> int | None:
    """The step (or reflection) number a button carries (``next 2``); typed ``next`` has none."""
    found = typed_number(cmd.args[0]) if cmd.args else None
    if cmd.args and found is None:
        raise UsageError(f"Usage: /cop {cmd.verb}")
    return found


@router.verb(
    "reflect",
    "reflect [topic]",
    "Start reflective practice (Gibbs' six steps) on a topic, or on the lead topic.",
    who=CO_CHAIRS_OR_TODAYS_LEAD,
    free_text=True,
    menu="reflect [topic]: start the six reflection steps (co-chairs)",
)
async def start(turn: Turn, cmd: Command) -> list[Post]:
    community = turn.require_community()
    topic = cmd.rest
    running = await store.open_reflection(turn.session, community.id)
    if running is not None:
        return [turn.private(ALREADY.format(topic=running.topic, n=running.step))]
    meeting = await communities.meeting_today(turn.session, community, turn.today)
    topic = " ".join(trimmed(topic).split()) or meeting.lead_topic or community.next_topic or ""
    if not topic:
        raise UsageError(NO_TOPIC)
    if len(topic) > 300:
        raise UsageError("That topic is too long — please keep it under 300 characters.")
    reflection = await store.start_reflection(turn.session, community.id, meeting.id, topic, turn.now)
    return [
        Post(INTRO.format(topic=topic), key=f"reflection:{reflection.id}:intro"),
        _step_post(reflection, 1, current=True),
    ]


async def _running(turn: Turn) -> Reflection:
    community = turn.require_community()
    reflection = await store.open_reflection(turn.session, community.id)
    if reflection is None:
        raise NothingOpen(NOT_OPEN)
    return reflection


@router.verb("next", "next", "Move the reflection on to the next step.", who=CO_CHAIRS, action="move the reflection on")
async def next_step(turn: Turn, cmd: Command) -> list[Post]:
    return await move(turn, +1, _step_number(cmd))


@router.verb("back", "back", "Go back one step in the reflection.", who=CO_CHAIRS, action="go back a step")
async def back(turn: Turn, cmd: Command) -> list[Post]:
    return await move(turn, -1, _step_number(cmd))


async def move(turn: Turn, delta: int, expected: int | None) -> list[Post]:
    """``next`` (+1) or ``back`` (-1). A button carries the step it was pressed on, so a double
    click or a stale button moves nothing."""
    await turn.require_chair("move the reflection on" if delta > 0 else "go back a step")
    reflection = await _running(turn)
    if expected is not None and expected != reflection.step:
        return [turn.private(STALE_BUTTON)]
    target = reflection.step + delta
    if target > gibbs.LAST:
        return [turn.private(LAST_STEP)]
    if target < 1:
        return [turn.private(FIRST_STEP)]
    previous, reflection.step = reflection.step, target
    posts = [_step_post(reflection, previous, current=False, replace=True)]
    if delta > 0:
        posts.append(_step_post(reflection, target, current=True))
    else:
        posts.append(_step_post(reflection, target, current=True, replace=True))
        spec = gibbs.step(target)
        posts.append(
            Post(
                BACK_NOTE.format(n=target, question=spec.question),
                key=f"{step_key(reflection, target)}:back:{int(turn.now.timestamp())}",
            )
        )
    return posts


@router.verb(
    "end", "end", "End the reflection and post its summary and action plan.", who=CO_CHAIRS, action="end the reflection"
)
async def end(turn: Turn, cmd: Command) -> list[Post]:
    expected_id = _step_number(cmd)
    await turn.require_chair("end the reflection")
    reflection = await _running(turn)
    if expected_id is not None and expected_id != reflection.id:
        return [turn.private(STALE_BUTTON)]
    store.end_reflection(reflection, turn.now)
    return [_step_post(reflection, reflection.step, current=False, replace=True), await summary(turn, reflection)]


async def summary(turn: Turn, reflection: Reflection) -> Post:
    answers = await store.reflection_answers(turn.session, reflection.id)
    sections = []
    for spec in gibbs.STEPS:
        lines = tuple(f"{name or NO_NAME}: {text}" for step, name, text in answers if step == spec.number)
        sections.append(Section(f"{spec.number}. {spec.title}", lines or ("(no answers shared)",)))
    actions = await store.actions_of_reflection(turn.session, reflection.id)
    action_lines = tuple(
        f"{owner or THE_GROUP}: {text}" + (f" (by {due.isoformat()})" if due else "") for owner, text, due in actions
    )
    sections.append(Section(ACTIONS_HEADING, action_lines or (NO_ACTIONS,)))
    loop = LOOP.format(n=len(actions), s="" if len(actions) == 1 else "s") if actions else NO_ACTIONS
    return Post(
        f"{SUMMARY.format(topic=reflection.topic)}\n{loop}\n{THEN}",
        sections=tuple(sections),
        key=f"reflection:{reflection.id}:summary",
    )


def _due_date(text: str) -> tuple[date | None, str | None]:
    """The "by <date>" in an action, and the raw text when it could not be read."""
    found = _DUE.search(text)
    if not found:
        return None, None
    raw = found.group(1)
    try:
        return dateparser.parse(raw, dayfirst=not re.match(r"\d{4}", raw)).date(), None
    except (ValueError, OverflowError):
        return None, raw


async def answer(
    turn: Turn,
    reflection: Reflection,
    number: int,
    text: str,
    *,
    anonymous: bool,
    from_form: bool,
    code_hash: str | None,
) -> list[Post] | None:
    """Keep one answer under step ``number`` (the step the member answered, not the current one).
    None when the same answer was already kept (a retry, a card submitted twice)."""
    member = await turn.member()
    kept = await store.add_reflection_answer(
        turn.session, reflection.id, number, None if anonymous else member.id, text, turn.now, code_hash
    )
    if kept is None:
        return None
    posts: list[Post] = []
    if number == gibbs.LAST:
        owner_id = None if anonymous else member.id
        for token in mention_tokens_in(text):
            named = await turn.resolve_member(token)
            if named is not None:
                owner_id = named.id
                break
        due, bad = _due_date(text)
        await store.add_action(turn.session, reflection.community_id, kept, owner_id, due, turn.now)
        if bad:
            posts.append(turn.private(BAD_DATE.format(raw=bad)))
    if from_form:
        echo = ECHO_ANON.format(text=text) if anonymous else ECHO_NAMED.format(name=member.name, text=text)
        posts.append(Post(echo, in_thread_of=step_key(reflection, number)))
    spec = gibbs.step(number)
    if reflection.status != ReflectionStatus.OPEN:
        posts.append(turn.private(AFTER_END.format(n=number, topic=reflection.topic)))
    elif number != reflection.step:
        posts.append(turn.private(LATE.format(n=number, question=spec.question)))
    return posts


def _owns(key: str) -> bool:
    return parse_step_key(key) is not None


async def _open_key(turn: Turn) -> str | None:
    reflection = await store.open_reflection(turn.session, turn.require_community().id)
    return step_key(reflection, reflection.step) if reflection is not None else None


async def _answer(turn: Turn, key: str, given: Answer) -> list[Post] | None:
    parsed = parse_step_key(key)
    reflection = await store.reflection_by_id(turn.session, turn.require_community().id, parsed[0]) if parsed else None
    if parsed is None or reflection is None:
        return None  # a post of a reflection that is gone: nothing to keep
    return await answer(
        turn,
        reflection,
        parsed[1],
        given.text,
        anonymous=given.anonymous,
        from_form=given.from_form,
        code_hash=given.code_hash,
    )


async def _pass(turn: Turn, key: str) -> list[Post]:
    await turn.member()
    return [turn.private(PASS_STEP)]


router.answerable(Answerable("reflection step", _owns, _open_key, _answer, _pass, priority=10))
router.forgetter(
    Forgetter("reflection answers", ("reflection_answers", "action_items"), store.forget_reflection_answers)
)
