"""Who leads the next meeting: "a flat leadership system where members take turns to lead"
(the co-chairs and their term are `flows.chairs`).

Lead states (a `LeadTurn` row)::

    (none) --lead--> PROPOSED (the next in turn: least recently led, never-led first;
                     passing by the opted-out and who said "not this time" in this choice)
    PROPOSED (copbot's suggestion) --lead volunteer--> SUPERSEDED, and a PROPOSED row for the volunteer
    PROPOSED (a volunteer) --another lead volunteer--> stays: both stand, both are told, and the
                     co-chairs choose (each volunteer is one PROPOSED row)
    PROPOSED --lead skip (by the proposed)--> SKIPPED, and a PROPOSED row for the next in turn
                     (or, among volunteers, the others still stand)
    PROPOSED --lead confirm (co-chair)--> CONFIRMED (history; today's lead at the next meeting),
                     and every other PROPOSED row SUPERSEDED

A choice of who leads next runs from the last confirmed lead (or a later meeting day) to the
next confirmation: its SKIPPED rows are its "not this time"s, and its one lead post (key
`storage.leads.LeadChoice.key`) is updated in place by volunteer, skip and confirm (then it
shows who leads, without buttons); ``lead`` while it is open updates it rather than posting a
copy. A press on an old lead post's buttons once a lead is confirmed says who was confirmed
rather than start a new choice. ``lead opt-out`` / ``opt-in`` is a member's own lasting choice
(`Member.lead_opt_out`), answered only to them.
"""

from __future__ import annotations

import dataclasses

from bot.registry import Command, FlowRouter, Forgetter
from bot.vocabulary.conversation import Button, Post
from bot.vocabulary.errors import NothingOpen, UsageError
from bot.vocabulary.text import and_list, display_token
from flows.membership import joined_member
from flows.turn import Turn
from storage import community as communities
from storage import leads as store
from storage.models import LeadTurn, Member

THEN_CONFIRM = ", and then a co-chair can confirm them"

SUGGEST = "Who would like to lead our next meeting{topic}?"
SUGGEST_NAME = "I suggest {name} — {why}. Anyone can volunteer instead, and “not me this time” is fine."
NEVER_LED = "they have not led one yet"
LAST_LED = "they last led on {when}"
VOLUNTEERED = "{name} has volunteered to lead — thank you!"
VOLUNTEERS = "{names} have volunteered to lead — thank you all!"
CONFIRM_HINT = "A co-chair confirms with the button or `/cop lead confirm`."
CHOOSE_HINT = "The co-chairs choose one: the buttons, or `/cop lead confirm @member`."
ALSO_VOLUNTEERED = (
    "{name} has volunteered to lead our next meeting too, so the co-chairs will choose between you. "
    "Thank you for offering!"
)
VOLUNTEERED_FIRST = (
    "Thank you! {names} volunteered before you, so the co-chairs will choose who leads our next meeting. "
    "`/cop lead skip` withdraws your offer."
)
TO_CHAIRS_CHOOSE = (
    "{names} have volunteered to lead our next meeting: please choose one, as the group agrees — "
    "{commands} (or the buttons on the lead post)."
)
NOT_CHOSEN = "Thank you for offering to lead — {name} will lead our next meeting this time. Your turn will come!"
STILL_CHOOSING = (
    "We're choosing who leads our next meeting: {state} The lead post is up to date above; its buttons work, or "
    "type `/cop lead volunteer` or `/cop lead skip`."
)
WHICH_VOLUNTEER = "{names} have volunteered: which one leads? Type {commands}."
CONFIRMED_ALREADY = (
    "{name} is confirmed to lead our next meeting already, so that post's choice is over. To offer for the "
    "meeting after, type `/cop lead volunteer`; a co-chair can change the lead with `/cop lead confirm @member`."
)
CHOSEN = "{name} will lead our next meeting{topic} — confirmed by {by}. Thank you, {name}!"
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
    "Anyone can press “I'll lead” or type `/cop lead volunteer`; a co-chair can also confirm any member "
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
    "with copbot too). When several volunteer, all stand and the co-chairs choose; a co-chair "
    "confirms (a member who has joined)."
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
    """The lead post for what stands: copbot's suggestion, one volunteer, or several (then one
    Confirm button each, and the co-chairs choose)."""
    volunteers = await _volunteers(turn, choice) if proposal.volunteered else []
    if len(volunteers) > 1:
        names = and_list([member.name for member in volunteers])
        buttons = (
            Button("I'll lead", "lead volunteer"),
            Button("Not me this time", "lead skip"),
            *(Button(f"Confirm {m.name}", f"lead confirm @{m.user_id}", "primary") for m in volunteers),
        )
        return _lead_post(turn, choice, f"{VOLUNTEERS.format(names=names)}\n{CHOOSE_HINT}", buttons, replace)
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


async def _volunteers(turn: Turn, choice: store.LeadChoice) -> list[Member]:
    """The members who volunteered and still stand in this choice, in the order they offered."""
    found = [await turn.session.get(Member, row.member_id) for row in choice.proposals if row.volunteered]
    return [member for member in found if member is not None and member.active]


def _confirm_commands(members: list[Member]) -> str:
    return " or ".join(f"`/cop lead confirm @{display_token(m.name, m.user_id)}`" for m in members)


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
    """``lead``: the next in turn; while a choice is under way, its lead post brought up to date
    (not a second copy) and the member told privately where it stands."""
    community = turn.require_community()
    await turn.member()
    choice = await store.current_choice(turn.session, community.id, turn.today)
    if choice.proposal is not None and choice.proposal.member_id is not None:
        post = await _proposal_post(turn, choice, choice.proposal, replace=True)
        state = post.text.split("\n", 1)[1].split("\n", 1)[0]
        return [post, turn.private(STILL_CHOOSING.format(state=state))]
    return [await _next_in_turn(turn, choice, replace=choice.started)]


