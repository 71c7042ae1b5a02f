"""Who leads: the two co-chairs and their 6- or 12-month term, and the per-meeting lead
("a flat leadership system where members take turns to lead").

Lead states (a `LeadTurn` row)::

    (none) --lead--> PROPOSED (least recently led, never-led first; opted-out members skipped)
    PROPOSED --lead volunteer--> PROPOSED (the volunteer)
    PROPOSED --lead skip (by the proposed)--> PROPOSED (the next in turn)
    PROPOSED --lead confirm (co-chair)--> CONFIRMED (history; today's lead at the next meeting)
"""

from __future__ import annotations

from datetime import datetime

from bot.registry import Command, FlowRouter, Forgetter
from bot.vocabulary.conversation import Button, Post, Section
from bot.vocabulary.errors import NothingOpen, UsageError
from bot.vocabulary.text import number
from flows.turn import Turn
from storage import community as communities
from storage import leads as store
from storage.models import Member

CHAIRS = "Co-chairs of {community}"
TERM = "{name} — {months}-month term, due for review on {ends}"
TERM_DUE = "{name} — {months}-month term ended on {ends}: time for the review"
NO_CHAIRS = "This community has no co-chairs yet. A co-chair sets them with `/cop chairs set @a @b [6|12]`."
CHAIRS_SET = "Thank you, {a} and {b}: you are our co-chairs for {months} months (review on {ends})."
CHAIRS_USAGE = "Usage: /cop chairs set @first @second [6|12] — two different members, a 6- or 12-month term."
UNKNOWN_MEMBER = "I don't know “{who}” in this community. They can `/cop join`, or mention them with @."

SUGGEST = "Who would like to lead our next meeting{topic}?"
SUGGEST_NAME = "I suggest {name} — {why}. Anyone can volunteer instead, and skipping is fine."
NEVER_LED = "they have not led one yet"
LAST_LED = "they last led on {when}"
VOLUNTEERED = "{name} has volunteered to lead — thank you!"
CONFIRM_HINT = "A co-chair confirms with the button or `/cop lead confirm`."
NOBODY = "Everyone has led recently or has opted out — anyone can `/cop lead volunteer`."
SKIPPED = "Noted — I won't suggest you to lead. You can still volunteer any time."
CONFIRMED = "{name} will lead our next meeting{topic}. Thank you, {name}!"
NO_PROPOSAL = "There is no suggestion to confirm yet. Type `/cop lead` first, or `/cop lead confirm @member`."
ALREADY_CONFIRMED = "{name} is already confirmed to lead our next meeting."
LEAD_USAGE = "Usage: /cop lead | lead volunteer | lead skip | lead confirm [@member]"


router = FlowRouter("rotation")


@router.verb(
    "chairs",
    "chairs | chairs set @a @b [6|12]",
    "Show the co-chairs and their term; a co-chair sets the next two co-chairs for a 6- or 12-month term.",
    chair_forms={"set": "set the co-chairs"},
)
async def chairs(turn: Turn, cmd: Command) -> list[Post]:
    args = cmd.args
    community = turn.require_community()
    if args and args[0].lower() == "set":
        return await _set_chairs(turn, args[1:])
    if args:
        raise UsageError("Usage: /cop chairs | chairs set @a @b [6|12]")
    current = await communities.current_chairs(turn.session, community.id)
    if not current:
        return [turn.private(NO_CHAIRS)]
    lines = tuple(
        (TERM_DUE if term.ends_on <= turn.today else TERM).format(
            name=member.name, months=term.months, ends=term.ends_on.isoformat()
        )
        for term, member in current
    )
    return [Post(CHAIRS.format(community=community.name), sections=(Section("", lines),))]


