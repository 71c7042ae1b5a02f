"""The channel's living record (a Slack canvas), through the real stack: signed requests, Bolt,
the core, the outbox and the fake Slack Web API. Made once, then replaced; a burst of changes
is one call with the latest state; refusals are said once to the co-chairs and never asked
again; a deleted canvas is made again once; the canvas id survives a restart; member words
never restructure it."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, text, update

from adapters.slack.app import make_client
from adapters.slack.canvas import canvas_markdown
from adapters.slack.sender import SlackSender
from adapters.slack.settings import SlackSettings
from bot.vocabulary.conversation import Place
from bot.vocabulary.record import CommunityRecord, RecordPart
from storage import community as communities
from storage import living_records, outbox
from storage.living_records import RECORD_KEY, SETTLE
from storage.models import LivingRecord, OutboxPost
from tests.fakes.slack_api import BOT_TOKEN, SECRET, FakeSlackApi, running_stack
from tests.support.slack_meeting import PEOPLE, reply, say

CREATE, EDIT = "conversations.canvases.create", "canvases.edit"
NOT_AVAILABLE = "living record"


async def _community(stack) -> None:
    """North West, with Ann and Ben as co-chairs, Cara and Dev members, and a schedule."""
    await say(stack, "U1", "setup North West")
    for user in ("U2", "U3", "U4"):
        await say(stack, user, "join")
    await say(stack, "U1", "chairs set <@U1|ann> <@U2|ben> 12")
    await say(stack, "U1", "schedule quarterly 2nd Tuesday of Feb May Aug Nov 10:30")
    await say(stack, "U1", "schedule link https://meet.example.org/north-west")


async def _settled(stack, clock) -> None:
    """Let the record's minute pass and deliver what is due."""
    clock.advance(seconds=SETTLE.total_seconds() + 1)
    await stack.runtime.drain()


async def test_made_once_then_replaced_with_the_next_meeting_and_open_actions(sqlite_db, clock):
    async with running_stack(sqlite_db, clock, PEOPLE) as stack:
        slack = stack.slack
        await _community(stack)
        assert slack.canvas_calls() == []  # nothing yet: the record waits for its minute
        await _settled(stack, clock)
        (made,) = slack.calls_to(CREATE)
        assert made.params["channel_id"] == "C1"
        canvas = slack.canvas_of("C1")
        assert canvas is not None and canvas.startswith("# Our living record — North West")
        assert "## Our next meeting" in canvas and "Tuesday 9 February 2027 at 10:30 (Europe/Dublin)" in canvas
        assert "meet.example.org" in canvas and "No actions are open." in canvas

        await say(stack, "U1", "actions add Draft a peer supervision checklist <@U2|ben> by 2027-02-01")
        await say(stack, "U3", "actions add Ask the team about a reading group")
        await _settled(stack, clock)
        assert len(slack.calls_to(CREATE)) == 1
        (edit,) = slack.calls_to(EDIT)
        canvas = slack.canvas_of("C1")
        assert edit.params["canvas_id"] == slack.channel_canvas["C1"]
        assert "- 1\\. Draft a peer supervision checklist" in canvas and "— Ben, due Mon 1 Feb 2027" in canvas
        assert "- 2\\. Ask the team about a reading group — Cara" in canvas

        await say(stack, "U2", "actions done 1")
        await _settled(stack, clock)
        assert len(slack.calls_to(EDIT)) == 2
        canvas = slack.canvas_of("C1")
        assert "peer supervision checklist" not in canvas and "reading group" in canvas
        assert await stack.runtime.deliveries.undelivered("slack") == []


