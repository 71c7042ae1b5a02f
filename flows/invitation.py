"""A meeting's calendar invitation (RFC 5545, made with `icalendar`): the event in UTC (each
calendar shows it in its own zone), the joining link, the agenda as its description, and a
reminder alarm 15 minutes before. It goes with the agenda post where the platform takes files."""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Alarm, Calendar, Event

from bot.vocabulary.conversation import Attachment, Post
from storage.models import Community, MeetingSchedule

LENGTH = timedelta(hours=2)  # the guide's meetings run about two hours
ALARM_BEFORE = timedelta(minutes=15)
PRODID = "-//copbot//Community of Practice//EN"
MEDIA_TYPE = "text/calendar"


def meeting_invitation(
    community: Community, schedule: MeetingSchedule, starts_at: datetime, agenda: Post, now: datetime
) -> Attachment:
    """The ``.ics`` of one meeting. Its UID is the same for every version of that meeting's
    invitation, so a calendar updates the event rather than adding a second one."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"copbot-{community.id}-{starts_at:%Y%m%dT%H%M%SZ}@copbot")
    event.add("dtstamp", now)
    event.add("dtstart", starts_at)
    event.add("dtend", starts_at + LENGTH)
    event.add("summary", f"{community.name} — Community of Practice")
    event.add("description", agenda.plain_text())
    if schedule.join_link:
        event.add("location", schedule.join_link)
        event.add("url", schedule.join_link)
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", f"{community.name} meets in 15 minutes")
    alarm.add("trigger", -ALARM_BEFORE)
    event.add_component(alarm)
    calendar.add_component(event)
    filename = f"cop-meeting-{starts_at:%Y-%m-%d}.ics"
    return Attachment(filename, MEDIA_TYPE, calendar.to_ical().decode())
