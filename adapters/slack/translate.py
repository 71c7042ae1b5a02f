"""Slack payloads → neutral events (pure functions): /cop commands, thread answers, buttons, modals."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.slack.manifest import COMMAND
from adapters.slack.render import (
    ANONYMOUS_BLOCK,
    ANONYMOUS_INPUT,
    ANONYMOUS_VALUE,
    ANSWER_BLOCK,
    ANSWER_CALLBACK,
    ANSWER_INPUT,
    CHOICE_ACTION_PATTERN,
    IN_CHANNEL_PATTERN,
    QUESTION_BLOCK,
    QUESTION_INPUT,
    QUESTIONNAIRE_ACTION,
    QUESTIONNAIRE_CALLBACK,
    SHARE_ACTION,
)
from bot.vocabulary.conversation import (
    Actor,
    ChoiceEvent,
    CommandEvent,
    Mention,
    Place,
    ReplyEvent,
    questionnaire_command,
)
from bot.vocabulary.text import display_token, trimmed

PLATFORM = "slack"
_ENTITY = re.compile(r"<([^<>]*)>")
_USER = re.compile(r"^@([UW][A-Z0-9]+)(?:\|(.*))?$")
ANSWER_SUBTYPES = (None, "thread_broadcast")
_DIRECT_MESSAGE = re.compile(
    r"^D[A-Z0-9]{2,40}$"
)  # a direct message's conversation id  # a thread reply (also sent to the channel)


def unescape(text: str) -> str:
    """Slack's escaped text → the characters the member typed."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def user_ids_in(text: str) -> list[str]:
    """The user ids mentioned in Slack-formatted ``text`` (``<@U123>`` / ``<@U123|name>``)."""
    ids = []
    for entity in _ENTITY.findall(text or ""):
        match = _USER.match(entity)
        if match and match.group(1) not in ids:
            ids.append(match.group(1))
    return ids


def decode(
    text: str, names: Mapping[str, str] | None = None, *, as_tokens: bool = False
) -> tuple[str, tuple[Mention, ...]]:
    """Slack-formatted text → plain text and the members it names.

    With ``as_tokens`` (command text) a member becomes the token ``@<user_id>``; otherwise
    (an answer) the readable ``@Display_Name`` (spaces as underscores, as the core expects).
    Channel links become ``#name``, special mentions (``<!here>``) the plain word ``@here``,
    links ``label (url)``: the result is plain text that
    is escaped again when shown, so nothing in it can ping anyone.
    """
    names = names or {}
    mentions: list[Mention] = []
    parts: list[str] = []
    last = 0
    for match in _ENTITY.finditer(text or ""):
        parts.append(unescape(text[last : match.start()]))
        parts.append(_entity(match.group(1), names, as_tokens, mentions))
        last = match.end()
    parts.append(unescape((text or "")[last:]))
    return "".join(parts), tuple(mentions)


def _entity(inner: str, names: Mapping[str, str], as_tokens: bool, mentions: list[Mention]) -> str:
    user = _USER.match(inner)
    if user:
        user_id = user.group(1)
        name = names.get(user_id) or unescape(user.group(2) or "")
        if all(m.user_id != user_id for m in mentions):
            mentions.append(Mention(user_id, name))
        if as_tokens:
            return f"@{user_id}"
        # In an answer: readable, and still one token the core can resolve ("@Ana_Lopez").
        return "@" + display_token(name, user_id)
    target, _, label = inner.partition("|")
    label = unescape(label)
    if target.startswith("#"):
        return f"#{label or target[1:]}"
    if target.startswith("!"):
        word = target[1:].split("^", 1)[0]
        if word == "subteam":
            return label if label.startswith("@") else f"@{label or 'group'}"
        if word == "date":
            return label
        return f"@{word}"
    target = unescape(target)
    if target.startswith("mailto:"):
        return label or target[len("mailto:") :]
    if label and label != target:
        return f"{label} ({target})"
    return target


def place_of(channel_id: str, team_id: str | None) -> Place:
    return Place(platform=PLATFORM, channel_id=channel_id, team_id=team_id or "")


