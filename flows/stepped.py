"""The stepped-prompt engine: an ordered list of steps as data, one post per step, moved through
with ``next``/``back``/``end``, its progress in the database (botbuilder's waterfall, without
the memory). Gibbs' six steps are one instance (`flows.reflection`); the annual review survey
will be another.

States of a stepped session (its row's ``status`` and ``step`` columns)::

    (none) --start--> STEP 1 --next--> STEP 2 ... --next--> STEP n --end--> ENDED (summary posted)
                      STEP k <--back-- STEP k+1
    Every step has its own post. A reply to a step's post is kept under that step, even when the
    group has moved on or the session has ended: a late answer is never misfiled. A button
    carries its kind, its session and the step it was pressed on (``next reflection 4 2``), so a
    double click, a stale button or another kind's button moves nothing.

``next``, ``back`` and ``end`` are declared once, here, and go to whichever stepped session is
open in the community; with two kinds open, typed ones name the kind (``next reflection``).
Each instance registers itself with `FlowRouter.stepped`, which also declares what forget-me
deletes of it: its answers, and who moved its steps. Nothing here knows one kind from another:
a kind is its steps, its words and its store (`SessionStore`, with its own tables).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from bot.registry import Answer, Answerable, Command, FlowRouter, Forgetter, Registry
from bot.vocabulary.conversation import AnswerForm, Button, Post, Section
from bot.vocabulary.errors import NothingOpen, UsageError
from bot.vocabulary.moments import stored_utc
from bot.vocabulary.text import number as typed_number
from flows.turn import CO_CHAIRS_OR_TODAYS_LEAD, Turn
from storage.states import SessionStatus

NOTHING_RUNNING = "Nothing with steps is running. To start one: {starts}."
WHICH_ONE = "Two things with steps are running: {kinds}. Say which, e.g. `/cop {verb} {first}`."
NOT_RUNNING = "No {kind} is running."
STEP_USAGE = "Usage: /cop {verb} [{kinds}]"
GONE = "That {kind} is no longer kept, so your words were not kept either. Nothing else changed."
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
    again_note: str  # going forward to a step posted before
    not_open: str
    last_step: str
    summary: str
    late: str
    after_end: str
    start: str  # how one is started, for "nothing is running": "a reflection, `/cop reflect [topic]`"
    guidance_heading: str = "Some questions to help:"
    next_label: str = "Next step"
    back_label: str = "Back"
    end_label: str = "End and summarise"


class SessionRow(Protocol):
    """What the engine reads and moves of a session's row (every kind has all of these: who
    moved the steps last, and when, is what keeps a second typed ``next`` from skipping one)."""

    id: int
    community_id: int
    topic: str
    step: int
    status: str
    started_at: Any
    moved_at: Any
    moved_by: int | None
    reached: int | None  # the furthest step posted; None: the current one


class SessionStore(Protocol):
    """Where one kind of stepped session keeps its rows and its answers (`storage`), and what
    forget-me deletes there: ``answer_tables`` are forgotten by ``forget_answers``, the session
    table's ``moved_by`` by ``forget_moves``."""

    session_table: str
    answer_tables: tuple[str, ...]

    async def open_session(self, session: Any, community_id: int) -> Any: ...

    async def open_to_move(self, session: Any, community_id: int) -> Any: ...

    async def session_by_id(self, session: Any, community_id: int, session_id: int) -> Any: ...

    def end(self, row: Any, now: Any) -> None: ...

    async def add_answer(
        self, session: Any, session_id: int, step: int, member_id: int | None, text: str, now: Any, code: str | None
    ) -> Any: ...

    async def answers(self, session: Any, session_id: int) -> list[tuple[int, str | None, str]]: ...

    async def forget_answers(self, session: Any, member: Any) -> dict[str, int]: ...

    async def forget_moves(self, session: Any, member: Any) -> dict[str, int]: ...


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
                buttons += (Button(self.words.back_label, f"back {self.kind} {row.id} {number}"),)
            if number < self.last:
                buttons += (Button(self.words.next_label, f"next {self.kind} {row.id} {number}", "primary"),)
            else:
                buttons += (Button(self.words.end_label, f"end {self.kind} {row.id}", "primary"),)
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

    async def _just_moved(self, turn: Turn, row: SessionRow, pressed: Pressed | None, verb: str) -> Post | None:
        """A typed ``next``/``back``/``end`` (which names no step, unlike a button) seconds after
        someone else moved the steps was most likely meant for the step before: it moves
        nothing. Whoever moved saw where they moved to: their own next `next` goes on."""
        turn_member_id = (await turn.member()).id
        if pressed is not None or row.moved_at is None or row.moved_by == turn_member_id:
            return None
        if turn.now - stored_utc(row.moved_at) >= JUST_MOVED_WINDOW:
            return None
        return turn.private(JUST_MOVED.format(n=row.step, verb=verb))

    async def move(self, turn: Turn, delta: int, pressed: Pressed | None) -> list[Post]:
        """``next`` (+1) or ``back`` (-1); from the session and step a button names, if pressed."""
        row = await self.running(turn, to_move=True)
        if pressed is not None and not pressed.matches(row, step=True):
            return [turn.private(STALE_BUTTON)]
        just_moved = await self._just_moved(turn, row, pressed, "next" if delta > 0 else "back")
        if just_moved is not None:
            return [just_moved]
        target = row.step + delta
        if target > self.last:
            return [turn.private(self.words.last_step)]
        if target < 1:
            return [turn.private(FIRST_STEP)]
        previous, reached = row.step, max(row.reached or row.step, row.step)
        row.step, row.reached = target, max(reached, target)
        row.moved_at, row.moved_by = turn.now, (await turn.member()).id
        posts = [self.step_post(row, previous, current=False, replace=True)]
        if target > reached:  # a new step: a new post, at the bottom of the channel
            return [*posts, self.step_post(row, target, current=True)]
        # A step posted before is updated in place (its thread keeps its answers) and a note
        # at the bottom says where the group is; replies to the note count for that step too.
        spec = self.step(target)
        note, word = (self.words.back_note, "back") if delta < 0 else (self.words.again_note, "again")
        return [
            *posts,
            self.step_post(row, target, current=True, replace=True),
            Post(
                note.format(n=target, question=spec.question),
                key=f"{self.key(row, target)}:{word}:{int(turn.now.timestamp())}",
            ),
        ]

    async def end(self, turn: Turn, pressed: Pressed | None) -> list[Post]:
        row = await self.running(turn, to_move=True)
        if pressed is not None and not pressed.matches(row, step=False):
            return [turn.private(STALE_BUTTON)]
        just_moved = await self._just_moved(turn, row, pressed, "end")
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
        if row.status != SessionStatus.OPEN:
            posts.append(turn.private(self.words.after_end.format(n=number, topic=row.topic)))
        elif number != row.step:
            posts.append(turn.private(self.words.late.format(n=number, question=self.step(number).question)))
        return posts

    def forgetters(self) -> tuple[Forgetter, ...]:
        """What forget-me deletes of this kind: a member's answers, and that they moved the steps."""
        return (
            Forgetter(f"{self.kind} answers", self.store.answer_tables, self.store.forget_answers),
            Forgetter(f"{self.kind} step moves", (self.store.session_table,), self.store.forget_moves),
        )

    def answerable(self, pass_word: str, priority: int) -> Answerable:
        """Its step posts as something members answer (registered with the flow's router)."""

        async def open_key(turn: Turn) -> str | None:
            row = await self.open_row(turn)
            return self.key(row, row.step) if row is not None else None

        async def answer(turn: Turn, key: str, given: Answer) -> list[Post] | None:
            parsed = self.parse_key(key)
            community_id = turn.require_community().id
            row = await self.store.session_by_id(turn.session, community_id, parsed[0]) if parsed else None
            if parsed is None or row is None:  # a post of a session that is gone: nothing to keep
                return [turn.private(GONE.format(kind=self.kind))]
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


