"""Setting up, joining, permissions, forget-me, and logs that never hold what members wrote."""

from __future__ import annotations

import hashlib
import logging

import pytest
from sqlalchemy import func, select
from sqlalchemy import text as sql
from sqlalchemy.exc import DBAPIError

from bot.logs import QUIET_LOGGERS, quiet_third_parties, setup_logging
from bot.vocabulary.conversation import Actor, Place, ReplyEvent
from flows.answers import code_hash
from storage import models
from storage.answer_keys import answer_key
from tests.support.room import Room, uid

CANARY = "CANARY-7f3a-lived-experience"


async def test_setup_binds_the_channel_and_makes_the_founder_chair(db, clock):
    room = Room(db, clock)
    await room.cmd("Ann", "support")
    assert "no community yet" in room.said_to("Ann")
    await room.cmd("Ann", "setup")
    assert "Usage: /cop setup" in room.said_to("Ann")
    await room.cmd("Ann", "setup North West")
    assert "Ann set it up and is a provisional co-chair until the group agrees on two" in room.sender.public()[-1].text
    await room.cmd("Ben", "setup Other")
    assert "already belongs to the North West" in room.said_to("Ben")
    # a second channel: only a co-chair of the community can bind it
    other = Room(db, clock, channel="C2")
    await other.cmd("Ben", "setup north west")
    assert "only one of its co-chairs" in other.said_to("Ben")
    await other.cmd("Ann", "setup North West")
    assert "now part of the North West" in other.sender.public()[-1].text


async def test_join_roles_leave_and_members(db, clock):
    room = Room(db, clock)
    await room.setup("Ann")
    await room.cmd("Ben", "join recovery educator")
    await room.cmd("Cara", "join Astronaut")
    assert "I don't know the role" in room.said_to("Cara")
    await room.cmd("Cara", "join Family")
    await room.cmd("Ann", "members")
    listing = room.sender.public()[-1].plain_text()
    assert "Ben — Recovery Educator" in listing and "Cara — Family Peer Support Worker" in listing
    await room.cmd("Ben", "leave")
    await room.cmd("Ben", "support")
    assert "You left this community" in room.said_to("Ben")
    await room.cmd("Ben", "join")
    assert "Welcome back, Ben" in room.sender.public()[-1].text


async def test_join_reads_roles_in_the_guides_words(db, clock):
    room = Room(db, clock)
    await room.setup("Ann")
    typed = {
        "Ben": "Peer Support Workers",
        "Cara": "IPS workers",
        "Dev": "IPS",
        "Eve": "family peer support worker",
        "Fay": "peer-support WORKER!",
        "Gus": "Area Leads for Engagement",
        "Hal": "PSW",
    }
    for name, role in typed.items():
        await room.cmd(name, f"join {role}")
    welcome = room.sender.latest("community:1:joined:2026-11-26").text  # one welcome of the day, updated
    assert "Ben (Peer Support Worker), Cara (IPS Worker), Dev (IPS Worker)" in welcome
    await room.cmd("Ann", "members")
    listing = room.sender.public()[-1].plain_text()
    for line in (
        "Ben — Peer Support Worker",
        "Cara — IPS Worker",
        "Dev — IPS Worker",
        "Eve — Family Peer Support Worker",
        "Fay — Peer Support Worker",
        "Gus — Area Lead for Engagement",
        "Hal — Peer Support Worker",
    ):
        assert line in listing


async def test_a_role_that_fits_several_or_none_gets_did_you_mean_and_nothing_is_kept(db, clock):
    room = Room(db, clock)
    await room.setup("Ann")
    await room.cmd("Ben", "join Recovery Educators")
    channel_posts = len(room.sender.public())
    await room.cmd("Ben", "join Peer")  # fits four roles
    await room.cmd("Cara", "join Peer Suport Worker")  # a typo
    await room.cmd("Dev", "join Astronaut")
    assert (
        "I'm not sure which role “Peer” is. Did you mean Peer Support Worker, Family Peer Support Worker, "
        "Peer Educator or Peer Coordinator?" in room.said_to("Ben")
    )
    assert "Did you mean Peer Support Worker or Family Peer Support Worker?" in room.said_to("Cara")
    assert "I don't know the role “Astronaut”. The roles are: Peer Support Worker, " in room.said_to("Dev")
    assert len(room.sender.public()) == channel_posts  # no welcome: nobody joined
    async with db.transaction() as session:
        members = dict((await session.execute(select(models.Member.name, models.Member.role))).all())
    assert members == {"Ann": None, "Ben": "Recovery Educator"}  # Ben's role unchanged; Cara, Dev not kept


