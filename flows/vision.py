"""Our vision, as the breakout groups of the first meeting start it and the group keeps it
(the guide's "Creating a Vision"): the challenge we want to address, our purpose, and up to five
objectives, each with the guide's questions answered and a horizon on the roadmap.

Co-chairs and today's lead write it down; any member shows it to the group::

    /cop vision                                   the vision, posted for the group
    /cop vision challenge <words>                 the challenge (`none` clears it)
    /cop vision purpose <words>                   our purpose
    /cop vision objective <1-5> <words>           an objective's words
    /cop vision objective <n> how: <words>        a question answered (accomplish: realistic:
                                                  how: resources: know:)
    /cop vision objective <n> horizon short|medium|long
    /cop vision objective <n> remove

Every refusal changes nothing. No author is kept: the vision is the group's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.registry import Command, FlowRouter
from bot.vocabulary.conversation import Post, Section
from bot.vocabulary.errors import UsageError
from bot.vocabulary.text import number, trimmed
from flows.actions import HORIZON_ALIASES, HORIZON_WORDS
from flows.turn import CO_CHAIRS_OR_TODAYS_LEAD, Turn
from storage import vision as store
from storage.actions import HORIZONS
from storage.models import Vision, VisionObjective

MAX_OBJECTIVES = 5  # the guide: "define five strategic, high-level objectives"
MAX_CHARS = 500
CLEAR_WORDS = ("none", "clear")
REMOVE_WORDS = ("remove", "delete")


@dataclass(frozen=True)
class GuideQuestion:
    """One of the guide's questions for an objective: the word typed before the colon (also
    the column its answer is kept in) and the question as the vision shows it."""

    key: str
    question: str


QUESTIONS: tuple[GuideQuestion, ...] = (
    GuideQuestion("accomplish", "What do we need to accomplish?"),
    GuideQuestion("realistic", "What is realistic?"),
    GuideQuestion("how", "How will we do it?"),
    GuideQuestion("resources", "What resources and people do we need?"),
    GuideQuestion("know", "How will we know we have delivered it?"),
)
QUESTION_KEYS = tuple(question.key for question in QUESTIONS)
_ANSWER = re.compile(rf"^({'|'.join(QUESTION_KEYS)})\s*:(.*)$", re.IGNORECASE | re.DOTALL)

# -- what members read (one place, to review and later translate) ---------------------------
USAGE = (
    "Usage: /cop vision | vision challenge <words> | vision purpose <words> | vision objective <1-5> <words> | "
    "vision objective <n> accomplish:|realistic:|how:|resources:|know: <words> | "
    "vision objective <n> horizon short|medium|long | vision objective <n> remove"
)
HEADING = "Our vision — {community}"
CHALLENGE = "The challenge we want to address"
PURPOSE = "Our purpose"
OBJECTIVES = "Our objectives (up to five)"
OBJECTIVE = "Objective {n}: {text}"
NOT_WORDED = "(not worded yet)"
ON_THE_ROADMAP = " — {horizon}"
STILL_TO_ANSWER = "Still to talk through: {questions}"
NOT_WRITTEN = "Not written yet: `/cop vision {form} <words>`"
NO_OBJECTIVES = "None yet: `/cop vision objective 1 <words>`"
NOTHING_YET = (
    "We haven't written our vision yet. At the breakout (`/cop kit vision`), a co-chair or today's lead writes "
    "it down: `/cop vision challenge <words>`, `/cop vision purpose <words>`, `/cop vision objective 1 <words>`."
)
WHAT_IS_IT = {
    "challenge": "What is the challenge we want to address? Type `/cop vision challenge <words>`.",
    "purpose": "What is our purpose? Type `/cop vision purpose <words>`.",
}
TOO_LONG = f"Please keep it under {MAX_CHARS} characters — a sentence or two the group agrees on."
WHICH_OBJECTIVE = (
    "Which objective? Give its number, 1 to 5, e.g. `/cop vision objective 1 Build peer support across our region`."
)
UP_TO_FIVE = (
    "We keep up to five objectives, numbered 1 to 5, so {n} can't be used, and nothing changed. "
    "To reword one: `/cop vision objective 5 <words>`."
)
OBJECTIVE_NEEDS_WORDS = "What is objective {n}? Type `/cop vision objective {n} <words>`."
ANSWER_NEEDS_WORDS = "What is the answer to “{question}”? Type `/cop vision objective {n} {key}: <words>`."
HORIZON_USAGE = (
    "When do we mean to deliver it? `/cop vision objective {n} horizon short|medium|long` "
    "(1–3, 4–6 or 7–12 months; or `none`). Nothing changed."
)
NO_SUCH_OBJECTIVE = "There is no objective {n} yet, so nothing changed. `/cop vision` shows ours."
KEPT = {"challenge": "Kept our challenge: “{words}”.", "purpose": "Kept our purpose: “{words}”."}
CLEARED = {"challenge": "Our challenge is not written now.", "purpose": "Our purpose is not written now."}
OBJECTIVE_KEPT = "Kept objective {n}: “{words}”."
LOOKS_LIKE_A_QUESTION = " (To answer “{question}” for it instead, start with `{key}:`.)"
ANSWER_KEPT = "Kept for objective {n} — {question} “{words}”."
ANSWER_CLEARED = "Objective {n}: “{question}” is open again."
HORIZON_SET = "Objective {n} is on the roadmap: {horizon}."
HORIZON_CLEARED = "Objective {n} has no horizon now."
REMOVED = "Objective {n} is removed, with its answers."
SHOW_IT = " `/cop vision` shows the whole vision to the group."

router = FlowRouter("vision")

CHAIR_FORMS = {
    "challenge": "write down our vision's challenge",
    "purpose": "write down our purpose",
    "objective": "write down our objectives",
}


@router.verb(
    "vision",
    "vision | vision challenge|purpose <words> | vision objective <1-5> [how:|…] <words>",
    "Our vision, posted for the group: the challenge, our purpose and up to five objectives, each with the "
    "guide's questions (accomplish:, realistic:, how:, resources:, know:) and a horizon "
    "(`objective <n> horizon short|medium|long`). Co-chairs and today's lead write it down.",
    chair_forms=CHAIR_FORMS,
    forms_who=CO_CHAIRS_OR_TODAYS_LEAD,
    free_text=True,
)
async def vision(turn: Turn, cmd: Command) -> list[Post]:
    community = turn.require_community()
    form = cmd.args[0].lower() if cmd.args else ""
    words = _words(turn, cmd.rest.split(None, 1)[1] if len(cmd.rest.split(None, 1)) > 1 else "")
    if form == "":
        return [await vision_post(turn, community.name)]
    if form in ("challenge", "purpose"):
        return [await _set_statement(turn, form, words)]
    if form == "objective":
        return [await _objective(turn, words)]
    raise UsageError(USAGE)


def _words(turn: Turn, text: str) -> str:
    return " ".join(turn.readable(trimmed(text)).split())


def _checked(words: str) -> str:
    if len(words) > MAX_CHARS:
        raise UsageError(TOO_LONG)
    return words


async def _set_statement(turn: Turn, form: str, words: str) -> Post:
    """The challenge or the purpose: one statement each."""
    if not words:
        raise UsageError(WHAT_IS_IT[form])
    words = _checked(words)
    row = await store.vision_to_change(turn.session, turn.require_community().id, turn.now)
    if words.lower() in CLEAR_WORDS:
        setattr(row, form, None)
        return turn.private(CLEARED[form] + SHOW_IT)
    setattr(row, form, words)
    return turn.private(KEPT[form].format(words=words) + SHOW_IT)


async def _objective(turn: Turn, words: str) -> Post:
    """``<n> <words>`` | ``<n> <question>: <words>`` | ``<n> horizon <h>`` | ``<n> remove``."""
    which, _, rest = words.partition(" ")
    n = number(which.lstrip("#"))
    if n is None:
        raise UsageError(WHICH_OBJECTIVE)
    if not 1 <= n <= MAX_OBJECTIVES:
        raise UsageError(UP_TO_FIVE.format(n=n))
    rest = rest.strip()
    community_id = turn.require_community().id
    answered = _ANSWER.match(rest)
    if answered:
        return await _answer(turn, n, _question(answered.group(1).lower()), answered.group(2).strip())
    first, _, after = rest.partition(" ")
    key = first.lower()
    if key == "horizon" and (not after or len(after.split()) == 1):
        return await _horizon(turn, n, after.strip().lower())
    if rest.lower() in REMOVE_WORDS:
        if not await store.drop_objective(turn.session, community_id, n):
            raise UsageError(NO_SUCH_OBJECTIVE.format(n=n))
        return turn.private(REMOVED.format(n=n) + SHOW_IT)
    if not rest:
        raise UsageError(OBJECTIVE_NEEDS_WORDS.format(n=n))
    _checked(rest)
    row = await store.objective_to_change(turn.session, community_id, n, turn.now)
    row.text = rest
    said = OBJECTIVE_KEPT.format(n=n, words=rest)
    if key in QUESTION_KEYS:  # "how we meet" was kept as the objective's words: say how to answer "How?"
        said += LOOKS_LIKE_A_QUESTION.format(question=_question(key).question, key=key)
    return turn.private(said + SHOW_IT)


def _question(key: str) -> GuideQuestion:
    return next(question for question in QUESTIONS if question.key == key)


async def _answer(turn: Turn, n: int, question: GuideQuestion, words: str) -> Post:
    if not words:
        raise UsageError(ANSWER_NEEDS_WORDS.format(question=question.question, n=n, key=question.key))
    words = _checked(words)
    row = await store.objective_to_change(turn.session, turn.require_community().id, n, turn.now)
    if words.lower() in CLEAR_WORDS:
        setattr(row, question.key, None)
        return turn.private(ANSWER_CLEARED.format(n=n, question=question.question) + SHOW_IT)
    setattr(row, question.key, words)
    return turn.private(ANSWER_KEPT.format(n=n, question=question.question, words=words) + SHOW_IT)


async def _horizon(turn: Turn, n: int, word: str) -> Post:
    word = HORIZON_ALIASES.get(word, word)
    if word not in (*HORIZONS, *CLEAR_WORDS):
        raise UsageError(HORIZON_USAGE.format(n=n))
    row = await store.objective_to_change(turn.session, turn.require_community().id, n, turn.now)
    if word in CLEAR_WORDS:
        row.horizon = None
        return turn.private(HORIZON_CLEARED.format(n=n) + SHOW_IT)
    row.horizon = word
    return turn.private(HORIZON_SET.format(n=n, horizon=HORIZON_WORDS[word]) + SHOW_IT)


# -- the vision as a post -------------------------------------------------------------------


async def vision_post(turn: Turn, name: str) -> Post:
    """The vision for the group, in sections; before anything is written, how to start (to the
    member who asked only)."""
    community_id = turn.require_community().id
    found = await store.vision_of(turn.session, community_id)
    objectives = await store.objectives_of(turn.session, community_id)
    if (found is None or not (found.challenge or found.purpose)) and not objectives:
        return turn.private(NOTHING_YET)
    return Post(HEADING.format(community=name), sections=vision_sections(found, objectives))


def vision_sections(found: Vision | None, objectives: list[VisionObjective]) -> tuple[Section, ...]:
    """The challenge, the purpose, then each objective with its horizon and its answers."""
    challenge = found.challenge if found else None
    purpose = found.purpose if found else None
    sections = [
        Section(CHALLENGE, (challenge or NOT_WRITTEN.format(form="challenge"),)),
        Section(PURPOSE, (purpose or NOT_WRITTEN.format(form="purpose"),)),
    ]
    if not objectives:
        sections.append(Section(OBJECTIVES, (NO_OBJECTIVES,)))
    for objective in objectives:
        heading = OBJECTIVE.format(n=objective.number, text=objective.text or NOT_WORDED)
        if objective.horizon in HORIZON_WORDS:
            heading += ON_THE_ROADMAP.format(horizon=HORIZON_WORDS[objective.horizon])
        lines = [f"{q.question} {getattr(objective, q.key)}" for q in QUESTIONS if getattr(objective, q.key)]
        open_ones = [q.question for q in QUESTIONS if not getattr(objective, q.key)]
        if open_ones:
            lines.append(STILL_TO_ANSWER.format(questions=" · ".join(open_ones)))
        sections.append(Section(heading, tuple(lines)))
    return tuple(sections)
