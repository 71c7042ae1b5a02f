"""The registry the flows declare themselves in: every table with a member in it is covered by
forget-me, help and permission say the same thing, and a name cannot be declared twice."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Column, ForeignKey, Integer, MetaData, Table

from bot.commands import VERBS, help_text
from bot.registry import DuplicateName, FlowRouter, compose
from flows import REGISTRY
from storage.models import Base, Member
from tests.support.room import Room

# Tables whose member reference is not a member's data: the member row itself, and channels.
NOT_ABOUT_A_MEMBER = {"members"}


def _not_forgotten(metadata: MetaData) -> set[str]:
    """Tables with a reference to a member that no flow's forgetter covers."""
    naming = {
        table.name
        for table in metadata.tables.values()
        for column in table.columns
        for key in column.foreign_keys
        if key.column.table.name == Member.__tablename__
    }
    covered = {table for forgetter in REGISTRY.forgetters for table in forgetter.tables}
    return naming - NOT_ABOUT_A_MEMBER - covered


def test_every_table_that_names_a_member_is_covered_by_forget_me():
    covered = {table for forgetter in REGISTRY.forgetters for table in forgetter.tables}
    missing = _not_forgotten(Base.metadata)
    assert not missing, f"forget-me does not cover {sorted(missing)}: register a Forgetter for them"
    assert covered <= set(Base.metadata.tables)  # and names no table that does not exist


def test_a_table_added_without_a_forgetter_is_found():
    metadata = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(metadata)
    Table(
        "new_answers", metadata, Column("id", Integer, primary_key=True), Column("member_id", ForeignKey("members.id"))
    )
    assert _not_forgotten(metadata) == {"new_answers"}


def test_a_name_declared_twice_is_refused():
    first, second = FlowRouter("one"), FlowRouter("two")

    async def handler(turn, cmd):  # noqa: ANN001, ANN202
        return []

    first.verb("dance", "dance", "Dance.")(handler)
    second.verb("dance", "dance", "Dance again.")(handler)
    with pytest.raises(DuplicateName, match="two declares 'dance'"):
        compose([first, second])


# The national office's verb is refused to co-chairs too: tests/test_national_office.py.
@pytest.mark.parametrize("verb", [name for name, spec in VERBS.items() if spec.who.label.startswith("co-chairs")])
async def test_help_says_who_and_the_router_refuses_everyone_else(sqlite_db, clock, verb):
    assert "co-chairs" in help_text(verb)
    room = Room(sqlite_db, clock)
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
    await room.cmd("Cara", verb)
    assert "Only a co-chair" in room.said_to("Cara")


@pytest.mark.parametrize("verb, form", [(n, f) for n, spec in VERBS.items() for f in spec.chair_forms])
async def test_chair_only_forms_are_refused_to_members_and_named_in_help(sqlite_db, clock, verb, form):
    assert re.search(rf"\(co-chairs[^):]* only: [^)]*\b{form}\b", help_text(verb))
    room = Room(sqlite_db, clock)
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
    await room.cmd("Cara", f"{verb} {form}")
    assert "Only a co-chair" in room.said_to("Cara")


def test_the_teams_menus_come_from_the_registry():
    from adapters.teams.package import menu

    assert [name for name, _ in menu()] == [name for name, spec in VERBS.items() if spec.menu]
    assert all(not VERBS[name].needs_community for name, _ in menu(private=True))
