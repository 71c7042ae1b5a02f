"""The Slack `Sender`: chat.postMessage / postEphemeral / update, with Slack's errors mapped to
`DeliveryError` so the core's `Outbox` can pace, wait, retry and record (it does all of that).
A private post is ephemeral in its channel, unless it is ``direct`` (a scheduled reminder): then
it is a direct message from the app, whose buttons carry the community's channel."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiolimiter import AsyncLimiter
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack.canvas import canvas_markdown
from adapters.slack.render import SlackMessage, render, render_update
from bot.delivery import retry_after_seconds
from bot.vocabulary.conversation import Attachment, Place, Post
from bot.vocabulary.errors import DeliveryError, RecordRefused
from bot.vocabulary.record import CommunityRecord

log = logging.getLogger(__name__)

# Codes that say the channel is gone or copbot is out of it (or out of the workspace).
GONE_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "account_inactive",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "team_access_not_granted",
    }
)
# Slack error codes that retrying the same call cannot fix.
PERMANENT_ERRORS = GONE_ERRORS | frozenset(
    {
        "token_expired",
        "no_permission",
        "missing_scope",
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "restricted_action_non_threadable_channel",
        "ekm_access_denied",
        "user_not_in_channel",
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
        "msg_too_long",
        "msg_blocks_too_long",
        "no_text",
        "invalid_blocks",
        "invalid_blocks_format",
        "too_many_attachments",
        "duplicate_channel_not_found",
        "invalid_arguments",
    }
)
TRANSIENT_ERRORS = frozenset({"internal_error", "fatal_error", "service_unavailable", "request_timeout"})
# The slash command being handled: its response_url reaches the member even where copbot is not
# in the channel yet (chat.postMessage / postEphemeral answer not_in_channel there).
RESPONSE_URL_SECONDS = 30 * 60  # how long Slack honours a slash command's response_url
NOT_IN_CHANNEL = "I'm not in this channel yet, so I couldn't post here. Add me with `/invite @copbot`, then try again."
ABSENT_ERRORS = ("not_in_channel", "channel_not_found")
DEFAULT_RETRY_AFTER = 1.0
ALT_TEXT_CHARS = 1000  # an image's alt text, as files.completeUploadExternal takes it
# Canvases (the living record). Slack's answers that say this workspace will not have a channel
# canvas from copbot: its plan, its settings, or copbot's permissions (asked once, never again).
CANVAS_REFUSED = frozenset(
    {
        "team_tier_cannot_create_channel_canvases",
        "canvas_disabled_user_team",
        "free_teams_cannot_edit_standalone_canvases",
        "restricted_action",
        "missing_scope",
        "no_permission",
        "not_allowed_token_type",
        "access_denied",
    }
)
CANVAS_EXISTS = frozenset({"channel_canvas_already_exists", "free_team_canvas_tab_already_exists"})
CANVAS_DELETED = frozenset({"canvas_not_found"})
# Slack could not make or change it this time: tried again later, like a 5xx.
CANVAS_FAILED = frozenset(
    {"canvas_creation_failed", "channel_canvas_creation_failed", "canvas_tab_creation_failed", "canvas_editing_failed"}
)
# Slack's tiers for one workspace: conversations.canvases.create (Tier 2, 20+ a minute) and
# canvases.edit (Tier 3, 50+ a minute), as (calls, per seconds). Kept in each process; with
# several workers Slack's 429 and its Retry-After are the backstop (the record waits).
CANVAS_TIERS = ((20, 60.0), (50, 60.0))
RECEIPT_EMOJI = "white_check_mark"  # the reaction that says "kept" on a member's thread answer
CONTINUATION_ATTEMPTS = 3


def delivery_error(error: Exception) -> DeliveryError:
    """Slack's answer (or a network failure) → the `DeliveryError` the outbox understands.
    The reason names only the status and Slack's error code, never the message's text."""
    if isinstance(error, SlackApiError):
        response = error.response
        status = getattr(response, "status_code", 0) or 0
        data = getattr(response, "data", None)
        code = data.get("error", "") if isinstance(data, dict) else ""
        if status == 429 or code == "ratelimited":
            headers = getattr(response, "headers", None) or {}
            return DeliveryError("slack: rate limited (429)", retry_after=_retry_after(headers))
        if status >= 500 or code in TRANSIENT_ERRORS:
            return DeliveryError(f"slack: {status} {code}".strip())
        if code in PERMANENT_ERRORS or (status == 200 and code and code not in TRANSIENT_ERRORS):
            return DeliveryError(f"slack: {code}", permanent=True, gone=code in GONE_ERRORS)
        return DeliveryError(f"slack: HTTP {status} {code}".strip(), permanent=400 <= status < 500)
    if isinstance(error, (aiohttp.ClientError, asyncio.TimeoutError, OSError)):
        return DeliveryError(f"slack: connection failed ({type(error).__name__})")
    return DeliveryError(f"slack: {type(error).__name__}")


def _retry_after(headers: Any) -> float:
    found = retry_after_seconds(headers)
    return DEFAULT_RETRY_AFTER if found is None else found


class SlackSender:
    """Puts rendered posts into Slack through one `AsyncWebClient` (built with no retry
    handlers of its own: the outbox sees every 429 and decides)."""

    def __init__(
        self,
        client: AsyncWebClient,
        pause: float = 1.0,
        canvas_tiers: tuple[tuple[int, float], tuple[int, float]] = CANVAS_TIERS,
    ) -> None:
        self.client = client
        self.pause = pause  # between the messages of one over-long post (Slack's pace)
        self.canvas_tiers = canvas_tiers
        self._response_urls: dict[str, tuple[str, float]] = {}
        self._canvas_pace: dict[tuple[str, str], AsyncLimiter] = {}

    # -- the living record (a channel canvas) ----------------------------------------------

    async def keep_record(self, place: Place, canvas_id: str | None, record: CommunityRecord) -> str:
        """Make the channel's canvas (``canvas_id`` None) or replace the whole of ``canvas_id``
        (one change per call, as Slack asks), at Slack's pace for the workspace; returns the
        canvas id. `RecordRefused` when the workspace will not have it."""
        content = {"type": "markdown", "markdown": canvas_markdown(record)}
        if canvas_id is None:
            await self._canvas_turn(place, "create")
            response = await self._canvas_call(
                lambda: self.client.conversations_canvases_create(channel_id=place.channel_id, document_content=content)
            )
            made = response.get("canvas_id")
            if not made:
                raise DeliveryError("slack: no canvas id in the answer")
            return str(made)
        await self._canvas_turn(place, "edit")
        change = {"operation": "replace", "document_content": content}
        await self._canvas_call(lambda: self.client.canvases_edit(canvas_id=canvas_id, changes=[change]))
        return canvas_id

    async def _canvas_turn(self, place: Place, method: str) -> None:
        key = (place.team_id, method)
        if key not in self._canvas_pace:
            count, seconds = self.canvas_tiers[0 if method == "create" else 1]
            self._canvas_pace[key] = AsyncLimiter(count, seconds)
        await self._canvas_pace[key].acquire()

    async def _canvas_call(self, call: Callable[[], Awaitable[Any]]) -> Any:
        try:
            return await call()
        except SlackApiError as error:
            data = getattr(error.response, "data", None)
            code = data.get("error", "") if isinstance(data, dict) else ""
            if code in CANVAS_REFUSED:
                raise RecordRefused(f"slack: {code}", RecordRefused.PLAN) from error
            if code in CANVAS_EXISTS:
                raise RecordRefused(f"slack: {code}", RecordRefused.EXISTS) from error
            if code in CANVAS_DELETED:
                raise RecordRefused(f"slack: {code}", RecordRefused.DELETED) from error
            if code in CANVAS_FAILED:
                raise DeliveryError(f"slack: {code}") from error
            raise delivery_error(error) from error
        except DeliveryError:
            raise
        except Exception as error:  # noqa: BLE001 - every failure becomes a DeliveryError
            raise delivery_error(error) from error

    async def send(self, place: Place, post: Post, thread_ref: str | None) -> str | None:
        if post.react_to and post.receipt and await self._reacted(place, post.react_to):
            return None  # a ✓ on the member's own message says "kept": no extra message
        direct = bool(post.direct and post.private_to)
        messages = render(post.with_file_taken(), place.channel_id if direct else None)
        try:
            first = await self._call(lambda: self._one(place, post, messages[0], thread_ref))
        except DeliveryError as error:
            if direct and error.permanent:  # the member's DM is out of reach, not the channel
                log.info("slack: a direct message was not taken (%s): sent ephemeral instead", error.reason)
                return await self.send(place, dataclasses.replace(post, direct=False), thread_ref)
            if error.permanent and any(code in error.reason for code in ABSENT_ERRORS) and not direct:
                await self._tell_not_in_channel(place)
            raise
        for message in messages[1:]:
            await self._continuation(place, post, message, thread_ref)
        if post.attachment is not None and not post.private_to:
            await self._attach(place, post.attachment, thread_ref or first)
        if post.attachment is not None and direct and first:
            # A direct message can carry a file (an ephemeral one cannot): `/cop export-me`.
            await self._attach(dataclasses.replace(place, channel_id=first), post.attachment, None)
        return None if post.private_to else first

    async def _reacted(self, place: Place, message_ts: str) -> bool:
        """React to the member's message; False (send the words instead) if Slack would not."""
        try:
            await self._call(
                lambda: self.client.reactions_add(channel=place.channel_id, timestamp=message_ts, name=RECEIPT_EMOJI)
            )
        except DeliveryError as error:
            if "already_reacted" in error.reason:
                return True
            log.info("slack: no reaction in %s (%s); the receipt goes as a message", place.channel_id, error.reason)
            return False
        return True

    async def _attach(self, place: Place, attachment: Attachment, thread_ts: str | None) -> None:
        """The post's file (a meeting's .ics), in the post's thread. The post is out already: a
        failed upload is logged, never a reason to post the message twice."""
        try:
            await self._call(
                lambda: self.client.files_upload_v2(
                    channel=place.channel_id,
                    thread_ts=thread_ts,
                    content=attachment.data() if attachment.encoding == "base64" else attachment.content,
                    filename=attachment.filename,
                    title=attachment.filename,
                    alt_txt=attachment.alt_text[:ALT_TEXT_CHARS] or None,
                )
            )
        except DeliveryError as error:
            log.warning("slack: the file of a post to %s was not uploaded: %s", place.channel_id, error.reason)

    async def update(self, place: Place, ref: str, post: Post) -> None:
        message = render_update(post)
        await self._call(
            lambda: self.client.chat_update(
                channel=place.channel_id, ts=ref, text=message.text, blocks=list(message.blocks)
            )
        )

    # -- internals -------------------------------------------------------------------------

    def command_typed(self, channel_id: str, response_url: str) -> None:
        """A /cop command came from ``channel_id``: its response_url can tell the member who
        typed it, should copbot's post there fail because it is not in the channel. Kept in
        memory only (a hint, for half an hour), never in the outbox."""
        if response_url:
            self._response_urls[channel_id] = (response_url, time.monotonic() + RESPONSE_URL_SECONDS)

    async def _tell_not_in_channel(self, place: Place) -> None:
        """Tell the member who last typed a command there, once, through its response_url."""
        url, until = self._response_urls.pop(place.channel_id, ("", 0.0))
        if not url or time.monotonic() > until:
            return
        try:
            await AsyncWebhookClient(url, logger=self.client.logger).send(
                text=NOT_IN_CHANNEL, response_type="ephemeral"
            )
        except Exception as error:  # noqa: BLE001 - the post is recorded as undelivered anyway
            log.warning("slack: response_url failed (%s)", type(error).__name__)

    async def _one(self, place: Place, post: Post, message: SlackMessage, thread_ref: str | None) -> str | None:
        arguments: dict[str, Any] = {
            "channel": place.channel_id,
            "text": message.text,
            "blocks": list(message.blocks),
        }
        if post.direct and post.private_to:
            # A scheduled private post: a direct message from the app (to the member's id: Slack
            # opens the app's DM), which waits for them; an ephemeral one is lost unless they look.
            arguments["channel"] = post.private_to
            sent = await self.client.chat_postMessage(
                unfurl_links=False, unfurl_media=False, link_names=False, **arguments
            )
            return sent.get("channel")  # the app's DM with the member (Slack answers its D… id)
        if thread_ref:
            arguments["thread_ts"] = thread_ref
        if post.private_to:
            await self.client.chat_postEphemeral(user=post.private_to, **arguments)
            return None
        response = await self.client.chat_postMessage(
            unfurl_links=False, unfurl_media=False, link_names=False, **arguments
        )
        return response.get("ts")

    async def _continuation(self, place: Place, post: Post, message: SlackMessage, thread_ref: str | None) -> None:
        """The rest of an over-long post. The first part is out already, so a failure here must
        not make the outbox send the first part again: wait and retry here, then give up loudly
        (the outbox records the whole post as undelivered)."""
        for attempt in range(CONTINUATION_ATTEMPTS):
            await asyncio.sleep(self.pause)
            try:
                await self._call(lambda: self._one(place, post, message, thread_ref))
                return
            except DeliveryError as error:
                if error.permanent or attempt == CONTINUATION_ATTEMPTS - 1:
                    raise DeliveryError(f"partly delivered: {error.reason}", permanent=True) from error
                if error.retry_after:
                    await asyncio.sleep(error.retry_after)

    @staticmethod
    async def _call(call: Callable[[], Awaitable[Any]]) -> Any:
        try:
            return await call()
        except DeliveryError:
            raise
        except Exception as error:  # noqa: BLE001 - every failure becomes a DeliveryError
            raise delivery_error(error) from error
