"""A neutral fake platform for flow and delivery tests: records every post and update the
outbox makes; can fail the next calls, fail or raise for one post's text, or hold a send (a
slow platform) until the test lets it go."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from bot.vocabulary.conversation import Place, Post
from bot.vocabulary.errors import DeliveryError


@dataclass
class Sent:
    place: Place
    post: Post
    ref: str | None
    thread_ref: str | None
    update: bool = False


class RecordingSender:
    def __init__(self) -> None:
        self.log: list[Sent] = []
        self.failures: list[DeliveryError] = []  # raised by the next calls, in order
        self.raises: dict[str, list[Exception]] = {}  # raised when a post with this text is sent
        self.tries: dict[str, int] = {}  # how often a post with this text was tried
        self._held: dict[str, tuple[asyncio.Event, asyncio.Event]] = {}
        self._count = 0
        self._changed = asyncio.Event()

    def hold(self, text: str) -> tuple[asyncio.Event, asyncio.Event]:
        """Sends of ``text`` wait: returns (entered, release) — set when a send of it started,
        and the event the test sets to let it finish."""
        return self._held.setdefault(text, (asyncio.Event(), asyncio.Event()))

    async def wait_until(self, done: Callable[[], object], timeout: float = 10.0) -> None:
        """Wait (not sleep) until ``done()`` is true; fail after ``timeout`` seconds."""

        async def watch() -> None:
            while not done():
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(watch(), timeout)

    async def _try(self, post: Post) -> None:
        self.tries[post.text] = self.tries.get(post.text, 0) + 1
        if post.text in self._held:
            entered, release = self._held[post.text]
            entered.set()
            await release.wait()
        if self.raises.get(post.text):
            raise self.raises[post.text].pop(0)

    def _record(self, sent: Sent) -> None:
        self.log.append(sent)
        self._changed.set()

    async def send(self, place: Place, post: Post, thread_ref: str | None) -> str | None:
        if self.failures:
            raise self.failures.pop(0)
        await self._try(post)
        self._count += 1
        ref = None if post.private_to else f"m{self._count}"
        self._record(Sent(place, post, ref, thread_ref))
        return ref

    async def update(self, place: Place, ref: str, post: Post) -> None:
        if self.failures:
            raise self.failures.pop(0)
        await self._try(post)
        self._record(Sent(place, post, ref, None, update=True))

    # -- what tests ask ---------------------------------------------------------------------

    def ref(self, key: str) -> str:
        for sent in self.log:
            if not sent.update and sent.post.key == key and sent.ref:
                return sent.ref
        raise AssertionError(f"no post with key {key}")

    def latest(self, key: str) -> Post:
        found = [s.post for s in self.log if s.post.key == key and not s.post.private_to]
        assert found, f"no post with key {key}"
        return found[-1]

    def public(self) -> list[Post]:
        return [s.post for s in self.log if not s.post.private_to and not s.update]

    def private(self, user_id: str) -> list[Post]:
        return [s.post for s in self.log if s.post.private_to == user_id]

    def sent_texts(self, channel: str | None = None) -> list[str]:
        """The texts of new posts, in the order they went out (of one channel, if given)."""
        return [s.post.text for s in self.log if not s.update and channel in (None, s.place.channel_id)]

    def texts(self) -> str:
        return "\n".join(s.post.plain_text() for s in self.log)
