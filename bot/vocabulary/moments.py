"""Moments read back from the database: every one is stored in UTC, but SQLite returns them
without their zone. `stored_utc` puts it back, so they compare with the clock's ``now``."""

from __future__ import annotations

from datetime import UTC, datetime


def stored_utc(moment: datetime) -> datetime:
    """A stored moment as an aware UTC datetime (SQLite hands it back naive)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