async def _old_post(turn: Turn, choice: store.LeadChoice) -> Member | None:
    """The lead confirmed already for the coming meeting, when a button was pressed on a lead post
    whose choice is over (nothing proposed since the confirmation, no meeting held since): the
    press must not start a new choice."""
    if not turn.pressed_button or choice.started:
        return None
    return await store.confirmed_for_next(turn.session, turn.require_community().id, turn.today)


async def _volunteer(turn: Turn) -> list[Post]:
    """Anyone may offer, opted out or not (offering changes no lasting choice). A volunteer
    replaces copbot's suggestion; earlier volunteers still stand, are told, and the co-chairs
    choose."""
    community = turn.require_community()
    member = await turn.member()
    choice = await store.current_choice(turn.session, community.id, turn.today)
    confirmed = await _old_post(turn, choice)
    if confirmed is not None:
        return [turn.private(CONFIRMED_ALREADY.format(name=confirmed.name))]
    before = [m for m in await _volunteers(turn, choice) if m.id != member.id]
    mine = next((row for row in choice.proposals if row.member_id == member.id and row.volunteered), None)
    proposal = mine or await store.propose(turn.session, community.id, member.id, turn.now, volunteered=True)
    choice = await store.current_choice(turn.session, community.id, turn.today)
    posts = [await _proposal_post(turn, choice, proposal, replace=True)]
    if before and mine is None:
        names = and_list([m.name for m in before])
        posts.append(turn.private(VOLUNTEERED_FIRST.format(names=names)))
        posts += [
            Post(ALSO_VOLUNTEERED.format(name=member.name), private_to=m.user_id)
            for m in before
            if m.platform == turn.place.platform
        ]
        everyone = [*before, member]
        notice = TO_CHAIRS_CHOOSE.format(
            names=and_list([m.name for m in everyone]), commands=_confirm_commands(everyone)
        )
        posts += [
            post for post in await turn.to_co_chairs(notice) if post.private_to not in {m.user_id for m in before}
        ]
    return posts


async def _skip(turn: Turn) -> list[Post]:
    """Not me this time, from the member suggested (or a volunteer): the suggestion moves to
    the next in turn, for this choice only (other volunteers still stand). Anyone else has
    nothing to skip."""
    community = turn.require_community()
    member = await turn.member()
    choice = await store.current_choice(turn.session, community.id, turn.today)
    confirmed = await _old_post(turn, choice)
    if confirmed is not None:
        return [turn.private(CONFIRMED_ALREADY.format(name=confirmed.name))]
    mine = next((row for row in choice.proposals if row.member_id == member.id), None)
    if mine is None:
        return [turn.private(NOT_YOURS_TO_SKIP)]
    await store.skip(turn.session, mine)
    choice = await store.current_choice(turn.session, community.id, turn.today)
    if choice.proposal is not None:
        return [await _proposal_post(turn, choice, choice.proposal, replace=True), turn.private(SKIPPED)]
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
    """A co-chair confirms who leads: the one proposed, one of several volunteers, or any member
    who has joined. The lead post then shows who leads (no buttons left to press); volunteers
    not chosen are thanked."""
    community = turn.require_community()
    chair = await turn.require_chair("confirm who leads")
    choice = await store.current_choice(turn.session, community.id, turn.today)
    proposal = choice.proposal
    if args:
        member = await joined_member(turn, args[0], THEN_CONFIRM)
        if proposal is None and await _just_confirmed(turn, member):
            return [turn.private(ALREADY_CONFIRMED.format(name=member.name))]
        confirmed = await _old_post(turn, choice)
        if confirmed is not None:  # an old post's Confirm: the choice is over
            return [turn.private(CONFIRMED_ALREADY.format(name=confirmed.name))]
        proposal = next((row for row in choice.proposals if row.member_id == member.id), None)
        if proposal is None:
            proposal = await store.propose(turn.session, community.id, member.id, turn.now)
    elif len(volunteers := await _volunteers(turn, choice)) > 1:
        names = and_list([m.name for m in volunteers])
        raise UsageError(WHICH_VOLUNTEER.format(names=names, commands=_confirm_commands(volunteers)))
    if proposal is None or proposal.member_id is None:
        raise NothingOpen(NO_PROPOSAL)
    leader = await turn.session.get(Member, proposal.member_id)
    assert leader is not None
    others = [m for m in await _volunteers(turn, choice) if m.id != leader.id]
    await store.confirm(turn.session, proposal, turn.now)
    topic = _topic_suffix(turn)
    posts = []
    if choice.started:  # its lead post was posted: it shows the outcome, with no buttons left
        posts.append(_lead_post(turn, choice, CHOSEN.format(name=leader.name, topic=topic, by=chair.name), (), True))
    posts.append(Post(CONFIRMED.format(name=leader.name, topic=topic), key=f"lead:{proposal.id}:confirmed"))
    posts += [
        Post(NOT_CHOSEN.format(name=leader.name), private_to=m.user_id)
        for m in others
        if m.platform == turn.place.platform
    ]
    return posts


async def _just_confirmed(turn: Turn, member: Member) -> bool:
    """A second press of Confirm (or a retry) must not add a second turn to the history."""
    current = await store.next_lead(turn.session, turn.require_community().id)
    return current is not None and current.id == member.id


router.forgetter(Forgetter("leads and co-chair terms", ("chair_terms", "lead_turns"), store.forget_lead_history))
