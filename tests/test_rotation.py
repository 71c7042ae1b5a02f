"""Rotation: the per-meeting lead (co-chairs: tests/test_chairs.py)."""

from __future__ import annotations

import io
import re
from pathlib import Path

from sqlalchemy import func, select

from bot.shell.chat import run_console
from bot.vocabulary.conversation import Post
from flows.rotation import LEAD_FORMS
from storage.db import Database
from storage.models import LeadTurn, Member
from tests.fakes.recording_sender import Sent
from tests.support.room import Room, uid
from tests.support.terminal import Lines


def lead_post(room: Room) -> Post:
    """The lead post as the channel sees it now (its latest version, first post or update)."""
    return next(s.post for s in reversed(room.sender.log) if _is_lead(s))


def lead_versions(room: Room) -> list[Sent]:
    """Every version of the latest lead post: the post itself, then its updates."""
    key = lead_post(room).key
    return [s for s in room.sender.log if _is_lead(s) and s.post.key == key]


def _is_lead(sent: Sent) -> bool:
    return sent.post.private_to is None and sent.post.text.startswith("Who would like to lead")


async def opted_out(db: Database, name: str) -> list[bool]:
    async with db.transaction() as session:
        return list(await session.scalars(select(Member.lead_opt_out).where(Member.user_id == uid(name))))


