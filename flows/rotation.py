"""Who leads the next meeting: "a flat leadership system where members take turns to lead"
(the co-chairs and their term are `flows.chairs`).

Lead states (a `LeadTurn` row)::

    (none) --lead--> PROPOSED (the next in turn: least recently led, never-led first;
                     passing by the opted-out and who said "not this time" in this choice)
    PROPOSED --lead volunteer--> SUPERSEDED, and a PROPOSED row for the volunteer
    PROPOSED --lead skip (by the proposed)--> SKIPPED, and a PROPOSED row for the next in turn
    PROPOSED --lead confirm (co-chair)--> CONFIRMED (history; today's lead at the next meeting)

A choice of who leads next runs from the last confirmed lead (or a later meeting day) to the
next confirmation: its SKIPPED rows are its "not this time"s, and its one lead post (key
`storage.leads.LeadChoice.key`) is updated in place by volunteer and skip. ``lead opt-out`` /
``opt-in`` is a member's own lasting choice (`Member.lead_opt_out`), answered only to them.
"""

from __future__ import annotations

import dataclasses

from bot.registry import Command, FlowRouter, Forgetter
from bot.vocabulary.conversation import Button, Post
from bot.vocabulary.errors import NothingOpen, UsageError
from bot.vocabulary.text import and_list
from flows.turn import Turn
from storage import community as communities
from storage import leads as store
from storage.models import LeadTurn, Member

UNKNOWN_MEMBER = "I don't know “{who}” in this community. They can `/cop join`, or mention them with @."

SUGGEST = "Who would like to lead our next meeting{topic}?"
SUGGEST_NAME = "I suggest {name} — {why}. Anyone can volunteer instead, and “not me this time” is fine."
NEVER_LED = "they have not led one yet"
LAST_LED = "they last led on {when}"
VOLUNTEERED = "{name} has volunteered to lead — thank you!"
CONFIRM_HINT = "A co-chair confirms with the button or `/cop lead confirm`."
# Nobody to suggest, said as it is. (Never "everyone has led recently": the turn is an order,
# nobody waits for it, so the only reasons are "not this time" and the private opt-out.)
ALL_SKIPPED = "Everyone has said “not this time”, and that's fine. Would someone like to lead it after all?"
ALL_OPTED_OUT = (
    "Everyone has chosen not to be suggested to lead, so I have no one to suggest. Would someone like to lead it?"
)
SKIPPED_OR_OPTED_OUT = (
    "Everyone has said “not this time” or chosen not to be suggested, so I have no one to suggest. "
    "Would someone like to lead it?"
)
NOBODY = "There is nobody I can suggest yet. Would someone like to lead it?"
VOLUNTEER_HINT = (
    "Anyone can press “I'll lead” or type `/cop lead volunteer`; a co-chair can also confirm anyone "
    "with `/cop lead confirm @member`."
)
SKIPPED = (
    "Thanks for letting us know — I've suggested someone else for our next meeting. You'll be in "
    "the turn again after that. To stop being suggested at all, type `/cop lead opt-out`: nobody else is told."
)
NOT_YOURS_TO_SKIP = (
    "There's nothing for you to skip: you aren't the one suggested to lead right now. You can "
    "volunteer any time, or type `/cop lead opt-out` to stop being suggested (nobody else is told)."
)
OPTED_OUT = (
    "Done: I won't suggest you to lead in {communities} any more. Nobody else is told. You can "
    "still volunteer any time, and `/cop lead opt-in` puts you back in the turn."
)
OPTED_IN = (
    "Done: I'll suggest you to lead in {communities} when your turn comes. "
    "`/cop lead opt-out` stops that again; nobody else is told."
)
NOT_A_MEMBER = "You aren't in a community here yet: type `/cop join` in its channel first."
CONFIRMED = "{name} will lead our next meeting{topic}. Thank you, {name}!"
NO_PROPOSAL = "There is no suggestion to confirm yet. Type `/cop lead` first, or `/cop lead confirm @member`."
ALREADY_CONFIRMED = "{name} is already confirmed to lead our next meeting."
LEAD_FORMS = "lead | lead volunteer | lead skip | lead opt-out | lead opt-in | lead confirm [@member]"
LEAD_USAGE = f"Usage: /cop {LEAD_FORMS}"
LEAD_HELP = (
    "Who leads the next meeting: copbot suggests whoever has gone longest without leading "
    "(never-led first). Volunteer; skip says “not me this time”, for this meeting only; "
    "opt-out and opt-in are your own private choice, for good (they work in a private chat "
    "with copbot too); a co-chair confirms."
)


