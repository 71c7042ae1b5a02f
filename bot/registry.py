"""The registry: what each flow declares about itself, so that a new flow is one module.

A flow module makes a `FlowRouter` and declares on it:
- its **verbs**: name, usage, help, who may use them (a `Permission` the router enforces, so
  help and permission cannot disagree) and the handler;
- the **posts members answer** (`Answerable`): which post keys are its, what a reply, a plain
  line or a pass does to them;
- what it **forgets** for forget-me (`Forgetter`), naming the tables it covers.

`compose` joins the flows' routers into one `Registry` and refuses a name declared twice
(botbuilder's `DialogSet` does the same). The router, help, the Teams menus and forget-me read
the registry; none of them keeps a list of its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from bot.vocabulary.conversation import Post
from bot.vocabulary.errors import UsageError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

# The turn a flow's handlers and checks get (`flows.turn.Turn`, which is built on this module):
# the registry only hands it on, so it names no type of it and imports nothing from flows.
Turn = Any


@dataclass(frozen=True)
class Command:
    """A parsed command: the verb, its arguments, and the words after the verb as typed."""

    verb: str
    args: tuple[str, ...]
    rest: str


Handler = Callable[[Turn, Command], Awaitable[list[Post]]]


@dataclass(frozen=True)
class Permission:
    """Who may use a verb. ``label`` is what help says ("co-chairs only"); ``check`` answers for
    one turn (None: anyone); ``refusal`` is the sentence, with ``{what}`` for the verb's action."""

    label: str = ""
    check: Callable[[Turn], Awaitable[bool]] | None = None
    refusal: str = ""
    also: str = ""  # who else, in help's words ("or today's lead")

    async def allows(self, turn: Turn) -> bool:
        return self.check is None or await self.check(turn)


ANYONE = Permission()


@dataclass(frozen=True)
class Verb:
    """One verb of the command grammar, as its flow declares it."""

    name: str
    usage: str
    help: str
    handler: Handler
    who: Permission = ANYONE
    action: str = ""  # finishes "Only a co-chair can …" ("move the reflection on")
    # Forms only co-chairs may use, by first argument: {"set": "set the co-chairs"}.
    chair_forms: Mapping[str, str] = field(default_factory=dict)
    forms_who: Permission | None = None  # who else may use those forms (None: co-chairs only)
    needs_community: bool = True
    free_text: bool = False  # the words after the verb are kept and shown later (a topic, an answer)
    menu: str = ""  # Teams' command menu in a channel: a short description ("" = not listed)
    private_menu: str = ""  # Teams' menu in a private chat, where no community is ("" = not listed)


@dataclass(frozen=True)
class Answer:
    """What a member shared: the words, whether without a name (then the hash of their private
    code), and whether it came through a form (so the channel has not seen it yet)."""

    text: str
    anonymous: bool = False
    from_form: bool = False
    code_hash: str | None = None


@dataclass(frozen=True)
class Answerable:
    """A kind of post members answer in its thread: a support round, a stepped session's step.

    ``owns(key)``: whether a post key is one of these. ``open_key(turn)``: the key a plain line
    (or ``share``/``anon``/``pass`` without a thread) answers now, or None. ``answer`` keeps an
    answer (None: the same answer was kept already). ``pass_`` records a pass. When several
    are open, a plain line answers the one opened last (``opened_at``), else the one of lowest
    ``priority``; ``kept_as(key)`` tells the member where it went ("your support statement")."""

    name: str
    owns: Callable[[str], bool]
    open_key: Callable[[Turn], Awaitable[str | None]]
    answer: Callable[[Turn, str, Answer], Awaitable[list[Post] | None]]
    pass_: Callable[[Turn, str], Awaitable[list[Post]]]
    priority: int = 50
    opened_at: Callable[[Turn], Awaitable[datetime | None]] | None = None
    kept_as: Callable[[str], str] | None = None
    marks_attendance: bool = True  # an answer counts its author as at today's meeting


@dataclass(frozen=True)
class Closable:
    """Something a co-chair closes with ``close`` (the support round, the vote). ``close <name>``
    closes it by name; a bare ``close`` closes the open one of lowest ``priority``. With
    ``takes_pick``, ``close <anything else>`` goes to it too (a tied vote's pick)."""

    name: str
    is_open: Callable[[Turn], Awaitable[bool]]
    close: Callable[[Turn, str | None], Awaitable[list[Post]]]
    priority: int = 50
    takes_pick: bool = False


@dataclass(frozen=True)
class Forgetter:
    """What a flow deletes or anonymises when a member uses forget-me. ``tables``: the tables
    with a member reference that it covers (a test checks that every such table is covered)."""

    name: str
    tables: tuple[str, ...]
    forget: Callable[[AsyncSession, Any], Awaitable[dict[str, int]]]