async def test_after_a_meeting_the_record_names_the_one_after(sqlite_db, clock):
    async with running_stack(sqlite_db, clock, PEOPLE) as stack:
        slack = stack.slack
        await say(stack, "U1", "setup North West")
        await say(stack, "U1", "schedule add 2026-12-03 10:30")
        await say(stack, "U1", "schedule add 2027-03-18 10:30")
        await _settled(stack, clock)
        assert "Thursday 3 December 2026 at 10:30" in slack.canvas_of("C1")
        clock.now = clock.now.replace(
            month=12, day=3, hour=12, minute=45
        )  # the meeting has ended: its next steps are due
        await stack.runtime.announce_due()
        await _settled(stack, clock)
        assert any("Thank you for today's meeting" in c.text for c in slack.posts())
        assert "Thursday 18 March 2027 at 10:30" in slack.canvas_of("C1")
        assert "3 December" not in slack.canvas_of("C1")


async def test_the_record_carries_the_last_meetings_minutes(sqlite_db, clock):
    """The support round and a reflection held today: the canvas shows that meeting's minutes,
    an answer without a name without its author, redrawn when the round closes."""
    async with running_stack(sqlite_db, clock, PEOPLE) as stack:
        slack = stack.slack
        await _community(stack)
        await say(stack, "U1", "support")
        prompt = slack.find_post("I will support myself today")
        await reply(stack, "U2", "taking standing breaks", slack.ts_of(prompt))
        await say(stack, "U3", "anon # asking for [help](http://x)")
        await say(stack, "U1", "close support")
        await _settled(stack, clock)
        canvas = slack.canvas_of("C1")
        assert "## Our last meeting — " in canvas
        assert "### Support round — “I will support myself today by …”" in canvas
        assert "- Ben: taking standing breaks" in canvas
        assert "- Shared without a name: # asking for \\[help\\](http://x)" in canvas
        assert "Cara" not in canvas.split("## Our last meeting")[1]


async def test_a_burst_of_changes_is_one_edit_with_the_final_state(sqlite_db, clock):
    async with running_stack(sqlite_db, clock, PEOPLE) as stack:
        slack = stack.slack
        await _community(stack)
        await _settled(stack, clock)
        assert len(slack.canvas_calls()) == 1
        for n in range(1, 7):  # ten changes inside one minute
            await say(stack, "U1", f"actions add Step {n} of our plan")
            clock.advance(seconds=5)
        for n in (1, 2, 3):
            await say(stack, "U1", f"actions done {n}")
        await say(stack, "U1", "actions horizon 4 short")
        assert len(slack.canvas_calls()) == 1  # nothing before the minute is up
        await _settled(stack, clock)
        (edit,) = slack.calls_to(EDIT)
        canvas = slack.canvas_of("C1")
        assert "Step 1 of our plan" not in canvas and "Step 3 of our plan" not in canvas
        assert all(f"{n}\\. Step {n} of our plan" in canvas for n in (4, 5, 6))
        assert "Short term (1–3 months): 4. Step 4 of our plan" in canvas
        await _settled(stack, clock)  # nothing changed since: no more calls
        assert len(slack.canvas_calls()) == 2


async def test_the_record_keeps_to_slacks_tiers_in_a_burst():
    """conversations.canvases.create is Tier 2 (20 a minute), canvases.edit Tier 3 (50): a
    burst over many channels of one workspace goes out at that pace, not at once. The pace is a
    leaky bucket: after the burst, one more call each 3 s (creates) or 1.2 s (edits)."""

    def at_most(burst: int, per_minute: int, since: float) -> int:
        """What the pace allows ``since`` the burst began: the burst, then its steady rate."""
        return burst + int((loop.time() - since) * per_minute / 60) + 1

    loop = asyncio.get_running_loop()
    async with FakeSlackApi() as slack:
        sender = SlackSender(make_client(SlackSettings(BOT_TOKEN, SECRET, api_url=slack.api_url)))
        record = CommunityRecord("Our living record", (RecordPart("Open actions", ("1. Read",)),))
        began = loop.time()
        makes = [
            asyncio.ensure_future(sender.keep_record(Place("slack", f"C{n}", "T1"), None, record)) for n in range(25)
        ]
        await slack.wait_for(lambda: len(slack.calls_to(CREATE)) >= 20)
        await asyncio.sleep(0.5)
        assert 20 <= len(slack.calls_to(CREATE)) <= at_most(20, 20, began) < 25  # the rest wait their turn
        began = loop.time()
        edits = [
            asyncio.ensure_future(
                sender.keep_record(Place("slack", f"C{n}", "T1"), slack.channel_canvas[f"C{n}"], record)
            )
            for n in range(20)
            for _ in range(3)
        ]
        await slack.wait_for(lambda: len(slack.calls_to(EDIT)) >= 50)
        await asyncio.sleep(0.5)
        assert 50 <= len(slack.calls_to(EDIT)) <= at_most(50, 50, began) < 60
        for waiting in makes + edits:
            waiting.cancel()
        await asyncio.gather(*makes, *edits, return_exceptions=True)


