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

from adapters.teams.cards import ANONYMOUS_INPUT, ANSWER_DATA, ANSWER_INPUT, COMMAND_DATA, FORM_DATA, QUESTION_INPUT
from bot.commands import is_bare_command
from bot.vocabulary.conversation import (
    Actor,
    ChoiceEvent,
    CommandEvent,
    Event,
    Mention,
    Place,
    ReplyEvent,
    questionnaire_command,
)
from bot.vocabulary.text import display_token, trimmed

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
    refusal: str | None = None  # what arrived cannot be kept: tell the member this, privately


UNREADABLE = "I couldn't read what that card sent, so nothing was kept. Please try again."


def base_conversation_id(conversation_id: str) -> str:
    """A channel's conversation id without the ``;messageid=<root>`` of a reply chain."""
    return conversation_id.split(MESSAGE_ID_MARK, 1)[0]


def thread_root(activity: Activity) -> str | None:
    """The root message of the reply chain this message sits in (None for a new post)."""
    conversation_id = _text(activity.conversation.id) if activity.conversation else ""
    if MESSAGE_ID_MARK in conversation_id:
        root = conversation_id.split(MESSAGE_ID_MARK, 1)[1]
        if root and root != activity.id:
            return root
    return _text(activity.reply_to_id) or None


def conversation_type(activity: Activity) -> str:
    """``channel``, ``groupChat`` or ``personal`` (the Emulator sends none: treated as personal)."""
    conversation = activity.conversation
    kind = getattr(conversation, "conversation_type", None) if conversation else None
    if kind:
        return kind
    return "groupChat" if conversation is not None and conversation.is_group else "personal"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def channel_data_field(activity: Activity, *path: str) -> str:
    """A string inside ``channelData`` (``team``/``id``, ``tenant``/``id``); "" when any part is
    missing or not what Teams sends (a tenant given as a string, a list, a number)."""
    value: Any = activity.channel_data
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return _text(value)


def place_of(activity: Activity) -> Place:
    team = channel_data_field(activity, "team", "id")
    tenant = channel_data_field(activity, "tenant", "id")
    if not tenant and activity.conversation is not None:
        tenant = _text(activity.conversation.tenant_id)
    return Place(PLATFORM, base_conversation_id(_text(activity.conversation.id)), team or tenant)


def actor_of(activity: Activity) -> Actor:
    sender = activity.from_property
    return Actor(user_id=_text(sender.aad_object_id) or _text(sender.id), name=_text(sender.name))


def event_id(activity: Activity) -> str:
    """Unique across conversations (Teams message ids are only unique within one)."""
    raw = f"{base_conversation_id(_text(activity.conversation.id))}/{_text(activity.id)}"
    return raw if len(raw) <= 200 else "sha256:" + hashlib.sha256(raw.encode()).hexdigest()


def submit_id(activity: Activity, card: str) -> str:
    """A card submit's id from what was submitted, on which card rendering, by whom: Teams gives
    a second click a new activity id, but the same content, so it counts once."""
    value = json.dumps(activity.value, sort_keys=True, default=str)
    raw = "|".join((base_conversation_id(_text(activity.conversation.id)), card, actor_of(activity).user_id, value))
    return "submit:" + hashlib.sha256(raw.encode()).hexdigest()


def _mentions(activity: Activity) -> list[dict[str, Any]]:
    found = []
    for entity in activity.entities or []:
        if _text(getattr(entity, "type", None)).lower() != "mention":
            continue
        props = entity.additional_properties or {}
        mentioned = props.get("mentioned") if isinstance(props, dict) else None
        if isinstance(mentioned, dict) and _text(mentioned.get("id")):
            found.append({"mentioned": mentioned, "text": _text(props.get("text"))})
    return found


_AT_ELEMENT = re.compile(r"<at>(.*?)</at>", re.IGNORECASE | re.DOTALL)


def _without_bot_markup(text: str, markup: str, bot_name: str) -> str:
    """``text`` without the markup that @mentions the bot. Teams' entity text is usually the
    very markup in the message; when it is not (a display name changed, a client that writes
    it otherwise), the bot's ``<at>`` element is the one holding its name, else the leading one,
    else the first left (the other members' mentions are replaced before)."""
    if markup and markup in text:
        return text.replace(markup, " ", 1)
    elements = list(_AT_ELEMENT.finditer(text))
    if not elements:
        return text
    named = [e for e in elements if html.unescape(e.group(1)).strip().casefold() == bot_name.strip().casefold()]
    leading = [e for e in elements if not text[: e.start()].strip()]
    found = (named or leading or elements)[0]
    return text[: found.start()] + " " + text[found.end() :]


