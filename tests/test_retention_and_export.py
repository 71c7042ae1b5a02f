"""What members wrote is blanked after the retention period while every count the KPI report
reads stays (`storage.member_texts`), and `/cop export-me` gives a member everything copbot
keeps about them and nothing about anyone else (`flows.my_data`)."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.shell.cli import main
from bot.shell.serve import keep_from
from bot.vocabulary.errors import ConfigError
from flows import kpi_report
from storage import models
from storage.states import ActionStatus, LeadStatus, RoundStatus, SessionStatus, TermsRoundStatus, VoteStatus
from tests.fakes.slack_api import running_stack
from tests.support.room import Room, uid
from tests.support.slack_meeting import say
from tests.support.teams_channel import PEOPLE
from tests.support.terminal import run_script

OLD = "CANARY-old-lived-experience"
YOUNG = "CANARY-young-words"


async def _community(db, name: str, now: datetime) -> int:  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        community = models.Community(name=name, created_at=now)
        session.add(community)
        await session.flush()
        return community.id


async def _member(db, community_id: int, name: str, now: datetime) -> int:  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        found = await session.scalar(
            select(models.Member).where(models.Member.community_id == community_id, models.Member.user_id == uid(name))
        )
        if found is None:
            found = models.Member(
                community_id=community_id, platform="slack", user_id=uid(name), name=name, joined_at=now
            )
            session.add(found)
            await session.flush()
        return found.id


async def _meeting(db, community_id: int, member_id: int, now: datetime, words: str, *, anonymous: str = "") -> None:  # type: ignore[no-untyped-def]
    """One meeting's worth of rows, as the flows keep them, each free text carrying ``words``: a
    statement and a pass, a reflection's answers with an action from step 6 (done), an open and a
    dropped action, a vote with a ballot, an agenda item, attendance, a closed review survey
    with a rating and a free-text answer. ``anonymous``: a statement shared without a name."""
    async with db.transaction() as session:
        number = await session.scalar(
            select(func.count(models.ActionItem.id)).where(models.ActionItem.community_id == community_id)
        )
        meeting = models.Meeting(community_id=community_id, held_on=now.date())
        session.add(meeting)
        await session.flush()
        session.add(models.Attendance(meeting_id=meeting.id, member_id=member_id))
        support = models.SupportRound(
            community_id=community_id, meeting_id=meeting.id, status=RoundStatus.CLOSED.value, opened_at=now
        )
        session.add(support)
        await session.flush()
        session.add(
            models.SupportStatement(
                round_id=support.id,
                member_id=member_id,
                answer_key=f"member:{member_id}",
                text=f"{words} statement",
                created_at=now,
                updated_at=now,
            )
        )
        if anonymous:
            session.add(
                models.SupportStatement(
                    round_id=support.id, answer_key="anon:1", text=anonymous, created_at=now, updated_at=now
                )
            )
        reflection = models.Reflection(
            community_id=community_id,
            meeting_id=meeting.id,
            topic="Peer Work in the community",
            step=6,
            status=SessionStatus.ENDED.value,
            started_at=now,
        )
        session.add(reflection)
        await session.flush()
        answers = [
            models.ReflectionAnswer(
                reflection_id=reflection.id,
                step=step,
                member_id=member_id,
                answer_key=f"member:{member_id}",
                text=f"{words} step {step}",
                created_at=now,
            )
            for step in (1, 2, 6)
        ]
        session.add_all(answers)
        await session.flush()
        closed = {"closed_at": now, "closed_by": member_id, "close_reason": f"{words} reason"}
        session.add_all(
            [
                models.ActionItem(
                    community_id=community_id,
                    number=number + 1,
                    answer_id=answers[-1].id,
                    meeting_id=meeting.id,
                    owner_id=member_id,
                    text=f"{words} action from step 6",
                    status=ActionStatus.DONE.value,
                    resources=f"{words} resources",
                    created_at=now,
                    **closed,
                ),
                models.ActionItem(
                    community_id=community_id,
                    number=number + 2,
                    meeting_id=meeting.id,
                    owner_id=member_id,
                    text=f"{words} dropped action",
                    status=ActionStatus.DROPPED.value,
                    created_at=now,
                    **closed,
                ),
                models.ActionItem(
                    community_id=community_id,
                    number=number + 3,
                    meeting_id=meeting.id,
                    text=f"open action of {now.date()}",
                    status=ActionStatus.OPEN.value,
                    created_at=now,
                ),
            ]
        )
        topic = models.Topic(
            community_id=community_id,
            title=f"Topic of {now.date()}",
            title_key=f"topic of {now.date()}",
            proposed_by=member_id,
            chosen_at=now,
            created_at=now,
        )
        vote = models.TopicVote(
            community_id=community_id, meeting_id=meeting.id, status=VoteStatus.CLOSED.value, opened_at=now
        )
        session.add_all([topic, vote])
        await session.flush()
        vote.winner_topic_id = topic.id
        session.add(models.Ballot(vote_id=vote.id, topic_id=topic.id, member_id=member_id, changed_at=now))
        session.add(
            models.AgendaItem(
                community_id=community_id,
                number=number + 1,
                member_id=member_id,
                text=f"{words} agenda item",
                created_at=now,
            )
        )
        survey = models.ReviewSurvey(
            community_id=community_id,
            year=now.year + number,
            opened_on=now.date(),
            closes_on=now.date(),
            closed_on=now.date(),
            responses=1,
        )
        session.add(survey)
        await session.flush()
        session.add_all(
            [
                models.ReviewAnswer(id=f"r{survey.id}", survey_id=survey.id, question="satisfied", rating=4),
                models.ReviewAnswer(id=f"t{survey.id}", survey_id=survey.id, question="role", text=f"{words} review"),
            ]
        )


async def _counts(db) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Every count the KPI report reads."""

    async def count(session, column, *where) -> int:  # type: ignore[no-untyped-def]
        return int(await session.scalar(select(func.count(column)).where(*where)) or 0)

    async with db.transaction() as session:
        found: dict[str, object] = {
            "meetings": await count(session, models.Meeting.id),
            "attendance": await count(session, models.Attendance.id),
            "support statements": await count(session, models.SupportStatement.id),
            "reflections": await count(session, models.Reflection.id),
            "reflection answers": await count(session, models.ReflectionAnswer.id),
            "topics chosen": await count(session, models.Topic.id, models.Topic.chosen_at.is_not(None)),
            "votes": await count(session, models.TopicVote.id),
            "ballots": await count(session, models.Ballot.id),
            "agenda items": await count(session, models.AgendaItem.id),
            "review answers": await count(session, models.ReviewAnswer.id),
            "ratings": await count(session, models.ReviewAnswer.id, models.ReviewAnswer.rating.is_not(None)),
            "review responses": await session.scalar(select(func.sum(models.ReviewSurvey.responses))),
            "actions from step 6": await count(session, models.ActionItem.id, models.ActionItem.answer_id.is_not(None)),
        }
        for status in ActionStatus:
            found[f"actions {status}"] = await count(session, models.ActionItem.id, models.ActionItem.status == status)
    return found