async def test_members_act_only_in_their_own_community(db, clock):
    north, south = Room(db, clock, channel="CN"), Room(db, clock, channel="CS")
    await north.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await south.setup("Sue", "Tom", chairs=("Sue", "Tom"), name="South East")
    await north.cmd("Ann", "reflect North topic")
    # Ann is a co-chair in the north, a stranger in the south
    await south.cmd("Ann", "next")
    assert "Only a co-chair" in south.said_to("Ann")
    await south.cmd("Sue", "next")
    assert "No reflection is running" in south.said_to("Sue")
    # a reply in the south naming the north's step post is not filed in the north
    north_step = north.sender.ref("reflection:1:step:1")
    south.sender.log.extend(s for s in north.sender.log if s.ref == north_step)
    assert await south.reply("Tom", "misplaced", to="reflection:1:step:1") == []
    await north.reply("Ben", "in the right place", to="reflection:1:step:1")
    async with db.transaction() as session:
        assert list(await session.scalars(select(models.ReflectionAnswer.text))) == ["in the right place"]


async def test_forget_me_deletes_or_anonymises_every_row(db, clock):
    """Guards README "Privacy": "`forget-me` deletes the member and every row about them: their
    statements, reflection answers and the actions made from them, their votes and their
    co-chair terms. It anonymises what others rely on: leads they led, topics they proposed,
    actions assigned to them." Reads each table after Ben's forget-me. Proved: the member kept
    (flows/membership.py), or any one forgetter's delete or anonymising update taken out
    (storage/support_rounds.py, reflections.py, votes.py, leads.py; with SQLite's foreign keys off, since the schema's
    ON DELETE CASCADE / SET NULL is a second guard), or deleting what should be anonymised,
    fails this test."""
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "support")
    await room.reply("Ben", "my statement", to="support:1")
    await room.cmd("Ann", "close")
    await room.cmd("Ann", "reflect Topic")
    await room.reply("Ben", "my story", to="reflection:1:step:1")
    for _ in range(5):
        await room.cmd("Ann", "next")
    await room.reply("Ben", "action: my action", to="reflection:1:step:6")
    await room.reply("Ann", "@Ben will call by Friday", to="reflection:1:step:6")
    await room.cmd("Ann", "end")
    await room.cmd("Ann", "vote")
    await room.cmd("Ben", "vote 1")
    await room.cmd("Ben", "propose Ben's topic")
    await room.cmd("Ben", "lead volunteer")
    await room.cmd("Ann", "lead confirm")

    await room.cmd("Ben", "forget-me confirm")
    assert "deleted what I kept about you" in room.said_to("Ben")
    async with db.transaction() as session:
        assert await session.scalar(select(models.Member).where(models.Member.user_id == uid("Ben"))) is None
        texts = list(await session.scalars(select(models.ReflectionAnswer.text)))
        assert texts == ["@Ben will call by Friday"]
        assert await session.scalar(select(func.count(models.SupportStatement.id))) == 0
        assert await session.scalar(select(func.count(models.Ballot.id))) == 0
        [action] = list(await session.scalars(select(models.ActionItem)))  # Ben's own went with his answer
        assert action.owner_id is None and action.text == "@Ben will call by Friday"
        lead = await session.scalar(select(models.LeadTurn).where(models.LeadTurn.status == "confirmed"))
        assert lead.member_id is None
        topic = await session.scalar(select(models.Topic).where(models.Topic.title == "Ben's topic"))
        assert topic.proposed_by is None
        assert (
            await session.scalar(
                select(func.count(models.CoChairTerm.id)).where(models.CoChairTerm.replaced_on.is_(None))
            )
            == 1
        )


