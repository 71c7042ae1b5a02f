"""Agenda items "through the Chair" and the agenda they end up on: a member adds one, the
co-chairs accept or decline it, the scheduler's agenda carries the accepted ones with the lead
topic, the lead and the open actions of a real previous meeting; a moved meeting's agenda is
issued again with them; `/cop meeting` follows the first-meeting order on the day."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from storage.models import AgendaItem
from tests.support.room import Room, uid

RULE = "schedule quarterly 3rd Wednesday of Mar Jun Sep Dec 10:30"  # next: Wed 16 Dec 2026, 10:30 Dublin
AGENDA_DAY = datetime(2026, 12, 9, 9, 0, tzinfo=UTC)  # 5 working days before, 09:00 Dublin


async def _items(db) -> list[tuple[int, str, str]]:  # noqa: ANN001
    async with db.transaction() as session:
        rows = await session.scalars(select(AgendaItem).order_by(AgendaItem.number))
        return [(row.number, row.text, row.status) for row in rows]


async def test_an_item_goes_through_the_co_chairs_onto_the_posted_agenda(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
    await room.cmd("Ann", RULE)
    await room.cmd("Cara", "agenda add   Peer supervision   across sites ")
    assert "item 1, “Peer supervision across sites”, is with the co-chairs" in room.said_to("Cara")
    notice = room.sender.private(uid("Ben"))[-1]
    assert "Cara would like an item on the next agenda: 1. “Peer supervision across sites”" in notice.text
    assert [b.command for b in notice.buttons] == ["agenda accept 1", "agenda decline 1"]
    assert "Peer supervision" not in "\n".join(p.plain_text() for p in room.sender.public())  # not in the channel

    await room.press("Cara", "agenda accept 1")  # a member pressing a co-chair's button
    assert "Only a co-chair can accept an agenda item" in room.said_to("Cara")
    await room.press("Ben", "agenda accept 1")
    await room.press("Ben", "agenda accept 1")  # a double click
    assert "Item 1 is accepted" in room.said_to("Ben") and "Item 1 is already accepted" in room.said_to("Ben")
    assert "A co-chair accepted your agenda item “Peer supervision across sites”" in room.said_to("Cara")
    await room.cmd("Cara", "agenda add Travel expenses for peer workers")
    await room.cmd("Ann", "agenda decline 2")
    assert "won't be on the next agenda" in room.said_to("Cara")
    await room.cmd("Cara", "agenda add Room booking")  # undecided when the agenda goes out: waits

    await room.cmd("Cara", "agenda")
    draft = room.sender.private(uid("Cara"))[-1].plain_text()
    assert "Draft agenda — North West, Wednesday 16 December 2026 at 10:30" in draft
    assert "Peer supervision across sites" in draft and "Waiting for a co-chair\n  • 3. Room booking" in draft
    assert "Declined\n  • 2. Travel expenses" in draft and room.sender.private(uid("Cara"))[-1].buttons == ()
    await room.cmd("Ann", "agenda")
    assert [b.command for b in room.sender.private(uid("Ann"))[-1].buttons] == ["agenda accept 3", "agenda decline 3"]

    agenda = [text for text in await room.at(AGENDA_DAY) if text.startswith("Agenda")]
    assert len(agenda) == 1
    assert "Peer supervision across sites\n" in agenda[0] and "Travel expenses" not in agenda[0]
    assert "Room booking" not in agenda[0]
    assert agenda[0].index("Peer supervision") < agenda[0].index("Next steps")
    await room.cmd("Ann", "agenda accept 1")
    assert "Item 1 was settled when the agenda of 2026-12-16 went out" in room.said_to("Ann")
    await room.cmd("Ann", "agenda")
    after = room.sender.private(uid("Ann"))[-1].plain_text()
    assert "Peer supervision" not in after and "3. Room booking" in after  # waits for the next meeting


async def test_bad_agenda_input_gets_a_clear_answer_and_keeps_nothing(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
    await room.cmd("Cara", "agenda add")
    assert "What would you like on the agenda?" in room.said_to("Cara")
    await room.cmd("Cara", "agenda add " + "x" * 301)
    assert "under 300 characters" in room.said_to("Cara")
    await room.cmd("Ann", "agenda accept 7")
    assert "There is no agenda item 7" in room.said_to("Ann")
    await room.cmd("Ann", "agenda accept seven")
    assert "There is no agenda item seven" in room.said_to("Ann")
    await room.cmd("Ann", "agenda remove 1")
    assert "Usage: /cop agenda" in room.said_to("Ann")
    assert await _items(db) == []
    await room.cmd("Ann", "agenda add Our Terms of Reference")  # a co-chair's own item is accepted
    assert "Added item 1, “Our Terms of Reference”, to the next agenda" in room.said_to("Ann")
    assert await _items(db) == [(1, "Our Terms of Reference", "accepted")]


async def test_forget_me_takes_a_members_pending_items(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
    await room.cmd("Cara", "agenda add Something personal")
    await room.cmd("Cara", "forget-me confirm")
    assert await _items(db) == []


async def test_the_agenda_is_filled_from_the_previous_meeting(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "support")  # today, 26 Nov, a meeting is held
    await room.reply("Cara", "asking for help", to="support:1")
    await room.cmd("Ann", "close support")
    await room.cmd("Ann", "reflect Boundaries at work")
    for _ in range(5):
        await room.cmd("Ann", "next")
    await room.reply("Cara", "@Ben will draft a checklist by 2027-02-14", to="reflection:1:step:6")
    await room.cmd("Ann", "end")
    await room.cmd("Ann", "vote open 1")
    await room.cmd("Ben", "vote 2")
    await room.cmd("Ann", "close vote")
    await room.cmd("Ann", "lead")
    await room.cmd("Cara", "lead volunteer")
    await room.cmd("Ann", "lead confirm")
    await room.cmd("Ann", RULE)
    await room.cmd("Ann", "schedule link https://meet.example.org/cop")
    agenda = [text for text in await room.at(AGENDA_DAY) if text.startswith("Agenda")][0]
    assert "Join: https://meet.example.org/cop" in agenda
    assert "2. Reflective practice on the lead topic: Peer Work in the community, led by Cara" in agenda
    assert "4. Next steps: the actions recap (1 action open)" in agenda
    assert "the date of the next meeting: Wednesday 17 March 2027 at 10:30" in agenda


async def test_a_meeting_moved_after_its_agenda_went_out_gets_it_again_with_its_items(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
    await room.cmd("Ann", RULE)
    await room.cmd("Ann", "agenda add Peer supervision")
    first = [text for text in await room.at(AGENDA_DAY) if text.startswith("Agenda")]
    assert len(first) == 1 and "Peer supervision" in first[0]
    await room.cmd("Ann", "schedule move 2026-12-16 2026-12-14")  # its agenda day has passed: out now
    posted = await room.at(datetime(2026, 12, 9, 9, 1, tzinfo=UTC))
    again = [text for text in posted if text.startswith("Agenda")]
    assert len(again) == 1 and "Monday 14 December 2026 at 10:30" in again[0] and "Peer supervision" in again[0]
    assert "The meeting has moved" in again[0] and "later than planned" not in again[0]  # issue 15
    soon = await room.at(datetime(2026, 12, 14, 10, 15, tzinfo=UTC))
    assert any("We start in 15 minutes" in text for text in soon)
    await room.at(datetime(2026, 12, 14, 13, 0, tzinfo=UTC))  # its next steps
    assert await room.at(datetime(2026, 12, 16, 10, 15, tzinfo=UTC)) == []  # nothing for the old date
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(AgendaItem)) == 1


async def test_the_meeting_command_follows_the_first_meeting_order_on_the_day(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "schedule add 2026-11-27 10:30")
    await room.cmd("Ann", "agenda add Our Terms of Reference: first read")
    clock.now = datetime(2026, 11, 27, 10, 40, tzinfo=UTC)
    await room.cmd("Ann", "support")
    await room.cmd("Ben", "meeting")
    shown = room.sender.public()[-1].plain_text()
    assert shown.startswith("Our first meeting, in order — North West")
    assert "1. Introductions, and the support round" in shown and "open now" in shown
    assert "5. Breakout groups: starting our vision" in shown
    assert "7. Our Terms of Reference: first read" in shown and "8. Next steps" in shown
    clock.now = datetime(2027, 3, 17, 10, 40, tzinfo=UTC)
    await room.cmd("Ben", "meeting")
    later = room.sender.public()[-1].plain_text()
    assert later.startswith("Our meeting, in order") and "Introductions" not in later


async def test_teams_an_item_reaches_the_co_chair_in_a_private_chat_and_is_accepted_in_the_channel(channel):
    await channel.say("Ann", "@copbot setup North West")
    await channel.say("Cara", "@copbot join")
    await channel.say("Cara", "@copbot agenda add Peer supervision across sites")
    assert "is with the co-chairs" in channel.private_to("Cara")
    to_ann = channel.private_to("Ann")
    assert "Cara would like an item on the next agenda: 1. “Peer supervision across sites”" in to_ann
    assert "In the channel, type: @copbot agenda accept 1 · @copbot agenda decline 1" in to_ann
    assert not [
        c for c in channel.fake.direct_messages("29:ann") if c.buttons()
    ]  # no button that would lose the channel
    await channel.say("Ann", "@copbot agenda accept 1")
    assert "A co-chair accepted your agenda item “Peer supervision across sites”" in channel.private_to("Cara")