async def _set_chairs(turn: Turn, args: tuple[str, ...]) -> list[Post]:
    community = turn.require_community()
    await turn.require_chair("set the co-chairs")
    months = 12
    names = list(args)
    if names and number(names[-1]) is not None:
        months = number(names.pop()) or 0
    if months not in (6, 12) or len(names) != 2:
        raise UsageError(CHAIRS_USAGE)
    members: list[Member] = []
    for token in names:
        member = await turn.resolve_member(token)
        if member is None:
            raise UsageError(UNKNOWN_MEMBER.format(who=token[:60]))
        members.append(member)
    if members[0].id == members[1].id:
        raise UsageError(CHAIRS_USAGE)
    for member in members:
        member.active = True
    terms = await communities.set_chairs(turn.session, community.id, members, months, turn.today)
    return [
        Post(
            CHAIRS_SET.format(a=members[0].name, b=members[1].name, months=months, ends=terms[0].ends_on.isoformat()),
            key=f"chairs:{terms[0].id}",
        )
    ]


@router.verb(
    "lead",
    "lead | lead volunteer | lead skip | lead confirm [@member]",
    "Who leads the next meeting: copbot proposes the member who led least recently; "
    "volunteer, skip (privately), or a co-chair confirms.",
    chair_forms={"confirm": "confirm who leads"},
    menu="lead | lead volunteer | lead skip | lead confirm",
)
async def lead(turn: Turn, cmd: Command) -> list[Post]:
    args = cmd.args
    sub = args[0].lower() if args else ""
    if sub == "":
        return await _suggest(turn)
    if sub == "volunteer":
        return await _volunteer(turn)
    if sub == "skip":
        return await _skip(turn)
    if sub == "confirm":
        return await _confirm(turn, args[1:])
    raise UsageError(LEAD_USAGE)


def _topic_suffix(turn: Turn) -> str:
    topic = turn.community.next_topic if turn.community else None
    return f" on “{topic}”" if topic else ""


async def _proposal_post(turn: Turn, member: Member, last: datetime | None, turn_id: int, volunteered: bool) -> Post:
    if volunteered:
        text = f"{SUGGEST.format(topic=_topic_suffix(turn))}\n{VOLUNTEERED.format(name=member.name)}"
    else:
        why = LAST_LED.format(when=last.date().isoformat()) if last else NEVER_LED
        text = f"{SUGGEST.format(topic=_topic_suffix(turn))}\n{SUGGEST_NAME.format(name=member.name, why=why)}"
    return Post(
        f"{text}\n{CONFIRM_HINT}",
        buttons=(
            Button("I'll lead", "lead volunteer"),
            Button("Not me this time", "lead skip"),
            Button("Confirm", f"lead confirm @{member.user_id}", "primary"),
        ),
        key=f"lead:{turn_id}",
    )


async def _suggest(turn: Turn, *, exclude: int | None = None) -> list[Post]:
    community = turn.require_community()
    await turn.member()
    order = [(m, last) for m, last in await store.rotation_order(turn.session, community.id) if m.id != exclude]
    if not order:
        return [Post(NOBODY)]
    member, last = order[0]
    proposal = await store.propose(turn.session, community.id, member.id, turn.now)
    return [await _proposal_post(turn, member, last, proposal.id, False)]


async def _volunteer(turn: Turn) -> list[Post]:
    community = turn.require_community()
    member = await turn.member()
    member.lead_opt_out = False
    proposal = await store.propose(turn.session, community.id, member.id, turn.now, volunteered=True)
    return [await _proposal_post(turn, member, None, proposal.id, True)]


async def _skip(turn: Turn) -> list[Post]:
    community = turn.require_community()
    member = await turn.member()
    member.lead_opt_out = True
    posts = [turn.private(SKIPPED)]
    proposal = await store.proposed_turn(turn.session, community.id)
    if proposal is not None and proposal.member_id == member.id:
        posts = await _suggest(turn, exclude=member.id) + posts
    return posts


async def _confirm(turn: Turn, args: tuple[str, ...]) -> list[Post]:
    community = turn.require_community()
    await turn.require_chair("confirm who leads")
    proposal = await store.proposed_turn(turn.session, community.id)
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