async def _everything_stored(db) -> str:  # type: ignore[no-untyped-def]
    found = []
    async with db.transaction() as session:
        for table in models.Base.metadata.sorted_tables:
            found += [repr(tuple(row)) for row in (await session.execute(select(table))).all()]
    return "\n".join(found)


async def _kpi_reports(db, *years: int) -> list[bytes]:  # type: ignore[no-untyped-def]
    """The national KPI report of each year, as CSV (every figure by community and quarter)."""
    async with db.transaction() as session:
        return [(await kpi_report.national_report(session, year, None, "csv")).data for year in years]


async def test_the_purge_blanks_what_members_wrote_after_the_period_and_keeps_every_count(db, clock, caplog):
    """A meeting 400 days ago and one 100 days ago: housekeeping blanks every member-written
    text of the old one (statement, reflection answers, closed actions' words, resources and
    reason, agenda item, review free text) and none of the young one; the open action keeps its
    words; every count is unchanged, the action from step 6 still hangs on its answer; the log
    says counts only."""
    caplog.set_level(logging.DEBUG)
    start = clock()
    community = await _community(db, "North West", start)
    ann = await _member(db, community, "Ann", start)
    await _meeting(db, community, ann, start, OLD)
    clock.advance(days=300)
    await _meeting(db, community, ann, clock(), YOUNG)
    clock.advance(days=100)
    before = await _counts(db)
    report_before = await _kpi_reports(db, start.year, clock().year)
    assert all(b"North West" in report for report in report_before)  # figures to keep, not "nothing stored"
    purged = await Room(db, clock).runtime.housekeeping()
    assert await _counts(db) == before
    assert await _kpi_reports(db, start.year, clock().year) == report_before  # every KPI figure unchanged
    assert purged["support statements"] == 1 and purged["reflection answers"] == 3
    assert purged["closed actions"] == 2 and purged["agenda items"] == 1 and purged["review free text"] == 1
    stored = await _everything_stored(db)
    assert OLD not in stored
    assert stored.count(YOUNG) == 11  # statement, 3 answers, 2 actions, resources, 2 reasons, agenda item, review
    assert f"open action of {start.date()}" in stored  # the group's working record until closed
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "support statements 1" in logged and "CANARY" not in logged
    again = await Room(db, clock).runtime.housekeeping()
    assert not any(again.values())  # nothing is blanked twice