async def test_logs_never_hold_what_members_wrote(db, clock, caplog):
    """Guards README "Privacy": "Logs never hold what members wrote" and "A test plants a canary
    string and checks the logs for it": the canary goes through replies, `anon`, a topic, a
    proposal, an unknown verb and an undeliverable post, and is in no log record (DEBUG and up).
    Proved: bot/core.py logging a reply's text at DEBUG fails this test."""
    quiet_third_parties()  # as `copbot` sets logging up
    caplog.set_level(logging.DEBUG)
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "support")
    await room.reply("Ben", f"support {CANARY}", to="support:1")
    await room.cmd("Ben", f"anon {CANARY} anon")
    await room.cmd("Ann", "close")
    await room.cmd("Ann", f"reflect {CANARY} topic")
    await room.reply("Ben", f"story {CANARY}", to="reflection:1:step:1", from_form=True)
    await room.cmd("Ben", f"propose {CANARY}")
    await room.cmd("Ben", f"bogus {CANARY}")
    await room.cmd("Ben", f"edit {CANARY}")
    room.sender.failures.append(
        __import__("bot.vocabulary.errors", fromlist=["DeliveryError"]).DeliveryError("gone", permanent=True)
    )
    await room.cmd("Ann", "next")  # this post is undeliverable: recorded, and logged without text
    assert CANARY in room.sender.texts()  # the canary did travel through the bot…
    assert caplog.records, "logging was captured"
    assert CANARY not in caplog.text  # …but never into a log line
    assert all(CANARY not in str(r.args) for r in caplog.records)
    undelivered = await room.runtime.deliveries.undelivered()
    assert len(undelivered) == 1 and undelivered[0].reason == "gone"


async def test_sql_parameters_are_hidden_even_when_the_sql_logger_is_open(db, clock, caplog):
    """Guards README "Privacy": "SQL parameters are hidden" (``hide_parameters`` in storage/db.py),
    on its own: SQLAlchemy's logger is opened to INFO here, so the statements are logged and
    only ``hide_parameters`` keeps the canary out of them and out of a database error's text.
    Proved: with ``hide_parameters`` False this test fails."""
    caplog.set_level(logging.DEBUG)
    quiet_third_parties()
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # someone debugging SQL
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "support")
    await room.reply("Ben", f"support {CANARY}", to="support:1")
    await room.cmd("Ben", f"anon {CANARY} anon")
    async with db.transaction() as session:
        assert await session.scalar(select(func.count(models.SupportStatement.id))) == 2  # the words are stored
    with pytest.raises(DBAPIError) as failed:
        async with db.transaction() as session:
            await session.execute(sql("INSERT INTO no_such_table VALUES (:words)"), {"words": CANARY})
    sql_lines = [r.getMessage() for r in caplog.records if r.name.startswith("sqlalchemy.engine")]
    assert any("INSERT INTO support_statements" in line for line in sql_lines)  # SQL was logged…
    assert CANARY not in caplog.text  # …without its parameters
    assert CANARY not in str(failed.value)  # and an error's text does not quote them either


