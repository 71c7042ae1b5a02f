"""The state machines' moves, and the partial unique indexes built from the same states."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from storage.models import Base
from storage.states import IllegalMove, LeadStatus, RoundStatus, SessionStatus, VoteStatus, move

MIGRATIONS = Path(__file__).parent.parent / "storage" / "migrations" / "versions"


@pytest.mark.parametrize(
    "start, to",
    [
        (RoundStatus.OPEN, RoundStatus.CLOSED),
        (SessionStatus.OPEN, SessionStatus.ENDED),
        (VoteStatus.OPEN, VoteStatus.TIED),
        (VoteStatus.TIED, VoteStatus.CLOSED),
        (VoteStatus.OPEN, VoteStatus.CLOSED),
        (LeadStatus.PROPOSED, LeadStatus.CONFIRMED),
        (LeadStatus.PROPOSED, LeadStatus.SUPERSEDED),
        (LeadStatus.PROPOSED, LeadStatus.SKIPPED),
    ],
)
def test_the_moves_each_diagram_has(start, to):
    row = SimpleNamespace(status=start.value)
    assert move(row, to) is to and row.status == to.value


@pytest.mark.parametrize(
    "start, to",
    [
        (RoundStatus.CLOSED, RoundStatus.OPEN),
        (SessionStatus.ENDED, SessionStatus.OPEN),
        (VoteStatus.CLOSED, VoteStatus.TIED),
        (VoteStatus.TIED, VoteStatus.OPEN),
        (LeadStatus.CONFIRMED, LeadStatus.SUPERSEDED),
        (LeadStatus.SUPERSEDED, LeadStatus.CONFIRMED),
        (LeadStatus.SKIPPED, LeadStatus.CONFIRMED),
        (RoundStatus.CLOSED, RoundStatus.CLOSED),
    ],
)
def test_a_move_the_diagram_lacks_is_refused(start, to):
    row = SimpleNamespace(status=start.value)
    with pytest.raises(IllegalMove):
        move(row, to)
    assert row.status == start.value


def test_the_partial_indexes_are_the_ones_the_migrations_create():
    migrations = "".join(p.read_text() for p in MIGRATIONS.glob("*.py"))
    conditions = [
        str(index.dialect_options["postgresql"]["where"])
        for table in Base.metadata.tables.values()
        for index in table.indexes
        if index.dialect_options["postgresql"]["where"] is not None
    ]
    assert len(conditions) == 7  # six open-only indexes and the outbox's pending update
    for condition in conditions:
        assert f'sa.text("{condition}")' in migrations
