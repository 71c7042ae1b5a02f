"""The router: one incoming event → the flow that answers it, in a database transaction.

An event is handled in its own transaction, or — when several events of one channel arrive
together (`handle_group`, a meeting's burst) — in one transaction shared with them, each in a
savepoint of its own: one event's failure undoes only itself, and one commit keeps them all.
A platform event id is claimed in the same transaction, so a retried event is handled once.
A clash with another worker (a unique constraint, a busy database) rolls back and the event
is handled again from the top.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_random

from bot import commands
from bot.registry import Command, Handler, Verb
from bot.vocabulary.conversation import ChoiceEvent, CommandEvent, Event, Post, ReplyEvent, storable_event
from bot.vocabulary.errors import CopbotError, NotAllowed, Unavailable
from bot.vocabulary.national_office import NationalOffice
from bot.vocabulary.text import storable
from flows import REGISTRY, answers
from flows.turn import CO_CHAIRS, Turn
from storage import channels, outbox
from storage.db import Database, transient, unreachable
from storage.delivery import claim_event, claim_events
from storage.group_memo import drop_memo, expect_actors, open_memo

log = logging.getLogger(__name__)

GROUP_ATTEMPTS = 4  # a unique clash with another worker: the event is tried again in its savepoint
SORRY = "Sorry — something went wrong on my side and nothing was changed. Please try again in a moment."


def _handlers() -> dict[str, Handler]:
    return {name: verb.handler for name, verb in REGISTRY.verbs.items()}


# Each verb's handler, as the flows registered it (the router reads nothing else).
HANDLERS: dict[str, Handler] = _handlers()


async def _permitted(turn: Turn, verb: Verb, cmd: Command) -> None:
    """The registry's "who may use it", enforced here for every verb: a chair-only form
    (``chairs set``) or a verb only some may use raises `NotAllowed` with the verb's sentence."""
    form = cmd.args[0].lower() if cmd.args else ""
    if form in verb.chair_forms:
        who = verb.forms_who or CO_CHAIRS
        if not await who.allows(turn):
            raise NotAllowed(who.refusal.format(what=verb.chair_forms[form]))
    if not await verb.who.allows(turn):
        raise NotAllowed(verb.who.refusal.format(what=verb.action or verb.name))