async def test_setup_logging_holds_third_party_loggers_at_warning():
    """Guards README "Privacy": "the Slack, Teams, SQL and HTTP libraries' loggers are held at
    WARNING", through ``setup_logging`` as `copbot serve` and `copbot chat` call it, even with
    LOG_LEVEL=DEBUG. Proved: with ``quiet_third_parties()`` removed from ``setup_logging`` (or a
    name dropped from QUIET_LOGGERS) this test fails."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    setup_logging("DEBUG")
    slack, teams = ("slack_bolt", "slack_sdk"), ("botbuilder", "botframework", "msrest", "msal")
    for name in (*slack, *teams, "aiohttp.access", "aiohttp.server", "sqlalchemy", "asyncpg", "aiosqlite"):
        assert name in QUIET_LOGGERS
    for name in (*QUIET_LOGGERS, "sqlalchemy.engine.Engine", "slack_bolt.App", "aiohttp.server"):
        logger = logging.getLogger(name)
        assert logger.getEffectiveLevel() == logging.WARNING, name
        assert not logger.isEnabledFor(logging.INFO), name


def _points_to(value: str, member_id: int, user_id: str) -> bool:
    """Whether a stored string names a member: their id or user id as a part of it, or a SHA-256
    of either (whole or cut short to 16 characters or more)."""
    plain = {str(member_id), f"m{member_id}", user_id}
    hashes = {hashlib.sha256(text.encode()).hexdigest() for text in plain}
    parts = set(value.replace("-", ":").split(":"))
    return bool(plain & parts) or user_id in value or any(h[:16] in value for h in hashes)


async def test_an_answer_without_a_name_keeps_no_author_no_hash_of_one_and_only_a_hash_of_its_code(db, clock):
    """Guards README "Privacy": "stored with no author at all: no member id and no hash of one"
    and "The database keeps only a SHA-256 of that code, not the code itself". Reads the stored rows
    (a support statement and a reflection answer) column by column. Proved: with the author
    kept (``author = member.id`` in flows/stepped.py, ``member.id`` in flows/support_round.py),
    the code kept as typed (``code_hash`` returning the code), or the de-duplication key of an
    anonymous answer made from the member (``answer_key`` in storage/answer_keys.py), this fails."""
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "support")
    await room.cmd("Ben", "anon Walking helps")
    support_code = room.last_code("Ben")
    await room.cmd("Ann", "close")
    await room.cmd("Ann", "reflect Topic")
    await room.cmd("Ben", "anon It was hard")
    reflection_code = room.last_code("Ben")
    assert support_code != reflection_code
    async with db.transaction() as session:
        ben = await session.scalar(select(models.Member).where(models.Member.user_id == uid("Ben")))
        statement = await session.scalar(select(models.SupportStatement))
        answer = await session.scalar(select(models.ReflectionAnswer))
    assert statement is not None and answer is not None  # both were stored…
    for row, code, words in ((statement, support_code, "Walking helps"), (answer, reflection_code, "It was hard")):
        assert row.member_id is None and row.text == words  # …with no author
        assert row.edit_code_hash == code_hash(code) == hashlib.sha256(code.encode()).hexdigest()
        assert row.answer_key == answer_key(None, words, per_member=False, code_hash=code_hash(code))  # the code's
        for column in row.__table__.columns:
            value = getattr(row, column.key)
            if isinstance(value, str):
                assert code not in value, column.key  # only a hash of the code
                assert not _points_to(value, ben.id, uid("Ben")), column.key  # no id, no hash of one
    for key in (answer_key(None, "It was hard", per_member=False), answer_key(None, "It was hard", per_member=True)):
        assert key == answer_key(None, " it  WAS hard ", per_member=False) and str(ben.id) not in key.split(":")[0]
    assert answer_key(None, "x", per_member=True, code_hash="ab" * 32) == "anon:" + "ab" * 20  # the code's, no one's


async def test_unknown_verbs_bad_arguments_and_oversized_messages(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    for text in ["frobnicate", "vote open lots", "next now", "lead dance", "help nonsense", "chairs maybe", "x" * 5000]:
        posts = await room.cmd("Ben", text)
        assert len(posts) == 1 and posts[0].private_to == uid("Ben"), text
        assert "Traceback" not in posts[0].text
    said = room.said_to("Ben")
    assert "I don't know “frobnicate”" in said and "Usage: /cop vote open" in said
    assert "too long for a command" in said
    await room.cmd("Ann", "support")
    await room.reply("Ben", "y" * 5000, to="support:1")
    assert "longer than I can keep" in room.said_to("Ben")
    await room.cmd("Ann", "help")
    assert "/cop reflect [topic] (co-chairs)" in room.said_to("Ann")


async def test_replies_to_unrelated_posts_and_unbound_channels_are_dropped(db, clock):
    """Guards README "Privacy": "It keeps only replies to its own open round or step posts": a
    reply in a channel with no community and one in the vote's thread get no answer and keep
    no row. Proved: a reply to a post that is not an answerable one taken as a plain line
    (flows/answers.py ``reply``) fails this test."""
    room = Room(db, clock)
    assert await room.reply("Ann", "hello") == []
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "vote")
    assert await room.reply("Ben", "chatter in the vote thread", to="vote:1") == []
    async with db.transaction() as session:
        assert await session.scalar(select(func.count(models.ReflectionAnswer.id))) == 0
        assert await session.scalar(select(func.count(models.SupportStatement.id))) == 0


async def test_codes_and_forget_me_work_in_a_private_chat_with_the_bot(db, clock):
    """Guards README "Privacy": "The code works in the community's channel and in a private chat
    with copbot" (the private-chat half; the channel half: tests/test_support_round.py) and
    "In a private chat with copbot, `forget-me` applies to every community you belong to".
    Proved: ``_community_id`` in flows/answers.py not widening a private chat's search to every
    community, or ``memberships_of`` returning only the first community, fails this test."""
    north, south = Room(db, clock, channel="CN"), Room(db, clock, channel="CS")
    await north.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await south.setup("Sue", "Ben", chairs=("Sue", "Ben"), name="South")
    await north.cmd("Ann", "support")
    await north.cmd("Ben", "anon first words")
    code = north.last_code("Ben")
    private = Room(db, clock, channel="D-ben")  # the bot's private chat with Ben: no community
    private.sender = north.sender
    private.runtime.outboxes["slack"].sender = north.sender
    await private.cmd("Ben", f"edit {code} better words")
    await private.cmd("Ben", "members")
    assert "no community yet" in north.said_to("Ben")
    async with db.transaction() as session:
        assert await session.scalar(select(models.SupportStatement.text)) == "better words"
    await private.cmd("Ben", f"withdraw {code}")
    await private.cmd("Ben", "forget-me confirm")
    said = north.said_to("Ben")
    assert "in North West" in said and "in South" in said
    async with db.transaction() as session:
        assert await session.scalar(select(func.count(models.SupportStatement.id))) == 0
        names = set(await session.scalars(select(models.Member.name)))
    assert names == {"Ann", "Sue"}


# -- README "Privacy": the promises a test above did not yet hold -----------------------------

NOT_SHARING = ("Zora", "Yusuf", "Odile")  # names no post text would hold by chance


async def _a_meeting_where_some_do_not_share(room: Room) -> int:
    """Ann and Ben share, Quill shares without a name, Yusuf and Odile pass every way there is
    (the Pass button, typed, a reply of "pass"), Zora says nothing. Returns where in
    ``room.sender.log`` the support round began."""
    await room.setup("Ann", "Ben", "Quill", *NOT_SHARING, chairs=("Ann", "Ben"))
    began = len(room.sender.log)
    await room.cmd("Ann", "support")
    await room.reply("Ann", "asking for help", to="support:1")
    await room.cmd("Ben", "share taking breaks")
    await room.reply("Quill", "being open", to="support:1", anonymous=True, from_form=True)
    await room.press("Yusuf", "pass")
    await room.cmd("Odile", "pass")
    await room.cmd("Ann", "close support")
    await room.cmd("Ann", "reflect Boundaries")
    for step in range(1, 7):
        await room.reply("Ben", f"my answer to step {step}", to=f"reflection:1:step:{step}")
        await room.reply("Yusuf", "pass", to=f"reflection:1:step:{step}")
        await room.cmd("Odile", "pass")
        await room.reply("Quill", f"quiet words {step}", to=f"reflection:1:step:{step}", anonymous=True, from_form=True)
        await room.cmd("Ann", "next" if step < 6 else "end")
    return began


async def test_prompts_never_name_who_has_not_shared(db, clock):
    """Guards README "Privacy": "Prompts never name who has not shared". Through a support round
    and a whole reflection, where some pass (by button, typed and by reply), one stays silent
    and one shares without a name: no channel post from the round's opening on (the prompt,
    every update of its tally, the closing list, each step post, echoes, the summary) holds the
    name of anyone who did not share, nor of the one who shared without a name. Proved: a tally
    that lists the members still to share (flows/support_round.py), or a pass announced in the
    step's thread with the member's name (flows/stepped.py), fails this test."""
    room = Room(db, clock)
    began = await _a_meeting_where_some_do_not_share(room)
    shown = [sent.post.plain_text() for sent in room.sender.log[began:] if not sent.post.private_to]
    assert any("3 of the 5 here have shared" in text and "2 passed" in text for text in shown)  # the tally counts them…
    assert any("Ann: asking for help" in text for text in shown)  # …and names who shared
    for text in shown:
        for name in (*NOT_SHARING, "Quill"):
            assert name not in text, (name, text)  # …but never who did not, nor who shared without a name


async def test_pass_is_always_fine(db, clock):
    """Guards README "Privacy": "Nobody is forced to share. `pass` is always fine." A pass by
    the Pass button, typed (`/cop pass`) and as a reply of "pass", in the support round and in
    every reflection step, is thanked privately ("passing is always fine"), never refused and
    never asked again, and keeps no words: the support round counts it as a pass, a reflection
    step keeps no row. Proved: a `pass` refused (``pass_open`` in flows/answers.py raising, or a
    step's ``pass_step`` in flows/stepped.py asking for an answer instead) fails this test."""
    room = Room(db, clock)
    await _a_meeting_where_some_do_not_share(room)
    for name, passes in (("Yusuf", 1 + 6), ("Odile", 1 + 6)):
        said = room.said_to(name)
        assert said.count("passing is always fine") == passes, (name, said)
        for refusal in ("Usage:", "Only a co-chair", "Nothing is open", "couldn't", "didn't find"):
            assert refusal not in said, (name, said)
    async with db.transaction() as session:
        statements = select(models.Member.name, models.SupportStatement.text, models.SupportStatement.passed)
        rows = (await session.execute(statements.join(models.Member))).all()
        kept = set(await session.scalars(select(models.ReflectionAnswer.member_id)))
        passers = set(await session.scalars(select(models.Member.id).where(models.Member.name.in_(NOT_SHARING))))
    assert {(name, text, passed) for name, text, passed in rows if name in NOT_SHARING} == {
        ("Yusuf", None, True),
        ("Odile", None, True),
    }
    assert not kept & passers  # a pass in a reflection step keeps nothing


async def test_only_the_author_sees_a_private_one_off_code(db, clock):
    """Guards README "Privacy": "Only the author sees a private one-off code in a message
    (`/cop edit CODE …`, `/cop withdraw CODE`, and for a step-6 answer `/cop action CODE`)",
    and "Nothing links the code to a person, so copbot cannot find the answer for `forget-me`:
    the code is the only way to change or take it back". Ben shares without a name in the
    support round, in step 1 and in step 6: each answer gets its own code, said to Ben alone
    (no channel post, no update, no other member's private message holds it), with how to edit
    and withdraw it, and for step 6 how to make it an action; the code does make it an action.
    After Ben's forget-me the three answers are still there, and his codes still change and
    take them back. Proved: the receipt posted to the channel, or one code for every answer
    (``_new_code`` in flows/answers.py), fails this test."""
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Cara"))
    await room.cmd("Ann", "support")
    await room.cmd("Ben", "anon support words")
    codes = [room.last_code("Ben")]
    await room.cmd("Ann", "close support")
    await room.cmd("Ann", "reflect Boundaries")
    await room.reply("Ben", "step one words", to="reflection:1:step:1", anonymous=True, from_form=True)
    codes.append(room.last_code("Ben"))
    for _ in range(5):
        await room.cmd("Ann", "next")
    await room.cmd("Ben", "anon we will write a checklist")
    codes.append(room.last_code("Ben"))
    assert len(set(codes)) == 3  # one code per answer
    said = room.said_to("Ben")
    for code in codes:
        assert f"`/cop edit {code} <new words>`" in said and f"`/cop withdraw {code}`" in said
    assert "`/cop action <your code>`" in said  # the step-6 answer: how to make it an action
    await room.cmd("Ben", f"action {codes[2]}")
    assert "Kept as an action for" in room.said_to("Ben")
    for sent in room.sender.log:
        if sent.post.private_to != uid("Ben"):
            for code in codes:
                assert code not in sent.post.plain_text(), (code, sent.post.private_to, sent.post.plain_text())
    await room.cmd("Ben", "forget-me confirm")
    async with db.transaction() as session:
        statement = await session.scalar(select(models.SupportStatement.text))
        answers = sorted(await session.scalars(select(models.ReflectionAnswer.text)))
    assert statement == "support words"  # forget-me could not find them: nothing links them to Ben
    assert answers == ["step one words", "we will write a checklist"]
    await room.cmd("Ben", f"edit {codes[0]} changed words")
    await room.cmd("Ben", f"withdraw {codes[1]}")
    async with db.transaction() as session:
        assert await session.scalar(select(models.SupportStatement.text)) == "changed words"
        assert list(await session.scalars(select(models.ReflectionAnswer.text))) == ["we will write a checklist"]


async def _everything_stored(db) -> str:
    """Every value of every row of every table, as one text."""
    found = []
    async with db.transaction() as session:
        for table in models.Base.metadata.sorted_tables:
            found += [repr(tuple(row)) for row in (await session.execute(select(table))).all()]
    return "\n".join(found)


async def test_replies_copbot_does_not_ask_for_are_dropped_before_storage_or_a_log(db, clock, caplog):
    """Guards README "Privacy": "It keeps only replies to its own open round or step posts. It
    drops everything else before storage or a log." With the support round open (so a reply
    wrongly taken as an answer would be kept), members reply with a canary to the welcome post,
    to the vote post, to a thread that is not copbot's, and in a channel with no community:
    nothing is answered, the canary is in no table of the database and in no log line (DEBUG
    and up). A reply to the round's own post is kept. Proved: a reply to a post that is not an
    open round's or step's answered as a plain line (kept as an answer), or a dropped reply
    logged with its words (flows/answers.py ``reply``), fails this test."""
    caplog.set_level(logging.DEBUG)
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "vote")
    await room.cmd("Ann", "support")
    chatter = [
        ReplyEvent(Actor(uid("Ben"), "Ben"), room.place, f"{CANARY} 1", room.sender.ref("community:1:welcome")),
        ReplyEvent(Actor(uid("Ben"), "Ben"), room.place, f"{CANARY} 2", room.sender.ref("vote:1")),
        ReplyEvent(Actor(uid("Ben"), "Ben"), room.place, f"{CANARY} 3", "1700000000.000100", event_id="Ev-9"),
        ReplyEvent(Actor(uid("Ann"), "Ann"), Place("slack", "C-elsewhere", "T1"), f"{CANARY} 4", None),
    ]
    for event in chatter:
        assert await room.runtime.dispatch(event) == []
    await room.runtime.drain()
    await room.reply("Ben", "kept words", to="support:1")
    stored = await _everything_stored(db)
    assert "kept words" in stored  # the round's own reply is kept…
    assert CANARY not in stored  # …and nothing else
    assert CANARY not in caplog.text
    assert all(CANARY not in str(record.args) for record in caplog.records)
    assert CANARY not in room.sender.texts()