router = FlowRouter("rotation")


@router.verb(
    "lead",
    LEAD_FORMS,
    LEAD_HELP,
    chair_forms={"confirm": "confirm who leads"},
    needs_community=False,  # opt-out and opt-in also work in a private chat with copbot
    menu="lead | volunteer | skip (not this time) | opt-out | opt-in | confirm",
    private_menu="lead opt-out | lead opt-in: whether copbot suggests you to lead",
)
async def lead(turn: Turn, cmd: Command) -> list[Post]:
    form = _form(cmd.args)
    if form in ("opt-out", "opt-in"):
        return await _choose(turn, opt_out=form == "opt-out")
    if form == "":
        return await _suggest(turn)
    if form == "volunteer":
        return await _volunteer(turn)
    if form == "skip":
        return await _skip(turn)
    if form == "confirm":
        return await _confirm(turn, cmd.args[1:])
    raise UsageError(LEAD_USAGE)


def _form(args: tuple[str, ...]) -> str:
    """Which form of ``lead``: "opt out", "optout" and "opt-out" are one."""
    if not args:
        return ""
    first = args[0].lower()
    if first == "opt" and len(args) > 1:
        return f"opt-{args[1].lower()}"
    return {"optout": "opt-out", "optin": "opt-in"}.get(first, first)


def _topic_suffix(turn: Turn) -> str:
    topic = turn.community.next_topic if turn.community else None
    return f" on “{topic}”" if topic else ""


def _lead_post(turn: Turn, choice: store.LeadChoice, text: str, buttons: tuple[Button, ...], replace: bool) -> Post:
    """The lead post: one per choice of who leads next, updated in place as it changes."""
    return Post(
        f"{SUGGEST.format(topic=_topic_suffix(turn))}\n{text}", buttons=buttons, key=choice.key, replace=replace
    )


async def _proposal_post(turn: Turn, choice: store.LeadChoice, proposal: LeadTurn, *, replace: bool) -> Post:
    member = await turn.session.get(Member, proposal.member_id)
    assert member is not None
    if proposal.volunteered:
        text = VOLUNTEERED.format(name=member.name)
    else:
        last = await store.last_led(turn.session, proposal.community_id, member.id)
        why = LAST_LED.format(when=last.date().isoformat()) if last else NEVER_LED
        text = SUGGEST_NAME.format(name=member.name, why=why)
    buttons = (
        Button("I'll lead", "lead volunteer"),
        Button("Not me this time", "lead skip"),
        Button("Confirm", f"lead confirm @{member.user_id}", "primary"),
    )
    return _lead_post(turn, choice, f"{text}\n{CONFIRM_HINT}", buttons, replace)


async def _nobody_post(turn: Turn, choice: store.LeadChoice, *, replace: bool) -> Post:
    """Why there is nobody to suggest, truthfully, and an invitation to volunteer."""
    people = await communities.active_members(turn.session, turn.require_community().id)
    opted_out = sum(1 for member in people if member.lead_opt_out)
    skipped = sum(1 for member in people if not member.lead_opt_out and member.id in choice.skipped)
    why = NOBODY
    if people and opted_out == len(people):
        why = ALL_OPTED_OUT
    elif people and skipped == len(people):
        why = ALL_SKIPPED
    elif people and opted_out + skipped == len(people):
        why = SKIPPED_OR_OPTED_OUT
    return _lead_post(turn, choice, f"{why}\n{VOLUNTEER_HINT}", (Button("I'll lead", "lead volunteer"),), replace)


async def _next_in_turn(turn: Turn, choice: store.LeadChoice, *, replace: bool) -> Post:
    """Suggest whoever is next in turn, passing by those who said "not this time" in this choice."""
    community = turn.require_community()
    order = [member for member, _ in await store.rotation_order(turn.session, community.id)]
    order = [member for member in order if member.id not in choice.skipped]
    if not order:
        await store.withdraw_proposals(turn.session, community.id)
        return await _nobody_post(turn, choice, replace=replace)
    proposal = await store.propose(turn.session, community.id, order[0].id, turn.now)
    return await _proposal_post(turn, choice, proposal, replace=replace)


