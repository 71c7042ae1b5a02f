"""Rotation: co-chair terms and the per-meeting lead."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from storage.models import CoChairTerm, LeadTurn
from tests.room import Room


async def test_chairs_set_records_terms_and_only_chairs_may_set(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara")
    await room.cmd("Cara", "chairs set @Cara @Ben")
    assert "Only a co-chair can set the co-chairs" in room.said_to("Cara")
    await room.cmd("Ann", "chairs set @Ben @Cara 7")
    await room.cmd("Ann", "chairs set @Ben")
    assert room.said_to("Ann").count("Usage: /cop chairs set") == 2
    await room.cmd("Ann", "chairs set @Ben @Dana 6")  # Dana has not joined: mentioned, so added
    await room.cmd("Ben", "chairs")
    listing = room.sender.public()[-1].plain_text()
    assert "Ben — 6-month term, due for review on 2027-05-26" in listing
    assert "Dana" in listing and "Ann" not in listing
    async with db.transaction() as session:
        terms = list(await session.scalars(select(CoChairTerm).order_by(CoChairTerm.id)))
    assert terms[0].replaced_on == date(2026, 11, 26)  # Ann's founding term ended
    assert [t.ends_on for t in terms[1:]] == [date(2027, 5, 26)] * 2
    clock.advance(days=200)
    await room.cmd("Ben", "chairs")
    assert "time for the review" in room.sender.public()[-1].plain_text()


async def test_lead_proposes_least_recent_skips_opt_outs_and_keeps_history(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", "Dev", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "lead")
    assert "I suggest Ann — they have not led one yet" in room.sender.public()[-1].text
    await room.cmd("Ann", "lead confirm")
    clock.advance(days=90)
    await room.cmd("Ann", "lead")
    assert "I suggest Ben" in room.sender.public()[-1].text
    await room.press("Ben", "lead skip")  # privately: "not me"
    assert "won't suggest you" in room.said_to("Ben")
    assert "I suggest Cara" in room.sender.public()[-1].text
    await room.cmd("Dev", "lead volunteer")
    assert "Dev has volunteered" in room.sender.public()[-1].text
    await room.cmd("Dev", "lead confirm")
    assert "Only a co-chair can confirm" in room.said_to("Dev")
    await room.press("Ben", "lead confirm @U-dev")
    await room.press("Ann", "lead confirm @U-dev")  # a second press adds nothing
    assert "already confirmed" in room.said_to("Ann")
    clock.advance(days=90)
    await room.cmd("Ann", "lead")
    assert "I suggest Cara" in room.sender.public()[-1].text  # never led; Ben opted out
    async with db.transaction() as session:
        confirmed = list(await session.scalars(select(LeadTurn).where(LeadTurn.status == "confirmed")))
    assert len(confirmed) == 2


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
