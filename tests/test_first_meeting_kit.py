"""Issue 20, points 5 and 6: the first meeting's kit. Each part of `/cop meeting` at a first
meeting names the command that posts its content; `/cop vision` kept by co-chairs and shown to
anyone, bad input answered and changing nothing; the schedule prompt shows four dates and saves
nothing; the ground rules; `/cop prompts` and the prompt each reflection step offers. Through the
terminal, and a kit part and the prompts through the real Slack and Teams stacks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from storage.db import Database
from storage.models import MeetingSchedule, ScheduleChange, Vision, VisionObjective
from tests.fakes.slack_api import running_stack
from tests.support.room import Room
from tests.support.slack_meeting import PEOPLE, say
from tests.support.teams_channel import TeamsChannel
from tests.support.terminal import run_script

START = "/clock 2026-11-26 10:00\n/as Ann\n"  # Ann sets the community up: its provisional co-chair
PROMPT_NAMES = (
    "Problem solving",
    "Requests for information",
    "Seeking experiences",
    "Reusing what we have",
    "Coordination and synergies",
    "Discussing developments",
    "Documentation projects",
    "Visits",
    "Mapping knowledge and identifying gaps",
)


async def _rows(folder: Path) -> dict[str, Any]:
    """What the vision and the schedule hold in the terminal's database."""
    db = Database(f"sqlite+aiosqlite:///{folder / 'cop.db'}")
    try:
        async with db.transaction() as session:
            vision = (await session.execute(select(Vision.challenge, Vision.purpose))).all()
            objectives = await session.execute(
                select(
                    VisionObjective.number,
                    VisionObjective.text,
                    VisionObjective.how,
                    VisionObjective.realistic,
                    VisionObjective.horizon,
                ).order_by(VisionObjective.number)
            )
            rules = (await session.execute(select(MeetingSchedule.rule))).scalars().all()
            changes = await session.scalar(select(func.count()).select_from(ScheduleChange))
            return {
                "vision": [tuple(row) for row in vision],
                "objectives": [tuple(row) for row in objectives.all()],
                "rule set": any(rules),
                "changes": changes,
            }
    finally:
        await db.dispose()


def _post(screen: str, starts: str) -> str:
    """The last post on the terminal screen whose text begins with ``starts``."""
    found = [
        block for block in re.split(r"\n(?=#\d+ copbot)", screen) if re.search(rf"^  {re.escape(starts)}", block, re.M)
    ]
    assert found, f"no post starting {starts!r}"
    return found[-1]


async def test_each_part_of_the_first_meeting_offers_its_content(tmp_path):
    meeting = _post(await run_script(START + "/cop meeting\n", tmp_path, "North West"), "Our first meeting, in order")
    offered = re.findall(r"/cop kit [a-z-]+", meeting)
    assert offered == [
        "/cop kit cop",
        "/cop kit reflection",
        "/cop kit ground-rules",
        "/cop kit vision",
        "/cop kit schedule",
    ]
    assert "4. Our Terms of Reference (`/cop tor, /cop kit ground-rules`)" in meeting  # the ToR: in words
    assert "/cop prompts" in meeting and "`/cop kit` lists them" in meeting

    screen = await run_script("/as Ben\n/cop join\n" + "".join(f"{command}\n" for command in offered), tmp_path)
    cop = _post(screen, "What a Community of Practice is")
    assert "learn to do them better by meeting regularly" in cop and "Educates:" in cop and "Integrates:" in cop
    reflection = _post(screen, "How reflective practice works")
    assert "1. What happened? (Description)" in reflection and "6. How would you deal with" in reflection
    assert "Passing is always fine." in reflection
    rules = _post(screen, "Our ground rules — for us to agree together")
    vision = _post(screen, "Breakout groups: starting our vision")
    assert "What is realistic?" in vision and "How will we know we have delivered it?" in vision
    assert "short term (1–3 months), medium term (4–6 months) or long term (7–12 months)" in vision
    assert "`/cop vision objective 1 how: <words>`" in vision
    assert "Choosing our meeting schedule" in _post(screen, "Choosing our meeting schedule")
    # each is posted in the channel, for the group: none of them only to Ben
    for post in (cop, reflection, rules, vision):
        assert "only ben sees this" not in post.splitlines()[0]
    listing = await run_script("/as Ben\n/cop kit\n/cop kit tor\n/cop kit dance\n", tmp_path)
    assert "`/cop kit tor` — Our Terms of Reference" in listing
    assert "`/cop tor` shows ours" in _post(listing, "Our Terms of Reference")
    assert "I don't know “dance”. It can be `cop`, `reflection`, `tor`, `ground-rules`, `vision` or `schedule`." in (
        listing
    )


