"""Odd things members type, through the real core on SQLite and PostgreSQL: nothing shared is lost
or overwritten by accident, numbers are read in ASCII digits only, mentions stay names, and
what is shown never carries raw control or direction-override characters."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from bot.core import SORRY
from bot.shell.chat import run_console
from bot.vocabulary.conversation import Actor, CommandEvent, Place, Post, ReplyEvent
from bot.vocabulary.text import number, shown, trimmed
from storage.models import Community, ReflectionAnswer, SupportStatement, Topic
from tests.support.app import rows
from tests.support.room import Room, uid
from tests.support.security import ESC_SHOWN, HOSTILE, raw_characters_in
from tests.support.terminal import run_script


async def test_passing_after_sharing_keeps_the_statement(db, clock):
    """Guards README "Security", the core, for every platform: "Passing never deletes a
    statement you already shared" (by button, typed, or as a reply). Proved: with the
    ``has_named_statement`` check in ``pass_round`` (flows/support_round.py) removed in a
    scratch copy, the pass replaces the statement and this test fails."""
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "support")
    await room.reply("Ben", "asking for help", to="support:1")
    await room.press("Ben", "pass")  # the Pass button
    await room.cmd("Ben", "pass")  # and typed
    await room.reply("Ben", "pass", to="support:1")  # and as a reply in the thread
    assert await rows(db, SupportStatement.text, SupportStatement.passed) == [("asking for help", False)]
    assert "kept it on the flipchart" in room.said_to("Ben")
    assert "1 of the 2 here has shared" in room.sender.latest("support:1").text
    await room.cmd("Ann", "close")
    assert "Ben: asking for help" in room.sender.latest("support:1:closing").plain_text()


async def test_a_reply_of_pass_is_a_pass_not_an_answer(db, clock):
    """Guards README "Security", the core, for every platform: "A reply of just `pass` is a
    pass." Proved: with ``is_pass`` (flows/answers.py) never true in a scratch copy, "Pass." is
    kept as an answer and this test fails."""
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "support")
    await room.reply("Cara", "  Pass. ", to="support:1")
    assert await rows(db, SupportStatement.text, SupportStatement.passed) == [(None, True)]
    assert "1 passed" in room.sender.latest("support:1").text
    await room.cmd("Ann", "close support")
    await room.cmd("Ann", "reflect Boundaries")
    await room.reply("Cara", "pass", to="reflection:1:step:1")
    await room.reply("Ben", "I pass", to="reflection:1:step:1")
    async with db.transaction() as session:
        assert list(await session.scalars(select(ReflectionAnswer))) == []
    assert "passing is always fine" in room.said_to("Cara")
    await room.reply("Ben", "I passed the exam that week", to="reflection:1:step:1")  # an answer
    async with db.transaction() as session:
        assert list(await session.scalars(select(ReflectionAnswer.text))) == ["I passed the exam that week"]


@pytest.mark.parametrize("empty", ["\u200b", " \u200b\u200d\ufeff ", "\u2060\n\t", "\u00a0\u3000"])
async def test_an_empty_reply_is_answered_privately_and_keeps_the_earlier_answer(db, clock, empty):
    """Guards README "Security", the core, for every platform: "A reply with nothing visible
    (spaces, zero-width characters) is answered privately and never overwrites an earlier
    answer." Proved: with the empty-reply check in ``flows/answers.reply`` removed in a scratch
    copy, the empty reply replaces the answer and this test fails."""
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "support")
    await room.reply("Ben", "asking for help", to="support:1")
    await room.reply("Ben", empty, to="support:1")
    await room.reply("Ben", empty)  # a plain line (the terminal), or a submitted empty form
    assert await rows(db, SupportStatement.text, SupportStatement.passed) == [("asking for help", False)]
    assert room.said_to("Ben").count("I didn't find any words in that") == 2
    await room.cmd("Ben", f"share {empty}")
    assert "Usage: /cop share" in room.said_to("Ben")
    assert await rows(db, SupportStatement.text, SupportStatement.passed) == [("asking for help", False)]


@pytest.mark.parametrize("odd", ["²", "１", "٣", "3²", "-1", "1e3", "0x2", "99999999999999999999"])
async def test_numbers_are_ascii_digits_only(db, clock, odd):
    """Guards README "Security", the core, for every platform: "Numbers are ASCII digits only
    (`²`, `１`, `٣` get the usage line)." Proved: with ``number`` (bot/vocabulary/text.py)
    reading any Unicode digit (``\\d``) in a scratch copy, this test fails."""
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", f"vote open {odd}")
    assert "Usage: /cop vote open" in room.said_to("Ann")
    await room.cmd("Ann", "vote open 1")
    await room.cmd("Ben", f"vote {odd}")
    await room.cmd("Ann", "reflect Boundaries")
    await room.cmd("Ann", f"next {odd}")
    await room.cmd("Ann", f"chairs set @Ann @Ben {odd}")
    said = room.said_to("Ann") + room.said_to("Ben")
    assert SORRY not in said  # never a crash
    assert "Usage: /cop next" in said and "Usage: /cop chairs set" in said
    assert "I couldn't find topic" in said
    async with db.transaction() as session:
        from storage.models import Ballot

        assert list(await session.scalars(select(Ballot))) == []  # no vote was misread as a number
        reflection = await session.scalar(select(ReflectionAnswer))
        assert reflection is None


async def test_mentions_in_kept_text_are_names_not_platform_ids(db, clock):
    """Guards README "Security", the core, for every platform: "Mentions in kept text are
    stored as names (`@Ana_Lopez`), never as platform ids." Proved: with ``turn.readable`` left
    out of ``_command`` (bot/core.py) in a scratch copy, the topic keeps the id and this fails."""
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "vote")
    await room.cmd("Ann", "propose Supervision with @Ben and @Dara")  # Dara has not joined
    async with db.transaction() as session:
        titles = list(await session.scalars(select(Topic.title)))
    assert "Supervision with @Ben and @Dara" in titles
    assert not any(uid("Ben") in t or uid("Dara") in t for t in titles)
    assert any("@Ben and @Dara" in b.label for b in room.sender.latest("vote:1").buttons)
    await room.cmd("Ann", "close vote")
    await room.cmd("Ann", "reflect Peer supervision with @Ben")
    for _ in range(5):
        await room.cmd("Ann", "next")
    await room.cmd("Ben", "share @Dara will draft the checklist by 2027-02-14")
    assert "Dara hasn't joined this community" in room.said_to("Ben")  # a mention makes nobody a member
    await room.cmd("Dara", "join")
    await room.cmd("Ben", "share @Dara will phone the college by 2027-02-21")
    await room.cmd("Ann", "end")
    summary = room.sender.latest("reflection:1:summary").plain_text()
    assert "Peer supervision with @Ben" in summary
    assert "Ben: @Dara will draft the checklist by 2027-02-14 (answer 1)" in summary  # in the plan, nobody's yet
    assert "Ben: @Dara will phone the college by 2027-02-21 — action for Dara" in summary  # owner from the name
    assert uid("Dara") not in summary and uid("Ben") not in summary


async def test_control_and_direction_override_characters_are_never_shown_raw(db, clock):
    """Guards README "Security", what is shown: "Control characters (ESC, NUL, …) are shown as
    visible symbols (`␛`) and direction overrides are removed", for every post the core makes
    (each platform's own check: test_slack_hostile.py, test_teams_hostile.py and the terminal
    test below). Proved: with ``shown`` (bot/vocabulary/text.py) returning the text as it is,
    or keeping direction overrides, in a scratch copy, this test fails."""
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "support")
    hostile = "ok \x1b[2J\x1b]0;pwned\x07 \x00 \u202eevil\u202c \u2066x\u2069 done"
    await room.reply("Ben", hostile, to="support:1")
    await room.cmd("Ann", "close")
    assert await rows(db, SupportStatement.text, SupportStatement.passed) == [
        (hostile.replace("\x00", "\ufffd"), False)
    ]  # kept as typed, but NUL
    for post in (s.post for s in room.sender.log):
        for text in (post.plain_text(), *(b.label for b in post.buttons)):
            assert not any(ch in text for ch in "\x1b\x00\x07\u202e\u202c\u2066\u2069"), text
    assert "␛[2J" in room.sender.latest("support:1:closing").plain_text()


async def test_characters_no_database_takes_are_replaced_not_lost(db, clock):
    """Guards README "Security", the core, for every platform: "Text that no database can hold
    (NUL, lone surrogates) becomes `�`", on SQLite and PostgreSQL. Proved: with ``storable``
    (bot/vocabulary/text.py) replacing NUL only, or nothing, in a scratch copy, this fails."""
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "support")
    await room.reply("Ben", "nul \x00 and a lone surrogate \ud800 from a JSON escape", to="support:1")
    assert await rows(db, SupportStatement.text, SupportStatement.passed) == [
        ("nul \ufffd and a lone surrogate \ufffd from a JSON escape", False)
    ]
    assert SORRY not in room.said_to("Ben")


async def test_an_event_without_a_member_or_channel_changes_nothing(db, clock):
    """Guards README "Security", the core, for every platform: "An event without a member or a
    channel is dropped" (the adapters answer such requests with a 400 first; this is the core's
    own line). Proved: with ``_answerable`` (bot/core.py) always true in a scratch copy, the
    event is handled and this test fails."""
    room = Room(db, clock)
    for event in (
        CommandEvent(Actor(""), Place("slack", "C1"), "setup North West"),
        CommandEvent(Actor("U1"), Place("slack", ""), "setup North West"),
        ReplyEvent(Actor(""), Place("slack", "C1"), "hello"),
    ):
        assert await room.runtime.dispatch(event) == []
    async with db.transaction() as session:
        assert list(await session.scalars(select(Community))) == []
    assert room.sender.log == []


def test_a_private_post_needs_its_reader():
    """Guards README "Security", the core, for every platform: "a private post can never fall
    back to the channel": a private post without its reader cannot be made, so no sender ever
    gets one to send to the channel. Proved: with the check in ``Post.__post_init__``
    (bot/vocabulary/conversation.py) removed in a scratch copy, this test fails."""
    with pytest.raises(ValueError):
        Post("only for you", private_to="")


def test_text_helpers():
    assert trimmed(" \u200b hi \u200d\n") == "hi"
    assert trimmed("\u200b\u2060 \ufeff") == "" and trimmed(None) == "" and trimmed(["a"]) == ""
    assert trimmed("👩\u200d⚕️") == "👩\u200d⚕️"  # a joiner inside an emoji stays
    assert [number(t) for t in ("3", "12", "²", "１", "٣", "", " 3", "3 ", 3)] == [3, 12] + [None] * 7
    assert shown("a\x1bb\x00c\x7fd\x85e\u202ef\u200fg\n\th") == "a␛b␀c␡d\ufffdef\u200fg\n\th"


async def test_the_terminal_shows_no_raw_control_or_direction_override_characters(tmp_path):
    """Guards README "Security", what is shown: "Control characters (ESC, NUL, …) are shown as
    visible symbols (`␛`) and direction overrides are removed, on every platform and in the
    terminal", here `copbot chat`: a name and an answer full of them, and nothing printed
    carries them raw. Proved: with ``shown`` (bot/vocabulary/text.py) returning the text as it
    is, or keeping direction overrides, in a scratch copy, this test fails."""
    script = f"/as Ann\n/cop support\n/as Ben {HOSTILE}\n{HOSTILE}\n/as Ann\n/cop close\n"
    screen = await run_script(script, tmp_path, community="North West")
    assert "Traceback" not in screen
    assert ESC_SHOWN in screen and ": ok ␛[2J" in screen  # the answer, in the closing post
    assert not raw_characters_in(screen), [line for line in screen.splitlines() if raw_characters_in(line)]


async def test_the_terminal_reads_input_that_is_not_utf8_with_replacement_characters(tmp_path):
    """Guards README "Security", what is shown: "The terminal reads input that is not UTF-8 with
    replacement characters rather than stopping." The input is a UTF-8 text stream over bytes,
    strict, as a terminal's stdin is in a UTF-8 locale; a line with bytes that are not UTF-8 is
    kept with `�` and the meeting goes on. Proved: with the ``reconfigure`` of stdin in
    ``run_console`` (bot/shell/chat.py) removed in a scratch copy, reading stops with a
    UnicodeDecodeError and this test fails."""
    typed = b"/as Ann\n/cop support\nasking \xff\xfe for help\n/cop close\n/quit\n"
    stdin = io.TextIOWrapper(io.BytesIO(typed), encoding="utf-8")
    out = io.StringIO()
    assert await run_console(stdin, out, db_path=str(tmp_path / "cop.db"), community="North West") == 0
    screen = out.getvalue()
    assert "Ann: asking \ufffd\ufffd for help" in screen  # kept, and the round closed after it
    assert "Traceback" not in screen
