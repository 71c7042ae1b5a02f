"""Setting up a community in a channel (and renaming it), joining and leaving, the member
list, and forget-me (asked to confirm first: it cannot be undone)."""

from __future__ import annotations

import re

from bot.registry import Command, FlowRouter, Forgetter
from bot.vocabulary.conversation import Button, Place, Post, Section
from bot.vocabulary.errors import NotAllowed, UsageError
from bot.vocabulary.moments import stored_utc
from bot.vocabulary.text import and_list, display_token, trimmed
from flows import national
from flows.roles import ROLES, read_role
from flows.turn import CO_CHAIRS, Turn
from storage import channels, delivery, leads, outbox
from storage import community as communities
from storage.models import Community, Member


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
RENAME_HINT = " A co-chair can give it another name with `/cop rename <new name>`."
NAME_TAKEN = "There is already a community called “{name}”; only one of its co-chairs can add this channel to it."
SETUP_USAGE = "Usage: /cop setup <community name>"
NAME_TOO_LONG = "Please keep the community name under {n} characters."
RENAME_USAGE = "Usage: /cop rename <new name> — e.g. `/cop rename North East`."
RENAMED = "Our community is now called the {name} Community of Practice (it was {old}). Renamed by {by}."
SAME_NAME = "This community is already called {name}."
RENAME_TAKEN = "Another community is already called “{name}”. Please choose another name."
JOINED = "Welcome, {name}{role}! Glad you're here."
WELCOME_BACK = "Welcome back, {name}{role}!"
ALREADY_JOINED = (
    "You're a member of {community} already, {name} — glad you're here. Add your role with `/cop join <role>`."
)
ROLE_NOTED = "Thank you, {name}: your role is now {role}."
ROLE_UNKNOWN = "I don't know the role “{role}”. The roles are: {roles}. Type `/cop join <role>`, or just `/cop join`."
ROLE_DID_YOU_MEAN = (
    "I'm not sure which role “{role}” is. Did you mean {choices}? "
    "Type `/cop join` with the one you mean, e.g. `/cop join {first}`."
)
NOT_JOINED = "{who} hasn't joined {community} — they can type `/cop join` in this channel{then}."
HAS_LEFT = "{who} has left {community} — they can type `/cop join` to come back{then}."
NO_SUCH_MEMBER = (
    "I don't know “{who}” in {community}. Mention a member with @ (`/cop members` lists them); "
    "someone who hasn't joined can type `/cop join`."
)
LEFT = "You've left {name}. What you shared stays on the flipchart unless you use `/cop forget-me`. Take care."
LEFT_AS_CHAIR = "Your term as co-chair ends with it — thank you for all you did. I've told the channel."
CHAIR_LEFT = "{name} has left the community, and their term as co-chair has ended with it — thank you, {name}."
CHAIR_STEPPED_DOWN = "One of our co-chairs has stepped down."
ONE_CHAIR_NOW = "{name} is now our only co-chair."
NO_CHAIR_NOW = "We have no co-chair now."
FIND_CHAIRS = (
    "A community has two co-chairs: anyone can nominate a member with `/cop chairs nominate @member` or offer "
    "with `/cop chairs volunteer`, and the group agrees in a short consent round."
)
TO_OTHER_CHAIR = (
    "{who} has stepped down, so you are the only co-chair of {community} now. I've told the "
    "channel; the group can agree on a second co-chair with `/cop chairs nominate @member` or `/cop chairs volunteer`."
)
YOUR_FELLOW = "Your fellow co-chair {name}"
A_FELLOW = "Your fellow co-chair"
MEMBERS = "Members of {name} ({n})"
FORGET_ASK = (
    "Are you sure? forget-me deletes everything I keep about you in {names}, and it cannot be undone: "
    "your membership{role}, {chair}what you shared with your name (support statements, reflection answers and "
    "their actions, votes, agenda items, answers in co-chair and Terms of Reference rounds), your attendance and "
    "posts not yet delivered. "
    "Meetings you led and topics you proposed stay, without your name.\n"
    "To go ahead, press the button or type `/cop forget-me confirm`. To step away and keep what you shared, "
    "type `/cop leave` instead."
)
FORGET_ASK_CHAIR = "your term as co-chair (the group would then need another), "
FORGET_BUTTON = "Yes, delete everything"
FORGET_USAGE = "Usage: /cop forget-me — then `/cop forget-me confirm` to go ahead."
FORGOTTEN = "Done: I deleted what I kept about you in {name}:"
FORGOTTEN_NOTE = (
    "Answers you shared without your name were never linked to you, so I cannot find them; use their "
    "private code to withdraw them. Take care."
)
YOUR_MEMBERSHIP = "your membership{role}"
YOUR_TERM = "your term as co-chair (until {ends})"
NOTHING_ELSE = "nothing else: you had not shared anything with your name"
NOT_A_MEMBER = "I don't keep anything about you here."
MAX_NAME = 120
_COP_SUFFIX = re.compile(r"\s+(community\s+of\s+practice|cop)$", re.IGNORECASE)


