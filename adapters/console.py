"""The terminal channel (`copbot chat`): one community in this terminal, where you act as
several members. Reads stdin line by line, so a scripted meeting can be piped in.

    /as <name>          switch who you are (the first member is a provisional co-chair)
    /cop <verb> …       the same commands as in Slack and Teams
    /reply <#n> <text>  answer post #n (e.g. a reflection step you want to add to late)
    /clock <date> [time]  pretend it is then (UTC), to see what copbot posts by itself
    <any other line>    answers whatever is open (the support round, or the current step)
    /quit               leave

What copbot posts by itself (the call for items, the agenda, reminders) appears as it falls
due, checked at every line; a meeting's .ics invitation is saved as a file in ``files_dir``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time
from pathlib import Path
from typing import IO, TYPE_CHECKING

from bot.vocabulary.conversation import Actor, CommandEvent, Mention, Place, Post, ReplyEvent
from bot.vocabulary.dates import parse_day, read_time
from bot.vocabulary.errors import Unavailable, UsageError
from bot.vocabulary.text import number, shown, trimmed
from storage.db import unreachable

if TYPE_CHECKING:
    from bot.shell.runtime import Runtime

PLACE = Place("console", "terminal")
DEFAULT_NAME = "Chair"
BANNER = (
    "copbot chat — a Community of Practice in your terminal. You are {name}.\n"
    "Type /cop help for commands, /as <name> to speak as another member, /quit to leave."
)
_MENTION = re.compile(r"@([^\s@]+)")
_SAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]")
NOT_KEPT = "(The database did not answer, so that was not kept. Please type it again in a moment.)"
NO_SUCH_POST = (
    "There is no post #{n} to answer here (nothing was kept). `/reply` answers a support round or reflection "
    "step post by its number, e.g. `/reply #4 your words`."
)
NOT_TO_ANSWER = (
    "Post #{n} is not one to answer, so nothing was kept. `/reply` answers a support round or reflection "
    "step post by its number; a plain line answers whatever is open."
)
CLOCK_USAGE = "Usage: /clock <date> [HH:MM] (UTC), e.g. /clock 2026-12-09 09:00 or /clock 9/12/2026; /clock now"


class TerminalClock:
    """The terminal's clock: the real time, unless `/clock` set another (to try the rhythm)."""

    def __init__(self) -> None:
        self.fixed: datetime | None = None

    def __call__(self) -> datetime:
        return self.fixed or datetime.now(UTC)

    def set(self, words: str) -> str:
        """``2026-12-09 09:00`` (UTC), any date the commands read (``9/12/2026``, ``9 December
        2026``: `bot.vocabulary.dates`), or ``now`` → the sentence to show."""
        parts = words.split()
        if parts == ["now"]:
            self.fixed = None
            return "(the clock is back to the real time)"
        at = read_time(parts[-1]) if len(parts) > 1 else None
        day_words = parts[:-1] if at is not None else parts
        try:
            day = parse_day(" ".join(day_words), self().date())
        except UsageError as error:
            return f"{error}\n{CLOCK_USAGE}"
        self.fixed = datetime.combine(day, at or time(9, 0), tzinfo=UTC)
        return f"(it is now {self.fixed:%Y-%m-%d %H:%M} UTC here)"


def user_id(name: str) -> str:
    return "_".join(name.split()).casefold()


Numbering = Callable[[Place], Awaitable[int]]