class SteppedKind(Protocol):
    """A kind of stepped session, as the registry sees it: its name and its forgetters."""

    kind: str

    def forgetters(self) -> tuple[Forgetter, ...]: ...


class FlowRouter:
    """One flow's declarations. ``@router.verb(...)`` registers a handler."""

    def __init__(self, flow: str) -> None:
        self.flow = flow
        self.verbs: list[Verb] = []
        self.answerables: list[Answerable] = []
        self.closables: list[Closable] = []
        self.forgetters: list[Forgetter] = []
        self.stepped_sessions: list[SteppedKind] = []

    def verb(self, name: str, usage: str, help: str, **options: Any) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.verbs.append(Verb(name, usage, help, handler, **options))
            return handler

        return register

    def answerable(self, answerable: Answerable) -> None:
        self.answerables.append(answerable)

    def stepped(self, engine: SteppedKind) -> None:
        """A kind of stepped session (`flows.stepped.SteppedPrompts`): ``next``/``back``/``end``
        go to whichever is open, and forget-me deletes what it keeps of a member."""
        self.stepped_sessions.append(engine)
        self.forgetters.extend(engine.forgetters())

    def closable(self, closable: Closable) -> None:
        self.closables.append(closable)

    def forgetter(self, forgetter: Forgetter) -> None:
        self.forgetters.append(forgetter)


class DuplicateName(ValueError):
    """Two flows declared the same verb, answerable or forgetter."""


@dataclass(frozen=True)
class Registry:
    """Every flow's declarations, joined. Verbs keep the order the flows were composed in
    (that is the order of help)."""

    verbs: Mapping[str, Verb]
    answerables: tuple[Answerable, ...]
    closables: tuple[Closable, ...]
    forgetters: tuple[Forgetter, ...]
    stepped: tuple[Any, ...] = ()

    def answerable_for(self, key: str) -> Answerable | None:
        return next((a for a in self.answerables if a.owns(key)), None)

    def by_priority(self) -> list[Answerable]:
        return sorted(self.answerables, key=lambda a: a.priority)

    def help_text(self, verb: str | None = None) -> str:
        """Help for every verb, or for one, saying who may use each (from its `Permission`)."""
        if verb:
            name = verb.lower().lstrip("/")
            if name not in self.verbs:
                raise UsageError(f"There is no verb “{verb[:40]}”. Try `/cop help`.")
            spec = self.verbs[name]
            return f"/cop {spec.usage}{_who(spec, long=True)}\n{spec.help}"
        lines = ["Here is what I can do. Type /cop help <verb> for more on one."]
        lines += [
            f"/cop {spec.usage}{_who(spec, long=False)} — {_first_sentence(spec.help)}" for spec in self.verbs.values()
        ]
        return "\n".join(lines)

    def closables_by_priority(self) -> list[Closable]:
        return sorted(self.closables, key=lambda c: c.priority)


def _first_sentence(text: str) -> str:
    """A verb's help up to its first full stop: the overview stays one screen; `help <verb>` says all."""
    head, dot, _ = text.partition(". ")
    return head + "." if dot else text


def _who(spec: Verb, *, long: bool) -> str:
    """Who may use a verb, as help says it: from the same `Permission` the router enforces."""
    also = spec.who.also
    if spec.who.label:
        if long:
            return f" ({spec.who.label})" + (f" — {also}" if also else "")
        return f" ({spec.who.label.removesuffix(' only')})" + (f" {also}" if also else "")
    forms = ", ".join(spec.chair_forms)
    also = f" {spec.forms_who.also}" if spec.forms_who and spec.forms_who.also else ""
    return f" (co-chairs{also} only: {forms})" if forms and long else ""


def compose(routers: Iterable[FlowRouter]) -> Registry:
    verbs: dict[str, Verb] = {}
    answerables: dict[str, Answerable] = {}
    closables: dict[str, Closable] = {}
    forgetters: dict[str, Forgetter] = {}
    stepped: dict[str, Any] = {}
    for router in routers:
        _add(router.flow, verbs, router.verbs)
        _add(router.flow, answerables, router.answerables)
        _add(router.flow, closables, router.closables)
        _add(router.flow, forgetters, router.forgetters)
        for engine in router.stepped_sessions:
            if engine.kind in stepped:
                raise DuplicateName(f"{router.flow} declares {engine.kind!r}, which another flow already has")
            stepped[engine.kind] = engine
    return Registry(
        verbs,
        tuple(answerables.values()),
        tuple(closables.values()),
        tuple(forgetters.values()),
        tuple(stepped.values()),
    )


def _add(flow: str, table: dict[str, Any], items: Iterable[Any]) -> None:
    for item in items:
        if item.name in table:
            raise DuplicateName(f"{flow} declares {item.name!r}, which another flow already has")
        table[item.name] = item
