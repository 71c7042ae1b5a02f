"""Setting up a community in a channel, joining and leaving, the member list, and forget-me."""

from __future__ import annotations

from bot.registry import Command, FlowRouter, Forgetter
from bot.vocabulary.conversation import Post, Section
from bot.vocabulary.errors import NotAllowed, UsageError
from bot.vocabulary.text import and_list, trimmed
from flows.roles import ROLES, read_role
from flows.turn import Turn
from storage import community as communities
from storage import delivery, leads
from storage.models import Community


def forgetters() -> tuple[Forgetter, ...]:
    """Every flow's forgetter (from the composed registry: forget-me lists none itself)."""
    from flows import REGISTRY

    return REGISTRY.forgetters


WELCOME = (
    "Welcome to the {name} Community of Practice! I'm copbot, your facilitator and flipchart.\n"
    "{chair} set it up and is a provisional co-chair until the group agrees on two co-chairs: anyone can "
    "`/cop chairs nominate @member` or `/cop chairs volunteer`, and a co-chair can record two agreed ones "
    "with `/cop chairs set @a @b [6|12]`.\n"
    "Everyone: say hello with `/cop join [your role]`, and type `/cop help` to see what I can do."
)
BOUND = "This channel is now part of the {name} Community of Practice."
ALREADY_BOUND = "This channel already belongs to the {name} Community of Practice."
NAME_TAKEN = "There is already a community called “{name}”; only one of its co-chairs can add this channel to it."
SETUP_USAGE = "Usage: /cop setup <community name>"
JOINED = "Welcome, {name}{role}! Glad you're here."
WELCOME_BACK = "Welcome back, {name}{role}!"
ROLE_UNKNOWN = "I don't know the role “{role}”. The roles are: {roles}. Type `/cop join <role>`, or just `/cop join`."
ROLE_DID_YOU_MEAN = (
    "I'm not sure which role “{role}” is. Did you mean {choices}? "
    "Type `/cop join` with the one you mean, e.g. `/cop join {first}`."
)
LEFT = "You've left {name}. What you shared stays on the flipchart unless you use `/cop forget-me`. Take care."
LEFT_AS_CHAIR = (
    "Your term as co-chair ends with it — thank you for all you did. The group can agree on a new co-chair "
    "with `/cop chairs nominate @member` or `/cop chairs volunteer`."
)
MEMBERS = "Members of {name} ({n})"
FORGOTTEN = (
    "Done: I deleted what I kept about you in {name} — {counts}. Answers you shared without your "
    "name were never linked to you, so I cannot find them; use their private code to withdraw them."
)
NOT_A_MEMBER = "I don't keep anything about you here."
MAX_NAME = 120


router = FlowRouter("membership")


@router.verb(
    "setup",
    "setup <community name>",
    "Start a community in this channel (you are a provisional co-chair until the group agrees on two), or bind this "
    "channel to an existing community (a co-chair of it only).",
    needs_community=False,
    free_text=True,
    menu="setup <community name>: start a community in this channel",
)
async def setup(turn: Turn, cmd: Command) -> list[Post]:
    name = " ".join(trimmed(cmd.rest).split())
    if not name:
        raise UsageError(SETUP_USAGE)
    if len(name) > MAX_NAME:
        raise UsageError(f"Please keep the community name under {MAX_NAME} characters.")
    if turn.community is not None:
        return [turn.private(ALREADY_BOUND.format(name=turn.community.name))]
    existing = await communities.community_named(turn.session, name)
    if existing is not None:
        member = await communities.member_for(turn.session, existing.id, turn.place.platform, turn.actor.user_id)
        if member is None or not await communities.is_chair(turn.session, member):
            raise NotAllowed(NAME_TAKEN.format(name=existing.name))
        await communities.bind_channel(turn.session, existing, turn.place, turn.now)
        return [Post(BOUND.format(name=existing.name))]
    community = await communities.create_community(turn.session, name, turn.now)
    if not await communities.bind_channel(turn.session, community, turn.place, turn.now):
        raise NotAllowed("This channel was just set up by someone else.")
    turn.community = community
    founder = await turn.member()
    await communities.set_chairs(turn.session, community.id, [founder], 12, turn.today)
    return [Post(WELCOME.format(name=community.name, chair=founder.name), key=f"community:{community.id}:welcome")]


