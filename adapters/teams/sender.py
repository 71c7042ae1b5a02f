"""`bot.delivery.Sender` for Teams: every post goes out through `continue_conversation` on the
channel's stored reference (so replies and scheduled posts take one path), and connector
failures become `DeliveryError`s the `Outbox` can pace and retry."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from botbuilder.core import CloudAdapterBase
from botbuilder.schema import Activity, ActivityTypes, Attachment, ChannelAccount, ConversationParameters
from botframework.connector.aio import ConnectorClient
from cachetools import LRUCache
from msrest.exceptions import ClientRequestError, HttpOperationError
from urllib3.util.retry import Retry

from adapters.teams.cards import CARD_CONTENT_TYPE, card_posts, render_card
from adapters.teams.translate import deserialize_reference
from bot.delivery import retry_after_seconds
from bot.vocabulary.conversation import Place, Post
from bot.vocabulary.errors import DeliveryError

log = logging.getLogger(__name__)
T = TypeVar("T")

TYPE_IN_CHANNEL = "In the channel, type: {commands}"
TRANSIENT = {408, 412, 429, 500, 502, 503, 504}
PERMANENT = {400, 401, 403, 404, 405, 409, 410, 413}
CONNECTORS = 64  # connector clients kept, one per Bot Connector service URL (a handful in practice)


class ConversationRefs(Protocol):
    """Where conversation references are kept (`storage.delivery.DeliveryLog`)."""

    async def conversation_ref(self, place: Place) -> str | None: ...


def card_activity(post: Post) -> Activity:
    """A message activity carrying ``post`` as one Adaptive Card (no text, so no markdown and
    no mention entities outside the card)."""
    return Activity(
        type=ActivityTypes.message,
        attachments=[Attachment(content_type=CARD_CONTENT_TYPE, content=render_card(post))],
    )


def typed_instead_of_buttons(post: Post) -> Post:
    """A private post is a 1:1 chat in Teams, where a button press would not know the channel
    it belongs to: its buttons become the commands to type in the channel."""
    if not post.buttons:
        return post
    typed = " · ".join(f"@copbot {button.command}" for button in post.buttons)
    return dataclasses.replace(post, buttons=(), text=f"{post.text}\n{TYPE_IN_CHANNEL.format(commands=typed)}")


def delivery_error(error: Exception) -> DeliveryError:
    """Map a connector failure to what the `Outbox` understands (no member text in reasons)."""
    if isinstance(error, DeliveryError):
        return error
    if isinstance(error, HttpOperationError):
        response = getattr(error, "response", None)
        status = getattr(response, "status_code", None)
        headers = getattr(response, "headers", None)
        reason = f"Teams answered HTTP {status}"
        if status == 429:
            return DeliveryError(reason, retry_after=retry_after_seconds(headers))
        if status in TRANSIENT or (isinstance(status, int) and status >= 500):
            return DeliveryError(reason, retry_after=retry_after_seconds(headers) if status == 503 else None)
        # 403: copbot is no longer in the conversation (removed from the team or the chat).
        return DeliveryError(reason, permanent=status in PERMANENT or status is None, gone=status == 403)
    if isinstance(error, (ClientRequestError, OSError, TimeoutError)):
        return DeliveryError(f"could not reach Teams ({type(error).__name__})")
    return DeliveryError(f"Teams delivery failed ({type(error).__name__})")


def no_connector_retries(connector: ConnectorClient) -> ConnectorClient:
    """msrest retries 5xx by itself (urllib3, three times): leave every retry, and every
    status, to the `Outbox` so its pace and backoff are the only ones."""
    connector.config.retry_policy.policy = Retry(total=0, read=False, redirect=False, raise_on_status=False)
    return connector


class TeamsSender:
    """Sends and updates Adaptive Card posts in Teams conversations."""

    def __init__(self, adapter: CloudAdapterBase, app_id: str, refs: ConversationRefs) -> None:
        self.adapter = adapter
        self.app_id = app_id
        self.refs = refs
        self._connectors: LRUCache[str, ConnectorClient] = LRUCache(CONNECTORS)

    async def send(self, place: Place, post: Post, thread_ref: str | None) -> str | None:
        if post.receipt:
            return None  # the updated card shows it was kept: no 1:1 chat message for a "thank you"
        # A post too big for one card goes as several (`card_posts`), the rest in the first's thread.
        activity, *rest = [
            card_activity(part) for part in card_posts(typed_instead_of_buttons(post) if post.private_to else post)
        ]

        async def deliver(
            connector: ConnectorClient, conversation_id: str, tenant: str | None, bot: ChannelAccount
        ) -> str | None:
            if post.private_to:
                await self._send_private(connector, conversation_id, tenant, bot, post.private_to, activity, *rest)
                return None
            if thread_ref:
                response = await connector.conversations.reply_to_activity(conversation_id, thread_ref, activity)
            else:
                response = await connector.conversations.send_to_conversation(conversation_id, activity)
            first = response.id if response is not None else None
            await self._continuations(connector, conversation_id, thread_ref or first, rest)
            return first

        return await self._in_conversation(place, deliver)

    @staticmethod
    async def _continuations(
        connector: ConnectorClient, conversation_id: str, thread: str | None, activities: list[Activity]
    ) -> None:
        """The rest of an over-long post. The first card is out already, so a failure here must
        not make the outbox send it again: the post is recorded as undelivered instead."""
        for activity in activities:
            try:
                if thread:
                    await connector.conversations.reply_to_activity(conversation_id, thread, activity)
                else:
                    await connector.conversations.send_to_conversation(conversation_id, activity)
            except Exception as error:  # noqa: BLE001 - every failure becomes a DeliveryError
                raise DeliveryError(f"partly delivered: {delivery_error(error).reason}", permanent=True) from None

    async def update(self, place: Place, ref: str, post: Post) -> None:
        activity = card_activity(post)
        activity.id = ref

        async def deliver(
            connector: ConnectorClient, conversation_id: str, tenant: str | None, bot: ChannelAccount
        ) -> None:
            await connector.conversations.update_activity(conversation_id, ref, activity)

        await self._in_conversation(place, deliver)

    async def member_aad_id(self, place: Place, member_id: str) -> str | None:
        """The Entra object id of a member known by their Teams id (``29:…``), or None."""

        async def lookup(
            connector: ConnectorClient, conversation_id: str, tenant: str | None, bot: ChannelAccount
        ) -> str | None:
            member = await connector.conversations.get_conversation_member(conversation_id, member_id)
            return getattr(member, "aad_object_id", None)

        try:
            return await self._in_conversation(place, lookup)
        except DeliveryError as error:
            log.warning("could not look up a mentioned member in teams:%s: %s", place.channel_id, error.reason)
            return None

    async def _send_private(
        self,
        connector: ConnectorClient,
        conversation_id: str,
        tenant: str | None,
        bot: ChannelAccount,
        user_id: str,
        activity: Activity,
        *more: Activity,
    ) -> None:
        # Teams has no ephemeral messages in channels: a private post is a 1:1 chat message.
        # The member is known by their Entra object id; the connector wants their Teams id.
        try:
            member = await connector.conversations.get_conversation_member(conversation_id, user_id)
            member_id = getattr(member, "id", None) or user_id
        except HttpOperationError as error:
            status = getattr(getattr(error, "response", None), "status_code", None)
            if status in TRANSIENT:
                raise
            member_id = user_id  # not in this conversation's roster (or the Emulator): try the id as is
        parameters = ConversationParameters(
            is_group=False,
            bot=bot,
            members=[ChannelAccount(id=member_id)],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}} if tenant else None,
        )
        created = await connector.conversations.create_conversation(parameters)
        await connector.conversations.send_to_conversation(created.id, activity)
        for continued in more:
            await connector.conversations.send_to_conversation(created.id, continued)

    async def _in_conversation(
        self,
        place: Place,
        call: Callable[[ConnectorClient, str, str | None, ChannelAccount], Awaitable[T]],
    ) -> T:
        raw = await self.refs.conversation_ref(place)
        if not raw:
            raise DeliveryError("no stored Teams conversation reference for this channel", permanent=True)
        reference = deserialize_reference(raw)
        conversation = reference.conversation
        try:
            connector = await self._connector(reference.service_url)
            return await call(connector, conversation.id, conversation.tenant_id, reference.bot)
        except Exception as error:  # noqa: BLE001 - every failure becomes a DeliveryError
            raise delivery_error(error) from None

    async def _connector(self, service_url: str) -> ConnectorClient:
        """The connector client for ``service_url``, made the way `continue_conversation` makes
        one — but once, not for every post (making one costs more than the post: see
        docs/performance.md). Its credentials renew their own token."""
        connector = self._connectors.get(service_url)
        if connector is None:
            auth = self.adapter.bot_framework_authentication
            factory = auth.create_connector_factory(self.adapter.create_claims_identity(self.app_id))
            connector = no_connector_retries(await factory.create(service_url, auth.get_originating_audience()))
            self._connectors[service_url] = connector
        return connector
