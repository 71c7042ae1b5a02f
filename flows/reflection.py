"""Reflective practice on the lead topic, following Gibbs' six steps (`flows.gibbs`): one
instance of the stepped-prompt engine (`flows.stepped`, which draws the state diagram). What is
Gibbs' own: who may start one (a co-chair or today's lead), its topic (the one the group voted
for), and step 6, whose answers become action items with an owner and a due date.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from dateutil import parser as dateparser

from bot.registry import Answer, Command, FlowRouter, Forgetter
from bot.vocabulary.conversation import Post, Section
from bot.vocabulary.errors import UsageError
from bot.vocabulary.text import trimmed
from flows import gibbs
from flows.stepped import SteppedPrompts, Wording
from flows.turn import CO_CHAIRS_OR_TODAYS_LEAD, Turn, mention_tokens_in
from storage import answers as store
from storage import community as communities

INTRO = (
    "Reflective practice on: {topic}\n"
    "We'll go through six steps together. Share what you feel comfortable sharing — passing is always fine."
)
STEP_TEXT = "Step {n} of {of} — {question}\n({name}) Topic: {topic}"
HOW = "Reply to this post to share, or press Share (you can leave your name off)."
MOVED_ON = "We have moved on from this step — late thoughts are still welcome here."
BACK_NOTE = "Back to step {n} — {question} Reply here or to the step's first post."
NO_TOPIC = "Which topic shall we reflect on? Type `/cop reflect <topic>` (or vote on a lead topic first)."
ALREADY = "A reflection on “{topic}” is already running (step {n} of 6)."
NOT_OPEN = "No reflection is running. A co-chair or today's lead can start one with `/cop reflect [topic]`."
LAST_STEP = "This is the last step. Type `/cop end` to close the reflection and post the summary."
SUMMARY = "Summary of our reflection on: {topic}"
ACTIONS_HEADING = "Action plan"
LOOP = "{n} action{s} agreed; they will be on the next agenda."
NO_ACTIONS = "No actions were agreed this time."
THEN = "Next: the vote on our next lead topic (`/cop vote`), and who leads next (`/cop lead`)."
THE_GROUP = "the group"
LATE = "Thank you — kept under step {n} ({question})."
AFTER_END = "Thank you — kept under step {n} of the reflection on “{topic}”, which has ended."
BAD_DATE = "I couldn't read the date “{raw}”, so the action has no due date (write it like 2027-02-14)."
PASS_STEP = "Thanks — passing is always fine."
MAX_TOPIC_CHARS = 300

WORDS = Wording(
    intro=INTRO,
    step=STEP_TEXT,
    how=HOW,
    moved_on=MOVED_ON,
    back_note=BACK_NOTE,
    not_open=NOT_OPEN,
    last_step=LAST_STEP,
    summary=SUMMARY,
    late=LATE,
    after_end=AFTER_END,
)

_DUE = re.compile(r"\bby\s+(\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4})", re.IGNORECASE)


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


async def _action_from_step_6(turn: Turn, row: Any, number: int, kept: Any, given: Answer) -> list[Post]:
    """Every step-6 answer is an action: owned by whoever it names with @ (else its author,
    else the group), due by the date it gives."""
    if number != gibbs.LAST:
        return []
    member = await turn.member()
    owner_id = None if given.anonymous else member.id
    for token in mention_tokens_in(given.text):
        named = await turn.resolve_member(token)
        if named is not None:
            owner_id = named.id
            break
    due, bad = _due_date(given.text)
    await store.add_action(turn.session, row.community_id, kept, owner_id, due, turn.now)
    return [turn.private(BAD_DATE.format(raw=bad))] if bad else []


async def _action_plan(session: Any, row: Any) -> tuple[str, tuple[Section, ...]]:
    actions = await store.actions_of_reflection(session, row.id)
    lines = tuple(
        f"{owner or THE_GROUP}: {text}" + (f" (by {due.isoformat()})" if due else "") for owner, text, due in actions
    )
    loop = LOOP.format(n=len(actions), s="" if len(actions) == 1 else "s") if actions else NO_ACTIONS
    return f"\n{loop}\n{THEN}", (Section(ACTIONS_HEADING, lines or (NO_ACTIONS,)),)


REFLECTION = SteppedPrompts(
    "reflection",
    gibbs.STEPS,
    WORDS,
    store.ReflectionStore(),
    after_answer=_action_from_step_6,
    summary_end=_action_plan,
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
    topic = " ".join(trimmed(cmd.rest).split()) or meeting.lead_topic or community.next_topic or ""
    if not topic:
        raise UsageError(NO_TOPIC)
    if len(topic) > MAX_TOPIC_CHARS:
        raise UsageError(f"That topic is too long — please keep it under {MAX_TOPIC_CHARS} characters.")
    reflection = await store.start_reflection(turn.session, community.id, meeting.id, topic, turn.now)
    return REFLECTION.begin(reflection)


router.stepped(REFLECTION)
router.answerable(REFLECTION.answerable(PASS_STEP, priority=10))
router.forgetter(
    Forgetter("reflection answers", ("reflection_answers", "action_items"), store.forget_reflection_answers)
)
router.forgetter(Forgetter("step moves", ("reflections",), store.forget_moves))
