"""What copbot keeps, and for how long: `/cop export-me` gives a member, privately, everything
it keeps about them (as a JSON file where the platform takes files, and as text), and `/cop
retention` shows or sets how long what members wrote is kept (`storage.member_texts`)."""

from __future__ import annotations

import json
from typing import Any

from bot.registry import Command, FlowRouter
from bot.vocabulary.conversation import Attachment, Post, Section
from bot.vocabulary.errors import UsageError
from bot.vocabulary.text import and_list
from flows.membership import memberships_here
from flows.turn import Turn
from storage import member_export, member_texts

EXPORT_FILE = "copbot-export-me.json"
EXPORT_HEAD = "Here is everything I keep about you in {names}, {date}. Only you can see this."
EXPORT_FILE_NOTE = "The same, as a JSON file: {file}."
ANONYMOUS_NOTE = (
    "Answers you shared without your name are not here: they were never linked to you, so nothing "
    "connects them to you (use their private code to change or withdraw one). The review survey's "
    "answers are never linked to anyone."
)
NOT_A_MEMBER = "I don't keep anything about you here."
RETENTION_SHOWN = (
    "What members write (support statements, reflection answers, agenda items, the review's free text, and the "
    "words of actions closed that long ago) is kept for {period}, then blanked. The counts stay: "
    "meetings, attendance, answers given, actions agreed/done/dropped, topics, review responses and ratings."
)
OWN_PERIOD = "{days} days (the co-chairs' choice; this deployment's period wins if shorter)"
DEPLOYMENT_PERIOD = f"this deployment's period ({member_texts.DEFAULT_DAYS} days unless its host set another)"
RETENTION_USAGE = (
    "Usage: /cop retention — shows how long what members write is kept. A co-chair sets a shorter period with "
    f"`/cop retention <days>` ({member_texts.SHORTEST_DAYS} to {member_texts.LONGEST_DAYS}), or "
    "`/cop retention default` to use the deployment's."
)
RETENTION_SET = "What members write in {name} is now kept for {days} days, then blanked (set by {by})."
RETENTION_DEFAULT = "{name} now keeps what members write for this deployment's period (set by {by})."

router = FlowRouter("my data")


@router.verb(
    "export-me",
    "export-me",
    "Everything copbot keeps about you in this community, privately (in a private chat with copbot: in every "
    "community), as a JSON file where the platform takes files, and as text.",
    needs_community=False,
    private_menu="Everything copbot keeps about you, in every community",
)
async def export_me(turn: Turn, cmd: Command) -> list[Post]:
    """In a community's channel: that community. In a private chat with copbot: every community
    the member belongs to on this platform (as forget-me does)."""
    found = await memberships_here(turn)
    if not found:
        return [turn.private(NOT_A_MEMBER)]
    export: dict[str, Any] = {"exported_at": turn.now.isoformat(), "communities": []}
    sections: list[Section] = []
    for community, member in found:
        kinds = await member_export.about(turn.session, member)
        export["communities"].append({"community": community.name, **kinds})
        for kind, rows in kinds.items():
            sections.append(Section(f"{community.name} — {kind}", tuple(_line(row) for row in rows)))
    export["not_included"] = ANONYMOUS_NOTE
    sections.append(Section("", (ANONYMOUS_NOTE,)))
    names = and_list([community.name for community, _ in found])
    head = EXPORT_HEAD.format(names=names, date=turn.today.isoformat())
    return [
        turn.private(
            f"{head}\n{EXPORT_FILE_NOTE.format(file=EXPORT_FILE)}",
            sections=tuple(sections),
            attachment=Attachment(EXPORT_FILE, "application/json", json.dumps(export, ensure_ascii=False, indent=2)),
            direct=True,
        )
    ]


def _line(row: dict[str, Any]) -> str:
    return "; ".join(f"{name.replace('_', ' ')}: {value}" for name, value in row.items() if value not in (None, ""))


@router.verb(
    "retention",
    "retention [days|default]",
    "How long what members write is kept before it is blanked (the counts stay). A co-chair may choose a "
    f"shorter period, {member_texts.SHORTEST_DAYS} to {member_texts.LONGEST_DAYS} days.",
)
async def retention(turn: Turn, cmd: Command) -> list[Post]:
    community = turn.require_community()
    if not cmd.args:
        own = community.retention_days
        period = OWN_PERIOD.format(days=own) if own is not None else DEPLOYMENT_PERIOD
        return [turn.private(RETENTION_SHOWN.format(period=period))]
    choice = cmd.args[0].lower()
    if len(cmd.args) > 1 or not (choice == "default" or choice.isdigit()):
        raise UsageError(RETENTION_USAGE)
    days = None if choice == "default" else int(choice)
    if days is not None and not member_texts.SHORTEST_DAYS <= days <= member_texts.LONGEST_DAYS:
        raise UsageError(RETENTION_USAGE)
    chair = await turn.require_chair("choose how long what members write is kept")
    await member_texts.set_community_days(turn.session, community, days)
    if days is None:
        return [Post(RETENTION_DEFAULT.format(name=community.name, by=chair.name))]
    return [Post(RETENTION_SET.format(name=community.name, days=days, by=chair.name))]