router = FlowRouter("membership")


def community_name(text: str) -> str:
    """A community's name as typed, tidied: one space between words, no quotes around it, and
    without a trailing "Community of Practice" (copbot says that itself). `UsageError` when
    there is none, or it is too long."""
    name = " ".join(trimmed(text).split()).strip("\"'“”‘’")
    name = _COP_SUFFIX.sub("", name).strip() or name
    if not name:
        raise UsageError(SETUP_USAGE)
    if len(name) > MAX_NAME:
        raise UsageError(NAME_TOO_LONG.format(n=MAX_NAME))
    return name


@router.verb(
    "setup",
    "setup <community name>",
    "Start a community in this channel (you are a provisional co-chair until the group agrees on two), or bind this "
    "channel to an existing community (a co-chair of it only). A co-chair renames it with `rename`. "
    "`setup national` makes a channel the national office's (only someone COPBOT_NATIONAL_OFFICE names).",
    needs_community=False,
    free_text=True,
    menu="setup <community name>: start a community in this channel",
)
async def setup(turn: Turn, cmd: Command) -> list[Post]:
    name = community_name(cmd.rest)
    if name.casefold() == national.NATIONAL_NAME:
        return await national.setup_national(turn)
    await national.refuse_a_community_here(turn)
    if turn.community is not None:
        text = ALREADY_BOUND.format(name=turn.community.name)
        if turn.community.name.casefold() != name.casefold():
            text += RENAME_HINT
        return [turn.private(text)]
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


@router.verb(
    "rename",
    "rename <new name>",
    "Give this community another name (every channel bound to it follows).",
    who=CO_CHAIRS,
    action="rename the community",
    free_text=True,
)
async def rename(turn: Turn, cmd: Command) -> list[Post]:
    community = turn.require_community()
    if not trimmed(cmd.rest):
        raise UsageError(RENAME_USAGE)
    name = community_name(cmd.rest)
    old = community.name
    if name == old:
        return [turn.private(SAME_NAME.format(name=old))]
    if not await communities.rename_community(turn.session, community, name):
        raise UsageError(RENAME_TAKEN.format(name=name))
    by = await turn.member()
    return [Post(RENAMED.format(name=name, old=old, by=by.name))]