def _role(text: str) -> str | None:
    """The role a member typed, in the guide's words; `UsageError` (nothing is kept) when it
    fits several roles or none."""
    typed = " ".join(trimmed(text).split())
    if not typed:
        return None
    reading = read_role(typed)
    if reading.role:
        return reading.role
    if reading.choices:
        raise UsageError(
            ROLE_DID_YOU_MEAN.format(role=typed[:60], choices=_or_list(reading.choices), first=reading.choices[0])
        )
    raise UsageError(ROLE_UNKNOWN.format(role=typed[:60], roles=", ".join(ROLES)))


def _or_list(choices: tuple[str, ...]) -> str:
    return choices[0] if len(choices) == 1 else f"{', '.join(choices[:-1])} or {choices[-1]}"


@router.verb(
    "join",
    "join [role]",
    "Join this community, optionally with your role in the guide's words: "
    + ", ".join(ROLES)
    + ". Plurals and short forms work too (“IPS”, “Peer Support Workers”).",
    menu="join [role]: join this community",
)
async def join(turn: Turn, cmd: Command) -> list[Post]:
    community = turn.require_community()
    role = _role(cmd.rest)
    existing = await communities.member_for(turn.session, community.id, turn.place.platform, turn.actor.user_id)
    returning = existing is not None and not existing.active
    if existing is not None:
        existing.active = True
    member = await turn.member()
    if role:
        member.role = role
    suffix = f" ({member.role})" if member.role else ""
    if returning:
        return [Post(WELCOME_BACK.format(name=member.name, role=suffix))]
    return [await _welcome_of_the_day(turn, community)]


async def _welcome_of_the_day(turn: Turn, community: Community) -> Post:
    """One welcome post for everyone who joins on a day, updated as more join: a meeting where
    people join as it starts gets one post, not one each."""
    joined = await communities.joined_on(turn.session, community.id, turn.today)
    names = [f"{m.name}{f' ({m.role})' if m.role else ''}" for m in joined] or [turn.actor.name]
    return Post(
        JOINED.format(name=and_list(names), role=""),
        key=f"community:{community.id}:joined:{turn.today.isoformat()}",
        replace=True,
    )


@router.verb("leave", "leave", "Leave this community. What you shared stays unless you use forget-me.")
async def leave(turn: Turn, cmd: Command) -> list[Post]:
    community = turn.require_community()
    member = await turn.member()
    member.active = False
    proposal = await leads.proposed_turn(turn.session, community.id)
    if proposal is not None and proposal.member_id == member.id:
        leads.supersede(proposal)
    text = LEFT.format(name=community.name)
    if await communities.end_term(turn.session, member, turn.today):  # a co-chair who left is one no longer
        text = f"{text}\n{LEFT_AS_CHAIR}"
    return [turn.private(text)]


@router.verb("members", "members", "Who is in this community, with their roles.")
async def members(turn: Turn, cmd: Command) -> list[Post]:
    community = turn.require_community()
    people = await communities.active_members(turn.session, community.id)
    lines = tuple(f"{m.name}" + (f" — {m.role}" if m.role else "") for m in people)
    return [Post(MEMBERS.format(name=community.name, n=len(people)), sections=(Section("", lines),))]


@router.verb(
    "forget-me",
    "forget-me",
    "Delete everything copbot keeps about you in this community (in a private chat with copbot: in every community).",
    needs_community=False,
    private_menu="Delete everything copbot keeps about you, in every community",
)
async def forget_me(turn: Turn, cmd: Command) -> list[Post]:
    """In a community's channel: that community. In a private chat with the bot (no community):
    every community the member belongs to on this platform."""
    if turn.community is not None:
        member = await communities.member_for(turn.session, turn.community.id, turn.place.platform, turn.actor.user_id)
        found = [(turn.community, member)] if member is not None else []
    else:
        found = await communities.memberships_of(turn.session, turn.place.platform, turn.actor.user_id)
    if not found:
        return [turn.private(NOT_A_MEMBER)]
    posts = []
    for community, member in found:
        counts: dict[str, int] = {}
        for forgetter in forgetters():
            counts.update(await forgetter.forget(turn.session, member))
        await communities.delete_member(turn.session, member)
        summary = ", ".join(f"{what}: {n}" for what, n in counts.items())
        posts.append(turn.private(FORGOTTEN.format(name=community.name, counts=summary)))
    return posts


# Posts that could not be delivered may be addressed to the member or quote them.
router.forgetter(Forgetter("undelivered posts", (), delivery.forget_undelivered))