async def test_the_meeting_after_the_first_offers_no_kit(tmp_path):
    screen = await run_script(
        START + "/cop support\n/cop close\n/clock 2027-02-09 10:00\n/cop meeting\n", tmp_path, "North West"
    )
    shown = _post(screen, "Our meeting, in order")
    assert "/cop kit" not in shown and "Introductions" not in shown


async def test_the_ground_rules_come_from_the_guides_values(tmp_path):
    rules = _post(await run_script(START + "/cop kit ground-rules\n", tmp_path, "North West"), "Our ground rules")
    for value in ("Person-led:", "Respect:", "Accountability:", "Courage:", "Acknowledgement:"):
        assert value in rules
    assert "Passing is always fine: nobody has to share." in rules
    assert "What is shared here stays here. Anyone can share without their name." in rules
    assert "`/cop tor`" in rules  # where the group writes down what it agreed


async def test_co_chairs_write_the_vision_and_any_member_reads_it(tmp_path):
    screen = await run_script(
        START + "/cop vision\n"
        "/cop vision challenge Peer workers in our region often work alone\n"
        "/cop vision purpose To learn together and speak up for lived experience\n"
        "/cop vision objective 1 Build peer supervision across every team\n"
        "/cop vision objective 1 how: a monthly online circle\n"
        "/cop vision objective 1 Realistic:two teams by June\n"
        "/cop vision objective 1 horizon medium\n"
        "/cop vision objective 3 Map who knows what in the region\n"
        "/cop vision objective 2 how we meet\n"
        "/cop vision objective 2 remove\n"
        "/cop vision purpose For now\n/cop vision purpose none\n"
        "/cop vision purpose To learn together and speak up for lived experience\n"
        "/as Ben\n/cop join\n/cop vision\n",
        tmp_path,
        "North West",
    )
    assert "We haven't written our vision yet." in screen  # before anything is written: how to start
    assert "Kept our challenge: “Peer workers in our region often work alone”." in screen
    assert "Kept for objective 1 — How will we do it? “a monthly online circle”." in screen
    assert "Objective 1 is on the roadmap: Medium term (4–6 months)." in screen
    assert "(To answer “How will we do it?” for it instead, start with `how:`.)" in screen
    assert "Objective 2 is removed, with its answers." in screen
    assert "Our purpose is not written now." in screen  # `none` clears it
    shown = _post(screen, "Our vision — North West")
    assert "only ben sees this" not in shown.splitlines()[0]  # posted for the group
    assert "The challenge we want to address\n    • Peer workers in our region often work alone" in shown
    assert "Our purpose\n    • To learn together and speak up for lived experience" in shown
    assert "Objective 1: Build peer supervision across every team — Medium term (4–6 months)" in shown
    assert "What is realistic? two teams by June" in shown and "How will we do it? a monthly online circle" in shown
    assert "Still to talk through: What do we need to accomplish?" in shown
    assert "Objective 3: Map who knows what in the region" in shown and "Objective 2" not in shown
    assert await _rows(tmp_path) == {
        "vision": [
            ("Peer workers in our region often work alone", "To learn together and speak up for lived experience")
        ],
        "objectives": [
            (1, "Build peer supervision across every team", "a monthly online circle", "two teams by June", "medium"),
            (3, "Map who knows what in the region", None, None, None),
        ],
        "rule set": False,
        "changes": 0,
    }


