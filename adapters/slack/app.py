"""The Bolt app and its listeners: acknowledge at once, translate, hand the event to the runtime."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.internals import parse_body
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import translate
from adapters.slack.names import NAME_WAIT, NameBook
from adapters.slack.render import (
    ANSWER_BLOCK,
    ANSWER_CALLBACK,
    CHOICE_ACTION_PATTERN,
    QUESTION_BLOCK,
    QUESTIONNAIRE_ACTION,
    QUESTIONNAIRE_CALLBACK,
    SHARE_ACTION,
    questionnaire_modal,
    share_modal,
)
from adapters.slack.sender import SlackSender
from adapters.slack.settings import SlackSettings
from bot.request_body import bad_request, check_depth, read_body, utf8, where
from bot.vocabulary.conversation import Event, Post
from bot.vocabulary.errors import Unavailable
from bot.work_in_hand import WorkInHand

if TYPE_CHECKING:
    from bot.shell.runtime import Runtime

log = logging.getLogger("copbot.slack")

SORRY = "Sorry, something went wrong on my side. Please try again in a moment."
SIGNATURE_MAX_AGE_SECONDS = 5 * 60  # Slack's own replay window
RECONNECT_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)


class _NoBodies(logging.Filter):
    """Drops Bolt records that carry a request or response body (an invalid signature is
    logged with the whole body at INFO: a replayed request would put a member's words there)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return "body" not in message and not message.startswith("Unhandled request")


def quiet_bolt_logger() -> logging.Logger:
    """The base logger handed to Bolt. Bolt copies its *level* onto every logger it creates
    (otherwise it copies the root's, overriding `bot.logs`' WARNING on ``slack_bolt``), so it
    must be WARNING here and carry the filter itself."""
    logger = logging.getLogger("slack_bolt.copbot")
    logger.setLevel(logging.WARNING)
    if not any(isinstance(f, _NoBodies) for f in logger.filters):
        logger.addFilter(_NoBodies())
    return logger


def quiet_sdk_logger() -> logging.Logger:
    """slack_sdk logs every call's parameters (member text) whenever its logger's own level
    is DEBUG or unset: give the client an explicit WARNING logger."""
    logger = logging.getLogger("slack_sdk.copbot")
    logger.setLevel(logging.WARNING)
    return logger


def make_client(settings: SlackSettings) -> AsyncWebClient:
    # No retry handlers: the outbox must see every 429 and failure, and decides itself.
    return AsyncWebClient(
        token=settings.bot_token,
        base_url=settings.api_url,
        retry_handlers=[],
        logger=quiet_sdk_logger(),
    )


# Bolt's constructor reads these from the process environment on its own (and with a client ID
# and secret there it would switch to OAuth installs). Our settings come from `attach`'s ``env``.
_BOLT_ENVIRONMENT = ("SLACK_BOT_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_VERIFICATION_TOKEN")


@contextmanager
def _bolt_sees_no_environment() -> Iterator[None]:
    saved = {name: os.environ.pop(name) for name in _BOLT_ENVIRONMENT if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


class SlackAdapter:
    """Slack's side of copbot: one Bolt app, one sender, one name book."""

    def __init__(self, runtime: Runtime, settings: SlackSettings, client: AsyncWebClient | None = None) -> None:
        self.runtime = runtime
        self.settings = settings
        self.client = client or make_client(settings)
        self.sender = SlackSender(self.client, pause=1.0 / settings.per_second)
        self.names = NameBook(self.client)
        self.work = WorkInHand(log)
        self.socket: Any = None
        self._connecting: asyncio.Task[None] | None = None
        self._own_session = False
        with _bolt_sees_no_environment():  # synchronous: no other task runs meanwhile
            self.bolt = AsyncApp(
                client=self.client,
                signing_secret=settings.signing_secret,
                logger=quiet_bolt_logger(),
                # Acknowledged means stored: Slack gets its answer once the listener has kept the
                # event's effect and its posts (in the outbox); the posts go out after.
                process_before_response=True,
                request_verification_enabled=True,
                ignoring_self_events_enabled=True,
            )
        self.bolt.command("/cop")(self.on_command)
        self.bolt.event("message")(self.on_message)
        for removal in translate.REMOVALS:
            self.bolt.event(removal)(self.on_removed)
        self.bolt.action(CHOICE_ACTION_PATTERN)(self.on_choice)
        self.bolt.action(SHARE_ACTION)(self.on_share)
        self.bolt.view(ANSWER_CALLBACK)(self.on_answer)
        self.bolt.action(QUESTIONNAIRE_ACTION)(self.on_questionnaire)
        self.bolt.view(QUESTIONNAIRE_CALLBACK)(self.on_questionnaire_sent)
        self.bolt.error(self.on_error)

    # -- HTTP ------------------------------------------------------------------------------

    async def handle_http(self, request: web.Request) -> web.Response:
        """POST /slack/events: slash commands, Events API and interactivity. The size and the
        signature are checked on the raw bytes before anything is parsed; what is malformed is
        a 400, what copbot has no use for is acknowledged and dropped, the rest goes to Bolt."""
        raw = await read_body(request)
        if not self._signed(raw, request.headers):
            return web.Response(status=401, text="invalid signature", content_type="text/plain")
        text = utf8(raw)
        try:
            body = parse_body(text, request.content_type)
        except (ValueError, RecursionError):
            raise bad_request("the body is not a Slack payload") from None
        check_depth(body)
        kind = translate.request_kind(body)
        if kind == "malformed":
            raise bad_request("a field Slack always sends is missing or of the wrong type")
        if kind == "ignored":
            return web.Response(status=200)
        bolt_request = AsyncBoltRequest(body=text, query=request.query_string, headers=request.headers)  # type: ignore[arg-type]
        return await to_aiohttp_response(await self.bolt.async_dispatch(bolt_request))

    def _signed(self, raw: bytes, headers: Any) -> bool:
        """Slack's v0 signature over these exact bytes, made within the last five minutes.
        (slack_sdk's verifier decodes the body first, so it cannot judge bytes that are not
        UTF-8: the same HMAC is computed here on the bytes themselves.)"""
        timestamp = headers.get("X-Slack-Request-Timestamp", "")
        signature = headers.get("X-Slack-Signature", "")
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) < 12 and signature.isascii()):
            return False
        if abs(time.time() - int(timestamp)) > SIGNATURE_MAX_AGE_SECONDS:
            return False
        base = b"v0:" + timestamp.encode() + b":" + raw
        expected = "v0=" + hmac.new(self.settings.signing_secret.encode(), base, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, signature)

    # -- listeners: each keeps what it handled, then acknowledges (Bolt answers Slack when the
    # listener returns); the posts go out through the outbox after ---------------------------

    async def on_command(self, ack: Any, body: dict[str, Any]) -> None:
        with self.work.inline("slack: a command"), self._unreadable("command"):
            async with self._acked_after(ack):
                event = translate.command_event(body)
                names = await self.names.names(
                    [event.actor.user_id, *translate.user_ids_in(translate.field(body, "text"))]
                )
                self.sender.command_typed(event.place.channel_id, translate.field(body, "response_url"))
                await self._dispatch(translate.command_event(body, names))

    async def on_message(self, body: dict[str, Any], context: Any) -> None:
        event = body.get("event") or {}
        if not translate.is_answer(event, context.bot_user_id):
            return  # any other channel message: dropped here, neither handled nor logged
        with self.work.inline("slack: a message"), self._unreadable("message"):
            await self.runtime.in_time(self._reply(body, event))  # the look-ups and the dispatch: one deadline

    async def _reply(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        """A reply in a thread: handled if the thread is one of copbot's posts."""
        reply = translate.reply_event(body)
        if await self.runtime.deliveries.key_for(reply.place, reply.thread_ref or "") is None:
            return  # a thread that is not one of copbot's posts: dropped the same way
        mentioned = translate.user_ids_in(translate.field(event, "text"))
        names = await self.names.names([reply.actor.user_id, *mentioned], wait=NAME_WAIT)
        await self._dispatch(translate.reply_event(body, names))

    async def on_removed(self, body: dict[str, Any]) -> None:
        """The app was uninstalled or its bot token revoked: the workspace's channels go inactive."""
        team_id = translate.removed_from(body)
        if team_id:
            event_type = translate.field(body, "event", "type")
            with self.work.inline(f"slack: {event_type}"):
                await self.runtime.removed("slack", f"slack: {event_type}", team_id=team_id)

    async def on_choice(self, ack: Any, body: dict[str, Any]) -> None:
        with self.work.inline("slack: a button"), self._unreadable("button"):
            async with self._acked_after(ack):
                user_id = translate.field(body, "user", "id")
                names = await self.names.names([user_id], wait=NAME_WAIT)
                await self._dispatch(translate.choice_event(body, names))

    async def on_share(self, ack: Any, body: dict[str, Any]) -> None:
        with self.work.inline("slack: a share button"), self._unreadable("share button"):
            await ack()  # the window opens by trigger_id, not by this answer
            share = translate.share_request(body)
            if share is None:
                log.warning("slack: a Share press without its post or trigger was ignored")
                return
            view = share_modal(share.form, share.channel_id, share.message_ts, share.team_id)
            try:
                await self.client.views_open(trigger_id=share.trigger_id, view=view)
            except Exception as error:  # noqa: BLE001 - the member can still answer in the thread
                log.warning("slack: views.open failed (%s at %s)", type(error).__name__, where(error))

    async def on_answer(self, ack: Any, body: dict[str, Any]) -> None:
        try:
            submitted = translate.form_reply(body)
        except translate.BadPayload as error:
            # The window stays open with a word under the answer field; nothing is kept.
            sentence = str(error) if isinstance(error, translate.FormError) else translate.UNREADABLE
            await ack(response_action="errors", errors={ANSWER_BLOCK: sentence})
            return
        with self.work.inline("slack: an answer window"), self._unreadable("answer window"):
            async with self._acked_after(ack):
                names = await self.names.names([submitted.actor.user_id])
                await self._dispatch(translate.form_reply(body, names))  # kept; the window closes

    async def on_questionnaire(self, ack: Any, body: dict[str, Any]) -> None:
        """A questionnaire's button (the review survey): open its window of questions."""
        with self.work.inline("slack: a questionnaire button"), self._unreadable("questionnaire button"):
            await ack()
            share = translate.share_request(body)  # the same fields: trigger, value, channel, message
            if share is None:
                log.warning("slack: a questionnaire press without its post or trigger was ignored")
                return
            view = questionnaire_modal(share.form, share.channel_id, share.message_ts, share.team_id)
            try:
                await self.client.views_open(trigger_id=share.trigger_id, view=view)
            except Exception as error:  # noqa: BLE001 - the member can press again
                log.warning("slack: views.open failed (%s at %s)", type(error).__name__, where(error))

    async def on_questionnaire_sent(self, ack: Any, body: dict[str, Any]) -> None:
        try:
            sent = translate.questionnaire_reply(body)
        except translate.BadPayload as error:
            sentence = str(error) if isinstance(error, translate.FormError) else translate.UNREADABLE
            blocks = translate.at(body, "view", "blocks")
            first = next(
                (b.get("block_id") for b in blocks or [] if isinstance(b, dict) and b.get("type") == "input"),
                QUESTION_BLOCK.format(key="role"),
            )
            await ack(response_action="errors", errors={first: sentence})
            return
        with self.work.inline("slack: a questionnaire window"), self._unreadable("questionnaire window"):
            async with self._acked_after(ack):
                names = await self.names.names([sent.actor.user_id])
                await self._dispatch(translate.questionnaire_reply(body, names))

    async def on_error(self, error: Exception) -> None:
        """What Bolt does with a listener's exception (it answers Slack 500): log its kind and
        place, never a traceback (Bolt's own handler logs one)."""
        log.error("slack: a request was not kept (%s at %s): answered 500", type(error).__name__, where(error))

    @asynccontextmanager
    async def _acked_after(self, ack: Any) -> AsyncIterator[None]:
        """Acknowledge Slack once the block has kept what it handled, whatever happened in it
        — except when nothing could be kept (`Unavailable`): then Slack gets a 500 and the
        member's retry, or Slack's, is handled once the database answers again."""
        try:
            yield
        except Unavailable:
            raise
        except BaseException:
            await ack()
            raise
        else:
            await ack()

    @contextmanager
    def _unreadable(self, what: str) -> Iterator[None]:
        """After the ack: a payload without what copbot needs is logged by kind and dropped."""
        try:
            yield
        except translate.BadPayload as error:
            log.warning("slack: a %s without %s was ignored", what, str(error).removeprefix("no "))

    async def _dispatch(self, event: Event) -> None:
        try:
            await self.runtime.dispatch(event)
        except Unavailable:
            raise  # not acknowledged: a 500, and Slack (or the member) tries again
        except Exception as error:  # noqa: BLE001 - tell the member, log where (not what)
            log.error(
                "slack: %s in %s failed: %s at %s",
                type(event).__name__,
                event.place.channel_id,
                type(error).__name__,
                where(error),
            )
            try:
                await self.runtime.post(event.place, [Post(SORRY, private_to=event.actor.user_id)])
            except Exception as again:  # noqa: BLE001
                log.error("slack: could not tell the member (%s)", type(again).__name__)

    # -- lifecycle -------------------------------------------------------------------------

    async def open(self) -> None:
        """One HTTP session for the Web API calls (users.info, chat.postMessage, …): its
        connections are kept alive, where slack_sdk alone opens a session and a connection for
        every call."""
        if self.client.session is None:
            self.client.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.client.timeout))
            self._own_session = True

    async def settle(self) -> None:
        """Wait until every acknowledged request has been handled and its posts delivered."""
        while True:
            for _ in range(5):  # let just-acknowledged listeners start
                await asyncio.sleep(0)
            if self.work.count:
                await self.work.idle()
                continue
            await self.runtime.drain()
            for _ in range(5):
                await asyncio.sleep(0)
            if not self.work.count:
                return

    async def connect_socket_mode(self) -> None:
        """Open the Socket Mode connection; if Slack cannot be reached now, keep trying in the
        background (the client reconnects by itself once it has been connected)."""
        from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

        self.socket = AsyncSocketModeHandler(self.bolt, self.settings.app_token, logger=quiet_bolt_logger())
        try:
            await self.socket.connect_async()
        except Exception as error:  # noqa: BLE001
            log.warning("slack: Socket Mode connection failed (%s); retrying in the background", type(error).__name__)
            self._connecting = asyncio.create_task(self._keep_connecting())

    async def _keep_connecting(self) -> None:
        attempt = 0
        while True:
            await asyncio.sleep(RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)])
            attempt += 1
            try:
                await self.socket.connect_async()
                log.info("slack: Socket Mode connected after %d retries", attempt)
                return
            except Exception as error:  # noqa: BLE001
                log.warning("slack: Socket Mode connection failed again (%s)", type(error).__name__)

    async def close(self) -> None:
        """Stop taking requests (Socket Mode), then finish what was acknowledged (its posts are
        in the outbox: the delivery worker sends them, now or after the next start)."""
        if self._connecting is not None:
            self._connecting.cancel()
            self._connecting = None
        if self.socket is not None:
            socket, self.socket = self.socket, None
            try:
                await socket.close_async()
            except Exception as error:  # noqa: BLE001
                log.warning("slack: closing Socket Mode failed (%s)", type(error).__name__)
        await self.work.idle()
        if self._own_session and self.client.session is not None:
            # Calls after this (the outbox finishing) open a session each, as slack_sdk does alone.
            await self.client.session.close()
