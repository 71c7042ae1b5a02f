"""The community's living record as copbot draws it (next meeting, open actions, roadmap, the
last meeting's minutes):
neutral parts, in order, that a platform with a channel document (a Slack canvas) renders."""

from __future__ import annotations

from dataclasses import dataclass

from bot.vocabulary.conversation import Section
from bot.vocabulary.text import shown


@dataclass(frozen=True)
class RecordPart:
    """One part of the record: a heading and its lines (plain text, member words included:
    the platform escapes them)."""

    heading: str
    lines: tuple[str, ...] = ()
    note: str = ""  # a plain sentence under the heading when there are no lines
    groups: tuple[Section, ...] = ()  # titled lists after the lines (a meeting's minutes)

    def __post_init__(self) -> None:
        object.__setattr__(self, "heading", shown(self.heading))
        object.__setattr__(self, "lines", tuple(shown(line) for line in self.lines))
        object.__setattr__(self, "note", shown(self.note))


@dataclass(frozen=True)
class CommunityRecord:
    """The whole record of one community, drawn from the database when it is sent."""

    title: str
    parts: tuple[RecordPart, ...]
    footer: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "title", shown(self.title))
        object.__setattr__(self, "footer", shown(self.footer))