async def test_a_canvas_told_to_wait_holds_no_message_back(sqlite_db, clock):
    async with running_stack(sqlite_db, clock, PEOPLE) as stack:
        slack = stack.slack
        await _community(stack)
        await _settled(stack, clock)
        await say(stack, "U1", "actions add Read the guide")
        slack.fail_next(status=429, retry_after=30, method=EDIT)  # longer than a send waits
        await _settled(stack, clock)
        assert [c.status for c in slack.canvas_calls()] == [200, 429]
        posted = len(slack.posts())
        await say(stack, "U3", "meeting")  # the channel's own posts go on meanwhile
        assert len(slack.posts()) == posted + 1 and "Our first meeting, in order" in slack.posts()[-1].text
        clock.advance(seconds=31)
        await stack.runtime.drain()
        assert [c.status for c in slack.canvas_calls()] == [200, 429, 200]
        assert "Read the guide" in slack.canvas_of("C1")


REFUSALS = [
    (CREATE, "team_tier_cannot_create_channel_canvases"),
    (CREATE, "canvas_disabled_user_team"),
    (CREATE, "restricted_action"),
    (CREATE, "missing_scope"),
    (CREATE, "not_allowed_token_type"),
    (EDIT, "free_teams_cannot_edit_standalone_canvases"),
]


@pytest.mark.parametrize("method, code", REFUSALS)
async def test_a_refusal_is_said_once_to_the_co_chairs_and_never_asked_again(sqlite_db, clock, method, code):
    async with running_stack(sqlite_db, clock, PEOPLE) as stack:
        slack = stack.slack
        await say(stack, "U1", "setup North West")
        await say(stack, "U2", "join")
        await say(stack, "U1", "chairs set <@U1|ann> <@U2|ben> 12")
        await say(stack, "U1", "actions add Read the guide")
        if method == EDIT:
            await _settled(stack, clock)
            await say(stack, "U1", "actions add Read it again")
        slack.fail_next(status=200, error=code, retry_after=None, method=method)
        await _settled(stack, clock)
        calls = len(slack.canvas_calls())
        told = [c for c in slack.ephemerals() if NOT_AVAILABLE in c.text]
        assert sorted(c.params["user"] for c in told) == ["U1", "U2"]  # the co-chairs, privately
        assert "Everything else works as before" in told[0].text
        for n in range(3):
            await say(stack, "U2", f"actions add Another step {n}")
            await _settled(stack, clock)
        assert len(slack.canvas_calls()) == calls  # never asked again
        assert len([c for c in slack.ephemerals() if NOT_AVAILABLE in c.text]) == 2  # said once
        assert "Kept as action" in slack.ephemerals("U2")[-1].text  # ordinary posts go on
        assert await stack.runtime.deliveries.undelivered("slack") == []
        async with sqlite_db.reading() as session:
            record = await session.scalar(select(LivingRecord))
            assert record is not None and record.refused == "plan"