async def test_bad_vision_input_is_answered_clearly_and_changes_nothing(tmp_path):
    await run_script(
        START + "/cop vision challenge Working alone\n/cop vision objective 1 Peer supervision\n",
        tmp_path,
        "North West",
    )
    before = await _rows(tmp_path)
    screen = await run_script(
        "/as Ann\n/cop vision objective 6 One too many\n/cop vision challenge\n/cop vision challenge    \n"
        "/cop vision objective 1 horizon soon\n/cop vision objective first Peer supervision\n"
        "/cop vision objective 2 how:\n/cop vision objective 4 remove\n"
        f"/cop vision purpose {'x' * 501}\n/cop vision objective 2 {'y' * 501}\n/cop vision dance\n"
        "/as Ben\n/cop join\n/cop vision challenge Mine instead\n/cop vision objective 1 Mine instead\n"
        "/cop vision purpose Mine\n",
        tmp_path,
    )
    assert "We keep up to five objectives, numbered 1 to 5, so 6 can't be used, and nothing changed." in screen
    assert screen.count("What is the challenge we want to address? Type `/cop vision challenge <words>`.") == 2
    assert "`/cop vision objective 1 horizon short|medium|long` (1–3, 4–6 or 7–12 months; or `none`). Nothing" in screen
    assert "Which objective? Give its number, 1 to 5" in screen
    assert "What is the answer to “How will we do it?”? Type `/cop vision objective 2 how: <words>`." in screen
    assert "There is no objective 4 yet, so nothing changed." in screen
    assert screen.count("Please keep it under 500 characters") == 2
    assert "Usage: /cop vision" in screen
    assert "Only a co-chair or today's lead can write down our vision's challenge." in screen
    assert "Only a co-chair or today's lead can write down our objectives." in screen
    assert "Only a co-chair or today's lead can write down our purpose." in screen
    assert await _rows(tmp_path) == before


async def test_the_schedule_prompt_shows_four_dates_and_saves_nothing(tmp_path):
    screen = await run_script(
        START + "/cop kit schedule\n/cop kit schedule last Friday of Mar Jun Sep Dec 14:00\n"
        "/cop kit schedule 2nd Tuesday of Feb\n/cop schedule\n",
        tmp_path,
        "North West",
    )
    example = _post(screen, "Choosing our meeting schedule\n  We meet four times a year")
    assert "`/cop schedule quarterly 2nd Tuesday of Feb May Aug Nov 10:30`" in example
    assert "The next four meetings it gives (Europe/Dublin) — nothing is saved yet" in example
    dates = re.findall(r"• (Tue \d+ \w+ \d{4}, 10:30)", example)
    assert dates == [
        "Tue 9 Feb 2027, 10:30",
        "Tue 11 May 2027, 10:30",
        "Tue 10 Aug 2027, 10:30",
        "Tue 9 Nov 2027, 10:30",
    ]
    assert "the call for agenda items 10 working days before each meeting, the agenda 5 working days before" in example
    theirs = _post(screen, "Choosing our meeting schedule\n  This rule")
    assert "Fri 25 Dec 2026, 14:00 — note: Christmas Day" in theirs  # a day off, said before it is chosen
    assert len(re.findall(r"• Fri \d+ \w+ \d{4}, 14:00", theirs)) == 4
    assert "Please end the rule with the time the meetings start" in screen
    assert "No meetings are scheduled yet." in screen  # `/cop schedule`: still nothing set
    rows = await _rows(tmp_path)
    assert not rows["rule set"] and rows["changes"] == 0


