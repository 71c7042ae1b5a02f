"""The terminal channel (`copbot chat`): one community in this terminal, where you act as
several members. Reads stdin line by line, so a scripted meeting can be piped in.

    /as <name>          switch who you are (the first member becomes the first co-chair)
    /cop <verb> …       the same commands as in Slack and Teams
    /reply <#n> <text>  answer post #n (e.g. a reflection step you want to add to late)
    <any other line>    answers whatever is open (the support round, or the current step)
    /quit               leave
"""

from __future__ import annotations

import re
from typing import IO, TYPE_CHECKING

from bot.vocabulary.conversation import Actor, CommandEvent, Mention, Place, Post, ReplyEvent
from bot.vocabulary.text import number, shown, trimmed

if TYPE_CHECKING:
    from bot.shell.runtime import Runtime

PLACE = Place("console", "terminal")
DEFAULT_NAME = "Chair"
BANNER = (
    "copbot chat — a Community of Practice in your terminal. You are {name}.\n"
    "Type /cop help for commands, /as <name> to speak as another member, /quit to leave."
)
_MENTION = re.compile(r"@([^\s@]+)")


def user_id(name: str) -> str:
    return "_".join(name.split()).casefold()


class ConsoleSender:
    """Prints posts; a post's reference is its number (#n)."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.count = 0

    def _write(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    async def send(self, place: Place, post: Post, thread_ref: str | None) -> str | None:
        self.count += 1
        ref = str(self.count)
        head = f"#{ref} copbot"
        if post.private_to:
            head += f" (only {post.private_to} sees this)"
        if thread_ref:
            head += f" ↳ in reply to #{thread_ref}"
        self._write(f"{head}:\n{self._render(post)}\n")
        return None if post.private_to else ref

    async def update(self, place: Place, ref: str, post: Post) -> None:
        self._write(f"#{ref} copbot (updated):\n{self._render(post)}\n")

    @staticmethod
    def _render(post: Post) -> str:
        body = post.plain_text()
        if post.buttons:
            body += "\n" + "  ".join(f"[{b.label} → /cop {b.command}]" for b in post.buttons)
        if post.form:
            body += "\n(answer: type a line, or /cop anon <words> to leave your name off)"
        return "\n".join("  " + line if line else "" for line in body.splitlines())


def _with_mentions(text: str) -> tuple[str, tuple[Mention, ...]]:
    """``@Ann`` → the token ``@ann`` and a mention, as the platform adapters do."""
    mentions: list[Mention] = []

    def swap(match: re.Match[str]) -> str:
        name = match.group(1)
        mentions.append(Mention(user_id(name), name))
        return "@" + user_id(name)

    return _MENTION.sub(swap, text), tuple(mentions)


class ConsoleSession:
    """Turns terminal lines into neutral events for one community."""

    def __init__(self, runtime: Runtime, out: IO[str], community: str) -> None:
        self.runtime = runtime
        self.out = out
        self.community = community
        self.actor = Actor(user_id(DEFAULT_NAME), DEFAULT_NAME)

    async def line(self, raw: str) -> bool:
        """Handle one line; False when the user wants to stop."""
        text = raw.strip()
        if not text:
            return True
        if text in ("/quit", "/exit"):
            return False
        word, rest = (text.split(None, 1) + [""])[:2]
        if word == "/as":
            name = " ".join(trimmed(rest).split())
            if not name:
                self.out.write("Usage: /as <name>\n")
            else:
                self.actor = Actor(user_id(name), name)
                self.out.write(f"(you are now {shown(name)})\n")
            return True
        await self._ensure_community()
        if word.lower() in ("/cop", "cop") and (word == "/cop" or rest):
            body, mentions = _with_mentions(text)
            await self._dispatch(CommandEvent(self.actor, PLACE, body, mentions))
        elif word == "/reply":
            target, _, words = rest.partition(" ")
            if number(target.lstrip("#")) is None or not words.strip():
                self.out.write("Usage: /reply <#n> <your words>\n")
            else:
                await self._dispatch(ReplyEvent(self.actor, PLACE, words.strip(), thread_ref=target.lstrip("#")))
        elif word.startswith("/") and word != "/" and not rest:  # a mistyped terminal command
            self.out.write("Unknown terminal command. Use /cop …, /as <name>, /reply <#n> …, or /quit.\n")
        else:
            await self._dispatch(ReplyEvent(self.actor, PLACE, text))
        return True

    async def _ensure_community(self) -> None:
        """The first member to speak sets up the terminal's community and becomes co-chair."""
        async with self.runtime.db.transaction() as session:
            from storage.community import community_for

            exists = await community_for(session, PLACE) is not None
        if not exists:
            await self._dispatch(CommandEvent(self.actor, PLACE, f"setup {self.community}"))

    async def _dispatch(self, event: CommandEvent | ReplyEvent) -> None:
        await self.runtime.dispatch(event)
        await self.runtime.drain()
