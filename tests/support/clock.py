"""A clock the test moves by hand: code under test takes ``now`` from it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    """Starts at Thursday 26 November 2026, 10:00 UTC unless told otherwise."""

    def __init__(self, start: datetime = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