class Copbot:
    """The platform-neutral bot: ``await handle(event)`` returns the posts to deliver."""

    def __init__(
        self, db: Database, clock: Callable[[], datetime], national_office: NationalOffice | None = None
    ) -> None:
        self.db = db
        self.clock = clock
        self.national_office = national_office or NationalOffice()

    async def handle(self, event: Event) -> list[Post]:
        """Handle one event in its own transaction; returns the posts it kept to send."""
        if not _answerable(event):
            return []
        event = storable_event(event)
        retrying = AsyncRetrying(
            stop=stop_after_attempt(4),
            wait=wait_random(0.01, 0.2),
            retry=retry_if_exception(lambda error: isinstance(error, IntegrityError) or transient(error)),
            reraise=True,
        )
        try:
            return await retrying(self._handle_once, event)
        except CopbotError as error:
            return await self._answer_alone(event, [Post(str(error), private_to=event.actor.user_id)])
        except Exception as error:  # noqa: BLE001 - a member sees a sentence, the log the type
            if unreachable(error):  # nothing was kept: the platform must send it again
                where = f"{event.place.platform}:{event.place.channel_id}"
                log.error("event from %s not kept: %s", where, type(error).__name__)
                raise Unavailable("the database did not answer") from error
            log.error(
                "event from %s:%s failed: %s",
                event.place.platform,
                event.place.channel_id,
                type(error).__name__,
                exc_info=log.isEnabledFor(logging.DEBUG),
            )
            return await self._answer_alone(event, [Post(SORRY, private_to=event.actor.user_id)])

    async def _answer_alone(self, event: Event, posts: list[Post]) -> list[Post]:
        """A refusal or an apology: the event changed nothing, but the member is told."""
        posts = _to_presser(posts, event)
        try:
            async with self.db.transaction() as session:
                await outbox.enqueue(session, event.place, posts, self.clock())
        except DBAPIError as error:
            log.error("could not keep the answer to an event: %s", type(error).__name__)
        return posts

    async def handle_group(self, events: list[Event]) -> list[list[Post] | Unavailable]:
        """Handle events of one channel, in order, in one transaction: each in a savepoint, so
        a refused or failed event keeps only its answer to the member. If the group as a whole
        fails (the connection is lost, the commit fails), each event is handled again alone."""
        if len(events) == 1:
            try:
                return [await self.handle(events[0])]
            except Unavailable as unavailable:
                return [unavailable]
        try:
            try:  # first without savepoints (two statements less per event)…
                return await self._apply_group(events, isolated=False)
            except _Isolate:  # …and if one event did not go through, again with one savepoint each
                return await self._apply_group(events, isolated=True)
        except Exception as error:
            if not unreachable(error):
                raise
            log.warning("a group of %d events failed (%s); handling each alone", len(events), type(error).__name__)
        results: list[list[Post] | Unavailable] = []
        for event in events:
            try:
                results.append(await self.handle(event))
            except Unavailable as unavailable:
                results.append(unavailable)
        return results

    async def _apply_group(self, events: list[Event], *, isolated: bool) -> list[list[Post] | Unavailable]:
        """The group in one transaction. Its platform event ids are claimed first, in one
        statement (a retry of an event of the group, or of one handled before, is skipped)."""
        async with self.db.transaction() as session:
            expect_actors(session, {event.actor.user_id for event in events if isinstance(event, ReplyEvent)})
            ids = [storable(event.event_id) for event in events if event.event_id]
            fresh = await claim_events(session, events[0].place.platform, ids, self.clock())
            results: list[list[Post] | Unavailable] = []
            for event in events:
                claimed = None
                if event.event_id:
                    claimed = storable(event.event_id) in fresh
                    fresh.discard(storable(event.event_id))  # the same id twice in a group: once
                results.append(await self._in_group(session, event, isolated=isolated, claimed=claimed))
            return results

    async def _in_group(
        self, session: AsyncSession, event: Event, *, isolated: bool, claimed: bool | None = None
    ) -> list[Post]:
        """One event of a group. ``isolated``: in a savepoint of its own, so that its failure
        undoes only itself; otherwise any failure raises `_Isolate` (the group starts again).
        ``claimed``: whether its event id was new (None: it has none, or it is claimed here)."""
        if not _answerable(event):
            return []
        event = storable_event(event)
        now = self.clock()
        answering = isinstance(event, ReplyEvent)  # a run of answers shares its lookups
        if answering:
            open_memo(session)
        else:
            _read_afresh(session)
        if not isolated:
            try:
                posts = await self._apply(session, event, now, claimed)
            except Exception as error:  # noqa: BLE001 - applied again, isolated, where it is answered
                if unreachable(error):
                    raise
                raise _Isolate from error
            if not answering:
                _read_afresh(session)
            return posts
        try:
            for attempt in range(GROUP_ATTEMPTS):
                try:
                    async with session.begin_nested():
                        posts = await self._apply(session, event, now, claimed)
                except IntegrityError:  # another worker got there first: look again
                    _read_afresh(session)
                    if attempt == GROUP_ATTEMPTS - 1:
                        raise
                    continue
                except BaseException:
                    _read_afresh(session)  # undone: nothing it read or made may be remembered
                    raise
                if not answering:
                    _read_afresh(session)  # a command may have changed anything: the next event reads afresh
                return posts
            raise AssertionError("unreachable")
        except CopbotError as error:
            posts = [Post(str(error), private_to=event.actor.user_id)]
        except Exception as error:  # noqa: BLE001 - a member sees a sentence, the log the type
            if unreachable(error):
                raise  # the connection or the database: the whole group is handled again, alone
            log.error("event from %s:%s failed: %s", event.place.platform, event.place.channel_id, type(error).__name__)
            posts = [Post(SORRY, private_to=event.actor.user_id)]
        posts = _to_presser(posts, event)
        async with session.begin_nested():
            await outbox.enqueue(session, event.place, posts, now)
        return posts

    async def _handle_once(self, event: Event) -> list[Post]:
        now = self.clock()
        async with self.db.transaction() as session:
            return await self._apply(session, event, now)

    async def _apply(
        self, session: AsyncSession, event: Event, now: datetime, claimed: bool | None = None
    ) -> list[Post]:
        """The event's effect and its posts, in ``session``'s transaction (``claimed``: its
        event id was claimed already, True if for the first time)."""
        if claimed is None and event.event_id:
            claimed = await claim_event(session, event.place.platform, event.event_id, now)
        if claimed is False:
            log.info("event %s already handled; skipped", event.event_id)
            return []
        bound = await channels.binding_of(session, event.place)
        community = bound[1] if bound is not None else None
        elsewhere = isinstance(event, ChoiceEvent) and event.in_direct_message  # no sign copbot is back there
        if bound is not None and not elsewhere and channels.reactivate(bound[0]):
            log.info("%s:%s is active again", event.place.platform, event.place.channel_id)
        mentions = {m.user_id: m.name for m in getattr(event, "mentions", ())}
        turn = Turn(
            session,
            now,
            event.place,
            event.actor,
            community,
            mentions,
            pressed_button=isinstance(event, ChoiceEvent),
            national_office=self.national_office,
        )
        if isinstance(event, ReplyEvent):
            posts = _reacting(await answers.reply(turn, event), event)
        else:
            posts = await self._command(turn, event.command if isinstance(event, ChoiceEvent) else event.text)
        posts = _to_presser(posts, event)
        await outbox.enqueue(session, event.place, posts, now)  # decided and kept: one transaction
        return posts

    async def _command(self, turn: Turn, text: str) -> list[Post]:
        cmd = commands.parse(text)
        log.info("command %s in %s:%s", cmd.verb, turn.place.platform, turn.place.channel_id)
        verb = REGISTRY.verbs[cmd.verb]
        if verb.needs_community:
            turn.require_community()
        await _permitted(turn, verb, cmd)
        if verb.free_text and turn.mention_names:
            cmd = dataclasses.replace(cmd, rest=turn.readable(cmd.rest))
        return await verb.handler(turn, cmd)


