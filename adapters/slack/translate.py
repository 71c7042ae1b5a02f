"""Slack payloads → neutral events (pure functions): /cop commands, thread answers, buttons, modals."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.slack.render import (
    ANONYMOUS_BLOCK,
    ANONYMOUS_INPUT,
    ANONYMOUS_VALUE,
    ANSWER_BLOCK,
    ANSWER_INPUT,
)
from bot.conversation import Actor, ChoiceEvent, CommandEvent, Mention, Place, ReplyEvent
from bot.text import display_token

PLATFORM = "slack"
_ENTITY = re.compile(r"<([^<>]*)>")
_USER = re.compile(r"^@([UW][A-Z0-9]+)(?:\|(.*))?$")
ANSWER_SUBTYPES = (None, "thread_broadcast")  # a thread reply (also sent to the channel)


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
    (an answer) the readable ``@Display_Name`` (spaces as underscores, as the core expects). Channel links become ``#name``, special mentions
    (``<!here>``) the plain word ``@here``, links ``label (url)``: the result is plain text that
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


def command_event(body: Mapping[str, Any], names: Mapping[str, str] | None = None) -> CommandEvent:
    """``/cop <text>`` → `CommandEvent` (slash commands carry no event id; none is needed)."""
    names = names or {}
    user_id = body["user_id"]
    text, mentions = decode(body.get("text") or "", names, as_tokens=True)
    return CommandEvent(
        actor=Actor(user_id, names.get(user_id) or body.get("user_name") or ""),
        place=place_of(body["channel_id"], body.get("team_id")),
        text=text.strip(),
        mentions=mentions,
    )


def is_answer(event: Mapping[str, Any], bot_user_id: str | None) -> bool:
    """True only for a member's reply in the thread of one of the bot's own posts: every other
    channel message is dropped before it reaches the core or a log."""
    if event.get("type") != "message" or event.get("subtype") not in ANSWER_SUBTYPES:
        return False
    if event.get("bot_id") or event.get("bot_profile") or not bot_user_id:
        return False
    user = event.get("user")
    thread_ts, ts = event.get("thread_ts"), event.get("ts")
    return (
        bool(user)
        and user != bot_user_id
        and bool(thread_ts)
        and thread_ts != ts
        and event.get("parent_user_id") == bot_user_id
        and bool((event.get("text") or "").strip())
    )


def reply_event(body: Mapping[str, Any], names: Mapping[str, str] | None = None) -> ReplyEvent:
    """A thread answer (Events API ``message``; check `is_answer` first) → `ReplyEvent`,
    carrying Slack's ``event_id`` so a retried or redelivered event is stored once."""
    names = names or {}
    event = body["event"]
    text, _ = decode(event.get("text") or "", names)
    return ReplyEvent(
        actor=Actor(event["user"], names.get(event["user"], "")),
        place=place_of(event["channel"], body.get("team_id") or event.get("team")),
        text=text.strip(),
        thread_ref=event["thread_ts"],
        event_id=body.get("event_id"),
    )


def _actor(body: Mapping[str, Any], names: Mapping[str, str]) -> Actor:
    user = body.get("user") or {}
    user_id = user.get("id", "")
    return Actor(user_id, names.get(user_id) or user.get("name") or user.get("username") or "")


def _team(body: Mapping[str, Any]) -> str:
    return (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id") or ""


def _message_ts(body: Mapping[str, Any]) -> str | None:
    return (body.get("message") or {}).get("ts") or (body.get("container") or {}).get("message_ts")


def _channel(body: Mapping[str, Any]) -> str:
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or ""


def choice_event(body: Mapping[str, Any], names: Mapping[str, str] | None = None) -> ChoiceEvent:
    """A button press (``block_actions``) → `ChoiceEvent` running the button's command."""
    action = body["actions"][0]
    actor = _actor(body, names or {})
    return ChoiceEvent(
        actor=actor,
        place=place_of(_channel(body), _team(body)),
        command=action.get("value") or "",
        post_ref=_message_ts(body),
        event_id=f"action:{actor.user_id}:{action.get('action_ts') or body.get('trigger_id', '')}",
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
    action = body["actions"][0]
    try:
        form = json.loads(action.get("value") or "{}")
    except ValueError:
        form = {}
    message_ts = _message_ts(body)
    if not isinstance(form, dict) or not message_ts or not body.get("trigger_id"):
        return None
    return ShareRequest(body["trigger_id"], form, _channel(body), message_ts, _team(body))


def form_reply(body: Mapping[str, Any], names: Mapping[str, str] | None = None) -> ReplyEvent | None:
    """A submitted answer window (``view_submission``) → `ReplyEvent` in the post's thread."""
    view = body.get("view") or {}
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return None
    values = (view.get("state") or {}).get("values") or {}
    text = ((values.get(ANSWER_BLOCK) or {}).get(ANSWER_INPUT) or {}).get("value") or ""
    chosen = ((values.get(ANONYMOUS_BLOCK) or {}).get(ANONYMOUS_INPUT) or {}).get("selected_options") or []
    if not isinstance(meta, dict) or not meta.get("c") or not meta.get("ts") or not text.strip():
        return None
    return ReplyEvent(
        actor=_actor(body, names or {}),
        place=place_of(meta["c"], meta.get("t") or _team(body)),
        text=text.strip(),  # typed into a modal: raw text, nothing to decode
        thread_ref=meta["ts"],
        anonymous=any(option.get("value") == ANONYMOUS_VALUE for option in chosen),
        from_form=True,
        event_id=f"view:{view.get('id')}" if view.get("id") else None,
    )