async def _suggest(turn: Turn) -> list[Post]:
    """``lead``: the standing suggestion shown again (a new post, below), or the next in turn."""
    community = turn.require_community()
    await turn.member()
    choice = await store.current_choice(turn.session, community.id, turn.today)
    if choice.proposal is not None and choice.proposal.member_id is not None:
        return [await _proposal_post(turn, choice, choice.proposal, replace=False)]
    return [await _next_in_turn(turn, choice, replace=False)]


async def _volunteer(turn: Turn) -> list[Post]:
    """Anyone may offer, opted out or not (offering changes no lasting choice)."""
    community = turn.require_community()
    member = await turn.member()
    choice = await store.current_choice(turn.session, community.id, turn.today)
    proposal = choice.proposal
    if proposal is None or proposal.member_id != member.id or not proposal.volunteered:
        proposal = await store.propose(turn.session, community.id, member.id, turn.now, volunteered=True)
    return [await _proposal_post(turn, choice, proposal, replace=True)]


async def _skip(turn: Turn) -> list[Post]:
    """Not me this time, from the member suggested (or who volunteered): the suggestion moves to
    the next in turn, for this choice only. Anyone else has nothing to skip."""
    community = turn.require_community()
    member = await turn.member()
    choice = await store.current_choice(turn.session, community.id, turn.today)
    if choice.proposal is None or choice.proposal.member_id != member.id:
        return [turn.private(NOT_YOURS_TO_SKIP)]
    await store.skip(turn.session, choice.proposal)
    choice = dataclasses.replace(choice, proposal=None, skipped=choice.skipped | {member.id})
    return [await _next_in_turn(turn, choice, replace=True), turn.private(SKIPPED)]


async def _choose(turn: Turn, *, opt_out: bool) -> list[Post]:
    """A member's own lasting choice whether copbot suggests them to lead, answered privately.
    In a private chat with copbot (no community) it holds in every community they are in here."""
    if turn.community is None:
        found = await communities.memberships_of(turn.session, turn.place.platform, turn.actor.user_id)
        if not found:
            return [turn.private(NOT_A_MEMBER)]
        names, members = [community.name for community, _ in found], [member for _, member in found]
    else:
        names, members = [turn.community.name], [await turn.member()]
    await store.set_lead_opt_out(turn.session, members, opt_out)
    posts = [turn.private((OPTED_OUT if opt_out else OPTED_IN).format(communities=and_list(names)))]
    if opt_out and turn.community is not None:
        choice = await store.current_choice(turn.session, turn.community.id, turn.today)
        proposal = choice.proposal
        if proposal is not None and proposal.member_id == members[0].id and not proposal.volunteered:
            store.supersede(proposal)  # suggested right now: the suggestion moves on, as for a skip
            await turn.session.flush()
            posts.insert(0, await _next_in_turn(turn, dataclasses.replace(choice, proposal=None), replace=True))
    return posts


async def _confirm(turn: Turn, args: tuple[str, ...]) -> list[Post]:
    community = turn.require_community()
    await turn.require_chair("confirm who leads")
    proposal = (await store.current_choice(turn.session, community.id, turn.today)).proposal
    if args:
        member = await turn.resolve_member(args[0])
        if member is None:
            raise UsageError(UNKNOWN_MEMBER.format(who=args[0][:60]))
        if proposal is None and await _just_confirmed(turn, member):
            return [turn.private(ALREADY_CONFIRMED.format(name=member.name))]
        if proposal is None or proposal.member_id != member.id:
            proposal = await store.propose(turn.session, community.id, member.id, turn.now)
    if proposal is None or proposal.member_id is None:
        raise NothingOpen(NO_PROPOSAL)
    leader = await turn.session.get(Member, proposal.member_id)
    assert leader is not None
    await store.confirm(turn.session, proposal, turn.now)
    return [
        Post(
            CONFIRMED.format(name=leader.name, topic=_topic_suffix(turn)),
            key=f"lead:{proposal.id}:confirmed",
        )
    ]


async def _just_confirmed(turn: Turn, member: Member) -> bool:
    """A second press of Confirm (or a retry) must not add a second turn to the history."""
    current = await store.next_lead(turn.session, turn.require_community().id)
    return current is not None and current.id == member.id


router.forgetter(Forgetter("leads and co-chair terms", ("chair_terms", "lead_turns"), store.forget_lead_history))
