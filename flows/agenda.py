"""The standing agenda of a meeting (the guide's order), with where today's meeting is."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.registry import Command, FlowRouter
from bot.vocabulary.conversation import Post, Section
from flows.turn import Turn
from storage import answers, leads, votes
from storage.models import Community

HEADING = "Our meeting, in order"
ITEMS = (
    "Welcome, and the support round: “I will support myself today by …” (`/cop support`)",
    "Reflective practice on the lead topic{topic}, in Gibbs' six steps (`/cop reflect`)",
    "Next session: vote on the lead topic (`/cop vote`) and who leads it (`/cop lead`){lead}",
    "Next steps: the actions recap{actions}, and the date of the next meeting",
)


router = FlowRouter("agenda")


@router.verb("meeting", "meeting", "The standing agenda of a meeting, in order, with where we are.")
async def meeting(turn: Turn, cmd: Command) -> list[Post]:
    return [await agenda_post(turn.session, turn.require_community())]


async def agenda_post(session: AsyncSession, community: Community) -> Post:
    """The standing agenda with where the community is now. Needs no member's turn: the
    scheduler can post it too."""
    support = await answers.open_support_round(session, community.id)
    reflection = await answers.open_reflection(session, community.id)
    vote = await votes.open_vote(session, community.id)
    next_lead = await leads.next_lead(session, community.id)
    open_actions = await answers.open_actions(session, community.id)
    topic = f" “{community.next_topic}”" if community.next_topic else ""
    lines = [
        ITEMS[0] + (" — open now" if support else ""),
        ITEMS[1].format(topic=topic) + (f" — now at step {reflection.step} of 6" if reflection else ""),
        ITEMS[2].format(lead=f"; next lead: {next_lead.name}" if next_lead else "")
        + (" — the vote is open" if vote else ""),
        ITEMS[3].format(actions=f" ({open_actions} open)" if open_actions else ""),
    ]
    return Post(
        f"{HEADING} — {community.name}",
        sections=(Section("", tuple(f"{i}. {line}" for i, line in enumerate(lines, 1))),),
    )