async def test_a_channel_with_a_canvas_of_its_own_is_left_alone(sqlite_db, clock):
    async with running_stack(sqlite_db, clock, PEOPLE) as stack:
        slack = stack.slack
        slack.channel_canvas["C1"], slack.canvases["F0THEIRS"] = "F0THEIRS", "# Our own notes"
        await say(stack, "U1", "setup North West")
        await say(stack, "U1", "actions add Read the guide")
        await _settled(stack, clock)
        (told,) = [c for c in slack.posts() + slack.ephemerals() if "already has a canvas" in c.text]
        assert told.params.get("user") == "U1"  # the founder is a co-chair
        await say(stack, "U1", "actions add Read it again")
        await _settled(stack, clock)
        assert len(slack.canvas_calls()) == 1 and slack.canvas_of("C1") == "# Our own notes"


async def test_a_deleted_canvas_is_made_again_once_then_left_deleted(sqlite_db, clock):
    async with running_stack(sqlite_db, clock, PEOPLE) as stack:
        slack = stack.slack
        await say(stack, "U1", "setup North West")
        await say(stack, "U1", "schedule add 2027-03-18 10:30")
        await _settled(stack, clock)
        first = slack.channel_canvas["C1"]
        slack.delete_canvas("C1")
        await say(stack, "U1", "actions add Read the guide")
        await _settled(stack, clock)
        assert [c.method for c in slack.canvas_calls()] == [CREATE, EDIT, CREATE]
        assert slack.channel_canvas["C1"] != first and "Read the guide" in slack.canvas_of("C1")
        assert not [c for c in slack.ephemerals() if NOT_AVAILABLE in c.text]  # nothing to say yet

        slack.delete_canvas("C1")
        await say(stack, "U1", "actions add Read it again")
        await _settled(stack, clock)
        assert [c.method for c in slack.canvas_calls()] == [CREATE, EDIT, CREATE, EDIT]
        (told,) = [c for c in slack.ephemerals() if NOT_AVAILABLE in c.text]
        assert "deleted again" in told.text
        await say(stack, "U1", "actions add And once more")
        await _settled(stack, clock)
        assert len(slack.canvas_calls()) == 4


async def test_the_canvas_id_is_kept_across_a_restart(sqlite_db, clock):
    async with FakeSlackApi(user_names=PEOPLE) as slack:
        async with running_stack(sqlite_db, clock, slack=slack) as stack:
            await say(stack, "U1", "setup North West")
            await say(stack, "U1", "actions add Read the guide")
        # stopped with the record still waiting for its minute; another process starts
        async with running_stack(sqlite_db, clock, slack=slack) as stack:
            await _settled(stack, clock)
            assert "Read the guide" in slack.canvas_of("C1")
        async with running_stack(sqlite_db, clock, slack=slack) as stack:
            await say(stack, "U1", "actions done 1")
            await _settled(stack, clock)
        assert [c.method for c in slack.canvas_calls()] == [CREATE, EDIT]
        assert "Read the guide" not in slack.canvas_of("C1")


async def test_two_workers_never_make_two_canvases_for_one_channel(db, clock):
    async with FakeSlackApi(user_names=PEOPLE) as slack:
        async with (
            running_stack(db, clock, slack=slack) as one,
            running_stack(db, clock, slack=slack) as two,
        ):
            await say(one, "U1", "setup North West")
            await say(two, "U1", "actions add Read the guide")
            await say(one, "U1", "actions add Read it again")
            clock.advance(seconds=SETTLE.total_seconds() + 1)
            await asyncio.gather(one.runtime.drain(), two.runtime.drain(), one.runtime.drain())
            await say(two, "U1", "actions done 1")
            clock.advance(seconds=SETTLE.total_seconds() + 1)
            await asyncio.gather(one.runtime.drain(), two.runtime.drain())
        assert [c.method for c in slack.canvas_calls()] == [CREATE, EDIT]
        assert [c.status for c in slack.canvas_calls()] == [200, 200]