def command_text(activity: Activity, *, as_tokens: bool = True) -> tuple[str, tuple[Mention, ...], bool]:
    """The message text with the bot's @mention removed and other mentions as ``@<user_id>``
    (or, ``as_tokens=False``, for an answer: as the member's name, ``@Ana_Lopez``); returns
    (text, mentions, the bot was mentioned).

    The bot is addressed when a mention entity names it by id (``mentioned.id``), whatever
    the entity's text: the id is what Teams guarantees, the text is a display name.

    Not `TurnContext.remove_recipient_mention`: it removes the bot's *name* everywhere in the
    text (``propose What copbot does`` loses a word); here only the mention markup goes."""
    text = _text(activity.text)
    bot_id = activity.recipient.id if activity.recipient else None
    mentions: list[Mention] = []
    bot_mentions = []
    for mention in _mentions(activity):
        person = mention["mentioned"]
        markup = mention["text"] or f"<at>{person.get('name', '')}</at>"
        if person["id"] == bot_id:
            bot_mentions.append((markup, _text(person.get("name"))))
            continue
        user_id = _text(person.get("aadObjectId")) or _text(person["id"])
        name = _text(person.get("name"))
        if markup in text and user_id:
            shown = user_id if as_tokens else display_token(name, user_id)
            text = text.replace(markup, f" @{shown} ", 1)
            mentions.append(Mention(user_id=user_id, name=name))
    for markup, name in bot_mentions:
        text = _without_bot_markup(text, markup, name or _text(getattr(activity.recipient, "name", None)))
    text = re.sub(r"</?at>", "", html.unescape(text), flags=re.IGNORECASE)
    return _SPACES.sub(" ", text).strip(), tuple(mentions), bool(bot_mentions)


def _strip_prefix(text: str) -> tuple[str, bool]:
    match = _PREFIX.match(text)
    return (text[match.end() :].strip(), True) if match else (text, False)


ANONYMOUS_VALUES = {"true": True, "false": False}


def questionnaire_sent(value: dict[str, Any]) -> str | None:
    """A submitted questionnaire card → the command it stands for (`questionnaire_command`); None
    when its data is not what the card sends."""
    form = value.get(FORM_DATA)
    spec_raw = form.get("q") if isinstance(form, dict) else None
    command = _text(form.get("c")).strip() if isinstance(form, dict) else ""
    if not command or not isinstance(spec_raw, list):
        return None
    spec: list[tuple[str, bool]] = []
    for item in spec_raw:
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)):
            return None
        spec.append((item[0], bool(item[1])))
    given = {}
    for key, _ in spec:
        raw = value.get(QUESTION_INPUT.format(key=key))
        if isinstance(raw, str):
            given[key] = trimmed(raw)
        elif raw is not None:
            given[key] = "?"  # a list or an object where the card sends text: refused by the flow
    return questionnaire_command(command, spec, given)  # the card's toggle: valueOn / valueOff


def _from_submit(activity: Activity, value: dict[str, Any]) -> Incoming | None:
    place, actor = place_of(activity), actor_of(activity)
    reply_to = _text(activity.reply_to_id) or None
    if COMMAND_DATA in value:
        command = _text(value[COMMAND_DATA]).strip()
        if not command:
            return None
        card = reply_to or ""
        return Incoming(ChoiceEvent(actor, place, command, submit_id(activity, card)))
    if FORM_DATA in value:
        sent = questionnaire_sent(value)
        if sent is None:
            return None
        return Incoming(ChoiceEvent(actor, place, sent, submit_id(activity, reply_to or "")))
    if ANSWER_DATA in value:
        key = _text(value.get(ANSWER_DATA)) or None
        raw_text, raw_anonymous = value.get(ANSWER_INPUT, ""), value.get(ANONYMOUS_INPUT, "false")
        anonymous = ANONYMOUS_VALUES.get(raw_anonymous) if isinstance(raw_anonymous, str) else None
        if not isinstance(raw_text, str) or anonymous is None:
            # A list, number or object where the card sends text: never kept as its repr.
            refusal = ReplyEvent(actor, place, "", reply_to, from_form=True)
            return Incoming(refusal, card_key=key, refusal=UNREADABLE)
        card = reply_to or key or ""
        event = ReplyEvent(
            actor,
            place,
            trimmed(raw_text),
            reply_to,
            anonymous=anonymous,
            from_form=True,
            event_id=submit_id(activity, card),
        )
        return Incoming(event, card_key=key)
    return None


