"""Who is here: the support round's tally counts those present today (who answered, passed,
opened it or said `/cop here`), not every member of the region; each meeting keeps its count,
and forget-me leaves the count without the member."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import Attendance, Meeting
from tests.fakes.slack_api import running_stack
from tests.support.room import Room
from tests.support.slack_meeting import PEOPLE, say


async def _counts(db) -> dict[str, int]:  # noqa: ANN001
    async with db.transaction() as session:
        rows = await session.execute(
            select(Meeting.held_on, func.count(Attendance.id))
            .join(Attendance, Attendance.meeting_id == Meeting.id)
            .group_by(Meeting.held_on)
            .order_by(Meeting.held_on)
        )
        return {day.isoformat(): count for day, count in rows}


async def test_the_tally_counts_those_here_and_each_meeting_keeps_its_count(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", "Dev", "Eve", chairs=("Ann", "Ben"))  # five members in the region
    await room.cmd("Ann", "support")
    await room.cmd("Ben", "here")
    await room.cmd("Ben", "here")
    assert "counted as here today" in room.said_to("Ben") and "already counted" in room.said_to("Ben")
    await room.reply("Cara", "asking for help", to="support:1")
    assert "1 of the 3 here has shared so far." in room.sender.latest("support:1").text
    await room.cmd("Dev", "pass")
    assert "1 of the 4 here has shared so far. 1 passed." in room.sender.latest("support:1").text
    assert await _counts(db) == {"2026-11-26": 4}  # Eve was not there

    await room.cmd("Cara", "forget-me confirm")
    assert await _counts(db) == {"2026-11-26": 4}  # the count stays, without Cara
    async with db.transaction() as session:
        assert (
            await session.scalar(select(func.count()).select_from(Attendance).where(Attendance.member_id.is_(None)))
            == 1
        )

    await room.cmd("Ann", "close support")
    clock.advance(days=91)
    await room.cmd("Ben", "support")
    await room.reply("Eve", "taking breaks", to="support:2")
    assert "1 of the 2 here has shared so far." in room.sender.latest("support:2").text
    assert await _counts(db) == {"2026-11-26": 4, "2027-02-25": 2}


async def test_slack_here(sqlite_db, clock):
    async with running_stack(sqlite_db, clock, PEOPLE) as stack:
        await say(stack, "U1", "setup North West")
        for user in ("U2", "U3", "U4"):
            await say(stack, user, "join")
        await say(stack, "U1", "support")
        await say(stack, "U2", "here")
        assert "counted as here today" in stack.slack.ephemerals("U2")[-1].text
        await say(stack, "U3", "share asking for help")
        tally = [c for c in stack.slack.calls_to("chat.update") if "shared so far" in c.text][-1].text
        assert "1 of the 3 here has shared so far" in tally
