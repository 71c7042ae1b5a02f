"""A test driver for whole conversations through the real core and outbox: people speak in one
channel by name; what the bot said is in ``room.sender``."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import datetime

from bot.delivery import Pace
from bot.shell.runtime import Runtime
from bot.vocabulary.conversation import Actor, ChoiceEvent, CommandEvent, Mention, Place, Post, ReplyEvent
from storage.db import Database
from tests.fakes.recording_sender import RecordingSender

_MENTION = re.compile(r"@([A-Za-z]\w*)")
_events = itertools.count(1)


def uid(name: str) -> str:
    return f"U-{name.lower()}"


class Room:
    def __init__(self, db: Database, clock: Callable[[], datetime], channel: str = "C1", platform: str = "slack"):
        self.runtime = Runtime(db, clock)
        self.clock = clock
        self.sender = RecordingSender()
        self.runtime.connect(platform, self.sender, Pace(limits=()), sleep=_no_sleep)
        self.place = Place(platform, channel, "T1")

    async def cmd(self, who: str, text: str) -> list[Post]:
        mentions = tuple(Mention(uid(n), n) for n in _MENTION.findall(text))
        body = _MENTION.sub(lambda m: "@" + uid(m.group(1)), text)
        return await self._go(CommandEvent(Actor(uid(who), who), self.place, body, mentions))

    async def reply(
        self,
        who: str,
        text: str,
        to: str | None = None,
        *,
        anonymous: bool = False,
        from_form: bool = False,
        event_id: str | None = None,
    ) -> list[Post]:
        thread = self.sender.ref(to) if to else None
        return await self._go(
            ReplyEvent(Actor(uid(who), who), self.place, text, thread, anonymous, from_form, event_id)
        )

    async def press(self, who: str, command: str, event_id: str | None = None) -> list[Post]:
        return await self._go(ChoiceEvent(Actor(uid(who), who), self.place, command, event_id))

    async def _go(self, event) -> list[Post]:  # type: ignore[no-untyped-def]
        posts = await self.runtime.dispatch(event)
        await self.runtime.drain()
        return posts

    async def at(self, moment: datetime) -> list[str]:
        """Move the clock to ``moment``, let the scheduler's tick run, deliver: what was posted."""
        before = len(self.sender.public())
        self.clock.now = moment  # type: ignore[attr-defined]
        await self.runtime.announce_due()
        await self.runtime.drain()
        return [post.plain_text() for post in self.sender.public()[before:]]

    def said_to(self, who: str) -> str:
        """Everything said privately to ``who`` so far."""
        return "\n".join(p.plain_text() for p in self.sender.private(uid(who)))

    def last_code(self, who: str) -> str:
        """The private code copbot last gave ``who`` for an answer shared without a name."""
        return self.said_to(who).rsplit("code: ", 1)[1].split(".")[0]

    async def setup(self, *members: str, chairs: tuple[str, str] | None = None, name: str = "North West") -> None:
        """A community where members[0] set it up, everyone joined, and two co-chairs are set."""
        await self.cmd(members[0], f"setup {name}")
        for name in members:
            await self.cmd(name, "join")
        if chairs:
            await self.cmd(members[0], f"chairs set @{chairs[0]} @{chairs[1]} 12")


async def _no_sleep(_: float) -> None:
    return None


def workers(db: Database, clock: Callable[[], datetime], count: int = 2) -> list[Runtime]:
    """``count`` copbot processes on one PostgreSQL database, each with its own engine (as two
    `copbot serve` would be); dispose their ``db`` when done."""
    found = []
    for _ in range(count):
        runtime = Runtime(Database(db.url.replace("+asyncpg", "")), clock)
        runtime.connect("slack", RecordingSender(), Pace(limits=()))
        found.append(runtime)
    return found
