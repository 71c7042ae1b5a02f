"""What belongs to no one flow: ``help``, and ``close``, which closes whichever round or vote is
open (each flow registers what it can close as a `bot.registry.Closable`)."""

from __future__ import annotations

from bot.registry import Command, FlowRouter, Registry
from bot.vocabulary.conversation import Post
from bot.vocabulary.errors import UsageError
from bot.vocabulary.suggest import unknown_verb
from flows.turn import CO_CHAIRS_OR_TODAYS_LEAD, Turn

NOTHING_TO_CLOSE = "Nothing is open to close."

help_router = FlowRouter("help")
close_router = FlowRouter("close")


def _registry() -> Registry:
    from flows import REGISTRY  # composed from every flow, this one included

    return REGISTRY


@help_router.verb(
    "help",
    "help [verb]",
    "What copbot can do, or how one verb works.",
    needs_community=False,
    menu="What copbot can do, or how one verb works",
    private_menu="What copbot can do, or how one verb works",
)
async def help_verb(turn: Turn, cmd: Command) -> list[Post]:
    verb = cmd.args[0].lstrip("/") if cmd.args else None
    if verb and verb.lower() not in _registry().verbs:
        raise UsageError(unknown_verb(verb, _registry().verbs))  # "help suport": the nearest verbs
    return [turn.private(_registry().help_text(verb))]


@close_router.verb(
    "close",
    "close [support|vote] | close <number>",
    "Close the open support round or vote; after a tie, close with the number of the chosen topic.",
    who=CO_CHAIRS_OR_TODAYS_LEAD,
    action="close a round or vote",
)
async def close(turn: Turn, cmd: Command) -> list[Post]:
    closables = _registry().closables_by_priority()
    word = cmd.args[0].lower() if cmd.args else ""
    named = next((c for c in closables if c.name == word), None)
    if named is not None:
        return await named.close(turn, None)
    if word:
        picker = next((c for c in closables if c.takes_pick), None)
        if picker is None:
            raise UsageError("Usage: /cop close [support|vote] | close <number>")
        return await picker.close(turn, cmd.rest)
    for closable in closables:
        if await closable.is_open(turn):
            return await closable.close(turn, None)
    return [turn.private(NOTHING_TO_CLOSE)]