class BadPayload(ValueError):
    """A request whose fields are missing or of the wrong type (answered with a 400 over HTTP)."""


def at(value: Any, *path: str) -> Any:
    """The value at ``path`` inside nested objects, or None when anything on the way is missing
    or is not an object."""
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def field(value: Any, *path: str) -> str:
    """The string at ``path``; "" when it is missing or is not text (a list where an object
    belongs, a number where text belongs)."""
    found = at(value, *path)
    return found if isinstance(found, str) else ""


def _needed(value: str, what: str) -> str:
    if not value:
        raise BadPayload(f"no {what}")
    return value


def _first_action(body: Mapping[str, Any]) -> Mapping[str, Any]:
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], Mapping):
        raise BadPayload("no action")
    return actions[0]


def request_kind(body: Any) -> str:
    """What a verified, parsed request is: "bolt" (one copbot handles: Bolt routes it),
    "ignored" (a well-formed request copbot has no use for: acknowledged, nothing done) or
    "malformed" (a field copbot needs is missing or of the wrong type: 400)."""
    if not isinstance(body, Mapping):
        return "malformed"
    kind = body.get("type")
    if kind == "url_verification":
        return "bolt" if field(body, "challenge") else "malformed"
    if "command" in body:
        if field(body, "command") != COMMAND:
            return "ignored"
        ok = field(body, "user_id") and field(body, "channel_id") and isinstance(body.get("text", ""), str)
        return "bolt" if ok else "malformed"
    if kind == "event_callback":
        event = body.get("event")
        if not isinstance(event, Mapping) or not field(event, "type"):
            return "malformed"
        return "bolt" if event.get("type") in ("message", *REMOVALS) else "ignored"
    if kind == "block_actions":
        try:
            action = _first_action(body)
        except BadPayload:
            return "malformed"
        if not field(body, "user", "id") or not _channel(body):
            return "malformed"
        action_id = field(action, "action_id")
        known = CHOICE_ACTION_PATTERN.match(action_id) or action_id in (SHARE_ACTION, QUESTIONNAIRE_ACTION)
        return "bolt" if known else "ignored"
    if kind == "view_submission":
        if not field(body, "user", "id") or not isinstance(body.get("view"), Mapping):
            return "malformed"
        return "bolt" if field(body, "view", "callback_id") in (ANSWER_CALLBACK, QUESTIONNAIRE_CALLBACK) else "ignored"
    return "ignored" if isinstance(kind, str) and kind else "malformed"


REMOVALS = ("app_uninstalled", "tokens_revoked")


def removed_from(body: Mapping[str, Any]) -> str | None:
    """The workspace copbot was removed from: the app uninstalled, or its bot token revoked
    (a revoked user token alone changes nothing); None otherwise or without a team id."""
    event = body.get("event")
    if not isinstance(event, Mapping):
        return None
    if event.get("type") == "tokens_revoked":
        tokens = event.get("tokens")
        bots = tokens.get("bot") if isinstance(tokens, Mapping) else None
        if not isinstance(bots, list) or not bots:
            return None
    elif event.get("type") != "app_uninstalled":
        return None
    return field(body, "team_id") or None


def command_event(body: Mapping[str, Any], names: Mapping[str, str] | None = None) -> CommandEvent:
    """``/cop <text>`` → `CommandEvent` (slash commands carry no event id; none is needed)."""
    names = names or {}
    user_id = _needed(field(body, "user_id"), "user")
    text, mentions = decode(field(body, "text"), names, as_tokens=True)
    return CommandEvent(
        actor=Actor(user_id, names.get(user_id) or field(body, "user_name")),
        place=place_of(_needed(field(body, "channel_id"), "channel"), field(body, "team_id")),
        text=text.strip(),
        mentions=mentions,
    )


