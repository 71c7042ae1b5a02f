"""Bot Framework activity → neutral event (pure functions): commands, reply-chain answers, card
submits. Anything else becomes ``None`` and is dropped before it reaches the core or a log."""

from __future__ import annotations

import hashlib
import html
import json
import re
from dataclasses import dataclass
from typing import Any

from botbuilder.schema import Activity, ActivityTypes, ConversationReference

from adapters.teams.cards import ANONYMOUS_INPUT, ANSWER_DATA, ANSWER_INPUT, COMMAND_DATA
from bot.commands import VERBS
from bot.conversation import Actor, ChoiceEvent, CommandEvent, Event, Mention, Place, ReplyEvent

PLATFORM = "teams"
MESSAGE_ID_MARK = ";messageid="
_PREFIX = re.compile(r"^/?cop(?:\s+|$)", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\u00a0]+")


@dataclass(frozen=True)
class Incoming:
    """A translated activity. ``card_key``: the post key an answer form carried (to find the
    card's message id when the submit has no ``reply_to_id``). ``needs_thread_check``: a plain
    reply, kept only if ``event.thread_ref`` is one of the bot's posts."""

    event: Event
    card_key: str | None = None
    needs_thread_check: bool = False


def base_conversation_id(conversation_id: str) -> str:
    """A channel's conversation id without the ``;messageid=<root>`` of a reply chain."""
    return conversation_id.split(MESSAGE_ID_MARK, 1)[0]


def thread_root(activity: Activity) -> str | None:
    """The root message of the reply chain this message sits in (None for a new post)."""
    conversation_id = activity.conversation.id if activity.conversation else ""
    if MESSAGE_ID_MARK in conversation_id:
        root = conversation_id.split(MESSAGE_ID_MARK, 1)[1]
        if root and root != activity.id:
            return root
    return activity.reply_to_id or None


def conversation_type(activity: Activity) -> str:
    """``channel``, ``groupChat`` or ``personal`` (the Emulator sends none: treated as personal)."""
    conversation = activity.conversation
    kind = getattr(conversation, "conversation_type", None) if conversation else None
    if kind:
        return kind
    return "groupChat" if conversation is not None and conversation.is_group else "personal"


def _channel_data(activity: Activity) -> dict[str, Any]:
    data = activity.channel_data
    return data if isinstance(data, dict) else {}


def place_of(activity: Activity) -> Place:
    data = _channel_data(activity)
    team = (data.get("team") or {}).get("id") or ""
    tenant = (data.get("tenant") or {}).get("id") or ""
    if not tenant and activity.conversation is not None:
        tenant = activity.conversation.tenant_id or ""
    return Place(PLATFORM, base_conversation_id(activity.conversation.id), team or tenant)


def actor_of(activity: Activity) -> Actor:
    sender = activity.from_property
    return Actor(user_id=sender.aad_object_id or sender.id, name=sender.name or "")


def event_id(activity: Activity) -> str:
    """Unique across conversations (Teams message ids are only unique within one)."""
    raw = f"{base_conversation_id(activity.conversation.id)}/{activity.id}"
    return raw if len(raw) <= 200 else "sha256:" + hashlib.sha256(raw.encode()).hexdigest()


def submit_id(activity: Activity, card: str) -> str:
    """A card submit's id from what was submitted, on which card rendering, by whom: Teams gives
    a second click a new activity id, but the same content, so it counts once."""
    value = json.dumps(activity.value, sort_keys=True, default=str)
    raw = "|".join((base_conversation_id(activity.conversation.id), card, actor_of(activity).user_id, value))
    return "submit:" + hashlib.sha256(raw.encode()).hexdigest()


def _mentions(activity: Activity) -> list[dict[str, Any]]:
    found = []
    for entity in activity.entities or []:
        if (entity.type or "").lower() != "mention":
            continue
        props = entity.additional_properties or {}
        mentioned = props.get("mentioned") or {}
        if isinstance(mentioned, dict) and mentioned.get("id"):
            found.append({"mentioned": mentioned, "text": props.get("text") or ""})
    return found