class ConsoleSender:
    """Prints posts; a post's reference is its number (#n). ``numbers`` gives the next number
    (`storage.post_numbers`: from the database, so a number is never given twice, however many
    times `copbot chat` starts on it); without it, numbers count from 1 in this process."""

    def __init__(self, out: IO[str], files_dir: Path | None = None, numbers: Numbering | None = None) -> None:
        self.out = out
        self.count = 0
        self.files_dir = files_dir
        self.numbers = numbers

    def _write(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    async def send(self, place: Place, post: Post, thread_ref: str | None) -> str | None:
        if post.receipt:
            self._write("  ✓ kept\n")
            return None
        if self.numbers is not None:
            self.count = await self.numbers(place)
        else:
            self.count += 1
        ref = str(self.count)
        head = f"#{ref} copbot"
        if post.private_to:
            head += f" (only {post.private_to} sees this)"
        if thread_ref:
            head += f" ↳ in reply to #{thread_ref}"
        shown = post.with_file_taken() if self.files_dir is not None else post
        self._write(f"{head}:\n{self._render(shown)}\n")
        if post.attachment is not None and self.files_dir is not None:
            saved = self._save(post.attachment.filename, post.attachment.data())
            alt = f" — {post.attachment.alt_text}" if post.attachment.alt_text else ""
            self._write(f"  (file saved: {saved}{alt})\n")
        return None if post.private_to else ref

    def _save(self, filename: str, content: bytes) -> Path:
        assert self.files_dir is not None
        self.files_dir.mkdir(parents=True, exist_ok=True)
        path = self.files_dir / (_SAFE_FILENAME.sub("_", filename)[:80] or "file")
        path.write_bytes(content)
        return path

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

    def __init__(self, runtime: Runtime, out: IO[str], community: str, clock: TerminalClock | None = None) -> None:
        self.runtime = runtime
        self.out = out
        self.community = community
        self.clock = clock
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
        if word == "/clock" and self.clock is not None:
            self.out.write(self.clock.set(rest) + "\n")
            await self._announce()
            return True
        if not (word.lower() in ("/cop", "cop") and rest.lower().split()[:1] == ["setup"]):
            await self._ensure_community()  # a first `/cop setup <name>` makes it itself, with that name
        if word.lower() in ("/cop", "cop") and (word == "/cop" or rest):
            body, mentions = _with_mentions(text)
            await self._dispatch(CommandEvent(self.actor, PLACE, body, mentions))
        elif word == "/reply":
            target, _, words = rest.partition(" ")
            if number(target.lstrip("#")) is None or not words.strip():
                self.out.write("Usage: /reply <#n> <your words>\n")
            else:
                ref = target.lstrip("#")
                try:
                    refusal = await self._not_answerable(ref)
                except Exception as error:
                    if not unreachable(error):
                        raise
                    refusal = NOT_KEPT
                if refusal:
                    self.out.write(refusal + "\n")
                else:
                    await self._dispatch(ReplyEvent(self.actor, PLACE, words.strip(), thread_ref=ref))
        elif word.startswith("/") and word != "/" and not rest:  # a mistyped terminal command
            self.out.write("Unknown terminal command. Use /cop …, /as <name>, /reply <#n> …, /clock …, or /quit.\n")
        else:
            await self._dispatch(ReplyEvent(self.actor, PLACE, text))
        await self._announce()
        return True

    async def _not_answerable(self, ref: str) -> str | None:
        """Why ``/reply #ref`` cannot go anywhere (no such post, or not one to answer), or None.
        Slack and Teams drop such replies unseen (copbot sees all of a channel's talk); here
        `/reply` names a post on purpose, so the member is told."""
        key = await self.runtime.deliveries.key_for(PLACE, ref)
        if key is None:
            return NO_SUCH_POST.format(n=ref)
        from flows import REGISTRY  # what members answer, as the flows declare it

        return None if REGISTRY.answerable_for(key) is not None else NOT_TO_ANSWER.format(n=ref)

    async def _announce(self) -> None:
        """What copbot posts by itself, if anything fell due (the terminal has no scheduler)."""
        if await self.runtime.announce_due():
            await self.runtime.drain()

    async def _ensure_community(self) -> None:
        """The first member to speak sets up the terminal's community and becomes co-chair."""
        async with self.runtime.db.transaction() as session:
            from storage.community import community_for

            exists = await community_for(session, PLACE) is not None
        if not exists:
            await self._dispatch(CommandEvent(self.actor, PLACE, f"setup {self.community}"))

    async def _dispatch(self, event: CommandEvent | ReplyEvent) -> None:
        try:
            await self.runtime.dispatch(event)
        except Unavailable:
            self.out.write(NOT_KEPT + "\n")
            return
        await self.runtime.drain()
