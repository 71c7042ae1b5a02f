"""A consent round, whatever it decides (a co-chair nomination, the Terms of Reference): each
member answers agree, stand aside or object, once (a change of mind replaces the answer).

The rule: agreed when 3 members agree — in a smaller group, every member who may answer and has
not stood aside (at least one) — and nobody objects. Standing aside never blocks. An objection
holds the round until the objector answers agree or stand aside, or a co-chair closes it; it is
never shown in the channel: the co-chairs are told privately, the objector thanked privately,
and the round's post says only "not agreed yet". The answers are kept by `storage.consent_rounds`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.vocabulary.conversation import Button, Post
from flows.turn import Turn
from storage.consent_rounds import AGREE, OBJECT, STAND_ASIDE, Tally

AGREED_NEEDED = 3  # agreements that decide a round (fewer in a small group)

SO_FAR = "So far: {agree}, {aside}. Not agreed yet."
COUNTED = "Your answer is counted already — thank you."
OBJECTION_THANKS = (
    "Thank you for saying so. Your objection holds the round, and only the co-chairs are told; nobody "
    "else sees it. To withdraw it, answer agree or stand aside."
)
OBJECTION_WITHDRAWN = "Thank you — your objection is withdrawn, and your new answer is counted."

# What members type (and the buttons send) for each answer.
ANSWERS = {
    "agree": AGREE,
    "stand-aside": STAND_ASIDE,
    "standaside": STAND_ASIDE,
    "aside": STAND_ASIDE,
    "object": OBJECT,
}


def answer_form(args: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """The form a member typed, lower case, with ``stand aside`` (two words) read as ``stand-aside``."""
    form = args[0].lower() if args else ""
    if form == "stand" and len(args) > 1 and args[1].lower() == "aside":
        return "stand-aside", ("stand-aside", *args[2:])
    return form, args


def agree_count(n: int) -> str:
    """``1 agrees``, ``3 agree`` (and ``0 agree``)."""
    return f"{n} agree{'s' if n == 1 else ''}"


def aside_count(n: int) -> str:
    """``1 stands aside``, ``2 stand aside``."""
    return f"{n} stand{'s' if n == 1 else ''} aside"


def needed(may_answer: int, tally: Tally) -> int:
    """Agreements needed: 3, or every member who may answer and has not stood aside (at least one)."""
    return max(1, min(AGREED_NEEDED, may_answer - tally.stand_aside))


def is_agreed(may_answer: int, tally: Tally) -> bool:
    return tally.object == 0 and tally.agree >= needed(may_answer, tally)


def so_far(tally: Tally) -> str:
    return SO_FAR.format(agree=agree_count(tally.agree), aside=aside_count(tally.stand_aside))


def buttons(command: str) -> tuple[Button, ...]:
    """The round's three buttons; ``command`` is the typed twin's start (``chairs``, ``tor``) and
    its end (the round's number): ``chairs agree 2``."""
    verb, _, n = command.partition(" ")
    return (
        Button("Agree", f"{verb} agree {n}".strip(), "primary"),
        Button("Stand aside", f"{verb} stand-aside {n}".strip()),
        Button("Object", f"{verb} object {n}".strip()),
    )


async def answered(
    turn: Turn,
    answer: str,
    record: Callable[[], Awaitable[str | None]],
    objection_notice: str,
) -> tuple[str | None, list[Post]]:
    """Keep the actor's ``answer`` (``record`` returns their previous one) and say, privately,
    what it did: counted already, an objection thanked (and the co-chairs told
    ``objection_notice``), an objection withdrawn. Returns the previous answer and those posts."""
    previous = await record()
    if previous == answer:
        return previous, [turn.private(COUNTED)]  # a double click, or the same answer twice: counted once
    posts: list[Post] = []
    if answer == OBJECT:
        posts.append(turn.private(OBJECTION_THANKS))
        posts += await turn.to_co_chairs(objection_notice)
    elif previous == OBJECT:
        posts.append(turn.private(OBJECTION_WITHDRAWN))
    return previous, posts


def card_changes(answer: str, previous: str | None) -> bool:
    """Whether the round's post shows something new: a first objection changes nothing shown."""
    return answer != previous and not (answer == OBJECT and previous is None)
