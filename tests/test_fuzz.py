"""Fuzzing (Hypothesis): any string in the command grammar, any JSON value in any field of a
Slack or Teams payload, gives an answer or a refusal the adapter turns into a 4xx — never an
exception. And through the core, any words typed get a reply, never the "something went wrong"."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from botbuilder.schema import Activity
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from msrest.exceptions import DeserializationError

from adapters.slack import translate as slack
from adapters.teams import translate as teams
from bot import commands
from bot.core import SORRY
from bot.vocabulary.errors import UsageError
from bot.vocabulary.text import number, shown, trimmed
from storage.db import Database
from tests.fixtures import published
from tests.fixtures.payloads import key_paths, replaced
from tests.support.clock import Clock
from tests.support.room import Room

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
typed = st.text(alphabet=st.characters(codec="utf-8"), max_size=120) | st.sampled_from(
    [
        "vote ²",
        "next ١",
        "vote open ７",
        "chairs set @a @b ⁶",
        "/cop",
        "cop cop",
        "help help help",
        "edit",
        "\x00",
        "\u202e",
    ]
).flatmap(lambda s: st.just(s) | st.text(max_size=20).map(lambda t: s + " " + t))


@FUZZ
@given(typed)
def test_the_grammar_answers_any_text_with_a_command_or_a_usage_line(text: str) -> None:
    try:
        command = commands.parse(text)
    except UsageError as error:
        assert str(error)
    else:
        assert command.verb in commands.VERBS
    assert isinstance(commands.is_bare_command(text), bool)
    assert number(text) is None or text.isascii()
    assert not any(ch in shown(text) for ch in "\x00\x1b\u202e")
    assert trimmed(text) == "" or trimmed(text)[0] not in " \u200b"


def _mutations(*bodies: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    options = [(body, path) for body in bodies for path in key_paths(body)]
    return st.tuples(st.sampled_from(options), json_values).map(lambda t: replaced(t[0][0], t[0][1], t[1]))


SLACK_BODIES = [getattr(published, n) for n in dir(published) if n.startswith("SLACK_")]
SLACK_OURS = [
    {
        "type": "block_actions",
        "user": {"id": "U1", "name": "ann"},
        "team": {"id": "T1"},
        "channel": {"id": "C1"},
        "trigger_id": "t1",
        "container": {"message_ts": "1.0", "channel_id": "C1"},
        "message": {"ts": "1.0"},
        "actions": [{"action_id": "cop:1", "value": "vote 2", "action_ts": "1.1"}],
    },
    {
        "type": "block_actions",
        "user": {"id": "U1"},
        "channel": {"id": "C1"},
        "trigger_id": "t1",
        "message": {"ts": "1.0"},
        "actions": [{"action_id": "cop:share", "value": '{"l": "What happened?"}'}],
    },
    {
        "type": "view_submission",
        "user": {"id": "U1"},
        "team": {"id": "T1"},
        "view": {
            "id": "V1",
            "callback_id": "cop:answer",
            "private_metadata": '{"c": "C1", "ts": "1.0", "t": "T1"}',
            "state": {
                "values": {
                    "answer": {"text": {"value": "words"}},
                    "anonymous": {"choice": {"selected_options": [{"value": "anonymous"}]}},
                }
            },
        },
    },
]


@FUZZ
@given(_mutations(*SLACK_BODIES, *SLACK_OURS))
def test_the_slack_translator_takes_any_value_in_any_field(body: dict[str, Any]) -> None:
    kind = slack.request_kind(body)
    assert kind in ("bolt", "ignored", "malformed")
    if kind != "bolt":
        return
    try:
        if "command" in body:
            assert slack.command_event(body).actor.user_id
        elif body.get("type") == "event_callback":
            if slack.is_answer(body["event"], "UBOT"):
                assert slack.reply_event(body).thread_ref
        elif body.get("type") == "block_actions":
            slack.choice_event(body)
            slack.share_request(body)
        elif body.get("type") == "view_submission":
            event = slack.form_reply(body)
            assert isinstance(event.text, str) and event.text == event.text.strip()
    except slack.BadPayload:
        pass  # logged by kind and dropped (over HTTP, `request_kind` already made it a 400)


TEAMS_OURS = [
    {
        "type": "message",
        "id": "1",
        "serviceUrl": "http://127.0.0.1:9/",
        "channelId": "msteams",
        "from": {"id": "29:a", "aadObjectId": "aad-a", "name": "Ann"},
        "recipient": {"id": "28:bot", "name": "copbot"},
        "conversation": {"id": "19:c@thread.tacv2;messageid=7", "conversationType": "channel", "tenantId": "t"},
        "channelData": {"team": {"id": "19:t"}, "tenant": {"id": "t"}},
        "text": "<at>copbot</at> vote 2 <at>Ben</at>",
        "entities": [
            {"type": "mention", "text": "<at>copbot</at>", "mentioned": {"id": "28:bot", "name": "copbot"}},
            {"type": "mention", "text": "<at>Ben</at>", "mentioned": {"id": "29:b", "name": "Ben"}},
        ],
    },
    {
        "type": "message",
        "id": "2",
        "serviceUrl": "http://127.0.0.1:9/",
        "replyToId": "7",
        "from": {"id": "29:a", "aadObjectId": "aad-a"},
        "recipient": {"id": "28:bot"},
        "conversation": {"id": "19:c@thread.tacv2", "conversationType": "channel"},
        "value": {"copAnswer": "support:1", "answer": "words", "anonymous": "true", "v": "x"},
    },
    {
        "type": "message",
        "id": "3",
        "serviceUrl": "http://127.0.0.1:9/",
        "replyToId": "7",
        "from": {"id": "29:a"},
        "recipient": {"id": "28:bot"},
        "conversation": {"id": "a:1", "conversationType": "personal"},
        "value": {"cop": "vote 3", "v": "x"},
    },
]
TEAMS_BODIES = [getattr(published, n) for n in dir(published) if n.startswith("TEAMS_")]


@FUZZ
@given(_mutations(*TEAMS_BODIES, *TEAMS_OURS))
def test_the_teams_translator_takes_any_value_in_any_field(body: dict[str, Any]) -> None:
    try:
        activity = Activity().deserialize(body)
    except (DeserializationError, ValueError, TypeError, AttributeError):
        return  # the endpoint answers these with a 400
    incoming = teams.to_incoming(activity)
    if incoming is not None:
        assert incoming.event.actor.user_id and incoming.event.place.channel_id
    if teams.is_readable(activity):
        teams.place_of(activity)
        teams.channel_reference(activity)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(typed, min_size=1, max_size=12))
def test_through_the_core_any_words_get_a_reply_never_a_crash(lines: list[str]) -> None:
    async def meeting() -> str:
        with tempfile.TemporaryDirectory() as folder:
            db = Database(f"sqlite:///{Path(folder) / 'fuzz.db'}")
            await db.migrate()
            try:
                room = Room(db, Clock())
                await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
                await room.cmd("Ann", "support")
                for index, line in enumerate(lines):
                    who = ("Ann", "Ben")[index % 2]
                    await (room.cmd(who, line) if index % 3 else room.reply(who, line, to="support:1"))
                return room.sender.texts()
            finally:
                await db.dispose()

    assert SORRY not in asyncio.run(meeting())
