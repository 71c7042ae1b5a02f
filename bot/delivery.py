"""Sending one post to one platform: an `Outbox` per platform, used by the delivery worker
(`bot.courier`), which decides what to send and when.

It keeps each channel's pace (per-platform limits), honours "retry after" for short waits,
retries transient failures a few times with backoff and jitter, and remembers which platform
message each post key became (so later posts can update it or reply in its thread, across
restarts). A longer wait, or a failure after its retries, is the worker's to schedule.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, TypeVar

from aiolimiter import AsyncLimiter
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential

from bot.vocabulary.conversation import Place, Post
from bot.vocabulary.errors import DeliveryError
from bot.vocabulary.record import CommunityRecord

T = TypeVar("T")


class Sender(Protocol):
    """What an adapter implements to put posts on its platform.

    Raise `DeliveryError` (with ``retry_after`` on 429, ``permanent`` when retrying can't help).
    """

    async def send(self, place: Place, post: Post, thread_ref: str | None) -> str | None:
        """Post anew (in ``thread_ref``'s thread if given); return the platform message id
        (None for a post only one member sees)."""
        ...

    async def update(self, place: Place, ref: str, post: Post) -> None:
        """Replace the content of the earlier message ``ref``."""
        ...


class RecordKeeping(Protocol):
    """What a `Sender` adds where its platform keeps a channel document (a Slack canvas)."""

    async def keep_record(self, place: Place, canvas_id: str | None, record: CommunityRecord) -> str:
        """Make the channel's document (``canvas_id`` None) or replace its content; return its
        id. Raise `RecordRefused` when the platform will not keep one there."""
        ...


class PostRefs(Protocol):
    """Where the outbox remembers post keys and undeliverable posts (see storage.delivery)."""

    async def ref_for(self, place: Place, key: str) -> str | None: ...

    async def remember(self, place: Place, key: str, ref: str) -> None: ...


def retry_after_seconds(headers: Any, *, now: datetime | None = None) -> float | None:
    """How long a platform asked us to wait (its ``Retry-After`` header, in seconds or as an
    HTTP date); None when it did not say, or said something unreadable."""
    raw = None
    try:
        raw = headers.get("Retry-After") or headers.get("retry-after")
    except AttributeError:
        return None
    if isinstance(raw, (list, tuple)):
        raw = raw[0] if raw else None
    if not isinstance(raw, str) and not isinstance(raw, (int, float)):
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(str(raw))
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass(frozen=True)
class Pace:
    """A platform's outbound limits: ``limits`` per channel (channel posts only) and
    ``overall`` across all of them, private posts included; each ((posts, per seconds), ...).
    The delivery worker sends many lanes at once, so ``overall`` is what keeps a platform's
    app-wide limit."""

    limits: tuple[tuple[int, float], ...] = ((1, 1.0),)
    overall: tuple[tuple[int, float], ...] = ()
    # Retries within one send; past these the outbox's worker tries again later (the row
    # keeps its place), so one send never holds its claim for long.
    attempts: int = 4
    max_backoff: float = 5.0
    max_retry_after: float = 10.0


class Outbox:
    """Sends posts for one platform through its `Sender`."""

    LIMITERS_KEPT = 1024  # channels whose pace is remembered; the least recently used is forgotten

    def __init__(
        self,
        sender: Sender,
        refs: PostRefs,
        pace: Pace = Pace(),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.sender = sender
        self.refs = refs
        self.pace = pace
        self._sleep = sleep
        # Bounded: a limiter forgotten after LIMITERS_KEPT other channels posted has long been
        # idle, and an idle limiter is the same as a new one.
        self._limiters: OrderedDict[tuple[str, str], list[AsyncLimiter]] = OrderedDict()
        self._overall = [AsyncLimiter(count, seconds) for count, seconds in pace.overall]

    async def send_now(self, place: Place, post: Post) -> str | None:
        """Send (or update) one post now: its thread and its update target come from the stored
        message ids; this platform's pace (channel posts only: a private post never waits
        behind them) and a few retries; raises `DeliveryError` when it does not go out. Returns
        the platform's message id of a new channel post. The worker sends one post of a lane at
        a time, so a key's first post and its updates never race each other."""
        existing = None
        if post.key and post.private_to is None:
            existing = await self.refs.ref_for(place, post.key)
        thread_ref = None
        if post.in_thread_of:
            thread_ref = await self.refs.ref_for(place, post.in_thread_of)
        if existing and post.replace:
            await self._with_retries(place, post, lambda: self.sender.update(place, existing, post))
            return existing
        ref = await self._with_retries(place, post, lambda: self.sender.send(place, post, thread_ref))
        if ref and post.key and post.private_to is None:
            await self.refs.remember(place, post.key, ref)
        return ref

    @property
    def keeps_records(self) -> bool:
        """Whether this platform has a channel document for the living record."""
        return callable(getattr(self.sender, "keep_record", None))

    async def keep_record(self, place: Place, canvas_id: str | None, record: CommunityRecord) -> str:
        """Draw the channel's living record (see `RecordKeeping`), with the channel's pace and
        a few retries; `RecordRefused` is never retried."""
        keeper: RecordKeeping = self.sender  # type: ignore[assignment]
        marker = Post("")  # a channel post as far as the pace and retries go
        return await self._with_retries(place, marker, lambda: keeper.keep_record(place, canvas_id, record))

    async def _with_retries(self, place: Place, post: Post, call: Callable[[], Awaitable[T]]) -> T:
        retrying = AsyncRetrying(
            stop=self._stop,
            wait=self._wait,
            retry=retry_if_exception(lambda e: isinstance(e, DeliveryError) and not e.permanent),
            sleep=self._sleep,
            reraise=True,
        )
        return await retrying(self._paced, place, post, call)

    async def _paced(self, place: Place, post: Post, call: Callable[[], Awaitable[T]]) -> T:
        if post.private_to is None:
            await self._keep_pace(place)
        for limiter in self._overall:
            await limiter.acquire()
        return await call()

    def _stop(self, state: RetryCallState) -> bool:
        """Out of attempts, or asked to wait longer than a send may hold on: the worker retries."""
        error = state.outcome.exception() if state.outcome else None
        too_long = isinstance(error, DeliveryError) and (error.retry_after or 0) > self.pace.max_retry_after
        return too_long or stop_after_attempt(self.pace.attempts)(state)

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, DeliveryError) and error.retry_after is not None:
            return min(error.retry_after, self.pace.max_retry_after)
        return wait_random_exponential(multiplier=0.5, max=self.pace.max_backoff)(state)

    async def _keep_pace(self, place: Place) -> None:
        channel = (place.platform, place.channel_id)
        limiters = self._limiters.get(channel)
        if limiters is None:
            limiters = [AsyncLimiter(count, seconds) for count, seconds in self.pace.limits]
            self._limiters[channel] = limiters
            while len(self._limiters) > self.LIMITERS_KEPT:
                self._limiters.popitem(last=False)
        else:
            self._limiters.move_to_end(channel)
        for limiter in limiters:
            await limiter.acquire()
