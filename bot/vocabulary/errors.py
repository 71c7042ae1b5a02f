"""copbot's error types: one root, a few specific kinds.

A member sees ``str(error)`` (a friendly sentence); the log gets the class and context, never
what a member wrote.
"""

from __future__ import annotations


class CopbotError(Exception):
    """Root of every error copbot raises on purpose."""


class UsageError(CopbotError):
    """A command was typed wrongly: the message is the short usage line to show."""


class NotAllowed(CopbotError):
    """The actor may not do this (a chair-only verb, another community, a stranger's button)."""


class NothingOpen(CopbotError):
    """The command needs a round, step or vote that is not open right now."""


class ConfigError(CopbotError):
    """Start-up configuration is missing or half-set: reported in one line, not a traceback."""


class DeliveryError(CopbotError):
    """A platform did not take a post. ``retry_after`` (seconds) when it asked us to wait;
    ``permanent`` when retrying cannot help; ``gone`` when the channel itself is gone or copbot
    was removed from it (nothing more can be posted there)."""

    def __init__(self, reason: str, *, retry_after: float | None = None, permanent: bool = False, gone: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.permanent = permanent or gone
        self.gone = gone


class RecordRefused(DeliveryError):
    """A platform will not keep the channel's living record: ``why`` is ``plan`` (the
    workspace's plan or copbot's permissions do not allow it), ``exists`` (the channel has a
    document someone else made) or ``deleted`` (copbot's was deleted). Never retried as is."""

    PLAN, EXISTS, DELETED = "plan", "exists", "deleted"

    def __init__(self, reason: str, why: str) -> None:
        super().__init__(reason, permanent=True)
        self.why = why


class Unavailable(CopbotError):
    """The database did not answer (it is down, or too slow to answer inside the platform's
    deadline): nothing was kept, so the platform must not be told it was. Adapters answer with
    a 5xx, so Slack and Teams send the event again; a retried event is handled once."""