async def test_lead_suggests_the_next_in_turn_and_keeps_history(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", "Dev", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "lead")
    assert "I suggest Ann — they have not led one yet" in room.sender.public()[-1].text
    await room.cmd("Ann", "lead confirm")
    clock.advance(days=90)
    await room.cmd("Ann", "lead")
    assert "I suggest Ben" in room.sender.public()[-1].text
    await room.cmd("Dev", "lead volunteer")
    assert "Dev has volunteered" in lead_post(room).text
    await room.cmd("Dev", "lead confirm")
    assert "Only a co-chair can confirm" in room.said_to("Dev")
    await room.press("Ben", "lead confirm @U-dev")
    await room.press("Ann", "lead confirm @U-dev")  # a second press adds nothing
    assert "already confirmed" in room.said_to("Ann")
    for next_in_turn in ("Ben", "Cara"):  # never led, in the order they joined
        clock.advance(days=90)
        await room.cmd("Ann", "lead")
        assert f"I suggest {next_in_turn} — they have not led one yet" in room.sender.public()[-1].text
        await room.cmd("Ann", "lead confirm")
    clock.advance(days=90)
    await room.cmd("Ann", "lead")
    assert "I suggest Ann — they last led on 2026-11-26" in room.sender.public()[-1].text
    async with db.transaction() as session:
        confirmed = list(await session.scalars(select(LeadTurn).where(LeadTurn.status == "confirmed")))
    assert len(confirmed) == 4


async def test_not_me_this_time_moves_the_suggestion_for_this_meeting_only(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", "Dev", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "lead")
    await room.cmd("Ann", "lead confirm")
    clock.advance(days=90)
    await room.cmd("Ann", "lead")
    assert "I suggest Ben" in lead_post(room).text
    channel_posts = len(room.sender.public())
    await room.press("Ben", "lead skip")
    assert "I suggest Cara — they have not led one yet" in lead_post(room).text
    said = room.said_to("Ben")
    assert "suggested someone else for our next meeting" in said and "won't suggest you" not in said
    assert await opted_out(db, "Ben") == [False]  # "not this time" is not "never"
    await room.press("Dev", "lead skip")  # Dev is not the one suggested: nothing to skip
    assert "nothing for you to skip" in room.said_to("Dev")
    assert "I suggest Cara" in lead_post(room).text
    assert len(room.sender.public()) == channel_posts  # the lead post changed in place
    await room.cmd("Ann", "lead")  # shown again in this meeting: still not Ben, and the same post
    assert "I suggest Cara" in lead_post(room).text and len(room.sender.public()) == channel_posts
    assert "We're choosing who leads our next meeting: I suggest Cara" in room.said_to("Ann")
    await room.press("Cara", "lead skip")
    assert "I suggest Dev" in lead_post(room).text
    await room.cmd("Ann", "lead confirm")
    assert "Dev will lead our next meeting" in room.sender.public()[-1].text
    clock.advance(days=90)  # a later meeting: Ben and Cara are in their turn again
    await room.cmd("Ann", "lead")
    assert "I suggest Ben — they have not led one yet" in room.sender.public()[-1].text
    await room.press("Ben", "lead skip")
    assert "I suggest Cara" in lead_post(room).text
    # never confirmed: the next meeting (its first part started) chooses afresh all the same
    clock.advance(days=90)
    await room.cmd("Ann", "support")
    await room.cmd("Ann", "lead")
    assert "I suggest Ben" in room.sender.public()[-1].text
    async with db.transaction() as session:
        statuses = list(await session.scalars(select(LeadTurn.status).order_by(LeadTurn.id)))
    assert statuses.count("skipped") == 3 and statuses.count("confirmed") == 2


async def test_volunteer_and_skip_update_the_lead_post_in_place(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "lead")
    channel_posts = len(room.sender.public())
    await room.press("Ann", "lead skip")
    await room.press("Cara", "lead volunteer")
    await room.press("Cara", "lead volunteer")  # a second press changes nothing
    versions = lead_versions(room)
    assert len(room.sender.public()) == channel_posts  # no new channel post
    assert [v.update for v in versions] == [False, True, True, True]
    assert all(v.post.replace for v in versions[1:]) and {v.ref for v in versions} == {versions[0].ref}
    assert "I suggest Ben" in versions[1].post.text and "Cara has volunteered" in versions[-1].post.text
    assert versions[-1].post.buttons[-1].command == "lead confirm @U-cara"
    await room.cmd("Ann", "lead confirm")
    assert "Cara will lead our next meeting" in room.sender.public()[-1].text


async def test_lead_opt_out_is_private_and_lasting_and_opt_in_undoes_it(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Cara"))
    before = len(room.sender.log)
    await room.cmd("Ben", "lead opt-out")
    assert [s.post.private_to for s in room.sender.log[before:]] == [uid("Ben")]  # nobody else is told
    assert "I won't suggest you to lead in North West any more. Nobody else is told." in room.said_to("Ben")
    assert await opted_out(db, "Ben") == [True]
    for expected in ("Ann", "Cara"):  # Ben, who has never led, is passed by meeting after meeting
        await room.cmd("Ann", "lead")
        assert f"I suggest {expected}" in room.sender.public()[-1].text
        await room.cmd("Ann", "lead confirm")
        clock.advance(days=90)
    await room.cmd("Ann", "lead")
    assert "I suggest Ann — they last led" in room.sender.public()[-1].text
    await room.cmd("Ben", "lead volunteer")  # opted out, and still free to volunteer
    assert "Ben has volunteered" in lead_post(room).text
    await room.cmd("Ann", "lead confirm")
    assert "Ben will lead our next meeting" in room.sender.public()[-1].text
    assert await opted_out(db, "Ben") == [True]  # volunteering once changes no lasting choice
    await room.cmd("Ben", "lead opt in")
    assert "I'll suggest you to lead in North West when your turn comes" in room.said_to("Ben")
    assert await opted_out(db, "Ben") == [False]
    # opting out while suggested moves the suggestion on, as "not this time" does
    clock.advance(days=90)
    await room.cmd("Ann", "lead")
    assert "I suggest Ann" in lead_post(room).text
    channel_posts = len(room.sender.public())
    await room.cmd("Ann", "lead optout")
    assert "I suggest Cara" in lead_post(room).text and len(room.sender.public()) == channel_posts
    async with db.transaction() as session:
        assert await session.scalar(select(func.count(LeadTurn.id)).where(LeadTurn.status == "skipped")) == 0


async def test_lead_opt_out_in_a_private_chat_holds_in_every_community(db, clock):
    north, south = Room(db, clock, channel="CN"), Room(db, clock, channel="CS")
    await north.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await south.setup("Sue", "Ben", chairs=("Sue", "Ben"), name="South")
    seen = len(north.sender.log), len(south.sender.log)
    private = Room(db, clock, channel="D-ben")  # the bot's private chat with Ben: no community
    await private.cmd("Ben", "lead opt-out")
    assert "I won't suggest you to lead in North West and South any more" in private.said_to("Ben")
    assert private.sender.public() == [] and (len(north.sender.log), len(south.sender.log)) == seen
    assert await opted_out(db, "Ben") == [True, True]
    await private.cmd("Ben", "lead")
    assert "no community yet" in private.said_to("Ben")  # only opt-out and opt-in work there
    await private.cmd("Tom", "lead opt-in")
    assert "You aren't in a community here yet" in private.said_to("Tom")


async def test_nobody_to_suggest_is_said_truthfully(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "lead")
    channel_posts = len(room.sender.public())
    await room.press("Ann", "lead skip")
    await room.press("Ben", "lead skip")
    everyone_skipped = lead_post(room)
    assert "Everyone has said “not this time”, and that's fine." in everyone_skipped.text
    assert "recently" not in everyone_skipped.text  # nobody has led yet
    assert [b.command for b in everyone_skipped.buttons] == ["lead volunteer"]
    await room.cmd("Ann", "lead confirm")
    assert "no suggestion to confirm" in room.said_to("Ann")
    await room.press("Ben", "lead volunteer")  # the same post, updated in place
    assert "Ben has volunteered" in lead_post(room).text and len(room.sender.public()) == channel_posts

    south = Room(db, clock, channel="CS")
    await south.setup("Sue", "Tom", chairs=("Sue", "Tom"), name="South")
    await south.cmd("Sue", "lead opt-out")
    await south.cmd("Tom", "lead opt-out")
    await south.cmd("Sue", "lead")
    assert "Everyone has chosen not to be suggested to lead" in lead_post(south).text
    await south.cmd("Sue", "lead opt-in")
    await south.cmd("Sue", "lead")
    assert "I suggest Sue" in lead_post(south).text
    await south.press("Sue", "lead skip")
    assert "Everyone has said “not this time” or chosen not to be suggested" in lead_post(south).text
    for text in south.sender.texts(), room.sender.texts():
        assert "led recently" not in text


async def test_lead_help_usage_and_readme_name_the_same_forms(db, clock):
    forms = LEAD_FORMS.split(" | ")
    assert {"lead skip", "lead opt-out", "lead opt-in"} <= set(forms)
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ben", "help lead")
    await room.cmd("Ben", "lead dance")
    help_and_usage = room.said_to("Ben")
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("| `lead`"))
    for form in forms:
        assert help_and_usage.count(form) >= 2, form  # in help, and in the usage line
        assert f"`{form}`" in row, form
    assert "for this meeting only" in help_and_usage and "private" in help_and_usage


async def test_todays_lead_may_start_the_reflection(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
    await room.cmd("Cara", "lead volunteer")
    await room.cmd("Ann", "lead confirm")
    await room.cmd("Cara", "reflect Peer work")
    assert "co-chair or today's lead" in room.said_to("Cara")  # not today: next meeting
    clock.advance(days=91)
    await room.cmd("Cara", "reflect Peer work")
    assert room.sender.latest("reflection:1:step:1")


LEAD_IN_THE_TERMINAL = """\
/as Ann
/cop join
/as Ben
/cop join IPS workers
/as Cara
/cop join Peer
/cop join Peer Support Workers
/as Ann
/cop lead
/cop lead skip
/as Ben
/cop lead opt-out
/as Cara
/cop lead volunteer
/as Ann
/cop lead confirm
/cop members
"""


async def test_lead_and_roles_in_the_terminal(tmp_path):
    out = io.StringIO()
    await run_console(Lines(LEAD_IN_THE_TERMINAL), out, db_path=str(tmp_path / "cop.db"), community="North West")
    screen = out.getvalue()
    assert "Traceback" not in screen
    # one lead post, changed in place four times: Ann skips, Ben opts out, Cara volunteers, Ann confirms
    posted = re.findall(r"#(\d+) copbot:\n  Who would like to lead", screen)
    updates = re.findall(r"#(\d+) copbot \(updated\):\n(  Who would like to lead[^#]*)", screen)
    assert len(posted) == 1 and len(updates) == 4
    assert {ref for ref, _ in updates} == set(posted)  # the same post, #n, each time
    texts = [text for _, text in updates]
    assert "I suggest Ben" in texts[0] and "I suggest Cara" in texts[1] and "Cara has volunteered" in texts[2]
    assert "Cara will lead our next meeting — confirmed by Ann" in texts[3] and "[I'll lead" not in texts[3]
    assert re.search(r"\(only ann sees this\):\n  Thanks for letting us know", screen)
    assert re.search(r"\(only ben sees this\):\n  Done: I won't suggest you to lead in North West", screen)
    assert re.search(r"\(only cara sees this\):\n  I'm not sure which role “Peer” is. Did you mean", screen)
    assert "Cara will lead our next meeting" in screen
    assert "Ben — IPS Worker" in screen and "Cara — Peer Support Worker" in screen
