"""The stepped-prompt engine: an ordered list of steps as data, one post per step, moved through
with ``next``/``back``/``end``, its progress in the database (botbuilder's waterfall, without
the memory). Gibbs' six steps are one instance (`flows.reflection`); the annual review survey
will be another.

States of a stepped session (its row's ``status`` and ``step`` columns)::

    (none) --start--> STEP 1 --next--> STEP 2 ... --next--> STEP n --end--> ENDED (summary posted)
                      STEP k <--back-- STEP k+1
    Every step has its own post. A reply to a step's post is kept under that step, even when the
    group has moved on or the session has ended: a late answer is never misfiled. A button
    carries the step it was pressed on, so a double click or a stale button moves nothing.

``next``, ``back`` and ``end`` are declared once, here, and go to whichever stepped session is
open in the community (each instance registers itself with `FlowRouter.stepped`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from bot.registry import Answer, Answerable, Command, FlowRouter, Registry
from bot.vocabulary.conversation import AnswerForm, Button, Post, Section
from bot.vocabulary.errors import NothingOpen, UsageError
from bot.vocabulary.moments import stored_utc
from bot.vocabulary.text import number as typed_number
from flows.turn import CO_CHAIRS_OR_TODAYS_LEAD, Turn
from storage.states import ReflectionStatus

NOTHING_RUNNING = "Nothing is running that has steps. A co-chair starts one (`/cop reflect`)."
STALE_BUTTON = "We have already moved on — nothing changed."
FIRST_STEP = "We are at the first step already."
KEPT_AS = "your answer to step {n} of the {kind}"
JUST_MOVED = (
    "We've just moved to step {n}, so I left it there. If you meant to go on from step {n}, type `{verb}` again."
)
JUST_MOVED_WINDOW = timedelta(seconds=5)
NO_NAME = "Shared without a name"
NO_ANSWERS = "(no answers shared)"
ECHO_NAMED = "{name} shared: {text}"
ECHO_ANON = "Shared without a name: {text}"


@dataclass(frozen=True)
class Step:
    """One step: its plain question first, its name, and questions that help."""

    number: int
    question: str
    name: str
    guidance: tuple[str, ...]

    @property
    def title(self) -> str:
        return f"{self.question} ({self.name})"


@dataclass(frozen=True)
class Wording:
    """What one kind of stepped session says. ``{topic}``, ``{n}``, ``{of}`` (the number of
    steps), ``{question}`` and ``{name}`` are filled in."""

    intro: str
    step: str  # "Step {n} of {of} — {question}\n({name}) Topic: {topic}"
    how: str
    moved_on: str
    back_note: str
    not_open: str
    last_step: str
    summary: str
    late: str
    after_end: str
    guidance_heading: str = "Some questions to help:"
    next_label: str = "Next step"
    back_label: str = "Back"
    end_label: str = "End and summarise"


class SessionRow(Protocol):
    """What the engine reads and moves of a session's row."""

    id: int
    community_id: int
    topic: str
    step: int
    status: str


class SessionStore(Protocol):
    """Where one kind of stepped session keeps its rows and its answers (`storage`)."""

    async def open_session(self, session: Any, community_id: int) -> Any: ...

    async def open_to_move(self, session: Any, community_id: int) -> Any: ...

    async def session_by_id(self, session: Any, community_id: int, session_id: int) -> Any: ...

    def end(self, row: Any, now: Any) -> None: ...

    async def add_answer(
        self, session: Any, session_id: int, step: int, member_id: int | None, text: str, now: Any, code: str | None
    ) -> Any: ...

    async def answers(self, session: Any, session_id: int) -> list[tuple[int, str | None, str]]: ...


# After an answer is kept: (turn, row, step number, the kept answer row, what was shared) → more posts.
AnswerHook = Callable[[Turn, Any, int, Any, Answer], Awaitable[list[Post]]]
# The end of the summary: (database session, row) → (more text, more sections).
SummaryHook = Callable[[Any, Any], Awaitable[tuple[str, tuple[Section, ...]]]]
# What is kept of an answer: (step number, the words shared) → the words kept.
ShapeHook = Callable[[int, str], str]
# One step's lines in the summary, when the instance shows that step its own way: (session, row) → lines.
StepLinesHook = Callable[[Any, Any], Awaitable[tuple[str, ...]]]


