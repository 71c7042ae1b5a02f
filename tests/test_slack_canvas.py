"""The channel's living record (a Slack canvas), through the real stack: signed requests, Bolt,
the core, the outbox and the fake Slack Web API. Made once, then replaced; a burst of changes
is one call with the latest state; refusals are said once to the co-chairs and never asked
again; a deleted canvas is made again once; the canvas id survives a restart; member words
never restructure it."""

from __future__ import annotations

from storage.living_records import SETTLE
from tests.fakes.slack_api import running_stack
from tests.support.slack_meeting import PEOPLE, say

CREATE, EDIT = "conversations.canvases.create", "canvases.edit"
NOT_AVAILABLE = "living record"


async def _community(stack) -> None:
    """North West, with Ann and Ben as co-chairs, Cara and Dev members, and a schedule."""
    await say(stack, "U1", "setup North West")
    for user in ("U2", "U3", "U4"):
        await say(stack, user, "join")
    await say(stack, "U1", "chairs set <@U1|ann> <@U2|ben> 12")
    await say(stack, "U1", "schedule quarterly 2nd Tuesday of Feb May Aug Nov 10:30")
    await say(stack, "U1", "schedule link https://meet.example.org/north-west")


async def _settled(stack, clock) -> None:
    """Let the record's minute pass and deliver what is due."""
    clock.advance(seconds=SETTLE.total_seconds() + 1)
    await stack.runtime.drain()


async def test_made_once_then_replaced_with_the_next_meeting_and_open_actions(sqlite_db, clock):
    async with running_stack(sqlite_db, clock, PEOPLE) as stack:
        slack = stack.slack
        await _community(stack)
        assert slack.canvas_calls() == []  # nothing yet: the record waits for its minute
        await _settled(stack, clock)
        (made,) = slack.calls_to(CREATE)
        assert made.params["channel_id"] == "C1"
        canvas = slack.canvas_of("C1")
        assert canvas is not None and canvas.startswith("# Our living record — North West")
        assert "## Our next meeting" in canvas and "Tuesday 9 February 2027 at 10:30 (Europe/Dublin)" in canvas
        assert "meet.example.org" in canvas and "No actions are open." in canvas

        await say(stack, "U1", "actions add Draft a peer supervision checklist <@U2|ben> by 2027-02-01")
        await say(stack, "U3", "actions add Ask the team about a reading group")
        await _settled(stack, clock)
        assert len(slack.calls_to(CREATE)) == 1
        (edit,) = slack.calls_to(EDIT)
        canvas = slack.canvas_of("C1")
        assert edit.params["canvas_id"] == slack.channel_canvas["C1"]
        assert "- 1\\. Draft a peer supervision checklist" in canvas and "— Ben, due Mon 1 Feb 2027" in canvas
        assert "- 2\\. Ask the team about a reading group — Cara" in canvas

        await say(stack, "U2", "actions done 1")
        await _settled(stack, clock)
        assert len(slack.calls_to(EDIT)) == 2
        canvas = slack.canvas_of("C1")
        assert "peer supervision checklist" not in canvas and "reading group" in canvas
        assert await stack.runtime.deliveries.undelivered("slack") == []
