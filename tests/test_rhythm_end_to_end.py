"""The quarterly rhythm through the real interfaces, with the clock moved on: a co-chair sets the
schedule in chat and the call for items, the agenda (with its .ics where the platform takes
files), the reminders and the next steps appear once each — in Slack (signed HTTP, the fake Web
API, files.uploadV2), in Teams (the fake Bot Connector) and in the terminal (`docs/rhythm.txt`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from icalendar import Calendar

from adapters.teams import endpoint_of
from tests.fakes.slack_api import running_stack
from tests.support.teams_channel import TeamsChannel
from tests.support.terminal import run_script

RULE = "schedule quarterly 3rd Wednesday of Mar Jun Sep Dec 10:30"
LINK = "https://meet.example.org/north-west"
MOMENTS = {
    "call": datetime(2026, 12, 2, 9, 0, tzinfo=UTC),
    "agenda": datetime(2026, 12, 9, 9, 0, tzinfo=UTC),
    "eve": datetime(2026, 12, 15, 10, 30, tzinfo=UTC),
    "soon": datetime(2026, 12, 16, 10, 15, tzinfo=UTC),
    "next steps": datetime(2026, 12, 16, 12, 30, tzinfo=UTC),
}
EXPECTED = {
    "call": "Our next meeting is on Wednesday 16 December 2026 at 10:30",
    "agenda": "Agenda — North West, Wednesday 16 December 2026 at 10:30",
    "eve": "Reminder: we meet tomorrow",
    "soon": "We start in 15 minutes (10:30)",
    "next steps": "Our next meeting: Wednesday 17 March 2027 at 10:30",
}
SCRIPT = Path(__file__).parent.parent / "docs" / "rhythm.txt"


def _event(ics: bytes):  # noqa: ANN202
    (event,) = Calendar.from_ical(ics).walk("VEVENT")
    return event


async def test_slack_a_quarter_of_posts_once_each_with_the_ics_in_the_agendas_thread(sqlite_db, clock):
    async with running_stack(sqlite_db, clock) as stack:
        await stack.requests.command("U1", "setup North West")
        await stack.requests.command("U1", RULE)
        await stack.requests.command("U1", f"schedule link {LINK}")
        await stack.requests.command("U1", "agenda add Peer supervision across sites")
        await stack.settle()
        for kind, moment in MOMENTS.items():
            before = len(stack.slack.posts("C1"))
            clock.now = moment
            for _ in range(2):  # a second tick finds nothing left to post
                await stack.runtime.announce_due()
                await stack.settle()
            new = [call.text for call in stack.slack.posts("C1")[before:]]
            assert len(new) == 1 and EXPECTED[kind] in new[0], (kind, new)
            if kind == "agenda":
                assert "Peer supervision across sites" in new[0]
                agenda_ts = stack.slack.ts_of(stack.slack.posts("C1")[-1])
        ((call, ics),) = stack.slack.files_shared()
        assert call.params["channel_id"] == "C1" and call.params["thread_ts"] == agenda_ts
        event = _event(ics)
        assert event.decoded("dtstart") == datetime(2026, 12, 16, 10, 30, tzinfo=UTC)
        assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(hours=2)
        assert str(event["url"]) == LINK and "Peer supervision across sites" in str(event["description"])
        (alarm,) = event.walk("VALARM")
        assert alarm.decoded("trigger") == timedelta(minutes=-15)


async def test_teams_the_agenda_and_reminders_arrive_as_cards_without_a_file(channel: TeamsChannel, clock):
    await channel.say("Ann", "@copbot setup North West")
    await channel.say("Ann", f"@copbot {RULE}")
    runtime = endpoint_of(channel.client.app).runtime
    for kind, moment in MOMENTS.items():
        before = len(channel.public())
        clock.now = moment
        await runtime.announce_due()
        await channel.idle()
        new = [call.card_text for call in channel.public()[before:]]
        assert len(new) == 1 and EXPECTED[kind] in new[0], (kind, new)


async def test_terminal_the_rhythm_script_shows_each_post_once_and_saves_the_ics(tmp_path):
    screen = await run_script(SCRIPT.read_text(), tmp_path, community="North West")
    assert "Traceback" not in screen
    for expected in EXPECTED.values():
        assert screen.count(expected) == 1, expected
    assert "Peer supervision across sites" in screen.split(EXPECTED["agenda"], 1)[1]
    (saved,) = tmp_path.glob("*.ics")
    assert saved.name == "cop-meeting-2026-12-16.ics" and f"(file saved: {saved})" in screen
    assert _event(saved.read_bytes()).decoded("dtstart") == datetime(2026, 12, 16, 10, 30, tzinfo=UTC)
    assert "Usage: /clock" not in screen
