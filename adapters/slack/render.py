"""Neutral posts → Slack Block Kit messages: member text escaped, long text split to Slack's limits."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from bot.vocabulary.conversation import (
    ANONYMOUS_LABEL,
    MAX_ANSWER_CHARS,
    AnswerForm,
    Button,
    Post,
    Questionnaire,
    Section,
)

SECTION_CHARS = 3000  # a section block's text
BLOCKS_PER_MESSAGE = 50
# The text of one message's blocks, all together: Slack refuses more than about 12,000 with
# ``msg_blocks_too_long`` (undocumented; measured by its users), so a long post is cut well before.
MESSAGE_TEXT_CHARS = 10_000
BUTTONS_PER_ACTIONS = 25  # elements in one actions block
BUTTON_LABEL_CHARS = 75
BUTTON_VALUE_CHARS = 2000
FALLBACK_CHARS = 3000  # the notification text beside the blocks
MODAL_TITLE_CHARS = 24
INPUT_LABEL_CHARS = 2000
PLACEHOLDER_CHARS = 150

CHOICE_ACTION = "cop:{n}"
CHOICE_ACTION_PATTERN = re.compile(r"^cop:\d+$")
# A button in a direct message runs its command in the community's channel: the value carries
# that channel ("in:C0123ABCD actions done 3"), as a press in a DM only says the DM's id.
IN_CHANNEL = "in:{channel} {command}"
IN_CHANNEL_PATTERN = re.compile(r"^in:([CG][A-Z0-9]{1,40}) (.+)$", re.DOTALL)
SHARE_ACTION = "cop:share"
ANSWER_CALLBACK = "cop:answer"
ANSWER_BLOCK, ANSWER_INPUT = "answer", "text"
ANONYMOUS_BLOCK, ANONYMOUS_INPUT, ANONYMOUS_VALUE = "anonymous", "choice", "anonymous"
# A questionnaire (the review survey): its button opens one window of radio buttons; the window's
# inputs are "q:<key>" blocks; its private metadata carries the channel, the post and the command.
QUESTIONNAIRE_ACTION = "cop:questionnaire"
QUESTIONNAIRE_CALLBACK = "cop:questionnaire"
QUESTION_BLOCK, QUESTION_INPUT = "q:{key}", "value"
OPTION_CHARS = 75  # an option's text

# The words of the answer window (the core's prompts arrive on the post itself).
MODAL_TITLE = "Share"
MODAL_CLOSE = "Cancel"
MODAL_PASS_NOTE = "Share if you'd like. Passing is always fine: just close this window."
NAME_FIELD_LABEL = "Your name"
CONTINUED = "(continued)"

Block = dict[str, Any]


@dataclass(frozen=True)
class SlackMessage:
    """One chat.postMessage worth: the escaped fallback text and the blocks."""

    text: str
    blocks: tuple[Block, ...]


def escape(text: str) -> str:
    """Plain text → Slack mrkdwn that shows exactly these characters and pings nobody."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def split_text(text: str, limit: int) -> list[str]:
    """Cut ``text`` into chunks of at most ``limit`` characters, at a paragraph, a line or a
    space; only a single word longer than ``limit`` is cut inside (never inside an entity)."""
    chunks: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = -1
        for separator in ("\n\n", "\n", " "):
            at = window.rfind(separator, 0, limit + 1)
            if at > 0:
                cut = at
                break
        if cut <= 0:
            cut = _safe_hard_cut(rest, limit)
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        chunks.append(rest)
    return [chunk for chunk in chunks if chunk]


def _safe_hard_cut(text: str, limit: int) -> int:
    """A cut at ``limit`` moved back so that it does not split an ``&amp;``-style entity."""
    amp = text.rfind("&", max(0, limit - 5), limit)
    if amp > 0 and ";" in text[amp : limit + 5] and text.find(";", amp) >= limit:
        return amp
    return limit