def is_answer(event: Mapping[str, Any], bot_user_id: str | None) -> bool:
    """True for a member's message in a thread (a plain reply, or one also sent to the channel)
    that may answer one of the bot's posts: whether the thread's root really is the bot's is
    for the caller to check (the bot knows its own posts' ts). Everything else is dropped
    before it reaches the core or a log."""
    if not isinstance(event, Mapping) or event.get("type") != "message":
        return False
    if event.get("subtype") not in ANSWER_SUBTYPES or event.get("bot_id") or event.get("bot_profile"):
        return False
    user, thread_ts, ts = field(event, "user"), field(event, "thread_ts"), field(event, "ts")
    return (
        bool(bot_user_id)
        and bool(user)
        and user != bot_user_id
        and bool(field(event, "channel"))
        and bool(thread_ts)
        and thread_ts != ts
        and field(event, "parent_user_id") in ("", bot_user_id)  # absent on "also send to #channel"
        and isinstance(event.get("text"), str)
    )


def reply_event(body: Mapping[str, Any], names: Mapping[str, str] | None = None) -> ReplyEvent:
    """A thread answer (Events API ``message``; check `is_answer` first) → `ReplyEvent`,
    carrying Slack's ``event_id`` so a retried or redelivered event is stored once."""
    names = names or {}
    event = body.get("event")
    user = _needed(field(event, "user"), "user")
    text, _ = decode(field(event, "text"), names)
    return ReplyEvent(
        actor=Actor(user, names.get(user, "")),
        place=place_of(_needed(field(event, "channel"), "channel"), field(body, "team_id") or field(event, "team")),
        text=text,
        thread_ref=_needed(field(event, "thread_ts"), "thread"),
        event_id=field(body, "event_id") or None,
        message_ref=field(event, "ts") or None,
    )


def _actor(body: Mapping[str, Any], names: Mapping[str, str]) -> Actor:
    user_id = _needed(field(body, "user", "id"), "user")
    return Actor(user_id, names.get(user_id) or field(body, "user", "name") or field(body, "user", "username"))


def _team(body: Mapping[str, Any]) -> str:
    return field(body, "team", "id") or field(body, "user", "team_id")


def _message_ts(body: Mapping[str, Any]) -> str | None:
    return field(body, "message", "ts") or field(body, "container", "message_ts") or None


def _channel(body: Mapping[str, Any]) -> str:
    return field(body, "channel", "id") or field(body, "container", "channel_id")


def choice_event(body: Mapping[str, Any], names: Mapping[str, str] | None = None) -> ChoiceEvent:
    """A button press (``block_actions``) → `ChoiceEvent` running the button's command. A press
    in a direct message (a reminder) runs in the community channel its value names (checked to
    look like a channel id; the command then meets every permission check there); elsewhere
    that prefix is ignored and the press stays in its own channel."""
    action = _first_action(body)
    actor = _actor(body, names or {})
    pressed = field(action, "action_ts") or field(body, "trigger_id")
    channel, command = _needed(_channel(body), "channel"), field(action, "value")
    carried, direct = IN_CHANNEL_PATTERN.match(command), False
    if carried:
        command = carried.group(2)
        if _DIRECT_MESSAGE.match(channel):
            channel, direct = carried.group(1), True
    return ChoiceEvent(
        actor=actor,
        place=place_of(channel, _team(body)),
        command=command,
        event_id=f"action:{actor.user_id}:{pressed}" if pressed else None,
        in_direct_message=direct,
    )


@dataclass(frozen=True)
class ShareRequest:
    """A Share button press: open the answer window for the post ``message_ts``."""

    trigger_id: str
    form: dict[str, Any]
    channel_id: str
    message_ts: str
    team_id: str


def share_request(body: Mapping[str, Any]) -> ShareRequest | None:
    try:
        action = _first_action(body)
        form = json.loads(field(action, "value") or "{}")
    except (BadPayload, ValueError, RecursionError):
        return None
    message_ts, channel, trigger = _message_ts(body), _channel(body), field(body, "trigger_id")
    if not isinstance(form, dict) or not message_ts or not trigger or not channel:
        return None
    return ShareRequest(trigger, form, channel, message_ts, _team(body))


# What a member is told in the answer window when what arrived cannot be kept.
NO_WORDS = "Write a few words first, or close this window to pass: passing is always fine."
UNREADABLE = "I couldn't read that answer. Please type it again."