class SteppedPrompts:
    """One kind of stepped session: its steps, its words, where it is stored."""

    def __init__(
        self,
        kind: str,
        steps: tuple[Step, ...],
        words: Wording,
        store: SessionStore,
        *,
        after_answer: AnswerHook | None = None,
        summary_end: SummaryHook | None = None,
        shape_answer: ShapeHook | None = None,
        step_lines: Mapping[int, StepLinesHook] | None = None,
    ) -> None:
        self.kind = kind
        self.steps = steps
        self.words = words
        self.store = store
        self.after_answer = after_answer
        self.summary_end = summary_end
        self.shape_answer = shape_answer
        self.step_lines = dict(step_lines or {})

    @property
    def last(self) -> int:
        return len(self.steps)

    def step(self, number: int) -> Step:
        return self.steps[number - 1]

    # -- post keys --------------------------------------------------------------------------

    def key(self, row: SessionRow, number: int) -> str:
        return f"{self.kind}:{row.id}:step:{number}"

    def parse_key(self, key: str) -> tuple[int, int] | None:
        """``<kind>:<id>:step:<n>[:…]`` → (id, n)."""
        parts = key.split(":")
        if len(parts) >= 4 and parts[0] == self.kind and parts[2] == "step":
            session_id, number = typed_number(parts[1]), typed_number(parts[3])
            if session_id is not None and number is not None and 1 <= number <= self.last:
                return session_id, number
        return None

    # -- posts ------------------------------------------------------------------------------

    def step_post(self, row: SessionRow, number: int, *, current: bool, replace: bool = False) -> Post:
        spec = self.step(number)
        text = self.words.step.format(n=number, of=self.last, question=spec.question, name=spec.name, topic=row.topic)
        buttons: tuple[Button, ...] = ()
        if current:
            text += "\n" + self.words.how
            if number > 1:
                buttons += (Button(self.words.back_label, f"back {number}"),)
            if number < self.last:
                buttons += (Button(self.words.next_label, f"next {number}", "primary"),)
            else:
                buttons += (Button(self.words.end_label, f"end {row.id}", "primary"),)
        else:
            text += "\n" + self.words.moved_on
        return Post(
            text,
            sections=(Section(self.words.guidance_heading, spec.guidance),),
            buttons=buttons,
            form=AnswerForm(spec.question, allow_anonymous=True),
            key=self.key(row, number),
            replace=replace,
        )

    def begin(self, row: SessionRow) -> list[Post]:
        """The posts that open a new session: the introduction and the first step."""
        return [
            Post(self.words.intro.format(topic=row.topic, of=self.last), key=f"{self.kind}:{row.id}:intro"),
            self.step_post(row, 1, current=True),
        ]

    async def summary(self, session: Any, row: SessionRow) -> Post:
        """The summary of a session: every step's answers, and what the instance adds. Needs
        no member's turn: the scheduler can post it too."""
        answers = await self.store.answers(session, row.id)
        sections = []
        for spec in self.steps:
            own = self.step_lines.get(spec.number)
            if own is not None:
                lines = await own(session, row)
            else:
                lines = tuple(f"{name or NO_NAME}: {text}" for step, name, text in answers if step == spec.number)
            sections.append(Section(f"{spec.number}. {spec.title}", lines or (NO_ANSWERS,)))
        text = self.words.summary.format(topic=row.topic)
        if self.summary_end is not None:
            more_text, more_sections = await self.summary_end(session, row)
            text += more_text
            sections += more_sections
        return Post(text, sections=tuple(sections), key=f"{self.kind}:{row.id}:summary")

    # -- moving through the steps -----------------------------------------------------------

    async def open_row(self, turn: Turn) -> Any:
        return await self.store.open_session(turn.session, turn.require_community().id)

    async def running(self, turn: Turn, *, to_move: bool = False) -> Any:
        community_id = turn.require_community().id
        if to_move:
            row = await self.store.open_to_move(turn.session, community_id)
        else:
            row = await self.open_row(turn)
        if row is None:
            raise NothingOpen(self.words.not_open)
        return row

    async def _just_moved(self, turn: Turn, row: Any, expected: int | None, verb: str) -> Post | None:
        """A typed ``next``/``back``/``end`` (no step number, unlike a button) seconds after
        someone else moved the steps was most likely meant for the step before: it moves
        nothing. Whoever moved saw where they moved to: their own next `next` goes on."""
        turn_member_id = (await turn.member()).id
        moved = getattr(row, "moved_at", None)
        if expected is not None or moved is None or getattr(row, "moved_by", None) == turn_member_id:
            return None
        if turn.now - stored_utc(moved) >= JUST_MOVED_WINDOW:
            return None
        return turn.private(JUST_MOVED.format(n=row.step, verb=verb))

    async def move(self, turn: Turn, delta: int, expected: int | None) -> list[Post]:
        """``next`` (+1) or ``back`` (-1) from the step ``expected`` (a button's), if given."""
        row = await self.running(turn, to_move=True)
        if expected is not None and expected != row.step:
            return [turn.private(STALE_BUTTON)]
        just_moved = await self._just_moved(turn, row, expected, "next" if delta > 0 else "back")
        if just_moved is not None:
            return [just_moved]
        target = row.step + delta
        if target > self.last:
            return [turn.private(self.words.last_step)]
        if target < 1:
            return [turn.private(FIRST_STEP)]
        previous, row.step = row.step, target
        row.moved_at, row.moved_by = turn.now, (await turn.member()).id
        posts = [self.step_post(row, previous, current=False, replace=True)]
        if delta > 0:
            posts.append(self.step_post(row, target, current=True))
        else:
            posts.append(self.step_post(row, target, current=True, replace=True))
            spec = self.step(target)
            posts.append(
                Post(
                    self.words.back_note.format(n=target, question=spec.question),
                    key=f"{self.key(row, target)}:back:{int(turn.now.timestamp())}",
                )
            )
        return posts

    async def end(self, turn: Turn, expected_id: int | None) -> list[Post]:
        row = await self.running(turn, to_move=True)
        if expected_id is not None and expected_id != row.id:
            return [turn.private(STALE_BUTTON)]
        just_moved = await self._just_moved(turn, row, expected_id, "end")
        if just_moved is not None:
            return [just_moved]
        self.store.end(row, turn.now)
        return [self.step_post(row, row.step, current=False, replace=True), await self.summary(turn.session, row)]

    # -- answers ----------------------------------------------------------------------------

    async def keep(self, turn: Turn, row: SessionRow, number: int, given: Answer) -> list[Post] | None:
        """Keep one answer under step ``number`` (the step answered, not the current one), in
        the words the instance keeps (``shape_answer``: Gibbs' step 6 drops a leading
        ``action:``). None when the same answer was kept already (a retry, a card submitted twice)."""
        member = await turn.member()
        author = None if given.anonymous else member.id
        text = self.shape_answer(number, given.text) if self.shape_answer else given.text
        kept = await self.store.add_answer(turn.session, row.id, number, author, text, turn.now, given.code_hash)
        if kept is None:
            return None
        posts = await self.after_answer(turn, row, number, kept, given) if self.after_answer else []
        if given.from_form:
            echo = ECHO_ANON if given.anonymous else ECHO_NAMED
            posts.append(Post(echo.format(name=member.name, text=text), in_thread_of=self.key(row, number)))
        if row.status != ReflectionStatus.OPEN:
            posts.append(turn.private(self.words.after_end.format(n=number, topic=row.topic)))
        elif number != row.step:
            posts.append(turn.private(self.words.late.format(n=number, question=self.step(number).question)))
        return posts

    def answerable(self, pass_word: str, priority: int) -> Answerable:
        """Its step posts as something members answer (registered with the flow's router)."""

        async def open_key(turn: Turn) -> str | None:
            row = await self.open_row(turn)
            return self.key(row, row.step) if row is not None else None

        async def answer(turn: Turn, key: str, given: Answer) -> list[Post] | None:
            parsed = self.parse_key(key)
            community_id = turn.require_community().id
            row = await self.store.session_by_id(turn.session, community_id, parsed[0]) if parsed else None
            if parsed is None or row is None:
                return None  # a post of a session that is gone: nothing to keep
            return await self.keep(turn, row, parsed[1], given)

        async def pass_step(turn: Turn, key: str) -> list[Post]:
            await turn.member()
            return [turn.private(pass_word, receipt=True)]

        async def opened_at(turn: Turn) -> Any:
            row = await self.open_row(turn)
            return row.started_at if row is not None else None

        def kept_as(key: str) -> str:
            parsed = self.parse_key(key)
            return KEPT_AS.format(n=parsed[1] if parsed else "?", kind=self.kind)

        return Answerable(
            f"{self.kind} step",
            lambda key: self.parse_key(key) is not None,
            open_key,
            answer,
            pass_step,
            priority,
            opened_at=opened_at,
            kept_as=kept_as,
        )