async def joined_member(turn: Turn, token: str, then: str = "") -> Member:
    """The member a mention (``@U123``, ``@Ana_Lopez``) or a name names, who has joined this
    community; otherwise `UsageError` saying who has not joined (or left) and what works.
    Never makes a member of someone who has not joined. ``then`` ends the refusal (", and then …")."""
    community = turn.require_community()
    bare = token.lstrip("@")
    found = await communities.find_member(turn.session, community.id, bare)
    if found is not None and found.active:
        return found
    mentioned = turn.mention_names.get(bare) or next(
        (name for uid, name in turn.mention_names.items() if display_token(name, uid) == bare), None
    )
    if found is not None:
        raise UsageError(HAS_LEFT.format(who=found.name[:60], community=community.name, then=then))
    if mentioned is None and not token.startswith("@"):
        raise UsageError(NO_SUCH_MEMBER.format(who=turn.readable(token)[:60], community=community.name))
    who = mentioned or turn.readable(token).lstrip("@").replace("_", " ")
    raise UsageError(NOT_JOINED.format(who=who[:60], community=community.name, then=then))


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
    + ". Plurals and short forms work too (“IPS”, “Peer Support Workers”). Joined already: it sets your role.",
    menu="join [role]: join this community",
)
async def join(turn: Turn, cmd: Command) -> list[Post]:
    """The day's one welcome post names everyone `join` welcomed that day, with their roles
    (the founder too); a member welcomed on an earlier day only has their role noted."""
    community = turn.require_community()
    role = _role(cmd.rest)
    existing = await communities.member_for(turn.session, community.id, turn.place.platform, turn.actor.user_id)
    returning = existing is not None and not existing.active
    if existing is not None:
        existing.active = True
    member = await turn.member()
    if role:
        member.role = role
    if returning:
        member.greeted_at = turn.now
        suffix = f" ({member.role})" if member.role else ""
        return [Post(WELCOME_BACK.format(name=member.name, role=suffix))]
    if member.greeted_at is not None and stored_utc(member.greeted_at).date() != turn.today:
        if role:
            return [turn.private(ROLE_NOTED.format(name=member.name, role=role))]
        return [turn.private(ALREADY_JOINED.format(community=community.name, name=member.name))]
    if member.greeted_at is None:
        member.greeted_at = turn.now
    await turn.session.flush()
    return [await _welcome_of_the_day(turn, community)]


async def _welcome_of_the_day(turn: Turn, community: Community) -> Post:
    """One welcome post for everyone who joins on a day, updated as more join: a meeting where
    people join as it starts gets one post, not one each."""
    joined = await communities.greeted_on(turn.session, community.id, turn.today)
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
    proposal = await leads.proposed_turn(turn.session, community.id, member.id)
    if proposal is not None:
        leads.supersede(proposal)
    text = LEFT.format(name=community.name)
    if not await communities.end_term(turn.session, member, turn.today):
        return [turn.private(text)]
    # A co-chair who left is one no longer: the channel and the other co-chair are told.
    notice = await _chair_gone(turn, community, member, CHAIR_LEFT.format(name=member.name))
    return [turn.private(f"{text}\n{LEFT_AS_CHAIR}"), *notice]


async def _chair_gone(turn: Turn, community: Community, gone: Member | None, why: str) -> list[Post]:
    """What the channel and the co-chair still in office are told when a co-chair goes: how many
    co-chairs there are now, and how the group finds another."""
    left = [m for _, m in await communities.current_chairs(turn.session, community.id) if m.active]
    now = ONE_CHAIR_NOW.format(name=left[0].name) if len(left) == 1 else NO_CHAIR_NOW if not left else ""
    posts = [Post(f"{why} {now}\n{FIND_CHAIRS}" if now else why)]
    fellow = YOUR_FELLOW.format(name=gone.name) if gone is not None else A_FELLOW
    if len(left) == 1 and left[0].platform == turn.place.platform:
        posts.append(Post(TO_OTHER_CHAIR.format(who=fellow, community=community.name), private_to=left[0].user_id))
    return posts


@router.verb("members", "members", "Who is in this community, with their roles.")
async def members(turn: Turn, cmd: Command) -> list[Post]:
    community = turn.require_community()
    people = await communities.active_members(turn.session, community.id)
    lines = tuple(f"{m.name}" + (f" — {m.role}" if m.role else "") for m in people)
    return [Post(MEMBERS.format(name=community.name, n=len(people)), sections=(Section("", lines),))]


