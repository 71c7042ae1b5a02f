"""A `Turn`: everything a flow needs to handle one event — the open transaction, the clock's
``now``, where it happened, who acted, their community and member row."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.registry import Permission
from bot.vocabulary.conversation import Actor, Place, Post
from bot.vocabulary.errors import NotAllowed
from bot.vocabulary.national_office import NationalOffice
from bot.vocabulary.text import display_token
from storage import community as communities
from storage import leads
from storage.models import Community, Member

ONLY_CHAIRS = "Only a co-chair can {what}. Type `/cop chairs` to see who they are."
ONLY_CHAIRS_OR_LEAD = (
    "Only a co-chair or today's lead can {what}. `/cop chairs` shows the co-chairs, `/cop meeting` today's lead."
)
NO_COMMUNITY = (
    "This channel has no community yet. Start one with `/cop setup <community name>` "
    "(you are its provisional co-chair until the group agrees on two)."
)

_MENTION_TOKEN = re.compile(r"@([\w.\-:]+)")


@dataclass
class Turn:
    session: AsyncSession
    now: datetime
    place: Place
    actor: Actor
    community: Community | None
    mention_names: dict[str, str] = field(default_factory=dict)
    pressed_button: bool = False  # the event is a button press (double clicks are possible)
    national_office: NationalOffice = field(default_factory=NationalOffice)
    _member: Member | None = None

    @property
    def today(self) -> date:
        return self.now.date()

    def require_community(self) -> Community:
        if self.community is None:
            raise NotAllowed(NO_COMMUNITY)
        return self.community

    async def member(self) -> Member:
        """The actor as a member of this channel's community (joined on first contact).
        Someone who left must join again before taking part."""
        if self._member is not None:
            return self._member
        community = self.require_community()
        member = await communities.ensure_member(self.session, community.id, self.place.platform, self.actor, self.now)
        if not member.active:
            raise NotAllowed("You left this community. Type `/cop join` to take part again — welcome back!")
        self._member = member
        return member

    async def is_chair(self) -> bool:
        return await communities.is_chair(self.session, await self.member())

    async def require_chair(self, what: str) -> Member:
        member = await self.member()
        if not await communities.is_chair(self.session, member):
            raise NotAllowed(ONLY_CHAIRS.format(what=what))
        return member

    async def is_todays_lead(self) -> bool:
        """Whether the actor leads today's meeting (confirmed as lead at an earlier meeting)."""
        lead = await leads.lead_before(self.session, self.require_community().id, self.today)
        return lead is not None and lead.id == (await self.member()).id

    async def may_run_the_meeting(self) -> bool:
        """A co-chair, or today's lead: the guide's flat leadership, where members take turns
        to lead the meeting's parts."""
        return await self.is_chair() or await self.is_todays_lead()

    async def require_chair_or_lead(self, what: str) -> Member:
        if not await self.may_run_the_meeting():
            raise NotAllowed(ONLY_CHAIRS_OR_LEAD.format(what=what))
        return await self.member()

    async def resolve_member(self, token: str) -> Member | None:
        """``@<user id>`` or ``@Name`` → a member of this community who has joined and not
        left; None otherwise. A mention never makes anyone a member."""
        community = self.require_community()
        token = token.lstrip("@")
        found = await communities.find_member(self.session, community.id, token)
        if found is None:  # a readable mention (``@Ana_Lopez``): the platform id behind it
            token = next((uid for uid, name in self.mention_names.items() if display_token(name, uid) == token), token)
            found = await communities.find_member(self.session, community.id, token)
        return found if found is not None and found.active else None

    def readable(self, text: str) -> str:
        """Free text with each mention token (``@U123``) as the member's name (``@Ana_Lopez``):
        what is kept and shown later names people, never a platform's raw ids."""
        for user_id, name in self.mention_names.items():
            token = re.compile(rf"@{re.escape(user_id)}(?![\w.\-:])")
            shown = "@" + display_token(name, user_id)
            text = token.sub(lambda _, shown=shown: shown, text)  # type: ignore[misc]
        return text

    async def to_co_chairs(self, text: str, **extra: object) -> list[Post]:
        """The same private post for each current co-chair this platform can reach (not the
        actor): what goes "through the Chair" and what only the co-chairs may see."""
        actor = await self.member()
        return [
            Post(text, private_to=chair.user_id, **extra)  # type: ignore[arg-type]
            for _, chair in await communities.current_chairs(self.session, self.require_community().id)
            if chair.platform == self.place.platform and chair.active and chair.id != actor.id
        ]

    def private(self, text: str, **extra: object) -> Post:
        """A post only the actor sees."""
        return Post(text, private_to=self.actor.user_id, **extra)  # type: ignore[arg-type]


def mention_tokens_in(text: str) -> list[str]:
    return _MENTION_TOKEN.findall(text)


async def _is_chair(turn: Turn) -> bool:
    return await turn.is_chair()


CO_CHAIRS = Permission("co-chairs only", _is_chair, ONLY_CHAIRS)


async def _runs_the_meeting(turn: Turn) -> bool:
    return await turn.may_run_the_meeting()


CO_CHAIRS_OR_TODAYS_LEAD = Permission("co-chairs only", _runs_the_meeting, ONLY_CHAIRS_OR_LEAD, also="or today's lead")
