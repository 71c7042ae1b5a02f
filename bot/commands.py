"""The one command grammar: the same words after ``/cop`` in Slack, after ``@copbot``/``cop``
in Teams, and in the terminal. The verbs, their usage and help are declared by the flows
(`flows.REGISTRY`); this module reads them."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping

from bot.registry import Command, Verb
from bot.vocabulary import suggest
from bot.vocabulary.errors import UsageError
from flows import REGISTRY

__all__ = ["Command", "VERBS", "help_text", "is_bare_command", "parse", "unknown_verb", "usage"]

MAX_COMMAND_CHARS = 4000


# Every verb, as the flows declare them (`flows.REGISTRY`), in the order help lists them.
VERBS: Mapping[str, Verb] = REGISTRY.verbs


_MENTION = re.compile(r"@\S+")


def parse(text: str) -> Command:
    """Split ``text`` into a verb and its arguments; raise `UsageError` with a short usage line."""
    text = (text or "").strip()
    if len(text) > MAX_COMMAND_CHARS:
        raise UsageError(f"That is too long for a command (at most {MAX_COMMAND_CHARS} characters).")
    if text.lower().startswith("/cop"):
        text = text[4:].strip()
    elif text.lower().startswith("cop "):
        text = text[4:].strip()
    if not text:
        return Command("help", (), "")
    head, _, rest = text.partition(" ")
    verb = head.lower()
    rest = rest.strip()
    if verb not in VERBS:
        raise UsageError(unknown_verb(head, rest))
    try:
        args = tuple(shlex.split(rest))
    except ValueError:
        args = tuple(rest.split())
    return Command(verb, args, rest)


# Words that may follow a verb in a command typed on its own (``vote open 2``, ``close support``).
_ARGUMENT_WORDS = frozenset({"open", "set", "confirm", "volunteer", "skip", "opt-out", "opt-in", "support", "vote"})
_ANY_ARGUMENTS = frozenset({"vote", "join"})  # a topic's title, a role


def is_bare_command(text: str) -> bool:
    """Whether ``text`` reads as a command and nothing else: a verb that takes free text
    (``propose …``), or a verb followed only by numbers, mentions, verb names and its own
    argument words. "help me think this through" is not one: it is somebody's answer."""
    head, _, rest = (text or "").strip().partition(" ")
    verb = VERBS.get(head.lower())
    if verb is None:
        return False
    if verb.free_text or verb.name in _ANY_ARGUMENTS:
        return True
    tokens = rest.split()
    return len(tokens) <= 4 and all(
        _MENTION.fullmatch(t) or t.isascii() and t.isdigit() or t.lower() in VERBS or t.lower() in _ARGUMENT_WORDS
        for t in tokens
    )


def unknown_verb(word: str, rest: str = "") -> str:
    """The answer to a verb copbot does not know, with the nearest verbs (`bot.vocabulary.suggest`)."""
    return suggest.unknown_verb(word, VERBS, rest)


def usage(verb: str) -> str:
    return f"Usage: /cop {VERBS[verb].usage}"


def help_text(verb: str | None = None) -> str:
    """Help for every verb, or for one: from the registry (`bot.registry.Registry.help_text`);
    a verb it does not know gets the nearest ones."""
    if verb and verb.lower().lstrip("/") not in VERBS:
        raise UsageError(unknown_verb(verb.lstrip("/")))
    return REGISTRY.help_text(verb)
