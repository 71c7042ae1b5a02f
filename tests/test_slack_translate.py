"""Slack payloads → neutral events, as pure functions."""

from __future__ import annotations

import json

from adapters.slack import translate
from adapters.slack.render import share_modal
from bot.vocabulary.conversation import Actor, Mention, Place

BOT = "UBOT"


def test_command_rewrites_mentions_to_user_id_tokens():
    body = {
        "command": "/cop",
        "text": "chairs set <@U2|bo> <@U3> 12",
        "user_id": "U1",
        "user_name": "ann",
        "channel_id": "C1",
        "team_id": "T1",
    }
    event = translate.command_event(body, {"U3": "Cara Díaz"})
    assert event.text == "chairs set @U2 @U3 12"
    assert event.mentions == (Mention("U2", "bo"), Mention("U3", "Cara Díaz"))
    assert event.actor == Actor("U1", "ann")
    assert event.place == Place("slack", "C1", "T1")
    assert event.event_id is None


def test_command_text_is_unescaped_to_what_the_member_typed():
    body = {
        "text": "propose Peers &amp; power &lt;3 <https://x.org/a?b=1&amp;c=2> <#C9|general>",
        "user_id": "U1",
        "channel_id": "C1",
    }
    event = translate.command_event(body)
    assert event.text == "propose Peers & power <3 https://x.org/a?b=1&c=2 #general"


def test_answer_text_keeps_special_mentions_as_plain_words():
    text, mentions = translate.decode("hi <!channel> and <!here> <!subteam^S1|@team> <@U2|bo> &lt;!everyone&gt;")
    assert text == "hi @channel and @here @team @bo <!everyone>"
    assert mentions == (Mention("U2", "bo"),)
    text, _ = translate.decode("ask <@U3>", {"U3": "Cara Díaz"})
    assert text == "ask @Cara_Díaz"  # one token the core resolves to the member


def _message(**event):
    base = {
        "type": "message",
        "channel": "C1",
        "user": "U1",
        "text": "hello",
        "ts": "2.0",
        "thread_ts": "1.0",
        "parent_user_id": BOT,
    }
    base.update(event)
    return base


def test_only_thread_replies_to_the_bot_are_answers():
    assert translate.is_answer(_message(), BOT)
    assert translate.is_answer(_message(subtype="thread_broadcast"), BOT)
    assert not translate.is_answer(_message(thread_ts=None), BOT)  # a plain channel message
    assert not translate.is_answer(_message(thread_ts="2.0"), BOT)  # a thread's root
    assert not translate.is_answer(_message(parent_user_id="U9"), BOT)  # someone else's thread
    assert not translate.is_answer(_message(user=BOT), BOT)  # the bot itself
    assert not translate.is_answer(_message(bot_id="B2"), BOT)  # another bot
    assert not translate.is_answer(_message(subtype="message_changed"), BOT)
    assert translate.is_answer(_message(text="\u200b "), BOT)  # reaches the core, which says so privately
    assert not translate.is_answer(_message(text=["not", "text"]), BOT)
    assert not translate.is_answer(_message(), None)


def test_reply_event_carries_thread_and_event_id():
    body = {"team_id": "T1", "event_id": "Ev1", "event": _message(text="I felt &lt;b&gt; <@U2>")}
    event = translate.reply_event(body, {"U1": "Ann", "U2": "Bo"})
    assert event.actor == Actor("U1", "Ann")
    assert event.place == Place("slack", "C1", "T1")
    assert event.text == "I felt <b> @Bo"
    assert event.thread_ref == "1.0" and event.event_id == "Ev1"
    assert not event.anonymous and not event.from_form


def test_button_press_becomes_its_command():
    body = {
        "type": "block_actions",
        "user": {"id": "U1", "username": "ann", "team_id": "T1"},
        "team": {"id": "T1"},
        "channel": {"id": "C1"},
        "message": {"ts": "5.0"},
        "trigger_id": "trig",
        "actions": [{"action_id": "cop:3", "value": "vote 3", "action_ts": "6.1"}],
    }
    event = translate.choice_event(body)
    assert event.command == "vote 3"
    assert event.actor == Actor("U1", "ann") and event.place == Place("slack", "C1", "T1")
    assert event.event_id == "action:U1:6.1"


def test_ephemeral_button_uses_the_container():
    body = {
        "user": {"id": "U1"},
        "container": {"type": "message", "message_ts": "7.0", "channel_id": "C1", "is_ephemeral": True},
        "actions": [{"value": "pass", "action_ts": "8"}],
    }
    event = translate.choice_event(body)
    assert event.place.channel_id == "C1"


def test_share_press_and_modal_submission_round_trip():
    form = {"l": "What happened?", "p": "", "a": True, "s": "Share"}
    press = {
        "user": {"id": "U1"},
        "team": {"id": "T1"},
        "channel": {"id": "C1"},
        "message": {"ts": "5.0"},
        "trigger_id": "trig",
        "actions": [{"action_id": "cop:share", "value": json.dumps(form)}],
    }
    share = translate.share_request(press)
    assert share is not None and share.trigger_id == "trig" and share.message_ts == "5.0"
    view = share_modal(share.form, share.channel_id, share.message_ts, share.team_id)
    submission = {
        "type": "view_submission",
        "user": {"id": "U1", "username": "ann"},
        "team": {"id": "T1"},
        "view": {
            "id": "V1",
            "private_metadata": view["private_metadata"],
            "state": {
                "values": {
                    "answer": {"text": {"type": "plain_text_input", "value": " <!channel> I was there "}},
                    "anonymous": {"choice": {"type": "checkboxes", "selected_options": [{"value": "anonymous"}]}},
                }
            },
        },
    }
    event = translate.form_reply(submission)
    assert event is not None
    assert event.text == "<!channel> I was there"  # raw: typed in a modal, nothing decoded
    assert event.thread_ref == "5.0" and event.place == Place("slack", "C1", "T1")
    assert event.anonymous and event.from_form and event.event_id == "view:V1"
    submission["view"]["state"]["values"]["anonymous"]["choice"]["selected_options"] = []
    assert not translate.form_reply(submission).anonymous