def command_text(activity: Activity) -> tuple[str, tuple[Mention, ...], bool]:
    """The message text with the bot's @mention removed and other mentions as ``@<user_id>``;
    returns (text, mentions, the bot was mentioned).

    Not `TurnContext.remove_recipient_mention`: it removes the bot's *name* everywhere in the
    text (``propose What copbot does`` loses a word); here only the mention markup goes."""
    text = activity.text or ""
    bot_id = activity.recipient.id if activity.recipient else None
    mentions: list[Mention] = []
    addressed = False
    for mention in _mentions(activity):
        person = mention["mentioned"]
        markup = mention["text"] or f"<at>{person.get('name', '')}</at>"
        if person["id"] == bot_id:
            addressed = addressed or markup in text or not text
            text = text.replace(markup, " ", 1)
            continue
        user_id = person.get("aadObjectId") or person["id"]
        if markup in text:
            text = text.replace(markup, f" @{user_id} ", 1)
            mentions.append(Mention(user_id=user_id, name=person.get("name") or ""))
    text = re.sub(r"</?at>", "", html.unescape(text))
    return _SPACES.sub(" ", text).strip(), tuple(mentions), addressed


def _strip_prefix(text: str) -> tuple[str, bool]:
    match = _PREFIX.match(text)
    return (text[match.end() :].strip(), True) if match else (text, False)


def _is_verb(text: str) -> bool:
    return text.split(" ", 1)[0].lower() in VERBS


def _from_submit(activity: Activity, value: dict[str, Any]) -> Incoming | None:
    place, actor = place_of(activity), actor_of(activity)
    if isinstance(value.get(COMMAND_DATA), str) and value[COMMAND_DATA].strip():
        card = activity.reply_to_id or ""
        return Incoming(
            ChoiceEvent(actor, place, value[COMMAND_DATA].strip(), activity.reply_to_id, submit_id(activity, card))
        )
    if ANSWER_DATA in value:
        text = str(value.get(ANSWER_INPUT) or "").strip()
        if not text:
            return None
        key = str(value.get(ANSWER_DATA) or "") or None
        anonymous = str(value.get(ANONYMOUS_INPUT, "false")).lower() == "true"
        card = activity.reply_to_id or key or ""
        event = ReplyEvent(
            actor, place, text, activity.reply_to_id, anonymous=anonymous, from_form=True,
            event_id=submit_id(activity, card),
        )
        return Incoming(event, card_key=key)
    return None


def to_incoming(activity: Activity) -> Incoming | None:
    """Translate one activity; None when it is nothing copbot should see."""
    if activity.type != ActivityTypes.message or activity.conversation is None or activity.from_property is None:
        return None
    if activity.recipient is not None and activity.from_property.id == activity.recipient.id:
        return None  # our own message echoed back
    if isinstance(activity.value, dict) and not (activity.text or "").strip():
        return _from_submit(activity, activity.value)
    text, mentions, addressed = command_text(activity)
    text, prefixed = _strip_prefix(text)
    place, actor, root = place_of(activity), actor_of(activity), thread_root(activity)
    personal = conversation_type(activity) == "personal"
    if root and not prefixed and not personal and not (addressed and _is_verb(text)):
        if not text:
            return None
        reply = ReplyEvent(actor, place, text, thread_ref=root, event_id=event_id(activity))
        return Incoming(reply, needs_thread_check=True)
    if not (addressed or prefixed or personal):
        return None
    return Incoming(CommandEvent(actor, place, text, mentions, event_id(activity)))


def channel_reference(activity: Activity) -> ConversationReference:
    """The conversation's address for later posts: the channel (not one reply chain), and
    neither the member who wrote nor their message."""
    conversation = activity.conversation
    conversation_copy = type(conversation)().deserialize(conversation.serialize())
    conversation_copy.id = base_conversation_id(conversation.id)
    conversation_copy.name = None
    # botbuilder maps ConversationAccount.tenant_id to "tenantID", Teams sends "tenantId":
    # keep the tenant from channelData (needed to open a 1:1 chat for a private post).
    conversation_copy.tenant_id = (_channel_data(activity).get("tenant") or {}).get("id") or conversation.tenant_id
    return ConversationReference(
        bot=activity.recipient,
        conversation=conversation_copy,
        channel_id=activity.channel_id,
        locale=activity.locale,
        service_url=activity.service_url,
    )


def serialize_reference(reference: ConversationReference) -> str:
    return json.dumps(reference.serialize(), sort_keys=True)


def deserialize_reference(raw: str) -> ConversationReference:
    return ConversationReference().deserialize(json.loads(raw))
