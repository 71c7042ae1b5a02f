"""Issue 19, points 1, 3 and 4 through the terminal: the open actions listed, closed, handed on,
dated and placed on the roadmap by those who may; `actions review` deciding them one at a time;
and bad input answered without changing anything."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from storage.db import Database
from storage.models import ActionItem, Member
from tests.support.terminal import run_script

# Ann sets the community up (its provisional co-chair); step 6 gives Ann's and Ben's actions.
MEETING = (
    "/clock 2026-11-26 10:00\n/as Ann\n/cop reflect Peer work\n"
    + "/cop next\n" * 5
    + "action: I will ask my supervisor by 31/01/2027\n"
    "/as Ben\n/cop join\n@Ben will draft a boundaries checklist by 2027-02-14\n"
    "/as Cara\n/cop join\n/as Ann\n/cop end\n"
)


async def _actions(folder) -> list[tuple[int, str, str | None, str | None, object]]:  # type: ignore[no-untyped-def]
    db = Database(f"sqlite+aiosqlite:///{folder / 'cop.db'}")
    try:
        async with db.transaction() as session:
            rows = await session.execute(
                select(ActionItem.number, ActionItem.status, Member.name, ActionItem.close_reason, ActionItem.due_on)
                .outerjoin(Member, Member.id == ActionItem.owner_id)
                .order_by(ActionItem.number)
            )
            return [tuple(row) for row in rows.all()]  # type: ignore[misc]
    finally:
        await db.dispose()


async def test_a_co_chair_lists_closes_and_hands_on_actions(tmp_path):
    screen = await run_script(
        MEETING + "/cop actions\n/cop actions done 1\n/cop actions assign 2 @Cara\n/cop actions due 2 5 March\n"
        "/cop actions drop 2 the checklist exists already\n/cop actions closed\n/cop actions\n",
        tmp_path,
        "North West",
    )
    assert "1. I will ask my supervisor by 31/01/2027 — Ann, due Sun 31 Jan 2027; agreed Thu 26 Nov 2026" in screen
    assert "2. @Ben will draft a boundaries checklist by 2027-02-14 — Ben, due Sun 14 Feb 2027" in screen
    assert "Action 1 is done — thank you, Ann. It stays in the record." in screen
    assert "Action 2 is now Cara's." in screen
    assert "(only cara sees this):\n  Ann gave you action 2" in screen
    assert "Action 2 is now due Fri 5 Mar 2027." in screen
    assert "Action 2 is dropped (the checklist exists already)." in screen
    assert "(only cara sees this):\n  Ann dropped your action 2 (the checklist exists already)" in screen
    assert "1. I will ask my supervisor by 31/01/2027 — done by Ann on Thu 26 Nov 2026" in screen
    assert "No actions are open." in screen
    # never deleted: the record says who owned each, how it ended and why
    assert await _actions(tmp_path) == [
        (1, "done", "Ann", None, date(2027, 1, 31)),
        (2, "dropped", "Cara", "the checklist exists already", date(2027, 3, 5)),
    ]


async def test_an_owner_marks_their_own_and_a_stranger_cannot(tmp_path):
    screen = await run_script(
        MEETING + "/as Cara\n/cop actions done 2\n/cop actions assign 2 @Cara\n/cop actions due 2 1 April\n"
        "/as Ben\n/cop actions done 1\n/cop actions done 2\n/cop actions done 2\n",
        tmp_path,
        "North West",
    )
    assert "Only Ben, a co-chair or today's lead can mark action 2 done." in screen
    assert "Only Ben, a co-chair or today's lead can hand action 2 on." in screen
    assert "Only Ben, a co-chair or today's lead can change the date of action 2." in screen
    assert "Only Ann, a co-chair or today's lead can mark action 1 done." in screen
    assert "Action 2 is done — thank you, Ben." in screen
    assert "Action 2 was already done by Ben on Thu 26 Nov 2026 — nothing changed." in screen
    assert [row[:3] for row in await _actions(tmp_path)] == [(1, "open", "Ann"), (2, "done", "Ben")]


async def test_bad_input_gets_a_clear_answer_and_changes_nothing(tmp_path):
    screen = await run_script(
        MEETING + "/cop actions done 999\n/cop actions done two\n/cop actions due 1 1 January 2026\n"
        "/cop actions due 1 someday\n/cop actions assign 1 @Zed\n/cop actions assign 1\n"
        "/cop actions horizon 1 soonish\n/cop actions frobnicate 1\n/cop actions add\n"
        "/cop actions add Start a peer forum @Zed\n/cop actions add Start a peer forum by 1 January 2026\n",
        tmp_path,
        "North West",
    )
    assert "There is no action 999. `/cop actions` lists the open ones with their numbers." in screen
    assert "Which action? Give its number, e.g. `/cop actions done 3`" in screen
    assert "The date “1 January 2026” has passed, so nothing changed." in screen
    assert "I couldn't read the date “someday”, so nothing changed." in screen
    assert "Zed hasn't joined North West" in screen
    assert "Usage: /cop actions assign <n> @member (or `group`)" in screen
    assert "Usage: /cop actions horizon <n> short|medium|long" in screen
    assert "Usage: /cop actions | actions done <n>" in screen
    assert "What was agreed? Type `/cop actions add <what> [@owner] [by <date>]`." in screen
    assert "The date “1 January 2026” has passed, so I kept nothing." in screen
    assert "Traceback" not in screen
    assert await _actions(tmp_path) == [
        (1, "open", "Ann", None, date(2027, 1, 31)),
        (2, "open", "Ben", None, date(2027, 2, 14)),
    ]


async def test_actions_added_outside_step_6_and_the_roadmap(tmp_path):
    screen = await run_script(
        MEETING + "/as Cara\n/cop actions add Find a venue for the summer event @Ben\n"
        "/cop actions add Find a venue for the summer event by 1 June 2027\n"
        "/as Ann\n/cop actions add Ask the national office for funding @Ben by 1 March 2027\n"
        "/cop actions horizon 4 medium\n/cop actions resources 4 a budget line and a letter\n"
        "/cop actions horizon 1 short\n/cop actions horizon 3 long-term\n/cop roadmap\n",
        tmp_path,
        "North West",
    )
    assert "Only a co-chair or today's lead can add an action for someone else; yours are welcome." in screen
    assert "Kept as action 3 for Cara, due Tue 1 Jun 2027." in screen
    assert "Kept as action 4 for Ben, due Mon 1 Mar 2027." in screen
    roadmap = screen[screen.index("Our roadmap — North West") :]
    assert roadmap.index("Short term (1–3 months)") < roadmap.index("Medium term (4–6 months)")
    assert roadmap.index("Medium term (4–6 months)") < roadmap.index("Long term (7–12 months)")
    assert "  • 1. I will ask my supervisor by 31/01/2027 — Ann, due Sun 31 Jan 2027\n" in roadmap
    assert (
        "  • 4. Ask the national office for funding @Ben by 1 March 2027 — Ben, due Mon 1 Mar 2027; "
        "needs: a budget line and a letter" in roadmap
    )
    assert "  • 3. Find a venue for the summer event by 1 June 2027 — Cara, due Tue 1 Jun 2027" in roadmap
    assert "Not placed on the roadmap yet" in roadmap and "2. @Ben will draft" in roadmap


async def test_the_review_walks_the_group_through_the_open_actions(tmp_path):
    screen = await run_script(
        MEETING + "/as Cara\n/cop actions review\n/as Ann\n/cop actions review\n"
        "/as Cara\n/cop actions review done 1\n"  # not Cara's to decide: the post stays where it is
        "/as Ann\n/cop actions review keep 1\n/as Ben\n/cop actions review done 2\n/cop actions review done 2\n",
        tmp_path,
        "North West",
    )
    assert "Only a co-chair or today's lead can review the actions with the group." in screen
    first = screen.index("Reviewing our actions — 1 of 2 still open\n  1. I will ask my supervisor")
    assert "[Done → /cop actions review done 1]  [Keep → /cop actions review keep 1]" in screen[first:]
    assert "Only Ann, a co-chair or today's lead can mark action 1 done." in screen
    assert "(updated):\n  Reviewing our actions — 2 of 2 still open\n  2. @Ben will draft" in screen
    assert "(updated):\n  That's every open action reviewed. 1 still open: `/cop actions` lists them." in screen
    assert "Action 2 was already done by Ben" in screen  # the double press changes nothing
    assert [row[:2] for row in await _actions(tmp_path)] == [(1, "open"), (2, "done")]


async def test_the_agenda_and_the_next_steps_report_back(tmp_path):
    """Point 3: the agenda lists the open actions with owners and dates and what was closed since
    the last meeting with who closed it; the next steps after the meeting list them again."""
    screen = await run_script(
        MEETING + "/cop actions done 1\n/cop schedule quarterly 3rd Wednesday of Mar Jun Sep Dec 10:30\n"
        "/clock 2026-12-09 09:00\n/clock 2026-12-16 10:30\n/cop actions review\n/cop actions review drop 2\n"
        "/cop actions add Write up the boundaries session by 20 January 2027\n/clock 2026-12-16 12:45\n",
        tmp_path,
        "North West",
    )
    agenda = screen[screen.index("Agenda — North West") :]
    agenda = agenda[: agenda.index("\n#")]
    assert (
        "Open actions (owner, due date)\n    • 2. @Ben will draft a boundaries checklist by 2027-02-14 — Ben" in agenda
    )
    assert "Closed since our last meeting\n    • 1. I will ask my supervisor by 31/01/2027 — done by Ann" in agenda
    steps = screen[screen.index("Thank you for today's meeting.") :]
    assert "1 action is open." in steps
    assert "Open actions (owner, due date)\n    • 3. Write up the boundaries session by 20 January 2027 — Ann" in steps
    # since the meeting before this one (26 November) began: the one done then, and the one dropped today
    assert "Closed since our last meeting\n    • 1. I will ask my supervisor by 31/01/2027 — done by Ann" in steps
    assert "2. @Ben will draft a boundaries checklist by 2027-02-14 — dropped by Ann on Wed 16 Dec 2026" in steps


async def test_after_forget_me_the_record_keeps_the_action_without_the_member(tmp_path):
    """Cara, a co-chair, closed Ann's action, then used forget-me: the action stays in the record,
    closed by "a former member", and the action Cara owned is the group's now."""
    screen = await run_script(
        MEETING + "/cop actions assign 2 @Cara\n/cop chairs set @Ann @Cara 12\n/as Cara\n/cop actions done 1\n"
        "/cop forget-me\n/cop forget-me confirm\n/as Ann\n/cop actions closed\n/cop actions\n",
        tmp_path,
        "North West",
    )
    assert "1. I will ask my supervisor by 31/01/2027 — done by a former member on Thu 26 Nov 2026" in screen
    assert "2. @Ben will draft a boundaries checklist by 2027-02-14 — the group" in screen
    assert [row[:3] for row in await _actions(tmp_path)] == [(1, "done", "Ann"), (2, "open", None)]
