"""POST /slack/events fed what a fuzzer, a broken client or a careless proxy would send: every
request is properly signed (so it passes the first gate) and still gets a 4xx or a quiet 200,
never a 500, a traceback, a 3-second wait or a stored blank."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import time
from urllib.parse import urlencode

import pytest
from aiohttp import web
from sqlalchemy import func, select

from bot.request_body import read_body
from storage.models import Base, Community, Member, ProcessedEvent, SupportStatement
from tests.conftest import PATIENT_SECONDS
from tests.fakes.slack_api import BOT_USER_ID, SECRET, running_stack
from tests.support.slack_meeting import button

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
CANARY = "Canary-5b1e-what-a-member-wrote"


def signed(body: bytes, content_type: str) -> dict[str, str]:
    """Slack's v0 signature over the raw bytes (even bytes that are not UTF-8)."""
    timestamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": "v0=" + digest}


async def post_raw(stack, body: bytes, content_type: str):  # noqa: ANN001, ANN201
    return await stack.client.post("/slack/events", data=body, headers=signed(body, content_type))


def payload(value: object) -> bytes:
    return urlencode({"payload": json.dumps(value)}).encode()


def event_body(event: object, **extra: object) -> bytes:
    return json.dumps({"type": "event_callback", "team_id": "T1", "event_id": "Ev1", "event": event, **extra}).encode()


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
        headers = signed(b"", FORM)
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
    answered: asyncio.Future[BaseException | None] = asyncio.get_running_loop().create_future()

    async def watched_read_body(request):  # noqa: ANN001, ANN202
        try:
            raw = await read_body(request)
        except BaseException as error:
            answered.set_result(error)
            raise
        answered.set_result(None)
        return raw

    monkeypatch.setattr("adapters.slack.app.read_body", watched_read_body)
    async with running_stack(sqlite_db, clock) as stack:
        body = b'{"type": "event_callback", "event": {"type": "message", "text": "half'
        headers = signed(body + b' of it"}}', JSON)
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
async def test_what_copbot_does_not_use_is_acknowledged_at_once_and_not_logged(sqlite_db, clock, caplog, name, body):
    caplog.set_level(logging.DEBUG)
    async with running_stack(sqlite_db, clock) as stack:
        started = time.monotonic()
        content_type = JSON if body.startswith(b"{") else FORM
        response = await post_raw(stack, body, content_type)
        assert response.status == 200, name
        assert time.monotonic() - started < 1.0  # never Bolt's 3-second wait for a 404
        await stack.settle()
        assert stack.slack.calls == []
    assert "Unhandled request" not in caplog.text


async def _support_prompt(stack):  # noqa: ANN001, ANN202
    for text in ("setup North West", "support"):
        await stack.requests.command("U1", text)
        await stack.settle()
    return stack.slack.find_post("I will support myself today")


async def _statements(db) -> list[tuple[int | None, str | None]]:  # noqa: ANN001
    async with db.transaction() as session:
        return [
            (m, t) for m, t in (await session.execute(select(SupportStatement.member_id, SupportStatement.text))).all()
        ]


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
    assert await _statements(sqlite_db) == []


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
    assert [t for _, t in await _statements(sqlite_db)] == ["asking for help"]


async def test_a_thread_reply_of_only_invisible_characters_keeps_the_earlier_answer(sqlite_db, clock):
    async with running_stack(sqlite_db, clock, {"U1": "Ann", "U2": "Ben"}) as stack:
        prompt_ts = stack.slack.ts_of(await _support_prompt(stack))
        await stack.requests.reply("U2", "asking for help", prompt_ts)
        await stack.requests.reply("U2", "\u200b\u200b", prompt_ts)
        await stack.settle()
        assert any("didn't find any words" in c.text for c in stack.slack.ephemerals("U2"))
    assert [t for _, t in await _statements(sqlite_db)] == ["asking for help"]


async def test_a_mention_in_a_proposed_topic_is_kept_as_the_name(sqlite_db, clock):
    async with running_stack(sqlite_db, clock, {"U1": "Ann", "U2": "Ben Okafor"}) as stack:
        for text in ("setup North West", "vote open", "propose Supervision with <@U2|ben>"):
            await stack.requests.command("U1", text)
            await stack.settle()
        ballot = stack.slack.find_post("what should our next session")
        updated = [c for c in stack.slack.calls_to("chat.update") if c.params.get("ts") == stack.slack.ts_of(ballot)]
        assert "Supervision with @Ben_Okafor" in updated[-1].text
        assert "U2" not in updated[-1].text


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
