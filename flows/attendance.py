"""Who is here today: anyone who answers, passes or runs a part of today's meeting is counted
present, and anyone can say so with `/cop here`. The support round's tally counts those present
(not every member of the region), and each meeting keeps its count for the KPIs."""

from __future__ import annotations

from bot.registry import Command, FlowRouter, Forgetter
from bot.vocabulary.conversation import Post
from flows.turn import Turn
from storage import attendance as store
from storage import community as communities

HERE = "Welcome — you're counted as here today. Share if you'd like; passing is always fine."
ALREADY_HERE = "You're already counted as here today."

router = FlowRouter("attendance")


async def mark_present(turn: Turn) -> bool:
    """Count the actor as present at today's meeting (made if it is the first part today)."""
    member = await turn.member()
    meeting = await communities.meeting_today(turn.session, turn.require_community(), turn.today)
    return await store.mark_present(turn.session, meeting.id, member.id)


async def present_today(turn: Turn, meeting_id: int) -> int:
    return await store.present_count(turn.session, meeting_id)


@router.verb("here", "here", "Say you're at today's meeting (the support round's tally counts those here).")
async def here(turn: Turn, cmd: Command) -> list[Post]:
    return [turn.private(HERE if await mark_present(turn) else ALREADY_HERE)]


router.forgetter(Forgetter("attendance", ("attendance",), store.forget_attendance))