@router.verb(
    "forget-me",
    "forget-me [confirm]",
    "Delete everything copbot keeps about you in this community (in a private chat with copbot: in every "
    "community). It asks first, since it cannot be undone: `forget-me confirm` goes ahead.",
    needs_community=False,
    private_menu="Delete everything copbot keeps about you, in every community",
)
async def forget_me(turn: Turn, cmd: Command) -> list[Post]:
    """In a community's channel: that community. In a private chat with the bot (no community):
    every community the member belongs to on this platform. Without ``confirm`` it only asks."""
    form = " ".join(arg.lower() for arg in cmd.args)
    if form not in ("", "confirm"):
        raise UsageError(FORGET_USAGE)
    found = await memberships_here(turn)
    if not found:
        return [turn.private(NOT_A_MEMBER)]
    if form == "":
        return [await _ask_to_forget(turn, found)]
    posts = []
    for community, member in found:
        posts += await _forget(turn, community, member)
    return posts


async def memberships_here(turn: Turn) -> list[tuple[Community, Member]]:
    """Whose data a member asks about: in a community's channel, their membership there; in a
    private chat with copbot (no community), every community they belong to on this platform."""
    if turn.community is not None:
        member = await communities.member_for(turn.session, turn.community.id, turn.place.platform, turn.actor.user_id)
        return [(turn.community, member)] if member is not None else []
    return await communities.memberships_of(turn.session, turn.place.platform, turn.actor.user_id)


async def _ask_to_forget(turn: Turn, found: list[tuple[Community, Member]]) -> Post:
    roles = {member.role for _, member in found if member.role}
    chair = any([await communities.is_chair(turn.session, member) for _, member in found])
    text = FORGET_ASK.format(
        names=and_list([community.name for community, _ in found]),
        role=f" and role ({and_list(sorted(roles))})" if roles else "",
        chair=FORGET_ASK_CHAIR if chair else "",
    )
    return turn.private(text, buttons=(Button(FORGET_BUTTON, "forget-me confirm", "danger"),))


async def _forget(turn: Turn, community: Community, member: Member) -> list[Post]:
    """Delete ``member`` and what every flow keeps about them; the list of what went, for them,
    and, when they were a co-chair, the notice for the channel and the other co-chair."""
    terms = await communities.current_chairs(turn.session, community.id)
    term = next((term for term, chair in terms if chair.id == member.id), None)
    removed = [YOUR_MEMBERSHIP.format(role=f" and role ({member.role})" if member.role else "")]
    if term is not None:
        removed.append(YOUR_TERM.format(ends=term.ends_on.isoformat()))
    counts: dict[str, int] = {}
    for forgetter in forgetters():
        counts.update(await forgetter.forget(turn.session, member))
    counts.pop("co-chair terms", None)  # said above, with its end
    removed += [f"{what}: {n}" for what, n in counts.items() if n]
    if len(removed) == 1 + (term is not None):
        removed.append(NOTHING_ELSE)
    await communities.delete_member(turn.session, member)
    note = Post(
        FORGOTTEN.format(name=community.name),
        sections=(Section("", tuple(removed)), Section(FORGOTTEN_NOTE)),
        private_to=turn.actor.user_id,
    )
    if term is None:
        return [note]
    notice = await _chair_gone(turn, community, None, CHAIR_STEPPED_DOWN)
    if turn.community is not None and turn.community.id == community.id:
        return [note, *notice]
    await _to_channels(turn, community, notice)  # from a private chat: to the community's own channels
    return [note]


async def _to_channels(turn: Turn, community: Community, posts: list[Post]) -> None:
    """Keep ``posts`` in the outbox for each of the community's channels on this platform (the
    event came from elsewhere: a private chat with copbot)."""
    for binding in await channels.active_channels(turn.session, community.id):
        if binding.platform == turn.place.platform:
            place = Place(binding.platform, binding.channel_id, binding.team_id)
            await outbox.enqueue(turn.session, place, posts, turn.now)


# Posts that could not be delivered may be addressed to the member or quote them.
router.forgetter(Forgetter("undelivered posts", (), delivery.forget_undelivered))