def shorten(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = head.rfind(" ")
    if space > limit // 2:
        head = head[:space]
    return head.rstrip() + "…"


def _mrkdwn(text: str) -> Block:
    # verbatim: Slack must not turn plain words (@here, #channel, URLs) into links or mentions.
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _plain(text: str) -> Block:
    return {"type": "plain_text", "text": text, "emoji": True}


def _sections(escaped: str) -> list[Block]:
    return [{"type": "section", "text": _mrkdwn(chunk)} for chunk in split_text(escaped, SECTION_CHARS)]


def _section_blocks(section: Section) -> list[Block]:
    blocks: list[Block] = []
    if section.heading:
        heading = escape(section.heading)
        blocks += _sections(heading if "*" in heading else f"*{heading}*")
    lines: list[str] = []
    size = 0
    for line in section.lines:
        item = "• " + escape(line)
        if lines and size + 1 + len(item) > SECTION_CHARS:
            blocks += _sections("\n".join(lines))
            lines, size = [], 0
        lines.append(item)
        size += len(item) + 1
    if lines:
        blocks += _sections("\n".join(lines))
    return blocks


def _button(button: Button, n: int, in_channel: str | None = None) -> Block:
    value = IN_CHANNEL.format(channel=in_channel, command=button.command) if in_channel else button.command
    element: Block = {
        "type": "button",
        "action_id": CHOICE_ACTION.format(n=n),
        "text": _plain(shorten(button.label, BUTTON_LABEL_CHARS) or button.command[:BUTTON_LABEL_CHARS]),
        "value": value[:BUTTON_VALUE_CHARS],
    }
    if button.style in ("primary", "danger"):
        element["style"] = button.style
    return element


def share_button(form: AnswerForm) -> Block:
    """The Share button: its value carries the form, so the modal can be built on the press."""
    data = {
        "l": form.label[:INPUT_LABEL_CHARS],
        "p": form.placeholder[:PLACEHOLDER_CHARS],
        "a": form.allow_anonymous,
        "s": form.submit_label,
    }
    value = json.dumps(data, ensure_ascii=False)
    while len(value) > BUTTON_VALUE_CHARS:  # a very long label: shorten it until the value fits
        data["l"] = shorten(str(data["l"]), max(20, len(str(data["l"])) - (len(value) - BUTTON_VALUE_CHARS) - 2))
        value = json.dumps(data, ensure_ascii=False)
    return {
        "type": "button",
        "action_id": SHARE_ACTION,
        "text": _plain(shorten(form.submit_label or MODAL_TITLE, BUTTON_LABEL_CHARS)),
        "value": value,
        "style": "primary",
    }


def questionnaire_button(questionnaire: Questionnaire) -> Block:
    """The button that opens a questionnaire's window: its value carries the questions (short
    keys; a scale written once), so the window is built on the press, as the Share button's is."""
    scales: list[list[str]] = []
    questions = []
    for question in questionnaire.questions:
        scale = -1
        if question.choices:
            choices = [choice[:OPTION_CHARS] for choice in question.choices]
            if choices not in scales:
                scales.append(choices)
            scale = scales.index(choices)
        questions.append([question.key, question.label[:INPUT_LABEL_CHARS], scale])
    data = {
        "c": questionnaire.command,
        "t": questionnaire.title,
        "n": questionnaire.note,
        "s": questionnaire.submit_label,
        "sc": scales,
        "q": questions,
    }
    return {
        "type": "button",
        "action_id": QUESTIONNAIRE_ACTION,
        "text": _plain(shorten(questionnaire.open_label, BUTTON_LABEL_CHARS)),
        "value": json.dumps(data, ensure_ascii=False, separators=(",", ":"))[:BUTTON_VALUE_CHARS],
        "style": "primary",
    }


def questionnaire_modal(data: dict[str, Any], channel_id: str, message_ts: str, team_id: str) -> Block:
    """The window a questionnaire button opens: one optional input per question (radio buttons
    for a rating, a text field for words), its note, and a send button."""
    scales = data.get("sc") or []
    blocks: list[Block] = []
    if data.get("n"):
        blocks.append({"type": "context", "elements": [_plain(str(data["n"])[:INPUT_LABEL_CHARS])]})
    spec = []
    for key, label, scale in data.get("q") or []:
        element: Block
        if isinstance(scale, int) and 0 <= scale < len(scales):
            options = [
                {"text": _plain(str(choice)[:OPTION_CHARS]), "value": str(n)}
                for n, choice in enumerate(scales[scale], start=1)
            ]
            element = {"type": "radio_buttons", "action_id": QUESTION_INPUT, "options": options}
        else:
            element = {
                "type": "plain_text_input",
                "action_id": QUESTION_INPUT,
                "multiline": True,
                "max_length": MAX_ANSWER_CHARS,
            }
        spec.append([key, isinstance(scale, int) and scale >= 0])
        blocks.append(
            {
                "type": "input",
                "block_id": QUESTION_BLOCK.format(key=key),
                "optional": True,
                "label": _plain(str(label)[:INPUT_LABEL_CHARS]),
                "element": element,
            }
        )
    meta = {"c": channel_id, "ts": message_ts, "t": team_id, "cmd": data.get("c", ""), "q": spec}
    return {
        "type": "modal",
        "callback_id": QUESTIONNAIRE_CALLBACK,
        "title": _plain(shorten(str(data.get("t") or MODAL_TITLE), MODAL_TITLE_CHARS)),
        "submit": _plain(shorten(str(data.get("s") or MODAL_TITLE), MODAL_TITLE_CHARS)),
        "close": _plain(MODAL_CLOSE),
        "private_metadata": json.dumps(meta),
        "blocks": blocks,
    }


def _action_blocks(post: Post, in_channel: str | None = None) -> list[Block]:
    elements = [share_button(post.form)] if post.form else []
    buttons = post.buttons
    if post.questionnaire is not None:  # its window stands in for the button of the same label
        elements.append(questionnaire_button(post.questionnaire))
        buttons = tuple(b for b in buttons if b.label != post.questionnaire.open_label)
    elements += [_button(button, n, in_channel) for n, button in enumerate(buttons)]
    return [
        {"type": "actions", "elements": elements[start : start + BUTTONS_PER_ACTIONS]}
        for start in range(0, len(elements), BUTTONS_PER_ACTIONS)
    ]


def _fallback(post: Post) -> str:
    source = post.text or next((s.heading for s in post.sections if s.heading), "") or post.plain_text()
    return escape(shorten(source, FALLBACK_CHARS)) or "…"


def render(post: Post, in_channel: str | None = None) -> list[SlackMessage]:
    """The Slack messages for ``post``: usually one; more only when the blocks exceed 50, or their
    text together exceeds `MESSAGE_TEXT_CHARS`.

    The buttons and the answer form stay on the first message, because the first message's ts
    is the one remembered for the post (presses and answers refer to it). ``in_channel``: the
    post goes as a direct message, and its buttons act in that channel of the community."""
    body = _sections(escape(post.text)) if post.text.strip() else []
    for section in post.sections:
        body += _section_blocks(section)
    actions = _action_blocks(post, in_channel)[: BLOCKS_PER_MESSAGE - 1]
    if not body and not actions:
        body = [{"type": "section", "text": _mrkdwn("…")}]
    parts: list[list[Block]] = [[]]
    blocks_room, chars_room = BLOCKS_PER_MESSAGE - len(actions), MESSAGE_TEXT_CHARS - _text_chars(actions)
    size = 0
    for block in body:
        chars = _text_chars(block)
        if parts[-1] and (len(parts[-1]) >= blocks_room or size + chars > chars_room):
            parts.append([])
            blocks_room, chars_room, size = BLOCKS_PER_MESSAGE, MESSAGE_TEXT_CHARS, 0
        parts[-1].append(block)
        size += chars
    messages = [SlackMessage(_fallback(post), tuple(parts[0] + actions))]
    messages += [SlackMessage(CONTINUED, tuple(part)) for part in parts[1:]]
    return messages


def _text_chars(value: Any) -> int:
    """The characters of every text in a block (or blocks): what Slack's undocumented limit on a
    message's blocks counts (slackapi/bolt-js#2509: ``msg_blocks_too_long`` near 12,000)."""
    if isinstance(value, dict):
        return sum(len(v) if k == "text" and isinstance(v, str) else _text_chars(v) for k, v in value.items())
    if isinstance(value, list):
        return sum(_text_chars(item) for item in value)
    return 0


def render_update(post: Post) -> SlackMessage:
    """The one message that replaces an earlier one (a live tally fits; anything beyond 50
    blocks is cut with a note)."""
    messages = render(post)
    first = messages[0]
    if len(messages) == 1:
        return first
    blocks = list(first.blocks)
    actions = [b for b in blocks if b["type"] == "actions"]
    body = [b for b in blocks if b["type"] != "actions"][: BLOCKS_PER_MESSAGE - len(actions) - 1]
    body.append({"type": "context", "elements": [_mrkdwn("… (shortened to fit one message)")]})
    return SlackMessage(first.text, tuple(body + actions))


def share_modal(form: dict[str, Any], channel_id: str, message_ts: str, team_id: str) -> Block:
    """The answer window opened by a Share button (``form`` is the button's decoded value)."""
    label = str(form.get("l") or "Your answer")
    placeholder = str(form.get("p") or "")
    element: Block = {
        "type": "plain_text_input",
        "action_id": ANSWER_INPUT,
        "multiline": True,
        "max_length": MAX_ANSWER_CHARS,
    }
    if placeholder:
        element["placeholder"] = _plain(placeholder[:PLACEHOLDER_CHARS])
    blocks: list[Block] = [
        {
            "type": "input",
            "block_id": ANSWER_BLOCK,
            "label": _plain(label[:INPUT_LABEL_CHARS]),
            "element": element,
        }
    ]
    if form.get("a", True):
        blocks.append(
            {
                "type": "input",
                "block_id": ANONYMOUS_BLOCK,
                "optional": True,
                "label": _plain(NAME_FIELD_LABEL),
                "element": {
                    "type": "checkboxes",
                    "action_id": ANONYMOUS_INPUT,
                    "options": [{"text": _plain(ANONYMOUS_LABEL), "value": ANONYMOUS_VALUE}],
                },
            }
        )
    blocks.append({"type": "context", "elements": [_plain(MODAL_PASS_NOTE)]})
    submit = str(form.get("s") or MODAL_TITLE)
    return {
        "type": "modal",
        "callback_id": ANSWER_CALLBACK,
        "title": _plain(shorten(MODAL_TITLE, MODAL_TITLE_CHARS)),
        "submit": _plain(shorten(submit, MODAL_TITLE_CHARS)),
        "close": _plain(MODAL_CLOSE),
        "private_metadata": json.dumps({"c": channel_id, "ts": message_ts, "t": team_id}),
        "blocks": blocks,
    }
