"""A neutral fake platform for flow tests: records every post and update the outbox makes."""

from __future__ import annotations

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
        self._count = 0

    async def send(self, place: Place, post: Post, thread_ref: str | None) -> str | None:
        if self.failures:
            raise self.failures.pop(0)
        self._count += 1
        ref = None if post.private_to else f"m{self._count}"
        self.log.append(Sent(place, post, ref, thread_ref))
        return ref

    async def update(self, place: Place, ref: str, post: Post) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.log.append(Sent(place, post, ref, None, update=True))

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

    def texts(self) -> str:
        return "\n".join(s.post.plain_text() for s in self.log)