# -- next, back and end: for whichever stepped session is open --------------------------------

router = FlowRouter("steps")


def _registry() -> Registry:
    from flows import REGISTRY  # composed from every flow, this one included

    return REGISTRY


async def _open_one(turn: Turn) -> SteppedPrompts:
    for engine in _registry().stepped:
        if await engine.open_row(turn) is not None:
            return engine
    raise NothingOpen(NOTHING_RUNNING if len(_registry().stepped) != 1 else _registry().stepped[0].words.not_open)


def _number(cmd: Command) -> int | None:
    """The step (or session) number a button carries (``next 2``); typed ``next`` has none."""
    found = typed_number(cmd.args[0]) if cmd.args else None
    if cmd.args and found is None:
        raise UsageError(f"Usage: /cop {cmd.verb}")
    return found


@router.verb(
    "next",
    "next",
    "Move the reflection on to the next step.",
    who=CO_CHAIRS_OR_TODAYS_LEAD,
    action="move the reflection on",
)
async def next_step(turn: Turn, cmd: Command) -> list[Post]:
    expected = _number(cmd)
    return await (await _open_one(turn)).move(turn, +1, expected)


@router.verb(
    "back", "back", "Go back one step in the reflection.", who=CO_CHAIRS_OR_TODAYS_LEAD, action="go back a step"
)
async def back(turn: Turn, cmd: Command) -> list[Post]:
    expected = _number(cmd)
    return await (await _open_one(turn)).move(turn, -1, expected)


@router.verb(
    "end",
    "end",
    "End the reflection and post its summary and action plan.",
    who=CO_CHAIRS_OR_TODAYS_LEAD,
    action="end the reflection",
)
async def end(turn: Turn, cmd: Command) -> list[Post]:
    expected = _number(cmd)
    return await (await _open_one(turn)).end(turn, expected)
