"""The living record → Slack canvas markdown. Every string is escaped, so a member's
``# heading``, list marker, link, mention (``![](@U…)``, ``<@U…>``) or emphasis is shown as
typed and never restructures the canvas; only copbot's own headings and lists are markup."""

from __future__ import annotations

import re

from bot.vocabulary.record import CommunityRecord

# Characters that make inline markup (emphasis, code, links, images and mentions, tables,
# Slack's angle-bracket syntax, entities): always escaped with a backslash.
_INLINE = re.compile(r"([\\`*_~\[\]<>|!&])")
# What would start a block at the beginning of a line: a heading, quote, list item or rule.
_LINE_START = re.compile(r"^([#>+\-=]|\d+[.)])")
_SPACES = re.compile(r"\s+")


def escaped(text: str) -> str:
    """``text`` as one line of canvas markdown that reads exactly as typed."""
    flat = _SPACES.sub(" ", text).strip()  # a member's line break never starts a new block
    return _LINE_START.sub(_not_a_block, _INLINE.sub(r"\\\1", flat))


def _not_a_block(match: re.Match[str]) -> str:
    marker = match.group(1)
    if marker[0].isdigit():  # "3." would start a numbered list: "3\."
        return marker[:-1] + "\\" + marker[-1]
    return "\\" + marker


def canvas_markdown(record: CommunityRecord) -> str:
    """The whole canvas: the title, each part as a heading with its list (or its note), and
    copbot's footer."""
    blocks = [f"# {escaped(record.title)}"]
    for part in record.parts:
        blocks.append(f"## {escaped(part.heading)}")
        if part.lines:
            blocks.append("\n".join(f"- {escaped(line)}" for line in part.lines))
        elif part.note:
            blocks.append(escaped(part.note))
        for group in part.groups:
            if group.heading:
                blocks.append(f"### {escaped(group.heading)}")
            if group.lines:
                blocks.append("\n".join(f"- {escaped(line)}" for line in group.lines))
    if record.footer:
        blocks.append("---")
        blocks.append(f"_{escaped(record.footer)}_")
    return "\n\n".join(blocks) + "\n"
