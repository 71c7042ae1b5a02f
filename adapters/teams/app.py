"""`POST /api/messages`: authenticate (401 on any doubt), translate, store the channel's address,
and answer Teams once the event is kept (its posts go out through the outbox after)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from aiohttp import web
from botbuilder.schema import Activity, ActivityTypes
from botframework.connector.auth import AuthenticateRequestResult, BotFrameworkAuthentication
from cachetools import LRUCache

from adapters.teams.sender import TeamsSender
from adapters.teams.translate import (
    Incoming,
    channel_reference,
    is_readable,
    reference_fingerprint,
    removal_of,
    serialize_reference,
    to_incoming,
)
from bot.request_body import bad_request, is_loopback, json_object, read_body, utf8
from bot.vocabulary.conversation import CommandEvent, Mention, Place, Post, ReplyEvent
from bot.vocabulary.errors import Unavailable
from bot.work_in_hand import WorkInHand

if TYPE_CHECKING:
    from bot.shell.runtime import Runtime

log = logging.getLogger(__name__)
AUTH_TIMEOUT_SECONDS = 10.0
ADDRESSES = 4096  # channels whose stored address this process remembers


async def _authenticate(auth: BotFrameworkAuthentication, activity: Activity, header: str) -> AuthenticateRequestResult:
    # botbuilder fetches the OpenID keys with blocking `requests` calls and no timeout: run the
    # check on a worker thread with its own loop, so a slow or unreachable login service
    # neither stalls the bot nor hangs the request. Without a token there is nothing to fetch
    # (local mode lets it through, otherwise it is refused): checked here, at once.
    if not header:
        return await auth.authenticate_request(activity, header)

    def check() -> AuthenticateRequestResult:
        return asyncio.run(auth.authenticate_request(activity, header))

    return await asyncio.wait_for(asyncio.to_thread(check), AUTH_TIMEOUT_SECONDS)


def service_host(service_url: str | None) -> str | None:
    try:
        return urlsplit(service_url or "").hostname
    except ValueError:
        return None


def vouched_service_url(result: AuthenticateRequestResult) -> str:
    """The ``serviceurl`` claim of a validated Bot Framework token ("" when it has none)."""
    claims = getattr(result.claims_identity, "claims", None) or {}
    value = claims.get("serviceurl") if isinstance(claims, dict) else None
    return value if isinstance(value, str) else ""


class TeamsEndpoint:
    """The Teams side of `copbot serve`: the token check, one sender, the pending core work.

    ``local`` (no app id, asked for with COPBOT_TEAMS_LOCAL=1) takes requests from this machine
    only, and only with a serviceUrl on this machine, and never repoints a stored conversation.
    Otherwise every request needs a valid Bot Framework token, and copbot answers only at the
    serviceUrl that token vouches for."""

    def __init__(
        self,
        runtime: Runtime,
        auth: BotFrameworkAuthentication,
        sender: TeamsSender,
        *,
        local: bool = False,
    ) -> None:
        self.runtime = runtime
        self.auth = auth
        self.sender = sender
        self.local = local
        self.work = WorkInHand(log)
        self._addresses: LRUCache[tuple[str, str], tuple[object, ...]] = LRUCache(ADDRESSES)

    async def messages(self, request: web.Request) -> web.Response:
        if self.local and not is_loopback(request.remote):
            return web.Response(status=403, text="local mode takes requests from this machine only")
        if "application/json" not in request.headers.get("Content-Type", ""):
            return web.Response(status=415)
        body = json_object(utf8(await read_body(request)))
        try:
            activity = Activity().deserialize(body)
        except Exception:  # noqa: BLE001 - msrest's many ways of saying "not an activity"
            raise bad_request("not a Bot Framework activity") from None
        if not isinstance(activity.type, str) or not activity.type or not is_readable(activity):
            raise bad_request("an activity needs a type, a sender and a conversation")
        if not isinstance(activity.service_url, str) or not activity.service_url.startswith(("https://", "http://")):
            raise bad_request("an activity needs its serviceUrl")
        if self.local and not is_loopback(service_host(activity.service_url)):
            return web.Response(status=403, text="local mode answers only a serviceUrl on this machine")
        try:
            authenticated = await _authenticate(self.auth, activity, request.headers.get("Authorization", ""))
        except Exception as error:  # noqa: BLE001 - missing, forged, expired or unverifiable: all 401
            log.warning("teams: rejected an unauthenticated request (%s)", type(error).__name__)
            return web.Response(status=401)
        if not self.local and vouched_service_url(authenticated).rstrip("/") != activity.service_url.rstrip("/"):
            # A valid token for another serviceUrl (or none): copbot would post where the
            # request chose. Refused before anything is kept or sent.
            log.warning("teams: a token that does not vouch for the activity's serviceUrl was refused")
            return web.Response(status=403)
        try:
            return await self.on_activity(activity)
        except Unavailable:  # nothing was kept: Teams is told to send it again
            return web.Response(status=503, text="not kept; please send it again")

    async def on_activity(self, activity: Activity) -> web.Response:
        """Translate, keep the channel's address and the event, then answer Teams.

        Not through `CloudAdapter.process_activity`: copbot never replies inside a turn (its
        posts go through the outbox), and a turn builds a connector client and a user-token
        client it would not use, which cost more than all the rest of a message (see
        docs/performance.md). The token was checked above with botbuilder's own check."""
        if activity.type == ActivityTypes.invoke:
            # Card actions copbot uses are Action.Submit messages; any invoke (Action.Execute,
            # a task module, a link unfurl) is acknowledged with the documented empty 200.
            return web.json_response(None, status=200)
        await self._take(activity)
        return web.Response(status=201)

    async def _take(self, activity: Activity) -> None:
        removal = removal_of(activity)
        if removal is not None:
            with self.work.inline("teams: copbot removed"):
                await self.runtime.removed(
                    "teams", removal.reason, channel_id=removal.channel_id or None, team_id=removal.team_id or None
                )
            return
        incoming = to_incoming(activity)
        if incoming is None:
            return  # not for copbot: neither stored nor logged
        await self.runtime.in_time(self._accept(activity, incoming))  # the look-ups and the dispatch: one deadline

    async def _accept(self, activity: Activity, incoming: Incoming) -> None:
        """A reply in one of copbot's threads, or any other message for it: its conversation's
        address kept, then the event handled."""
        event = incoming.event
        if incoming.needs_thread_check and not await self._is_bot_post(event.place, event.thread_ref):  # type: ignore[union-attr]
            return  # a reply chain that is not one of ours: dropped
        await self._keep_address(event.place, activity)
        # Acknowledged means stored: Teams gets its answer once the event is handled and its
        # posts are in the outbox (well inside Teams' 15 s); they go out after.
        with self.work.inline(f"teams: handling {type(event).__name__} in {event.place.channel_id}"):
            await self._handle(incoming)

    async def _keep_address(self, place: Place, activity: Activity) -> None:
        """Store the channel's address for later posts, unless this process stored the same
        one last (checked on a fingerprint: making the reference costs more than the rest)."""
        seen = reference_fingerprint(activity)
        known = (place.platform, place.channel_id)
        if self._addresses.get(known) == seen:
            return
        reference = serialize_reference(channel_reference(activity))
        await self.runtime.deliveries.save_conversation_ref(place, reference, repoint=not self.local)
        self._addresses[known] = seen

    async def _is_bot_post(self, place: Place, ref: str | None) -> bool:
        return bool(ref) and await self.runtime.deliveries.key_for(place, ref) is not None  # type: ignore[arg-type]

    async def _handle(self, incoming: Incoming) -> None:
        event = incoming.event
        if incoming.refusal:
            await self.runtime.post(event.place, [Post(incoming.refusal, private_to=event.actor.user_id)])
            return
        if isinstance(event, ReplyEvent) and event.thread_ref is None and incoming.card_key:
            ref = await self.runtime.deliveries.ref_for(event.place, incoming.card_key)
            event = dataclasses.replace(event, thread_ref=ref)
        if isinstance(event, CommandEvent) and event.mentions:
            event = await self._with_aad_mentions(event)
        await self.runtime.dispatch(event)

    async def _with_aad_mentions(self, event: CommandEvent) -> CommandEvent:
        """Mentions carry Teams ids (``29:…``) while actors are known by their Entra object id:
        look the mentioned members up so the core sees the same id for the same person."""
        text, mentions = event.text, []
        for mention in event.mentions:
            aad = None
            if mention.user_id.startswith("29:"):
                aad = await self.sender.member_aad_id(event.place, mention.user_id)
            if aad:
                text = text.replace(f"@{mention.user_id}", f"@{aad}")
                mentions.append(Mention(aad, mention.name))
            else:
                mentions.append(mention)
        return dataclasses.replace(event, text=text, mentions=tuple(mentions))

    async def idle(self) -> None:
        """Wait until every accepted activity has been handled and its posts delivered."""
        await self.work.idle()
        await self.runtime.drain()
