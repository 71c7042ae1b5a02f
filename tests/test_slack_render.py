"""Neutral posts → Block Kit: escaping, Slack's size limits, buttons and the answer window."""

from __future__ import annotations

import json

from adapters.slack.render import (
    BLOCKS_PER_MESSAGE,
    SECTION_CHARS,
    escape,
    render,
    render_update,
    share_modal,
    split_text,
)
from bot.vocabulary.conversation import AnswerForm, Button, Post, Section


def _all_texts(blocks) -> list[str]:
    return [b["text"]["text"] for b in blocks if b.get("type") == "section"]


def test_member_text_is_escaped_and_verbatim():
    message = render(Post("Said: <!channel> & <@U1> <https://x|y>", sections=(Section("A <b>", ("x > y",)),)))[0]
    texts = _all_texts(message.blocks)
    assert texts[0] == "Said: &lt;!channel&gt; &amp; &lt;@U1&gt; &lt;https://x|y&gt;"
    assert "*A &lt;b&gt;*" in texts and "• x &gt; y" in texts
    assert all(b["text"]["verbatim"] for b in message.blocks if b["type"] == "section")
    assert "<" not in message.text and "&lt;!channel&gt;" in message.text


def test_split_never_cuts_a_word_or_an_entity():
    words = ["reflection"] * 1000
    text = " ".join(words)
    chunks = split_text(text, 3000)
    assert all(len(c) <= 3000 for c in chunks)
    assert " ".join(chunks).split() == words
    escaped = escape("&" * 4000)  # one giant "word" must be cut, but not inside &amp;
    for chunk in split_text(escaped, 3000):
        assert len(chunk) <= 3000 and chunk.endswith("&amp;") and chunk.startswith("&amp;")


def test_long_summary_fits_slack_limits_without_losing_a_word():
    lines = tuple(f"Member {i}: " + " ".join(["something", "thoughtful"] * 150) for i in range(120))
    post = Post(
        "Summary of our reflection",
        sections=(Section("1. What happened?", lines),),
        buttons=(Button("Next step", "next 1", "primary"),),
        key="reflection:1:summary",
    )
    messages = render(post)
    assert len(messages) >= 2
    for message in messages:
        assert len(message.blocks) <= BLOCKS_PER_MESSAGE
        assert all(len(t) <= SECTION_CHARS for t in _all_texts(message.blocks))
    assert messages[0].blocks[-1]["type"] == "actions"  # buttons stay with the remembered message
    shown = " ".join(t for m in messages for t in _all_texts(m.blocks))
    expected = " ".join(["Summary of our reflection", "*1. What happened?*"] + [f"• {line}" for line in lines])
    assert shown.split() == expected.split()  # every word, in order, none cut
    update = render_update(post)
    assert len(update.blocks) <= BLOCKS_PER_MESSAGE


def test_buttons_split_into_actions_blocks_of_25_with_commands_as_values():
    buttons = tuple(Button(f"{i}. Topic {i}", f"vote {i}") for i in range(1, 31)) + (
        Button("Close the vote", "close vote", "primary"),
    )
    message = render(Post("Vote", buttons=buttons, key="vote:1"))[0]
    actions = [b for b in message.blocks if b["type"] == "actions"]
    assert [len(a["elements"]) for a in actions] == [25, 6]
    elements = [e for a in actions for e in a["elements"]]
    assert [e["value"] for e in elements] == [b.command for b in buttons]
    assert len({e["action_id"] for e in elements}) == len(elements)
    assert elements[-1]["style"] == "primary" and "style" not in elements[0]
    assert all(len(e["text"]["text"]) <= 75 for e in elements)


def test_form_renders_a_share_button_and_the_modal_carries_the_post():
    post = Post("Step 1 of 6 — What happened?", form=AnswerForm("What happened?", "a few words"), key="r:1")
    message = render(post)[0]
    share = message.blocks[-1]["elements"][0]
    assert share["action_id"] == "cop:share"
    form = json.loads(share["value"])
    view = share_modal(form, "C1", "5.0", "T1")
    assert view["callback_id"] == "cop:answer"
    assert json.loads(view["private_metadata"]) == {"c": "C1", "ts": "5.0", "t": "T1"}
    answer, anonymous = view["blocks"][0], view["blocks"][1]
    assert answer["element"]["multiline"] is True and answer["label"]["text"] == "What happened?"
    assert anonymous["element"]["type"] == "checkboxes" and anonymous["optional"] is True
    assert anonymous["element"]["options"][0]["text"]["text"] == "Post without my name"
    assert len(view["title"]["text"]) <= 24 and len(view["submit"]["text"]) <= 24
    no_anon = share_modal({**form, "a": False}, "C1", "5.0", "T1")
    assert all(b.get("block_id") != "anonymous" for b in no_anon["blocks"])
