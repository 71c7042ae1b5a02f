"""POST /slack/events fed what a fuzzer, a broken client or a careless proxy would send: every
request is properly signed (so it passes the first gate) and still gets a 4xx or a quiet 200,
never a 500, a traceback, a 3-second wait or a stored blank."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from urllib.parse import urlencode

import pytest
from aiohttp import web
from sqlalchemy import func, select

from storage.models import Base, Community, Member, ProcessedEvent, SupportStatement
from tests.fakes.slack_api import BOT_USER_ID, event_callback, running_stack, slack_signed
from tests.support.app import rows
from tests.support.security import ESC_SHOWN, HOSTILE, raw_characters_in, strings_in, watch_read_body
from tests.support.slack_meeting import button
from tests.support.waiting import PATIENT_SECONDS

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
CANARY = "Canary-5b1e-what-a-member-wrote"


async def post_raw(stack, body: bytes, content_type: str):  # noqa: ANN001, ANN201
    return await stack.client.post("/slack/events", data=body, headers=slack_signed(body, content_type))


def payload(value: object) -> bytes:
    return urlencode({"payload": json.dumps(value)}).encode()


def event_body(event: object, **extra: object) -> bytes:
    return json.dumps(event_callback(event, **extra)).encode()


BUTTON = {
    "type": "block_actions",
    "user": {"id": "U1"},
    "team": {"id": "T1"},
    "channel": {"id": "C1"},
    "trigger_id": "t",
    "container": {"message_ts": "1.0"},
    "actions": [{"action_id": "cop:1", "value": "help", "action_ts": "1.1"}],
}

MALFORMED: list[tuple[str, bytes, str]] = [
    ("truncated JSON", b'{"type": "event_callback", "event": {"type": "mess', JSON),
    ("deeply nested JSON", b'{"a":' * 50_000 + b"1" + b"}" * 50_000, JSON),
    (
        "JSON nested deeper than any payload",
        json.dumps(
            {"type": "event_callback", "event": {"type": "message"}, "x": json.loads("[" * 200 + "]" * 200)}
        ).encode(),
        JSON,
    ),
    ("invalid UTF-8", b'{"type": "event_callback", "event": {"type": "message", "text": "\xff\xfe"}}', JSON),
    ("a JSON list", b"[1, 2, 3]", JSON),
    ("a JSON string", b'"hello"', JSON),
    ("payload that is not JSON", b"payload=%7Bnot+json", FORM),
    ("payload that is a list", payload(["a", "b"]), FORM),
    ("payload with no type", payload({"user": {"id": "U1"}}), FORM),
    ("event that is a string", event_body("message"), JSON),
    ("event with no type", event_body({"text": "hi"}), JSON),
    ("button press with no actions", payload({**BUTTON, "actions": []}), FORM),
    ("button press with actions as text", payload({**BUTTON, "actions": "cop:1"}), FORM),
    ("button press with a list for an action", payload({**BUTTON, "actions": [["cop:1"]]}), FORM),
    ("button press with no user", payload({k: v for k, v in BUTTON.items() if k != "user"}), FORM),
    ("button press with a user id that is a number", payload({**BUTTON, "user": {"id": 42}}), FORM),
    ("button press with no channel", payload({**BUTTON, "channel": None, "container": {}}), FORM),
    ("view submission with no view", payload({"type": "view_submission", "user": {"id": "U1"}}), FORM),
    ("slash command with no user", urlencode({"command": "/cop", "channel_id": "C1", "text": "help"}).encode(), FORM),
    ("slash command with no channel", urlencode({"command": "/cop", "user_id": "U1", "text": "help"}).encode(), FORM),
    (
        "slash command with an empty user",
        urlencode({"command": "/cop", "user_id": "", "channel_id": "C1"}).encode(),
        FORM,
    ),
    ("empty body", b"", FORM),
]


@pytest.mark.parametrize("name, body, content_type", MALFORMED, ids=[m[0] for m in MALFORMED])
async def test_a_signed_but_malformed_body_is_a_400_and_changes_nothing(
    sqlite_db, clock, caplog, name, body, content_type
):
    """Guards README "Security", POST /slack/events: "First Slack's v0 signature, an HMAC over the
    raw bytes [...] Only then is the body parsed. Bytes that are not UTF-8, JSON that is broken
    or nested too deep, and a `payload` that is not a JSON object are a 400. So is a field
    copbot needs that is missing or has the wrong type (user, channel, actions, view)." Each
    body, signed, is a 400 that changes nothing; the same body unsigned is a 401 (the signature
    is judged before the body is parsed). Proved, each switched off in a scratch copy: copbot's
    signature check (``_signed`` in adapters/slack/app.py: the unsigned body got a 400);
    ``utf8`` decoding with replacement characters; the 400 for what ``parse_body`` cannot read
    (a 500); ``check_depth`` (a 200); a non-object payload or a block_actions without a user, a
    view_submission without a view, a slash command without a user, or a button press without
    actions let through by ``request_kind`` (a 200 or a 500)."""
    caplog.set_level(logging.DEBUG)
    async with running_stack(sqlite_db, clock) as stack:
        response = await post_raw(stack, body, content_type)
        assert response.status == 400, name
        await stack.settle()
        assert stack.slack.calls == []
        unsigned = await stack.client.post("/slack/events", data=body, headers={"Content-Type": content_type})
        assert unsigned.status == 401  # the signature is checked before anything is parsed
    assert await stored_rows(sqlite_db) == {}  # nothing stored, in any table
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def stored_rows(db) -> dict[str, int]:  # noqa: ANN001
    """The tables that hold any row, and how many."""
    counts = {}
    async with db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            counts[table.name] = await session.scalar(select(func.count()).select_from(table))
    return {name: count for name, count in counts.items() if count}


async def raw_request(server, head: bytes, body: bytes, *, then_eof: bool) -> bytes:  # noqa: ANN001
    """Send ``head`` and ``body`` on a socket of its own (``then_eof``: and stop sending, as a
    client that went away mid-body would), and read the status line of the answer (empty
    when the server closed the connection without one)."""
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        writer.write(head + body)
        await writer.drain()
        if then_eof:
            writer.write_eof()
        # A guard, not a speed measure: a server waiting for the rest of the body never answers.
        return await asyncio.wait_for(reader.readline(), PATIENT_SECONDS)
    finally:
        writer.close()


@pytest.mark.parametrize("age", [6 * 60, -6 * 60], ids=["six minutes old", "six minutes ahead"])
async def test_a_signature_over_five_minutes_old_is_a_401_before_the_body_is_parsed(sqlite_db, clock, caplog, age):
    """Guards README "Security", POST /slack/events: "It must be under 5 minutes old, else 401.
    Only then is the body parsed." Bodies that would be a 400 once parsed (not UTF-8, broken
    JSON), correctly signed but at a time more than five minutes off, are a 401: copbot's own
    check refuses them before parsing (Bolt's check, behind it, never sees them). The same
    bodies signed four minutes ago are parsed (a 400), so the limit is five minutes, not less.
    Proved: with the age check in ``_signed`` (adapters/slack/app.py) removed in a scratch copy,
    these are a 400 and this test fails."""
    caplog.set_level(logging.DEBUG)
    bodies = [
        (b'{"type": "event_callback", "event": {"type": "message", "text": "\xff\xfe"}}', JSON),
        (b'{"type": "event_callback", "event": {"type": "mess', JSON),
        (b"payload=%7Bnot+json", FORM),
    ]
    async with running_stack(sqlite_db, clock) as stack:
        now = int(time.time())
        for body, content_type in bodies:
            stale = slack_signed(body, content_type, timestamp=now - age)
            assert (await stack.client.post("/slack/events", data=body, headers=stale)).status == 401, body
            recent = slack_signed(body, content_type, timestamp=now - 4 * 60)
            assert (await stack.client.post("/slack/events", data=body, headers=recent)).status == 400, body
        await stack.settle()
        assert stack.slack.calls == []
    assert await stored_rows(sqlite_db) == {}
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_an_oversized_body_is_a_413(sqlite_db, clock):
    async with running_stack(sqlite_db, clock) as stack:
        body = urlencode({"command": "/cop", "user_id": "U1", "channel_id": "C1", "text": "x" * 1_100_000}).encode()
        assert (await post_raw(stack, body, FORM)).status == 413


async def test_a_declared_size_over_the_limit_is_a_413_before_the_body_is_read(sqlite_db, clock):
    """Guards README "Security", every endpoint: "The declared size comes first: more than 1 MiB
    is a 413 before the body is read." Only 20 bytes of a declared 2 MB are sent, and the
    connection stays open: the 413 arrives without the server waiting for the rest. Proved:
    with the Content-Length check in ``read_body`` (bot/request_body.py) removed, the server
    waits for the body and this test fails."""
    async with running_stack(sqlite_db, clock) as stack:
        headers = slack_signed(b"", FORM)
        lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        head = f"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n{lines}\r\n".encode()
        status = await raw_request(stack.client.server, head, b"command=%2Fcop&text=", then_eof=False)
        assert status.startswith(b"HTTP/1.1 413"), status
        assert (await stack.requests.command("U1", "help")).status == 200  # the server goes on


async def test_a_body_cut_off_mid_way_leaves_no_trace_and_the_server_goes_on(sqlite_db, clock, caplog, monkeypatch):
    """Guards README "Security", every endpoint: "A body cut off mid-way is a 400, or, when its
    sender has gone, dropped before it is parsed." The client declares 4000 bytes, sends fewer
    and goes away; the test waits until the endpoint's read of the body has ended and checks it
    ended in a 400 or in aiohttp stopping the handler (what it does when the sender is gone),
    never in bytes handed on to be parsed; nothing is kept or logged, and the server goes on.
    Proved: with ``read_body`` handing on bytes after the read failed or was stopped (instead
    of ``bad_request`` or letting the cancellation through), this test fails."""
    caplog.set_level(logging.DEBUG)
    answered = watch_read_body(monkeypatch, "adapters.slack.app.read_body")
    async with running_stack(sqlite_db, clock) as stack:
        body = b'{"type": "event_callback", "event": {"type": "message", "text": "half'
        headers = slack_signed(body + b' of it"}}', JSON)
        lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        head = f"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 4000\r\n{lines}\r\n".encode()
        await raw_request(stack.client.server, head, body, then_eof=True)
        outcome = await asyncio.wait_for(answered, PATIENT_SECONDS)  # a guard, not a speed measure
        assert isinstance(outcome, web.HTTPBadRequest | asyncio.CancelledError), outcome
        monkeypatch.undo()
        assert (await stack.requests.command("U1", "help")).status == 200
        await stack.settle()
        assert stack.slack.ephemerals("U1")
    assert await stored_rows(sqlite_db) == {"outbox_lanes": 1, "outbox_posts": 1}  # only the help answer
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.levelno >= logging.ERROR]


IGNORED = [
    (
        "view closed",
        payload({"type": "view_closed", "user": {"id": "U1"}, "view": {"id": "V1", "callback_id": "cop:answer"}}),
    ),
    ("a shortcut", payload({"type": "shortcut", "callback_id": "x", "user": {"id": "U1"}, "trigger_id": "t"})),
    ("a button copbot did not make", payload({**BUTTON, "actions": [{"action_id": "other", "value": "x"}]})),
    ("another app's window", payload({"type": "view_submission", "user": {"id": "U1"}, "view": {"callback_id": "x"}})),
    ("app uninstalled", event_body({"type": "app_uninstalled"})),
    ("tokens revoked", event_body({"type": "tokens_revoked", "tokens": {"bot": ["UBOT"]}})),
    ("another slash command", urlencode({"command": "/other", "user_id": "U1", "channel_id": "C1"}).encode()),
]


@pytest.mark.parametrize("name, body", IGNORED, ids=[i[0] for i in IGNORED])
async def test_what_copbot_does_not_use_is_acknowledged_at_once_and_not_logged(
    sqlite_db, clock, caplog, monkeypatch, name, body
):
    """Guards README "Security", POST /slack/events: "Payloads copbot does not use (other apps'
    buttons, `view_closed`, `app_uninstalled`, …) get an immediate empty 200." Empty: no body
    at all. Immediate: answered by copbot itself, before Bolt, whose unhandled request is a 404
    (shown by Bolt's dispatch never being called, not by a clock). `app_uninstalled` and
    `tokens_revoked` are the exception: copbot does use them (the workspace's channels go
    inactive), so they go to Bolt's listener, which acknowledges them with an empty 200.
    Proved in a scratch copy: with the early answer for ``request_kind`` "ignored" removed
    (adapters/slack/app.py), Bolt answers 404; with that answer carrying a body, this fails."""
    caplog.set_level(logging.DEBUG)
    async with running_stack(sqlite_db, clock) as stack:
        dispatched = []
        bolt_dispatch = stack.adapter.bolt.async_dispatch

        async def watched_dispatch(request):  # noqa: ANN001, ANN202
            dispatched.append(request)
            return await bolt_dispatch(request)

        monkeypatch.setattr(stack.adapter.bolt, "async_dispatch", watched_dispatch)
        content_type = JSON if body.startswith(b"{") else FORM
        response = await post_raw(stack, body, content_type)
        assert response.status == 200, name
        assert await response.read() == b""
        used_by_copbot = name in ("app uninstalled", "tokens revoked")
        assert len(dispatched) == (1 if used_by_copbot else 0), name
        await stack.settle()
        assert stack.slack.calls == []
    assert "Unhandled request" not in caplog.text


async def _support_prompt(stack):  # noqa: ANN001, ANN202
    for text in ("setup North West", "support"):
        await stack.requests.command("U1", text)
        await stack.settle()
    return stack.slack.find_post("I will support myself today")


@pytest.mark.parametrize(
    "answer, anonymous, error",
    [
        (["a", "b"], [], "couldn't read"),
        (42, [], "couldn't read"),
        ({"text": "x"}, [], "couldn't read"),
        ("\u200b \u200b", [], "Write a few words"),
        ("fine words", [{"value": "anonymous-or-not"}], "couldn't read"),
        ("fine words", "anonymous", "couldn't read"),
        ("fine words", [["anonymous"]], "couldn't read"),
    ],
)
async def test_a_modal_with_the_wrong_types_stays_open_with_a_word_and_keeps_nothing(
    sqlite_db, clock, answer, anonymous, error
):
    """Guards README "Security", POST /slack/events: "A modal answer with the wrong types, or
    with nothing visible in it, stays open with a sentence under the field." Proved in a scratch
    copy: with ``on_answer`` acknowledging a bad form without ``response_action="errors"``
    (adapters/slack/app.py), or ``form_reply`` taking an answer with nothing visible, this fails."""
    async with running_stack(sqlite_db, clock) as stack:
        prompt = await _support_prompt(stack)
        await stack.requests.press("U2", stack.slack.ts_of(prompt), button(prompt, "share"))
        await stack.settle()
        view = stack.slack.calls_to("views.open")[-1].params["view"]
        values = {
            "answer": {"text": {"type": "plain_text_input", "value": answer}},
            "anonymous": {"choice": {"type": "checkboxes", "selected_options": anonymous}},
        }
        response = await stack.requests.send(stack.requests.view_submission_body("U2", view, values), FORM)
        assert response.status == 200
        body = await response.json()
        assert body["response_action"] == "errors" and error in body["errors"]["answer"]
        await stack.settle()
    assert await rows(sqlite_db, SupportStatement.member_id, SupportStatement.text) == []


async def test_a_thread_reply_also_sent_to_the_channel_is_an_answer(sqlite_db, clock):
    async with running_stack(sqlite_db, clock, {"U1": "Ann", "U2": "Ben"}) as stack:
        prompt_ts = stack.slack.ts_of(await _support_prompt(stack))
        # The shape of a "thread_broadcast": `root` instead of `parent_user_id`.
        broadcast = stack.requests.reply_event(
            "U2",
            "asking for help",
            prompt_ts,
            subtype="thread_broadcast",
            root={
                "type": "message",
                "user": BOT_USER_ID,
                "ts": prompt_ts,
                "text": "Welcome, everyone.",
                "thread_ts": prompt_ts,
            },
        )
        del broadcast["parent_user_id"]
        assert (await stack.requests.event(broadcast)).status == 200
        # and one in a thread that is not copbot's is still dropped before the core
        other = stack.requests.reply_event("U2", "lunch?", "1500000000.000001", subtype="thread_broadcast")
        del other["parent_user_id"]
        assert (await stack.requests.event(other)).status == 200
        await stack.settle()
        assert "1 of" in stack.slack.calls_to("chat.update")[-1].text
    async with sqlite_db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(ProcessedEvent)) == 1
    assert [t for _, t in await rows(sqlite_db, SupportStatement.member_id, SupportStatement.text)] == [
        "asking for help"
    ]


async def test_a_thread_reply_of_only_invisible_characters_keeps_the_earlier_answer(sqlite_db, clock):
    """Guards README "Security", the core, for every platform: "A reply with nothing visible
    (spaces, zero-width characters) is answered privately and never overwrites an earlier
    answer", here through Slack. Proved: with the empty-reply check in ``flows/answers.reply``
    removed in a scratch copy, the empty reply replaces the answer and this test fails."""
    async with running_stack(sqlite_db, clock, {"U1": "Ann", "U2": "Ben"}) as stack:
        prompt_ts = stack.slack.ts_of(await _support_prompt(stack))
        await stack.requests.reply("U2", "asking for help", prompt_ts)
        await stack.requests.reply("U2", "\u200b\u200b", prompt_ts)
        await stack.settle()
        assert any("didn't find any words" in c.text for c in stack.slack.ephemerals("U2"))
    assert [t for _, t in await rows(sqlite_db, SupportStatement.member_id, SupportStatement.text)] == [
        "asking for help"
    ]


async def test_a_mention_in_a_proposed_topic_is_kept_as_the_name(sqlite_db, clock):
    async with running_stack(sqlite_db, clock, {"U1": "Ann", "U2": "Ben Okafor"}) as stack:
        for text in ("setup North West", "vote open", "propose Supervision with <@U2|ben>"):
            await stack.requests.command("U1", text)
            await stack.settle()
        ballot = stack.slack.find_post("what should our next session")
        updated = [c for c in stack.slack.calls_to("chat.update") if c.params.get("ts") == stack.slack.ts_of(ballot)]
        assert "Supervision with @Ben_Okafor" in updated[-1].text
        assert "U2" not in updated[-1].text


async def test_a_mention_in_a_thread_answer_is_kept_as_the_name(sqlite_db, clock):
    """Guards README "Security", the core, for every platform: "Mentions in kept text are stored
    as names (`@Ana_Lopez`), never as platform ids", for a Slack thread answer (``<@U3>``).
    Proved: with ``reply_event`` (adapters/slack/translate.py) decoding an answer's mentions as
    id tokens in a scratch copy, the statement holds ``@U3`` and this test fails."""
    async with running_stack(sqlite_db, clock, {"U1": "Ann", "U2": "Ben", "U3": "Ana Lopez"}) as stack:
        prompt_ts = stack.slack.ts_of(await _support_prompt(stack))
        await stack.requests.reply("U2", "asking <@U3|ana> for help", prompt_ts)
        await stack.settle()
    assert [t for _, t in await rows(sqlite_db, SupportStatement.member_id, SupportStatement.text)] == [
        "asking @Ana_Lopez for help"
    ]


async def test_control_and_direction_override_characters_are_never_shown_raw_in_slack(sqlite_db, clock):
    """Guards README "Security", what is shown: "Control characters (ESC, NUL, …) are shown as
    visible symbols (`␛`) and direction overrides are removed, on every platform", here Slack:
    an answer full of them, in the thread and through the answer window, is kept, and every
    call copbot makes to Slack (posts, updates, private answers, the window) carries none of
    them raw; ESC reads as ␛. Proved: with ``shown`` (bot/vocabulary/text.py) returning the
    text as it is, or keeping direction overrides, in a scratch copy, this test fails."""
    async with running_stack(sqlite_db, clock, {"U1": "Ann", "U2": "Ben", "U3": "Cara"}) as stack:
        prompt = await _support_prompt(stack)
        await stack.requests.reply("U2", HOSTILE, stack.slack.ts_of(prompt))
        await stack.requests.press("U3", stack.slack.ts_of(prompt), button(prompt, "share"))
        await stack.settle()
        view = stack.slack.calls_to("views.open")[-1].params["view"]
        assert (await stack.requests.submit("U3", view, "mine: " + HOSTILE)).status == 200
        await stack.requests.command("U1", "close")
        await stack.settle()
        calls = stack.slack.calls
    assert (
        len(await rows(sqlite_db, SupportStatement.member_id, SupportStatement.text)) == 2
    )  # both kept (NUL as U+FFFD)
    closing = [c for c in calls if "Our support statements" in c.text]
    assert closing and ESC_SHOWN in closing[-1].text and "mine: ok ␛[2J" in closing[-1].text
    for call in calls:
        for text in strings_in(call.params):
            assert not raw_characters_in(text), (call.method, text)


async def test_a_command_with_odd_characters_and_a_huge_text_gets_a_friendly_answer(sqlite_db, clock):
    async with running_stack(sqlite_db, clock) as stack:
        for text in ("vote ²", "next ٣", "\x00\x1b[31m", "help " + "x" * 5000, "setup " + "\u202e" * 10):
            assert (await stack.requests.command("U1", text)).status == 200
        await stack.settle()
        said = [c.text for c in stack.slack.ephemerals("U1")]
        assert len(said) == 5 and not any("went wrong" in s for s in said)
        assert not any("\x1b" in s or "\x00" in s for s in said)
    async with sqlite_db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Community)) == 0
        assert await session.scalar(select(func.count()).select_from(Member)) == 0


async def test_an_unforeseen_error_is_a_bare_500_logged_by_type_and_place(sqlite_db, clock, caplog, monkeypatch):
    """Guards README "Security", every endpoint: "Anything unforeseen is a bare 500 whose log line
    names only the error's type and place, never a traceback or a body" (``error_policy`` in
    bot/request_body.py), over real HTTP. Proved: with ``error_policy`` taken out of the app's
    middlewares, or logging with ``log.exception``, this test fails."""
    caplog.set_level(logging.DEBUG)

    def unforeseen(body: object) -> str:
        raise RuntimeError(f"a bug that quotes {CANARY}")

    async with running_stack(sqlite_db, clock) as stack:
        monkeypatch.setattr("adapters.slack.app.translate.request_kind", unforeseen)
        response = await stack.requests.command("U1", f"setup {CANARY}")
        assert response.status == 500
        assert await response.text() == "internal error"  # bare: no type, no message, no trace
        monkeypatch.undo()
        assert (await stack.requests.command("U1", "help")).status == 200  # the server goes on
        await stack.settle()
    [line] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert line.name == "copbot.http" and line.exc_info is None
    assert re.fullmatch(r"POST /slack/events failed: RuntimeError at test_slack_hostile\.py:\d+", line.getMessage())
    assert CANARY not in caplog.text and "Traceback" not in caplog.text and "a bug that quotes" not in caplog.text
