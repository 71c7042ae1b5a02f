"""The support-statement round on its own (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import ReflectionAnswer, SupportStatement
from tests.support.app import count_rows
from tests.support.room import Room


async def test_round_tally_edit_pass_and_closing_list(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", "Dev", chairs=("Ann", "Ben"))
    await room.cmd("Cara", "support")
    prompt = room.sender.latest("support:1")
    assert "I will support myself today by" in prompt.text
    assert "asking for help" in prompt.plain_text()  # the guide's examples
    assert "0 of 1 here have shared" in prompt.text  # only Cara, who opened it, is here yet

    await room.reply("Ann", "taking standing breaks every 10 mins", to="support:1")
    await room.reply("Ann", "asking for help", to="support:1")  # sharing again edits
    await room.reply("Ben", "being open to learning", to="support:1", anonymous=True, from_form=True)
    await room.cmd("Cara", "pass")
    tally = room.sender.latest("support:1").text
    assert "2 of the 3 here have shared" in tally and "1 passed" in tally  # Dev is not here today
    # one live post updated in place, never a message per answer
    assert len([p for p in room.sender.public() if p.key == "support:1"]) == 1
    assert "Cara" not in tally and "Dev" not in tally  # never names who has not shared

    await room.cmd("Dev", "close")
    assert "Only a co-chair" in room.said_to("Dev")
    await room.cmd("Ben", "close")
    closing = room.sender.latest("support:1:closing").plain_text()
    assert "Ann: asking for help" in closing
    assert "taking standing breaks" not in closing
    assert "Shared without a name: being open to learning" in closing
    assert "Ben" not in closing
    assert "closed" in room.sender.latest("support:1").text
    assert room.sender.latest("support:1").buttons == ()

    async with db.transaction() as session:
        anonymous = await session.scalar(select(SupportStatement).where(SupportStatement.member_id.is_(None)))
        assert anonymous is not None and anonymous.text == "being open to learning"
        assert await session.scalar(select(func.count(SupportStatement.id))) == 3  # Ann, anon, Cara's pass


async def test_anonymous_statement_can_be_edited_and_withdrawn_with_its_code(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "support")
    await room.cmd("Ben", "anon not being afraid to ask questions")
    code = room.last_code("Ben")
    await room.cmd("Ann", "edit WRONGCODE hijack")
    assert "couldn't find" in room.said_to("Ann")
    await room.cmd("Ben", f"edit {code} asking for help")
    await room.cmd("Ben", "close")
    closing = room.sender.latest("support:1:closing").plain_text()
    assert "Shared without a name: asking for help" in closing
    assert "not being afraid" not in closing and "hijack" not in closing


async def test_withdraw_removes_the_statement(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "support")
    await room.cmd("Ben", "anon something private")
    code = room.last_code("Ben")
    await room.cmd("Ben", f"withdraw {code}")
    assert "Taken back" in room.said_to("Ben")
    await room.cmd("Ann", "close support")
    assert "something private" not in room.sender.latest("support:1:closing").plain_text()


async def test_second_support_command_while_open_does_not_open_another(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "support")
    await room.cmd("Ben", "support")
    assert "already open" in room.said_to("Ben")
    assert [p.key for p in room.sender.public()].count("support:1") == 1


async def test_typed_share_answers_whatever_is_open(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ben", "share asking for help")
    assert "Nothing is open" in room.said_to("Ben")
    await room.cmd("Ann", "support")
    await room.cmd("Ben", "share asking for help")
    await room.cmd("Ben", "share")
    assert "Usage: /cop share" in room.said_to("Ben")
    await room.cmd("Ann", "close")
    assert "Ben: asking for help" in room.sender.latest("support:1:closing").plain_text()


async def test_two_members_sharing_the_same_words_without_a_name_are_both_kept(db, clock):
    """Nothing lost: without a name nothing says who wrote an answer, so the same words from
    two members ("asking for help" is one of the prompt's own examples) are two answers, each
    with a code that works; an edit to the same words as another's breaks nothing; a retry of
    one member's event is still kept once (by its event id)."""
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "support")
    await room.reply("Ben", "asking for help", "support:1", anonymous=True, from_form=True, event_id="view:V1")
    await room.reply("Ben", "asking for help", "support:1", anonymous=True, from_form=True, event_id="view:V1")
    ben = room.last_code("Ben")
    await room.reply("Cara", "Asking for help", "support:1", anonymous=True, from_form=True, event_id="view:V2")
    cara = room.last_code("Cara")
    assert ben != cara and room.said_to("Ben").count("code: ") == 1  # the retry was kept once
    assert await count_rows(db, SupportStatement) == 2
    tally = room.sender.latest("support:1").plain_text()
    assert "2 of the 3 here have shared so far" in tally  # Ann opened it; Ben and Cara shared
    await room.cmd("Ann", "anon walking at lunch")
    await room.cmd("Ann", f"edit {room.last_code('Ann')} asking for help")  # the same words again
    await room.cmd("Cara", f"withdraw {cara}")
    assert "Taken back" in room.said_to("Cara")
    await room.cmd("Ben", f"edit {ben} asking a friend for help")
    await room.cmd("Ann", "close support")
    closing = room.sender.latest("support:1:closing").plain_text()
    assert closing.count("asking for help") == 1 and "asking a friend for help" in closing


async def test_two_members_answering_a_step_with_the_same_words_without_a_name_are_both_kept(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "reflect Boundaries")
    for who in ("Ben", "Cara"):
        await room.reply(who, "I felt tired", "reflection:1:step:1", anonymous=True, from_form=True)
        assert "code: " in room.said_to(who)
    assert await count_rows(db, ReflectionAnswer) == 2
    await room.cmd("Cara", f"withdraw {room.last_code('Cara')}")
    assert await count_rows(db, ReflectionAnswer) == 1
