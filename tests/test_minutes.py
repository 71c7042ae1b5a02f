"""The record of a meeting (issue 19, point 5): `/cop meetings` and `/cop minutes [date]` in the
terminal (the .md file saved), in Slack (the record posted, the .md uploaded in its thread through
files.uploadV2) and in Teams (an Adaptive Card, no file); forget-me and anonymity hold in it."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select

from adapters.slack.render import render
from adapters.teams.cards import card_posts, card_size
from bot.vocabulary.conversation import Post, Section
from flows.minutes import day_asked, file_name, last_meeting, md_escape, minutes_markdown
from storage.models import Community
from tests.fakes.slack_api import running_stack
from tests.support.room import Room
from tests.support.teams_channel import TeamsChannel
from tests.support.terminal import run_script

# A meeting on Wednesday 16 December 2026: an agenda with a member's item, a named and an
# anonymous support statement and a pass, a reflection with named and anonymous answers, two
# step-6 actions (one done since), a vote and a lead.
MEETING = """\
/clock 2026-11-26 10:00
/as Ann
/cop schedule quarterly 3rd Wednesday of Mar Jun Sep Dec 10:30
/cop join Peer Support Worker
/as Ben
/cop join
/cop agenda add Peer supervision # across [sites](http://x.example)
/as Cara
/cop join
/as Ann
/cop chairs set @Ann @Ben 6
/cop agenda accept 1
/clock 2026-12-09 09:00
/clock 2026-12-16 10:35
/cop minutes
/cop meetings
/cop support
taking standing breaks every 10 mins
/as Ben
/cop anon asking for help
/as Cara
/cop pass
/as Ann
/cop close
/cop reflect Peer work in the community
A client asked me to share my own story
/as Ben
/cop anon # I felt unsure
/as Ann
/cop next
/cop next
/cop next
/cop next
/cop next
/as Cara
@Ben will draft a boundaries checklist by 2027-02-14
/as Ann
action: I will ask my supervisor by 31/01/2027
/cop end
/cop vote
/cop vote 2
/cop close
/as Cara
/cop lead volunteer
/as Ben
/cop lead confirm
/cop actions done 2
/cop minutes
/cop minutes 16/12/2026
/cop minutes 17/12/2026
/cop minutes 30 February
/cop minutes soonish
"""
# Three months on: the next meeting (Cara leads it), then Cara uses forget-me.
NEXT_QUARTER = """\
/clock 2027-03-17 10:35
/as Ann
/cop here
/cop meetings
/as Cara
/cop forget-me confirm
/as Ann
/cop meetings
/cop minutes 16 December
"""
FILE = "minutes-north-west-2026-12-16.md"
ANONYMOUS = ("asking for help", "I felt unsure")


def _posts(screen: str, heading: str) -> list[str]:
    """Each terminal post whose body starts with ``heading``."""
    return [post for post in screen.split("\n#")[1:] if post.split("\n", 2)[1].strip().startswith(heading)]


def _no_author_for_anonymous(text: str) -> None:
    for line in text.splitlines():
        if any(words in line for words in ANONYMOUS):
            assert "Shared without a name" in line and "Ben" not in line, line


async def test_terminal_the_record_of_a_meeting_its_file_and_forget_me(tmp_path: Path) -> None:
    screen = await run_script(MEETING, tmp_path, community="North West")
    assert "Traceback" not in screen
    # Before the meeting began: nothing yet, said kindly.
    assert screen.count("No meeting has been held yet") == 2
    (record, again) = _posts(screen, "Minutes — North West, Wednesday 16 December 2026")
    assert record.split("\n", 1)[1] == again.split("\n", 1)[1]  # by default, and by its date
    assert "(only" not in record.split("\n", 1)[0]  # posted in the channel, for everyone
    for expected in (
        "Led by the co-chairs. 3 were there.",
        "Lead topic: Peer work in the community",
        "Support round — “I will support myself today by …”",
        "• Ann: taking standing breaks every 10 mins",
        "• Shared without a name: asking for help",
        "• 1 passed — passing is always fine.",
        "Reflective practice — Peer work in the community",
        "Step 1 — What happened? (Description)",
        "• Ann: A client asked me to share my own story",
        "• Shared without a name: # I felt unsure",
        "Step 6 — How would you deal with similar situations in future; what will change? (Action plan)",
        "• Cara: @Ben will draft a boundaries checklist by 2027-02-14",
        "Actions agreed",
        "• 1. @Ben will draft a boundaries checklist by 2027-02-14 — Ben, due Sun 14 Feb 2027 — open",
        "• 2. I will ask my supervisor by 31/01/2027 — Ann, due Sun 31 Jan 2027 — done",
        "• Lead topic chosen: Peer Work in the community",
        "• Lead chosen: Cara",
        "Agenda items taken",
        "• Peer supervision # across [sites](http://x.example)",
    ):
        assert expected in record, expected
    assert "Cara:" not in record.split("Step 1")[0]  # a pass is counted, never named
    assert "Step 2" not in record  # steps nobody answered are left out, without comment
    _no_author_for_anonymous(record)
    assert f"(file saved: {tmp_path / FILE})" in record
    assert "There was no meeting on Thursday 17 December 2026; `/cop meetings` lists them." in screen
    assert "There is no such day as 30 February." in screen
    assert "I couldn't read “soonish” as a date" in screen

    markdown = (tmp_path / FILE).read_text()
    assert markdown.startswith("# Minutes — North West, Wednesday 16 December 2026\n")
    headings = [line for line in markdown.splitlines() if line.startswith("#")]
    assert headings == [
        "# Minutes — North West, Wednesday 16 December 2026",
        "## Support round",
        "## Reflective practice: Peer work in the community",
        "### Step 1 — What happened? (Description)",
        "### Step 6 — How would you deal with similar situations in future; what will change? (Action plan)",
        "## Actions agreed",
        "## Next time",
        "## Agenda items taken",
    ]  # a member's "# I felt unsure" made no heading
    for expected in (
        "- **Led by:** the co-chairs",
        "- **There:** 3",
        "- **Ann:** taking standing breaks every 10 mins",
        "- *Shared without a name:* asking for help",
        "1 passed",
        "- *Shared without a name:* \\# I felt unsure",
        "- **Cara:** @Ben will draft a boundaries checklist by 2027-02-14",
        "- **2\\.** I will ask my supervisor by 31/01/2027 — Ann, due Sun 31 Jan 2027 — *done*",
        "- Lead chosen: Cara",
        "- Peer supervision \\# across \\[sites\\](http://x.example)",  # no link
    ):
        assert expected in markdown, expected
    assert not re.search(r"(?<!\\)\]\(", markdown)
    _no_author_for_anonymous(markdown)

    later = await run_script(NEXT_QUARTER, tmp_path, community="North West")
    assert "Traceback" not in later
    before, after = _posts(later, "Our past meetings — North West")
    assert "• Wed 17 Mar 2027 — led by Cara; Peer Work in the community; 1 was there" in before
    assert "• Wed 16 Dec 2026 — led by the co-chairs; Peer work in the community; 3 were there" in before
    assert before.index("17 Mar 2027") < before.index("16 Dec 2026")  # newest first
    assert "• Wed 17 Mar 2027 — led by a former member;" in after  # forget-me: no name
    (record,) = _posts(later, "Minutes — North West, Wednesday 16 December 2026")  # "16 December": the last one
    assert "3 were there" in record  # the count stays
    assert "Cara" not in record  # her statement, pass, answer and its action are gone
    assert "boundaries checklist" not in record and "1 passed" not in record
    assert "• Ann: taking standing breaks every 10 mins" in record  # others' words stay
    assert "• 2. I will ask my supervisor by 31/01/2027 — Ann, due Sun 31 Jan 2027 — done" in record
    assert "• Lead chosen: a former member" in record
    _no_author_for_anonymous(record)
    markdown = (tmp_path / FILE).read_text()
    assert "Cara" not in markdown and "boundaries checklist" not in markdown
    assert "- **Ann:** taking standing breaks every 10 mins" in markdown
    _no_author_for_anonymous(markdown)


def test_member_text_cannot_restructure_the_markdown() -> None:
    assert md_escape("# heading") == "\\# heading"
    assert md_escape("[link](x)") == "\\[link\\](x)"
    assert md_escape("- a\n1. b\n> c\n    code\n<b>bold</b> *em* `tick` | a | b |") == (
        "\\- a  \n  1\\. b  \n  \\> c  \n  code  \n  \\<b\\>bold\\</b\\> \\*em\\* \\`tick\\` \\| a \\| b \\|"
    )
    assert md_escape("line one\n===\n") == "line one  \n  \\==="  # no setext heading
    assert file_name("Dún Laoghaire / South", date(2027, 3, 17)) == "minutes-dun-laoghaire-south-2027-03-17.md"
    assert file_name("✨", date(2027, 3, 17)) == "minutes-community-2027-03-17.md"


def test_a_date_without_its_year_is_the_last_such_day() -> None:
    today = date(2027, 3, 20)
    assert day_asked("16 December", today) == date(2026, 12, 16)
    assert day_asked("17 March", today) == date(2027, 3, 17)
    assert day_asked("2027-12-16", today) == date(2027, 12, 16)  # a year given is kept
    assert day_asked("today", today) == today


# -- for other code (the Slack canvas): the last meeting's minutes as Markdown, on both databases --


async def test_the_last_meetings_minutes_as_markdown_for_reuse(db, clock) -> None:
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "support")
    await room.cmd("Ann", "share taking breaks")
    await room.cmd("Ben", "anon asking for help")
    await room.cmd("Cara", "pass")
    await room.cmd("Ann", "close")
    await room.cmd("Ann", "reflect Peer work")
    await room.cmd("Ben", "anon I felt unsure")
    await room.cmd("Cara", "share It happened on a ward")
    await room.cmd("Ann", "end")
    clock.advance(days=1)
    async with db.transaction() as session:
        community = await session.scalar(select(Community))
        assert community is not None
        assert await last_meeting(session, community.id, date(2026, 11, 25)) is None
        meeting = await last_meeting(session, community.id, clock.now.date())
        assert meeting is not None and meeting.held_on == date(2026, 11, 26)
        markdown = await minutes_markdown(session, community.id, meeting)
    assert markdown.startswith("# Minutes — North West, Thursday 26 November 2026\n")
    for expected in (
        "- **There:** 3",
        "- **Ann:** taking breaks",
        "- *Shared without a name:* asking for help",
        "1 passed",
        "## Reflective practice: Peer work",
        "### Step 1 — What happened? (Description)",
        "- *Shared without a name:* I felt unsure",
        "- **Cara:** It happened on a ward",
    ):
        assert expected in markdown, expected
    _no_author_for_anonymous(markdown)
    (post,) = await room.cmd("Cara", "minutes")
    assert post.private_to is None and post.attachment is not None
    assert post.attachment.filename == "minutes-north-west-2026-11-26.md"
    assert post.attachment.media_type == "text/markdown" and post.attachment.content == markdown


# -- long records still post: Slack's and Teams' limits --------------------------------------

LONG = Post(
    "Minutes — North West",
    sections=tuple(Section(f"Step {n}", tuple(f"Member {k}: " + "words " * 480 for k in range(12))) for n in range(6)),
)


def test_a_long_record_splits_into_slack_messages_slack_accepts() -> None:
    messages = render(LONG)
    assert len(messages) > 1
    for message in messages:
        assert len(message.blocks) <= 50
        assert sum(len(block["text"]["text"]) for block in message.blocks) <= 10_000
    shown = "".join(block["text"]["text"] for message in messages for block in message.blocks)
    assert shown.count("Member 11:") == 6


def test_a_long_record_splits_into_teams_cards_under_the_size_limit() -> None:
    posts = card_posts(LONG)
    assert len(posts) > 1
    assert all(card_size(post) <= 40_000 for post in posts)
    assert sum(len(section.lines) for post in posts for section in post.sections) == 6 * 12
    assert posts[1].text == "(continued)"


# -- Slack and Teams, through the real apps -----------------------------------------------------

SLACK_MEETING = (
    ("U1", "setup North West"),
    ("U1", "support"),
    ("U2", "anon asking for help"),
    ("U1", "close"),
    ("U1", "reflect Peer work"),
)
# Four long answers: the record is longer than one Slack message or one Teams card may be.
LONG_ANSWERS = tuple(f"Answer {n}: " + "a long and careful answer " * 110 for n in range(7))


async def test_slack_minutes_posts_the_record_and_uploads_the_markdown_in_its_thread(sqlite_db, clock) -> None:
    clock.now = datetime(2026, 12, 16, 10, 35, tzinfo=UTC)
    async with running_stack(sqlite_db, clock, user_names={"U1": "Ann", "U2": "Ben"}) as stack:
        for user, text in SLACK_MEETING:
            await stack.requests.command(user, text)
            await stack.settle()
        step = stack.slack.ts_of(stack.slack.find_post("Step 1 of 6"))
        for answer in LONG_ANSWERS:
            await stack.requests.reply("U1", answer, step)
        await stack.settle()
        before = len(stack.slack.posts("C1"))
        await stack.requests.command("U2", "minutes")
        await stack.settle()
        posted = stack.slack.posts("C1")[before:]
        assert len(posted) >= 2  # split: each message within Slack's limits
        record = posted[0]
        assert record.text.startswith("Minutes — North West, Wednesday 16 December 2026")
        for call in posted:
            blocks = call.params["blocks"]
            assert len(call.text) <= 12_000 and len(json.loads(blocks) if isinstance(blocks, str) else blocks) <= 50
        seen = "\n".join(call.text for call in posted)
        assert "Shared without a name: asking for help" in seen and "Ben" not in seen
        assert all(f"Ann: Answer {n}:" in seen for n in range(7))
        ((call, content),) = stack.slack.files_shared()  # the file, once, in the record's thread
        assert call.params["channel_id"] == "C1" and call.params["thread_ts"] == stack.slack.ts_of(record)
        markdown = content.decode()
        assert markdown.startswith("# Minutes — North West, Wednesday 16 December 2026")
        assert "- *Shared without a name:* asking for help" in markdown and "Ben" not in markdown
        assert all(f"- **Ann:** Answer {n}:" in markdown for n in range(7))


async def test_teams_minutes_arrives_as_adaptive_cards_without_a_file(channel: TeamsChannel, clock) -> None:
    clock.now = datetime(2026, 12, 16, 10, 35, tzinfo=UTC)
    await channel.say("Ann", "@copbot setup North West")
    await channel.say("Ann", "@copbot support")
    await channel.say("Ben", "@copbot anon asking for help")
    await channel.say("Ann", "@copbot close")
    await channel.say("Ann", "@copbot reflect Peer work")
    step = channel.message_id(channel.latest_card("Step 1 of 6"))
    for answer in LONG_ANSWERS:
        await channel.say("Ann", answer, in_chain_of=step)
    before = len(channel.public())
    await channel.say("Ben", "@copbot minutes")
    first, *rest = channel.public()[before:]
    assert first.card_text.startswith("Minutes — North West, Wednesday 16 December 2026")
    assert rest and all(c.kind == "reply" and c.activity_id == channel.message_id(first) for c in rest)
    for call in (first, *rest):
        assert [a["contentType"] for a in call.body["attachments"]] == ["application/vnd.microsoft.card.adaptive"]
        assert len(json.dumps(call.body, ensure_ascii=False).encode("utf-16-le")) < 40_000
    seen = "\n".join(call.card_text for call in (first, *rest))
    assert "Shared without a name: asking for help" in seen and "Ben" not in seen
    assert all(f"Ann: Answer {n}:" in seen for n in range(7))