@dataclass(frozen=True)
class Pressed:
    """What a step's button names: its kind, its session, and for ``next``/``back`` the step it
    was pressed on. A button posted before kinds were named carries only a number: the step
    (``next 3``) or the session (``end 7``), and ``kind`` is None."""

    kind: str | None
    session_id: int | None
    step: int | None

    def matches(self, row: SessionRow, *, step: bool) -> bool:
        """Whether the session (and, with ``step``, the step) pressed on is the one running."""
        if self.session_id is not None and self.session_id != row.id:
            return False
        return not step or self.step is None or self.step == row.step


def _read(cmd: Command) -> tuple[str | None, Pressed | None]:
    """``next`` | ``next <kind>`` (typed) | ``next <kind> <session> <step>`` / ``end <kind>
    <session>`` (a button) | ``next <step>`` / ``end <session>`` (an older button)."""
    kinds = [engine.kind for engine in _registry().stepped]
    args = [arg.casefold() for arg in cmd.args]
    kind = args.pop(0) if args and args[0] in kinds else None
    numbers = [typed_number(arg) for arg in args]
    usage = UsageError(STEP_USAGE.format(verb=cmd.verb, kinds="|".join(kinds)))
    if any(n is None for n in numbers) or len(numbers) > (1 if cmd.verb == "end" else 2):
        raise usage
    if not numbers:
        return kind, None
    if kind is None:  # an older button: one number
        if len(numbers) != 1:
            raise usage
        return None, Pressed(None, numbers[0], None) if cmd.verb == "end" else Pressed(None, None, numbers[0])
    if len(numbers) != (1 if cmd.verb == "end" else 2):
        raise usage
    return kind, Pressed(kind, numbers[0], numbers[1] if len(numbers) > 1 else None)


