"""The one command grammar: the same words after ``/cop`` in Slack, after ``@copbot``/``cop``
in Teams, and in the terminal. Each verb's usage and help text lives here."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from bot.errors import UsageError

MAX_COMMAND_CHARS = 4000


@dataclass(frozen=True)
class Verb:
    name: str
    usage: str
    help: str
    chair_only: bool = False
    needs_community: bool = True
    free_text: bool = False  # the words after the verb are kept and shown later (a topic, an answer)


VERBS: dict[str, Verb] = {
    v.name: v
    for v in [
        Verb("help", "help [verb]", "What copbot can do, or how one verb works.", needs_community=False),
        Verb(
            "setup",
            "setup <community name>",
            "Start a community in this channel (you become its first co-chair), or bind this "
            "channel to an existing community (a co-chair of it only).",
            needs_community=False,
            free_text=True,
        ),
        Verb("join", "join [role]", "Join this community, optionally with your role (e.g. Peer Support Worker)."),
        Verb("leave", "leave", "Leave this community. What you shared stays unless you use forget-me."),
        Verb("members", "members", "Who is in this community, with their roles."),
        Verb(
            "chairs",
            "chairs | chairs set @a @b [6|12]",
            "Show the co-chairs and their term; a co-chair sets the next two co-chairs for a 6- or 12-month term.",
        ),
        Verb("support", "support", 'Open the support-statement round: "I will support myself today by …".'),
        Verb(
            "reflect",
            "reflect [topic]",
            "Start reflective practice (Gibbs' six steps) on a topic, or on the lead topic.",
            chair_only=True,
            free_text=True,
        ),
        Verb("next", "next", "Move the reflection on to the next step.", chair_only=True),
        Verb("back", "back", "Go back one step in the reflection.", chair_only=True),
        Verb("end", "end", "End the reflection and post its summary and action plan.", chair_only=True),
        Verb("pass", "pass", "Pass on the open round or step. Passing is always fine."),
        Verb(
            "share",
            "share <your words>",
            "Answer the open round or step with your name (the same as replying to its post).",
            free_text=True,
        ),
        Verb(
            "anon",
            "anon <your words>",
            "Answer the open round or step without your name (no author is stored).",
            free_text=True,
        ),
        Verb(
            "edit",
            "edit <code> <new words>",
            "Change an answer you shared without your name, with the code copbot gave you privately.",
            needs_community=False,
            free_text=True,
        ),
        Verb("withdraw", "withdraw <code>", "Take back an answer you shared without your name.", needs_community=False),
        Verb(
            "vote",
            "vote | vote open [dots] | vote <topic or number>",
            "A co-chair opens the vote on the next lead topic; members vote (voting again for the "
            "same topic takes the vote back).",
        ),
        Verb("propose", "propose <topic>", "Add a topic to the vote on the next lead topic.", free_text=True),
        Verb(
            "close",
            "close [support|vote] | close <number>",
            "Close the open support round or vote; after a tie, close with the number of the chosen topic.",
            chair_only=True,
        ),
        Verb(
            "lead",
            "lead | lead volunteer | lead skip | lead confirm [@member]",
            "Who leads the next meeting: copbot proposes the member who led least recently; "
            "volunteer, skip (privately), or a co-chair confirms.",
        ),
        Verb("meeting", "meeting", "The standing agenda of a meeting, in order, with where we are."),
        Verb(
            "forget-me",
            "forget-me",
            "Delete everything copbot keeps about you in this community (in a private chat with "
            "copbot: in every community).",
            needs_community=False,
        ),
    ]
}


@dataclass(frozen=True)
class Command:
    verb: str
    args: tuple[str, ...]
    rest: str  # the text after the verb, as typed (for topics and free text)


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
    if verb not in VERBS:
        raise UsageError(f"I don't know “{head[:40]}”. Try `/cop help` to see what I can do.")
    rest = rest.strip()
    try:
        args = tuple(shlex.split(rest))
    except ValueError:
        args = tuple(rest.split())
    return Command(verb, args, rest)


# Words that may follow a verb in a command typed on its own (``vote open 2``, ``close support``).
_ARGUMENT_WORDS = frozenset({"open", "set", "confirm", "volunteer", "skip", "support", "vote"})
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


def usage(verb: str) -> str:
    return f"Usage: /cop {VERBS[verb].usage}"


def help_text(verb: str | None = None) -> str:
    if verb:
        name = verb.lower().lstrip("/")
        if name not in VERBS:
            raise UsageError(f"There is no verb “{verb[:40]}”. Try `/cop help`.")
        spec = VERBS[name]
        who = " (co-chairs only)" if spec.chair_only else ""
        return f"/cop {spec.usage}{who}\n{spec.help}"
    lines = ["Here is what I can do. Type /cop help <verb> for more on one."]
    for spec in VERBS.values():
        who = " (co-chairs)" if spec.chair_only else ""
        lines.append(f"/cop {spec.usage}{who} — {spec.help}")
    return "\n".join(lines)
