"""Neutral `Post` → Adaptive Card (schema 1.5): text in TextBlocks with markdown escaped, buttons
as `Action.Submit` carrying the typed command, an answer form as inputs plus a submit."""

from __future__ import annotations

import dataclasses
import json
import re
import secrets
from typing import Any

from bot.vocabulary.conversation import (
    ANONYMOUS_LABEL,
    MAX_ANSWER_CHARS,
    Attachment,
    Button,
    Post,
    Questionnaire,
    Section,
)

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_VERSION = "1.5"
ANSWER_INPUT = "answer"
ANONYMOUS_INPUT = "anonymous"
COMMAND_DATA = "cop"  # a button: {"cop": "vote 3"}
ANSWER_DATA = "copAnswer"  # an answer form: {"copAnswer": "<post key>"}
FORM_DATA = "copForm"  # a questionnaire: {"copForm": {"c": "review send", "q": [[key, has choices], …]}}
QUESTION_INPUT = "q_{key}"
# An image (the review survey's chart) goes in the card as a data URI when it is this small; a
# larger one is left out, with a note (the figures are always in the post's text too).
IMAGE_URI_CHARS = 16_000
IMAGE_TOO_LARGE = "(The chart was too large for this card: the figures are in the table.)"
NONCE_DATA = "v"  # a fresh value per rendering: a double click on one rendering counts once
BUTTONS_PER_ROW = 5  # Teams shows at most 6 actions per action set
# A bot message may be 100 KB (40 KB in older documentation), counted in UTF-16 with its whole
# envelope; a card over that is refused with 413 MessageSizeTooBig. A longer post goes as
# several cards, each well under the older limit.
CARD_BYTES = 36_000
CONTINUED = "(continued)"

# What Teams' TextBlock markdown acts on (bold, italic, links, lists; strike and code on some
# clients) and the ``<at>`` mention markup. Only these are escaped, so ordinary punctuation
# ("(Description)", "Welcome!") reads cleanly on every client.
_MARKDOWN = re.compile(r"([\\`*_~\[\]<>])")
_LINE_START = re.compile(r"^([ \t]*)([-+#]|\d+[.)])", re.MULTILINE)

STYLES = {"primary": "positive", "danger": "destructive"}


def escape_markdown(text: str) -> str:
    """Make ``text`` show literally in a TextBlock: no emphasis, links, lists or ``<at>`` markup."""
    text = text.replace("\r", "")
    escaped = _MARKDOWN.sub(r"\\\1", text)
    return _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)


