"""Conversation prompts: the guide's ways into a conversation (adapted there from Wenger,
McDermott and Snyder), each with a question a member could ask. `/cop prompts` posts them for
the group; each step of a reflection offers the one that suits it (`ask_the_group`, used by
`flows.gibbs`)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.registry import Command, FlowRouter
from bot.vocabulary.conversation import Post, Section
from flows.turn import Turn


@dataclass(frozen=True)
class ConversationPrompt:
    """One way into a conversation: its name, and a question that opens it."""

    key: str
    name: str
    example: str


PROMPTS: tuple[ConversationPrompt, ...] = (
    ConversationPrompt(
        "problem-solving", "Problem solving", "How could rethinking the role of peer support make this more inclusive?"
    ),
    ConversationPrompt("information", "Requests for information", "Where can I find an example of this done well?"),
    ConversationPrompt("experiences", "Seeking experiences", "Has anyone had a similar experience?"),
    ConversationPrompt(
        "reusing", "Reusing what we have", "I ran a similar session — would my materials help as a starting point?"
    ),
    ConversationPrompt(
        "coordination", "Coordination and synergies", "Could we combine what our teams do to reach more people?"
    ),
    ConversationPrompt("developments", "Discussing developments", "What do you think of this change?"),
    ConversationPrompt(
        "documentation",
        "Documentation projects",
        "We've set something like this up before — shall we record the steps?",
    ),
    ConversationPrompt("visits", "Visits", "Could we come and see how your team does it? We're looking at the same."),
    ConversationPrompt(
        "mapping", "Mapping knowledge and identifying gaps", "Who knows about this — and what are we missing?"
    ),
)

HEADING = "Ways into a conversation"
INTRO = (
    "Questions that help us learn from each other — use any you like, in your own words. "
    "(From the guide, after Wenger, McDermott and Snyder.)"
)
ASK_THE_GROUP = "To ask the group: {example} (more: `/cop prompts`)"


def prompt(key: str) -> ConversationPrompt:
    return next(found for found in PROMPTS if found.key == key)


def ask_the_group(key: str) -> str:
    """The line a reflection step offers: one prompt's question, and where the others are."""
    return ASK_THE_GROUP.format(example=prompt(key).example)


def prompts_post() -> Post:
    lines = tuple(f"{found.name}: “{found.example}”" for found in PROMPTS)
    return Post(f"{HEADING}\n{INTRO}", sections=(Section("", lines),))


router = FlowRouter("prompts")


@router.verb(
    "prompts",
    "prompts",
    "Posts the guide's conversation prompts for the group — problem solving, requests for information, seeking "
    "experiences and more — each with a question to open it.",
)
async def prompts(turn: Turn, cmd: Command) -> list[Post]:
    turn.require_community()
    return [prompts_post()]