class _Isolate(Exception):
    """An event of a group applied without savepoints failed or was refused: the group's
    transaction is undone and the group applied again, each event in a savepoint."""


def _read_afresh(session: AsyncSession) -> None:
    drop_memo(session)
    session.expunge_all()


def _answerable(event: Event) -> bool:
    if event.actor.user_id and event.place.channel_id:
        return True
    # Adapters answer such requests with a 400; this is the last line: no blank member, and no
    # "private" answer that would have nobody to go to but the channel.
    log.warning("an event from %s without a member or a channel was dropped", event.place.platform)
    return False


def _to_presser(posts: list[Post], event: Event) -> list[Post]:
    """A button pressed on a direct message (a reminder): what answers the presser goes to
    them directly too, where they are, not as a passing message in the channel."""
    if not (isinstance(event, ChoiceEvent) and event.in_direct_message):
        return posts
    return [
        dataclasses.replace(post, direct=True) if post.private_to == event.actor.user_id and not post.receipt else post
        for post in posts
    ]


def _reacting(posts: list[Post], event: ReplyEvent) -> list[Post]:
    """The member's message can carry the acknowledgement (a reaction): say which message."""
    if not event.message_ref:
        return posts
    return [
        dataclasses.replace(post, react_to=event.message_ref)
        if post.receipt and post.private_to == event.actor.user_id
        else post
        for post in posts
    ]


__all__ = ["Copbot", "CommandEvent", "ChoiceEvent", "ReplyEvent"]