async def test_prompts_and_the_one_each_reflection_step_offers(tmp_path):
    screen = await run_script(
        START + "/cop prompts\n/cop reflect Peer work\n" + "/cop next\n" * 5 + "/cop end\n", tmp_path, "North West"
    )
    prompts = _post(screen, "Ways into a conversation")
    assert "only ann sees this" not in prompts.splitlines()[0]
    for name in PROMPT_NAMES:
        assert re.search(rf"• {re.escape(name)}: “[^”]*\?[^”]*”", prompts), name  # each with a question
    offers = {
        n: re.findall(r"To ask the group: (.+?) \(more: `/cop prompts`\)", _post(screen, f"Step {n} of 6"))
        for n in range(1, 7)
    }
    assert offers == {
        1: ["Has anyone had a similar experience?"],
        2: [],  # feelings: nobody is pressed
        3: ["What do you think of this change?"],
        4: ["Who knows about this — and what are we missing?"],
        5: ["How could rethinking the role of peer support make this more inclusive?"],
        6: ["Could we combine what our teams do to reach more people?"],
    }


async def test_the_vision_is_kept_on_each_database(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "vision challenge Working alone")
    await room.cmd("Ben", "vision challenge Working alone, unheard")  # the other co-chair rewords it: one row
    await room.cmd("Ann", "vision objective 2 Peer supervision")
    await room.cmd("Ben", "vision objective 2 know: every team has a circle")
    async with db.transaction() as session:
        assert (await session.execute(select(Vision.challenge))).scalars().all() == ["Working alone, unheard"]
        rows = await session.execute(select(VisionObjective.number, VisionObjective.text, VisionObjective.know))
        assert [tuple(row) for row in rows.all()] == [(2, "Peer supervision", "every team has a circle")]


async def test_slack_a_kit_part_and_the_prompts_reach_the_channel(sqlite_db, clock):
    async with running_stack(sqlite_db, clock, PEOPLE) as stack:
        await say(stack, "U1", "setup North West")
        await say(stack, "U2", "join")
        await say(stack, "U2", "kit ground-rules")
        await say(stack, "U2", "prompts")
        rules = stack.slack.find_post("Our ground rules")
        assert "Passing is always fine" in rules.text
        assert "Seeking experiences" in stack.slack.find_post("Ways into a conversation").text
        await say(stack, "U1", "meeting")
        assert "`/cop kit cop`" in stack.slack.find_post("Our first meeting, in order").text


async def test_teams_a_kit_part_and_the_prompts_reach_the_channel(channel: TeamsChannel):
    await channel.say("Ann", "@copbot setup North West")
    await channel.say("Ben", "@copbot join")
    await channel.say("Ben", "@copbot kit reflection")
    await channel.say("Ben", "@copbot prompts")
    assert "1. What happened? (Description)" in channel.latest_card("How reflective practice works").card_text
    assert "Mapping knowledge and identifying gaps" in channel.latest_card("Ways into a conversation").card_text


async def test_the_first_meeting_script_runs_through_the_terminal(tmp_path):
    """`copbot chat < docs/first-meeting.txt`: a first meeting with its kit, end to end."""
    script = (Path(__file__).parent.parent / "docs" / "first-meeting.txt").read_text()
    screen = await run_script("/clock 2026-11-26 10:00\n" + script, tmp_path, "North West")
    assert "Traceback" not in screen and "Sorry" not in screen
    for heading in (
        "What a Community of Practice is",
        "How reflective practice works",
        "Our Terms of Reference",
        "Our ground rules — for us to agree together",
        "Breakout groups: starting our vision",
        "Our vision — North West",
        "Ways into a conversation",
        "Choosing our meeting schedule",
    ):
        assert re.search(rf"^  {re.escape(heading)}$", screen, re.M), heading
    last = _post(screen, "Our first meeting, in order")
    assert (
        "5. Breakout groups: starting our vision (`/cop kit vision, /cop vision`) — written so far: the challenge, "
        in (last)
    )
    assert "our purpose and 1 objective" in last
    assert "the date of the next meeting: Tuesday 9 February 2027 at 10:30" in last