def is_readable(activity: Activity) -> bool:
    """Whether a message activity has what copbot needs: a sender and a conversation, by id."""
    return (
        activity.conversation is not None
        and activity.from_property is not None
        and bool(_text(activity.conversation.id))
        and bool(actor_of(activity).user_id)
    )


@dataclass(frozen=True)
class Removal:
    """copbot was removed: from a whole team (``team_id``) or from one chat (``channel_id``)."""

    reason: str
    team_id: str = ""
    channel_id: str = ""


def removal_of(activity: Activity) -> Removal | None:
    """A conversationUpdate whose ``membersRemoved`` holds copbot itself, or an
    installationUpdate that removes the app; None for anything else."""
    conversation_id = base_conversation_id(_text(activity.conversation.id)) if activity.conversation else ""
    team = channel_data_field(activity, "team", "id")
    if activity.type == ActivityTypes.installation_update:
        if _text(activity.action) not in ("remove", "remove-upgrade"):
            return None
        reason = "teams: the app was uninstalled"
    elif activity.type == ActivityTypes.conversation_update:
        bot = _text(activity.recipient.id) if activity.recipient is not None else ""
        removed = [_text(getattr(m, "id", None)) for m in activity.members_removed or []]
        if not bot or bot not in removed:
            return None
        reason = "teams: copbot was removed"
    else:
        return None
    if team:
        return Removal(reason, team_id=team)
    return Removal(reason, channel_id=conversation_id) if conversation_id else None


def to_incoming(activity: Activity) -> Incoming | None:
    """Translate one message activity (check `is_readable` first); None when it is nothing
    copbot should see."""
    if activity.type != ActivityTypes.message or not is_readable(activity):
        return None
    if activity.recipient is not None and activity.from_property.id == activity.recipient.id:
        return None  # our own message echoed back
    if isinstance(activity.value, dict) and not _text(activity.text).strip():
        return _from_submit(activity, activity.value)
    text, mentions, addressed = command_text(activity)
    text, prefixed = _strip_prefix(text)
    place, actor, root = place_of(activity), actor_of(activity), thread_root(activity)
    personal = conversation_type(activity) == "personal"
    if root and not prefixed and not personal and not (addressed and is_bare_command(text)):
        # In a reply chain: an answer (kept only if the chain is copbot's), with the people it
        # names as names. "@copbot help me think this through" is an answer too.
        answer, _, _ = command_text(activity, as_tokens=False)
        if not answer:
            return None
        reply = ReplyEvent(actor, place, answer, thread_ref=root, event_id=event_id(activity))
        return Incoming(reply, needs_thread_check=True)
    if not (addressed or prefixed or personal):
        return None
    return Incoming(CommandEvent(actor, place, text, mentions, event_id(activity)))


def channel_reference(activity: Activity) -> ConversationReference:
    """The conversation's address for later posts: the channel (not one reply chain), and
    neither the member who wrote, nor their message, nor their locale (members' locales differ:
    the channel's address does not change with who wrote last)."""
    conversation = activity.conversation
    conversation_copy = type(conversation)().deserialize(conversation.serialize())
    conversation_copy.id = base_conversation_id(conversation.id)
    conversation_copy.name = None
    # botbuilder maps ConversationAccount.tenant_id to "tenantID", Teams sends "tenantId":
    # keep the tenant from channelData (needed to open a 1:1 chat for a private post).
    conversation_copy.tenant_id = channel_data_field(activity, "tenant", "id") or conversation.tenant_id
    return ConversationReference(
        bot=activity.recipient,
        conversation=conversation_copy,
        channel_id=activity.channel_id,
        service_url=activity.service_url,
    )


def reference_fingerprint(activity: Activity) -> tuple[object, ...]:
    """What `channel_reference` is made of that can change under a channel, cheaply: where to
    post (service URL), to which conversation and tenant, as which bot. Two activities with
    the same fingerprint give references that send to the same place the same way."""
    conversation, bot = activity.conversation, activity.recipient
    return (
        activity.service_url,
        activity.channel_id,
        base_conversation_id(conversation.id),
        conversation.conversation_type,
        conversation.is_group,
        conversation.tenant_id,
        channel_data_field(activity, "tenant", "id"),
        getattr(bot, "id", None),
        getattr(bot, "name", None),
    )


def serialize_reference(reference: ConversationReference) -> str:
    return json.dumps(reference.serialize(), sort_keys=True)


def deserialize_reference(raw: str) -> ConversationReference:
    return ConversationReference().deserialize(json.loads(raw))