async def test_forget_me_takes_the_members_name_off_the_canvas(sqlite_db, clock):
    async with running_stack(sqlite_db, clock, PEOPLE) as stack:
        slack = stack.slack
        await _community(stack)
        await say(stack, "U1", "actions add Book the room <@U3|cara>")
        await _settled(stack, clock)
        assert "Book the room @Cara — Cara" in slack.canvas_of("C1")
        await say(stack, "U3", "forget-me confirm")
        await _settled(stack, clock)
        assert "— Cara" not in slack.canvas_of("C1") and "Book the room" in slack.canvas_of("C1")


async def test_member_words_never_restructure_the_canvas(sqlite_db, clock):
    async with running_stack(sqlite_db, clock, PEOPLE) as stack:
        slack = stack.slack
        await say(stack, "U1", "setup # North *West*")
        await say(stack, "U1", "actions add # Heading\n## Another\n- a list [click](https://evil.example) ![](x.png)")
        await say(
            stack, "U1", "actions add <https://evil.example|click> 1. not a list | a table | _x_ `code` > quote &amp;"
        )
        await _settled(stack, clock)
        canvas = slack.canvas_of("C1")
        ours = ("# Our living record", "## Our next meeting", "## Open actions", "## Our roadmap")
        headings = [line for line in canvas.splitlines() if line.startswith("#")]
        assert len(headings) == 4 and all(line.startswith(ours) for line in headings)
        assert "1\\. # Heading ## Another - a list \\[click\\](https://evil.example) \\!\\[\\](x.png)" in canvas
        assert (
            "2\\. click (https://evil.example) 1. not a list \\| a table \\| \\_x\\_ \\`code\\` \\> quote \\&" in canvas
        )
        assert canvas.startswith("# Our living record — # North \\*West\\*\n")


def test_canvas_markdown_escapes_a_line_start_and_inline_markup():
    record = CommunityRecord("- x", (RecordPart("1) y", ("3. z", "> q", "+ r", "== s", "![](@U9) <@U9> <!here>")),))
    markdown = canvas_markdown(record)
    assert markdown.startswith("# \\- x\n\n## 1\\) y\n\n- 3\\. z\n- \\> q\n- \\+ r\n- \\== s\n")
    assert "- \\!\\[\\](@U9) \\<@U9\\> \\<\\!here\\>\n" in markdown


async def test_teams_and_the_terminal_have_no_record_and_ten_queuings_are_one_row(db, clock):
    """Only Slack channels get a record; queued again and again (two transactions at once
    included), a channel has one waiting row."""
    async with db.transaction() as session:
        community = await communities.create_community(session, "North West", clock())
        for place in (Place("slack", "C1", "T1"), Place("teams", "19:abc", "t"), Place("terminal", "local")):
            await communities.bind_channel(session, community, place, clock())

    async def queue() -> int:
        async with db.transaction() as session:
            if not db.is_sqlite:  # as a prepared statement's sixth run may be planned: with no values
                await session.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
            return await living_records.queue(session, [community.id], clock())

    assert await asyncio.gather(*(queue() for _ in range(10))) == [1] * 10
    for _ in range(3):  # a new row each time
        async with db.transaction() as session:
            await session.execute(update(OutboxPost).values(status="sent"))
        assert await queue() == 1
    async with db.reading() as session:
        rows = list(await session.scalars(select(OutboxPost).where(OutboxPost.slot == RECORD_KEY)))
    assert [(row.platform, row.channel_id, row.status) for row in rows][-1:] == [("slack", "C1", "pending")]
    assert len(rows) == 4 and {row.platform for row in rows} == {"slack"}
    async with db.reading() as session:  # /healthz: a record waiting for its minute is not a post waiting
        assert (await outbox.health(session, clock())).pending == 0
        assert (await outbox.health(session, clock() + SETTLE)).pending == 1