async def test_forget_me_in_a_private_chat_covers_every_community_on_that_platform(db, clock):
    """Guards README "Privacy": "In a private chat with copbot, `forget-me` applies to every
    community you belong to on that platform." Ben is in two communities on Slack and in one on
    Teams; his forget-me in a private chat on Slack deletes both Slack memberships and what he
    shared there, and leaves his Teams membership to a forget-me on Teams. Proved: a forget-me
    that takes only the first community (``memberships_of``' first row), or every platform's
    (``memberships_of`` without its platform), fails this test."""
    north, south = Room(db, clock, channel="CN"), Room(db, clock, channel="CS")
    teams = Room(db, clock, channel="19:east@thread.tacv2", platform="teams")
    await north.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await south.setup("Sue", "Ben", chairs=("Sue", "Ben"), name="South")
    await teams.setup("Tia", "Ben", chairs=("Tia", "Ben"), name="East")
    for room, words in ((north, "north words"), (south, "south words"), (teams, "east words")):
        await room.cmd("Ann" if room is north else "Sue" if room is south else "Tia", "support")
        await room.cmd("Ben", f"share {words}")
    private = Room(db, clock, channel="D-ben")  # the bot's private chat with Ben on Slack
    private.sender = north.sender
    private.runtime.outboxes["slack"].sender = north.sender
    await private.cmd("Ben", "forget-me confirm")
    said = north.said_to("Ben")
    assert "in North West" in said and "in South" in said and "in East" not in said
    async with db.transaction() as session:
        bens = list(await session.scalars(select(models.Member.platform).where(models.Member.user_id == uid("Ben"))))
        statements = set(await session.scalars(select(models.SupportStatement.text)))
    assert bens == ["teams"]
    assert statements == {"east words"}