async def test_a_communitys_co_chairs_choose_a_shorter_period(db, clock):
    """`/cop retention 90` (co-chairs only, 90 to 365 days): after 100 days that community's
    texts are blanked, another community's are not. `/cop retention` shows the period."""
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "retention")
    assert "this deployment's period (365 days" in room.said_to("Ann")
    await room.cmd("Cara", "join")
    await room.cmd("Cara", "retention 90")
    assert "Only a co-chair can choose how long" in room.said_to("Cara")
    await room.cmd("Ann", "retention 30")
    assert "Usage: /cop retention" in room.said_to("Ann")
    await room.cmd("Ann", "retention 90")
    assert "now kept for 90 days, then blanked (set by Ann)" in room.sender.public()[-1].text
    await room.cmd("Ben", "retention")
    assert "90 days (the co-chairs' choice" in room.said_to("Ben")
    other = await _community(db, "South East", clock())
    async with db.transaction() as session:
        ours = await session.scalar(select(models.Community.id).where(models.Community.name == "North West"))
    ann = await _member(db, ours, "Ann", clock())
    await _meeting(db, ours, ann, clock(), OLD)
    await _meeting(db, other, await _member(db, other, "Dan", clock()), clock(), YOUNG)
    clock.advance(days=100)
    before = await _counts(db)
    await room.runtime.housekeeping()
    assert await _counts(db) == before
    stored = await _everything_stored(db)
    assert OLD not in stored and stored.count(YOUNG) == 11
    await room.cmd("Ann", "retention default")
    assert "this deployment's period" in room.sender.public()[-1].text


def test_a_malformed_COPBOT_RETENTION_DAYS_is_refused_in_one_line():
    assert keep_from({}).member_texts == timedelta(days=365)
    assert keep_from({"COPBOT_RETENTION_DAYS": "180"}).member_texts == timedelta(days=180)
    for bad in ("a year", "0", "-5", "99999"):
        with pytest.raises(ConfigError) as refused:
            keep_from({"COPBOT_RETENTION_DAYS": bad})
        assert str(refused.value) == "COPBOT_RETENTION_DAYS must be a number of days from 1 to 3650."