async def _open_one(turn: Turn, kind: str | None, verb: str) -> SteppedPrompts:
    """The stepped session ``verb`` goes to: the kind named, else the one that is open."""
    engines = _registry().stepped
    if kind is not None:
        engine = next(engine for engine in engines if engine.kind == kind)
        if await engine.open_row(turn) is None:
            raise NothingOpen(engine.words.not_open)
        return engine
    running = [engine for engine in engines if await engine.open_row(turn) is not None]
    if len(running) == 1:
        return running[0]
    if running:
        names = " and ".join(f"a {engine.kind}" for engine in running)
        raise UsageError(WHICH_ONE.format(kinds=names, verb=verb, first=running[0].kind))
    if len(engines) == 1:  # one kind: say it in its own words
        raise NothingOpen(engines[0].words.not_open)
    raise NothingOpen(NOTHING_RUNNING.format(starts="; ".join(engine.words.start for engine in engines)))


@router.verb(
    "next",
    "next [kind]",
    "Move what is running on to its next step (with two running, name one: `next <kind>`).",
    who=CO_CHAIRS_OR_TODAYS_LEAD,
    action="move the steps on",
)
async def next_step(turn: Turn, cmd: Command) -> list[Post]:
    kind, pressed = _read(cmd)
    return await (await _open_one(turn, kind, cmd.verb)).move(turn, +1, pressed)


@router.verb(
    "back",
    "back [kind]",
    "Go back one step in what is running.",
    who=CO_CHAIRS_OR_TODAYS_LEAD,
    action="go back a step",
)
async def back(turn: Turn, cmd: Command) -> list[Post]:
    kind, pressed = _read(cmd)
    return await (await _open_one(turn, kind, cmd.verb)).move(turn, -1, pressed)


@router.verb(
    "end",
    "end [kind]",
    "End what is running with steps and post its summary.",
    who=CO_CHAIRS_OR_TODAYS_LEAD,
    action="end it and post the summary",
)
async def end(turn: Turn, cmd: Command) -> list[Post]:
    kind, pressed = _read(cmd)
    return await (await _open_one(turn, kind, cmd.verb)).end(turn, pressed)
