"""The states of copbot's state machines, and the one function that moves a row between them.

Each status is a `StrEnum` whose values are what the ``status`` columns and the partial unique
indexes hold ("one open round per community"). A move that its machine does not allow raises
`IllegalMove`: a bug, never a member's mistake. The diagrams live in each flow's docstring.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Protocol, TypeVar


class RoundStatus(StrEnum):
    """A support round: open → closed."""

    OPEN = "open"
    CLOSED = "closed"


class SessionStatus(StrEnum):
    """A stepped session of any kind (a reflection, a survey): open → ended."""

    OPEN = "open"
    ENDED = "ended"


class VoteStatus(StrEnum):
    """A topic vote: open → tied → closed, or open → closed; open or tied → cancelled (opened
    by mistake: nothing is decided)."""

    OPEN = "open"
    TIED = "tied"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class LeadStatus(StrEnum):
    """Who leads next: proposed → confirmed, proposed → superseded, or proposed → skipped (the
    proposed member said "not this time": kept, so they are not suggested again this time)."""

    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    SUPERSEDED = "superseded"
    SKIPPED = "skipped"


class ActionStatus(StrEnum):
    """An action item: open (the agenda's recap lists it) → done or dropped, by its owner, a
    co-chair or today's lead; never deleted (it is the record). A closed one may be opened again."""

    OPEN = "open"
    DONE = "done"
    DROPPED = "dropped"


class AgendaItemStatus(StrEnum):
    """A member's agenda item: proposed → accepted or declined (a co-chair may change their
    mind until the agenda goes out, when an accepted item is placed on it)."""

    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class NominationStatus(StrEnum):
    """A co-chair nomination's consent round: open → agreed (the nominee's term starts), or
    open → closed (a co-chair closed it, or the community reached two co-chairs another way)."""

    OPEN = "open"
    AGREED = "agreed"
    CLOSED = "closed"


class TermsRoundStatus(StrEnum):
    """A consent round on the Terms of Reference: open → approved (a new version), or open →
    closed (a co-chair closed it)."""

    OPEN = "open"
    APPROVED = "approved"
    CLOSED = "closed"


class OutboxStatus(StrEnum):
    """A post copbot decided to send: pending → sending → sent, or → undeliverable; a claim
    whose worker died (its lease ran out) is taken again; a retry goes back to pending;
    pending → cancelled when copbot was removed from the channel."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    UNDELIVERABLE = "undeliverable"
    CANCELLED = "cancelled"


State = TypeVar("State", bound=StrEnum)

MOVES: Mapping[type[StrEnum], Mapping[str, frozenset[str]]] = {
    RoundStatus: {RoundStatus.OPEN: frozenset({RoundStatus.CLOSED})},
    SessionStatus: {SessionStatus.OPEN: frozenset({SessionStatus.ENDED})},
    VoteStatus: {
        VoteStatus.OPEN: frozenset({VoteStatus.TIED, VoteStatus.CLOSED, VoteStatus.CANCELLED}),
        VoteStatus.TIED: frozenset({VoteStatus.CLOSED, VoteStatus.CANCELLED}),
    },
    LeadStatus: {LeadStatus.PROPOSED: frozenset({LeadStatus.CONFIRMED, LeadStatus.SUPERSEDED, LeadStatus.SKIPPED})},
    AgendaItemStatus: {
        AgendaItemStatus.PROPOSED: frozenset({AgendaItemStatus.ACCEPTED, AgendaItemStatus.DECLINED}),
        AgendaItemStatus.ACCEPTED: frozenset({AgendaItemStatus.DECLINED}),
        AgendaItemStatus.DECLINED: frozenset({AgendaItemStatus.ACCEPTED}),
    },
    ActionStatus: {
        ActionStatus.OPEN: frozenset({ActionStatus.DONE, ActionStatus.DROPPED}),
        ActionStatus.DONE: frozenset({ActionStatus.OPEN}),
        ActionStatus.DROPPED: frozenset({ActionStatus.OPEN}),
    },
    NominationStatus: {NominationStatus.OPEN: frozenset({NominationStatus.AGREED, NominationStatus.CLOSED})},
    TermsRoundStatus: {TermsRoundStatus.OPEN: frozenset({TermsRoundStatus.APPROVED, TermsRoundStatus.CLOSED})},
    OutboxStatus: {
        OutboxStatus.PENDING: frozenset({OutboxStatus.SENDING, OutboxStatus.CANCELLED}),
        OutboxStatus.SENDING: frozenset(
            {OutboxStatus.SENT, OutboxStatus.UNDELIVERABLE, OutboxStatus.PENDING, OutboxStatus.SENDING}
        ),
    },
}


class IllegalMove(RuntimeError):
    """A state machine was asked for a move its diagram does not have."""


class HasStatus(Protocol):
    status: str


def where(*states: StrEnum) -> str:
    """The SQL condition of a partial unique index over rows in ``states``."""
    if len(states) == 1:
        return f"status = '{states[0].value}'"
    return "status IN (" + ", ".join(f"'{state.value}'" for state in states) + ")"


def move(row: HasStatus, to: State) -> State:
    """Move ``row`` to ``to`` if its machine allows it from where it is; returns ``to``."""
    allowed = MOVES[type(to)].get(row.status, frozenset())
    if to not in allowed:
        raise IllegalMove(f"{type(to).__name__}: {row.status} → {to.value} is not a move")
    row.status = to.value
    return to
