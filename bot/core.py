"""The router: one incoming event → one database transaction → the flow that answers it.

Every event is handled in its own transaction; a platform event id is claimed in the same
transaction, so a retried event is handled once. A clash with another worker (a unique
constraint, a busy database) rolls back and the event is handled again from the top.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_random

from bot import commands
from bot.conversation import ChoiceEvent, CommandEvent, Event, Post, ReplyEvent, storable_event
from bot.errors import CopbotError, UsageError
from bot.text import number
from flows import agenda, answers, membership, reflection, rotation, support_round, topic_vote
from flows.turn import Turn
from storage import answers as answer_store
from storage import community as communities
from storage import votes as vote_store
from storage.db import Database
from storage.delivery import claim_event

log = logging.getLogger(__name__)

SORRY = "Sorry — something went wrong on my side and nothing was changed. Please try again in a moment."

Handler = Callable[[Turn, commands.Command], Awaitable[list[Post]]]


def _int_arg(cmd: commands.Command) -> int | None:
    """The step number a button carries (``next 2``); typed ``next`` has none."""
    step = number(cmd.args[0]) if cmd.args else None
    if step is not None:
        return step
    if cmd.args:
        raise UsageError(commands.usage(cmd.verb))
    return None


async def _vote(turn: Turn, cmd: commands.Command) -> list[Post]:
    if not cmd.args:
        if turn.community is not None and await turn.is_chair():
            return await topic_vote.open_vote(turn, None)
        return await topic_vote.show(turn)
    if cmd.args[0].lower() == "open":
        budget = None
        if len(cmd.args) > 1:
            budget = number(cmd.args[1])
            if budget is None or not 1 <= budget <= 10:
                raise UsageError("Usage: /cop vote open [dots, 1 to 10]")
        return await topic_vote.open_vote(turn, budget)
    return await topic_vote.cast(turn, cmd.rest)


async def _close(turn: Turn, cmd: commands.Command) -> list[Post]:
    what = cmd.args[0].lower() if cmd.args else ""
    community = turn.require_community()
    if what == "support":
        return await support_round.close(turn)
    if what == "vote":
        return await topic_vote.close(turn, None)
    if what:
        return await topic_vote.close(turn, cmd.rest)
    if await vote_store.open_vote(turn.session, community.id) is not None:
        return await topic_vote.close(turn, None)
    if await answer_store.open_support_round(turn.session, community.id) is not None:
        return await support_round.close(turn)
    await turn.require_chair("close a round or vote")
    return [turn.private("Nothing is open to close.")]


async def _help(turn: Turn, cmd: commands.Command) -> list[Post]:
    return [turn.private(commands.help_text(cmd.args[0] if cmd.args else None))]


HANDLERS: dict[str, Handler] = {
    "help": _help,
    "setup": lambda t, c: membership.setup(t, c.rest),
    "join": lambda t, c: membership.join(t, c.rest),
    "leave": lambda t, c: membership.leave(t),
    "members": lambda t, c: membership.members(t),
    "forget-me": lambda t, c: membership.forget_me(t),
    "chairs": lambda t, c: rotation.chairs(t, c.args),
    "lead": lambda t, c: rotation.lead(t, c.args),
    "support": lambda t, c: support_round.open_round(t),
    "reflect": lambda t, c: reflection.start(t, c.rest),
    "next": lambda t, c: reflection.move(t, +1, _int_arg(c)),
    "back": lambda t, c: reflection.move(t, -1, _int_arg(c)),
    "end": lambda t, c: reflection.end(t, _int_arg(c)),
    "pass": lambda t, c: answers.pass_turn(t),
    "share": lambda t, c: answers.answer_open(t, c.rest, anonymous=False),
    "anon": lambda t, c: answers.answer_open(t, c.rest, anonymous=True),
    "edit": lambda t, c: answers.edit(t, c.args, c.rest),
    "withdraw": lambda t, c: answers.withdraw(t, c.args),
    "vote": _vote,
    "propose": lambda t, c: topic_vote.propose(t, c.rest),
    "close": _close,
    "meeting": lambda t, c: agenda.meeting(t),
}
assert set(HANDLERS) == set(commands.VERBS), "every verb needs a handler"


class Copbot:
    """The platform-neutral bot: ``await handle(event)`` returns the posts to deliver."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock

    async def handle(self, event: Event) -> list[Post]:
        if not event.actor.user_id or not event.place.channel_id:
            # Adapters answer such requests with a 400; this is the last line: no blank member,
            # and no "private" answer that would have nobody to go to but the channel.
            log.warning("an event from %s without a member or a channel was dropped", event.place.platform)
            return []
        event = storable_event(event)
        retrying = AsyncRetrying(
            stop=stop_after_attempt(4),
            wait=wait_random(0.01, 0.2),
            retry=retry_if_exception_type((IntegrityError, OperationalError)),
            reraise=True,
        )
        try:
            return await retrying(self._handle_once, event)
        except CopbotError as error:
            return [Post(str(error), private_to=event.actor.user_id)]
        except (DBAPIError, Exception) as error:  # noqa: BLE001 - a member sees a sentence, the log the type
            log.error(
                "event from %s:%s failed: %s",
                event.place.platform,
                event.place.channel_id,
                type(error).__name__,
                exc_info=log.isEnabledFor(logging.DEBUG),
            )
            return [Post(SORRY, private_to=event.actor.user_id)]

    async def _handle_once(self, event: Event) -> list[Post]:
        now = self.clock()
        async with self.db.transaction() as session:
            if event.event_id and not await claim_event(session, event.place.platform, event.event_id, now):
                log.info("event %s already handled; skipped", event.event_id)
                return []
            community = await communities.community_for(session, event.place)
            mentions = {m.user_id: m.name for m in getattr(event, "mentions", ())}
            turn = Turn(
                session,
                now,
                event.place,
                event.actor,
                community,
                mentions,
                pressed_button=isinstance(event, ChoiceEvent),
            )
            if isinstance(event, ReplyEvent):
                return await answers.reply(turn, event)
            text = event.command if isinstance(event, ChoiceEvent) else event.text
            return await self._command(turn, text)

    async def _command(self, turn: Turn, text: str) -> list[Post]:
        cmd = commands.parse(text)
        log.info("command %s in %s:%s", cmd.verb, turn.place.platform, turn.place.channel_id)
        verb = commands.VERBS[cmd.verb]
        if verb.needs_community:
            turn.require_community()
        if verb.free_text and turn.mention_names:
            cmd = dataclasses.replace(cmd, rest=turn.readable(cmd.rest))
        return await HANDLERS[cmd.verb](turn, cmd)


__all__ = ["Copbot", "CommandEvent", "ChoiceEvent", "ReplyEvent"]