def test_copbot_chat_refuses_a_malformed_COPBOT_RETENTION_DAYS_at_start(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COPBOT_RETENTION_DAYS", "one year")
    assert main(["chat", "--db", str(tmp_path / "cop.db")]) == 2
    error = capsys.readouterr().err
    assert error == "copbot: COPBOT_RETENTION_DAYS must be a number of days from 1 to 3650.\n"
    assert not (tmp_path / "cop.db").exists()  # refused before anything was opened


async def test_export_me_holds_everything_about_the_member_and_nothing_about_others(db, clock):
    """Ann's export (in the channel: this community; in a private chat: both of hers) holds her
    membership, co-chair term, named statements and answers, actions, ballots, agenda items,
    attendance and consent answers; not Ben's words, nor an answer shared without a name (and
    it says why)."""
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "join Peer Support Worker")
    async with db.transaction() as session:
        ours = await session.scalar(select(models.Community.id).where(models.Community.name == "North West"))
    ann = await _member(db, ours, "Ann", clock())
    ben = await _member(db, ours, "Ben", clock())
    await _meeting(db, ours, ann, clock(), "ANN-CANARY", anonymous="ANON-CANARY statement")
    await _meeting(db, ours, ben, clock() + timedelta(days=1), "BEN-CANARY")
    async with db.transaction() as session:
        tor = models.TermsOfReferenceRound(
            community_id=ours,
            number=1,
            proposed_by=ben,
            text="terms",
            fingerprint="f",
            parts="{}",
            status=TermsRoundStatus.OPEN.value,
            opened_at=clock(),
        )
        session.add(tor)
        await session.flush()
        session.add(models.TermsOfReferenceConsent(round_id=tor.id, member_id=ann, answer="agree", answered_at=clock()))
        session.add(
            models.LeadTurn(community_id=ours, member_id=ann, status=LeadStatus.CONFIRMED.value, proposed_at=clock())
        )
    await room.cmd("Ann", "export-me")
    (post,) = [p for p in room.sender.private(uid("Ann")) if p.attachment is not None]
    assert post.direct and post.attachment.filename == "copbot-export-me.json"
    export = json.loads(post.attachment.content)
    (mine,) = export["communities"]
    assert mine["community"] == "North West"
    assert mine["membership"][0]["role"] == "Peer Support Worker"
    assert len([term for term in mine["co-chair terms"] if term["ended_on"] is None]) == 1  # and the provisional one
    for kind in ("support statements", "reflection answers", "actions you own or closed", "agenda items"):
        assert all("ANN-CANARY" in json.dumps(row) for row in mine[kind]), kind
    assert [s["text"] for s in mine["support statements"]] == ["ANN-CANARY statement"]
    assert len(mine["reflection answers"]) == 3 and len(mine["actions you own or closed"]) == 2
    assert len(mine["your votes"]) == 1 and len(mine["meetings you were at"]) == 1
    assert mine["your answers in Terms of Reference rounds"][0]["answer"] == "agree"
    assert mine["lead turns"][0]["status"] == "confirmed"
    shown = json.dumps(export) + post.plain_text()
    assert "BEN-CANARY" not in shown and "ANON-CANARY" not in shown
    assert "never linked to you" in export["not_included"] and "never linked to you" in post.plain_text()
    assert "ANN-CANARY step 6" in post.plain_text()  # the text says it too, where no file is taken

    # In a private chat with copbot: every community Ann belongs to on this platform.
    other = await _community(db, "South East", clock())
    await _member(db, other, "Ann", clock())
    private_chat = Room(db, clock, channel="D-ann")
    await private_chat.cmd("Ann", "export-me")
    (post,) = [p for p in private_chat.sender.private(uid("Ann")) if p.attachment is not None]
    export = json.loads(post.attachment.content)
    assert [c["community"] for c in export["communities"]] == ["North West", "South East"]
    await private_chat.cmd("Cara", "export-me")
    assert "I don't keep anything about you here." in private_chat.said_to("Cara")


async def test_export_me_in_the_terminal_is_a_file_under_files(tmp_path: Path):
    screen = await run_script("/as Ann\n/cop setup North West\n/cop join IPS Worker\n/cop export-me\n", tmp_path)
    assert "everything I keep about you in North West" in screen
    export = json.loads((tmp_path / "copbot-export-me.json").read_text(encoding="utf-8"))
    assert export["communities"][0]["membership"][0]["role"] == "IPS Worker"


async def test_slack_export_me_is_a_direct_message_with_the_file(sqlite_db, clock):
    """An ephemeral message cannot carry a file: the export goes as a direct message from the
    app, its text and the JSON file in that DM, not in the channel."""
    async with running_stack(sqlite_db, clock, {"U1": "Ann"}) as stack:
        await say(stack, "U1", "setup North West")
        await say(stack, "U1", "export-me")
        (dm,) = [c for c in stack.slack.calls_to("chat.postMessage") if c.params["channel"] == "U1"]
        assert "everything I keep about you in North West" in dm.text
        ((upload, data),) = stack.slack.files_shared()
        assert upload.params.get("channel_id") == "U1"
        assert json.loads(data)["communities"][0]["community"] == "North West"
        assert not [c for c in stack.slack.ephemerals("U1") if "everything I keep" in c.text]


async def test_teams_export_me_is_text_in_the_one_to_one_chat_split_when_long(channel, sqlite_db, clock):
    """A Teams 1:1 chat card takes no file: the export is text there, in several messages when
    it is longer than one card takes; nothing of it in the channel."""
    await channel.say("Ann", "@copbot setup North West")
    await channel.say("Ann", "@copbot join Recovery Educator")
    async with sqlite_db.transaction() as session:
        ours = await session.scalar(select(models.Community.id))
        ann = await session.scalar(select(models.Member.id).where(models.Member.name == "Ann"))
    for day in range(40):
        await _meeting(sqlite_db, ours, ann, clock() + timedelta(days=day), f"ANN-{day:02d}-" + "words " * 60)
    await channel.say("Ann", "@copbot export-me")
    cards = channel.fake.direct_messages(PEOPLE["Ann"][0])
    assert len(cards) > 1
    told = channel.private_to("Ann")
    assert "everything I keep about you in North West" in told and "Recovery Educator" in told
    assert all(f"ANN-{day:02d}-" in told for day in range(40))
    assert "never linked to you" in told
    assert not [call for call in channel.public() if "ANN-" in call.card_text]