class FormError(BadPayload):
    """An answer window that cannot be kept: the message is the sentence to show in it."""


def form_reply(body: Mapping[str, Any], names: Mapping[str, str] | None = None) -> ReplyEvent:
    """A submitted answer window (``view_submission``) → `ReplyEvent` in the post's thread;
    `FormError` when there is nothing to keep or it cannot be read."""
    view = body.get("view")
    try:
        meta = json.loads(field(view, "private_metadata") or "{}")
    except (ValueError, RecursionError):
        meta = None
    if not isinstance(meta, dict) or not field(meta, "c") or not field(meta, "ts"):
        raise FormError(UNREADABLE)
    values = at(view, "state", "values")
    text = at(values, ANSWER_BLOCK, ANSWER_INPUT, "value")
    anonymous = _anonymous_choice(values)
    if not isinstance(text, (str, type(None))) or anonymous is None:
        raise FormError(UNREADABLE)
    if not trimmed(text):
        raise FormError(NO_WORDS)
    return ReplyEvent(
        actor=_actor(body, names or {}),
        place=place_of(field(meta, "c"), field(meta, "t") or _team(body)),
        text=trimmed(text),  # typed into a modal: raw text, nothing to decode
        thread_ref=field(meta, "ts"),
        anonymous=anonymous,
        from_form=True,
        event_id=f"view:{field(view, 'id')}" if field(view, "id") else None,
    )


def _anonymous_choice(values: Any) -> bool | None:
    """Whether "post without my name" was ticked; None when the choice holds anything but the
    window's own option."""
    if at(values, ANONYMOUS_BLOCK) is None:
        return False
    choice = at(values, ANONYMOUS_BLOCK, ANONYMOUS_INPUT)
    chosen = at(choice, "selected_options") if isinstance(choice, Mapping) else None
    if isinstance(choice, Mapping) and chosen is None:
        chosen = []  # the box was left as it was
    if not isinstance(chosen, list) or any(field(option, "value") != ANONYMOUS_VALUE for option in chosen):
        return None
    return bool(chosen)


# What a member is told in a questionnaire's window when it cannot be sent.
NO_ANSWERS = "Answer at least one question, or close this window: passing is always fine."


def questionnaire_reply(body: Mapping[str, Any], names: Mapping[str, str] | None = None) -> ChoiceEvent:
    """A submitted questionnaire window → the command it stands for (``review send 4 5 - … | words``);
    `FormError` when nothing was answered or it cannot be read."""
    view = body.get("view")
    try:
        meta = json.loads(field(view, "private_metadata") or "{}")
    except (ValueError, RecursionError):
        meta = None
    if not isinstance(meta, dict) or not field(meta, "c") or not field(meta, "cmd"):
        raise FormError(UNREADABLE)
    spec_raw = meta.get("q")
    if not isinstance(spec_raw, list) or not all(
        isinstance(item, list) and len(item) == 2 and isinstance(item[0], str) for item in spec_raw
    ):
        raise FormError(UNREADABLE)
    spec = [(str(key), bool(has_choices)) for key, has_choices in spec_raw]
    values = at(view, "state", "values")
    given: dict[str, str] = {}
    for key, has_choices in spec:
        state = at(values, QUESTION_BLOCK.format(key=key), QUESTION_INPUT)
        if not isinstance(state, Mapping):
            continue
        value = at(state, "selected_option", "value") if has_choices else state.get("value")
        if value is None:
            continue
        if not isinstance(value, str):
            raise FormError(UNREADABLE)
        given[key] = value if has_choices else trimmed(value)
    if not any(value.strip() for value in given.values()):
        raise FormError(NO_ANSWERS)
    return ChoiceEvent(
        actor=_actor(body, names or {}),
        place=place_of(field(meta, "c"), field(meta, "t") or _team(body)),
        command=questionnaire_command(field(meta, "cmd"), spec, given),
        event_id=f"view:{field(view, 'id')}" if field(view, "id") else None,
    )