def _text_block(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": escape_markdown(text), "wrap": True, **extra}


def _paragraphs(text: str) -> list[dict[str, Any]]:
    # One TextBlock per line: Teams clients differ on how a single "\n" renders.
    blocks: list[dict[str, Any]] = []
    for line in text.split("\n"):
        if line.strip():
            blocks.append(_text_block(line, spacing="Small" if blocks else "Default"))
    return blocks


def _submit(button: Button, nonce: str) -> dict[str, Any]:
    action: dict[str, Any] = {
        "type": "Action.Submit",
        "title": button.label[:80],
        "data": {COMMAND_DATA: button.command, NONCE_DATA: nonce},
        "associatedInputs": "none",
    }
    if button.style in STYLES:
        action["style"] = STYLES[button.style]
    return action


def _image(attachment: Attachment) -> dict[str, Any]:
    uri = attachment.data_uri()
    if len(uri) > IMAGE_URI_CHARS:
        if not attachment.url:
            return _text_block(IMAGE_TOO_LARGE, isSubtle=True)
        uri = attachment.url  # served by copbot at an unguessable, expiring address
    return {"type": "Image", "url": uri, "altText": attachment.alt_text[:1000], "size": "Stretch"}


def _questionnaire(questionnaire: Questionnaire, nonce: str) -> list[dict[str, Any]]:
    """One optional input per question (a choice set shown as radio buttons, or a text field),
    and a send button whose data says how to read them back."""
    blocks: list[dict[str, Any]] = []
    if questionnaire.note:
        blocks.append(_text_block(questionnaire.note, isSubtle=True))
    for question in questionnaire.questions:
        input_id = QUESTION_INPUT.format(key=question.key)
        if question.choices:
            blocks.append(
                {
                    "type": "Input.ChoiceSet",
                    "id": input_id,
                    "label": question.label,
                    "style": "expanded",
                    "isRequired": False,
                    "choices": [{"title": c, "value": str(n)} for n, c in enumerate(question.choices, start=1)],
                }
            )
        else:
            blocks.append(
                {
                    "type": "Input.Text",
                    "id": input_id,
                    "label": question.label,
                    "isMultiline": True,
                    "isRequired": False,
                    "maxLength": MAX_ANSWER_CHARS,
                }
            )
    data = {FORM_DATA: {"c": questionnaire.command, "q": [list(item) for item in questionnaire.spec()]}}
    send = {
        "type": "Action.Submit",
        "title": questionnaire.submit_label,
        "style": "positive",
        "data": {**data, NONCE_DATA: nonce},
    }
    blocks.append({"type": "ActionSet", "actions": [send]})
    return blocks


def render_card(post: Post, nonce: str | None = None) -> dict[str, Any]:
    """The Adaptive Card for ``post``. Member text is escaped; no mention entities are ever made."""
    nonce = nonce or secrets.token_hex(4)
    body: list[dict[str, Any]] = _paragraphs(post.text)
    for section in post.sections:
        if section.heading:
            body.append(_text_block(section.heading, weight="Bolder", spacing="Medium"))
        for line in section.lines:
            body.append(_text_block(f"• {line}", spacing="Small"))
    if post.attachment is not None and post.attachment.media_type.startswith("image/"):
        body.append(_image(post.attachment))
    shown_buttons = post.buttons
    if post.questionnaire is not None:  # its inputs stand in for the button of the same label
        body += _questionnaire(post.questionnaire, nonce)
        shown_buttons = tuple(b for b in post.buttons if b.label != post.questionnaire.open_label)
    buttons = [_submit(b, nonce) for b in shown_buttons]
    for start in range(0, len(buttons), BUTTONS_PER_ROW):
        body.append({"type": "ActionSet", "actions": buttons[start : start + BUTTONS_PER_ROW]})
    if post.form is not None:
        form = post.form
        body.append(
            {
                "type": "Input.Text",
                "id": ANSWER_INPUT,
                "label": form.label,
                "placeholder": form.placeholder,
                "isMultiline": True,
                "isRequired": True,
                "errorMessage": "Write a few words first, or pass: passing is always fine.",
                "maxLength": MAX_ANSWER_CHARS,
            }
        )
        if form.allow_anonymous:
            body.append(
                {
                    "type": "Input.Toggle",
                    "id": ANONYMOUS_INPUT,
                    "title": ANONYMOUS_LABEL,
                    "value": "false",
                    "valueOn": "true",
                    "valueOff": "false",
                }
            )
        body.append(
            {
                "type": "ActionSet",
                "actions": [
                    {
                        "type": "Action.Submit",
                        "title": form.submit_label,
                        "style": "positive",
                        "data": {ANSWER_DATA: post.key or "", NONCE_DATA: nonce},
                    }
                ],
            }
        )
    if not body:
        body.append(_text_block(" "))
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": body,
        "msteams": {"width": "Full"},
    }


def card_size(post: Post) -> int:
    """The size Teams counts for ``post``'s card: its JSON in UTF-16."""
    return len(json.dumps(render_card(post, nonce="0" * 8), ensure_ascii=False).encode("utf-16-le"))


def _block_size(text: str) -> int:
    return len(json.dumps(_text_block(text, spacing="Medium", weight="Bolder"), ensure_ascii=False)) * 2 + 2


def card_posts(post: Post, limit: int = CARD_BYTES) -> list[Post]:
    """``post`` as one card, or, when its card would be too big for Teams, as several: the
    first keeps the text, buttons and form (what a press or an answer refers to); the others
    carry the rest of the sections, "(continued)", a section's heading repeated where it is cut."""
    if card_size(post) <= limit:
        return [post]
    first = dataclasses.replace(post, sections=())
    parts: list[tuple[Post, list[Section]]] = [(first, [])]
    size = card_size(first)
    for section in post.sections:
        lines: list[str] = []
        heading_size = _block_size(section.heading) if section.heading else 0
        size += heading_size
        for line in section.lines:
            line_size = _block_size(f"• {line}")
            if size + line_size > limit and (lines or parts[-1][1]):
                if lines:
                    parts[-1][1].append(Section(section.heading, tuple(lines)))
                parts.append((Post(CONTINUED), []))
                lines = []
                size = card_size(Post(CONTINUED)) + heading_size
            lines.append(line)
            size += line_size
        parts[-1][1].append(Section(section.heading, tuple(lines)))
    return [
        dataclasses.replace(head, sections=tuple(s for s in sections if s.heading or s.lines))
        for head, sections in parts
    ]
