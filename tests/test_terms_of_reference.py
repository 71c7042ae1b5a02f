"""Issue 20, point 4: the Terms of Reference drafted from the guide's template with what copbot
knows, its parts written by co-chairs, approved by the group in the consent round (versions with
their day and fingerprint), what changed since, forget-me; on the terminal, Slack and Teams."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from flows.agenda import Filling, agenda_parts
from flows.terms_of_reference import rule_words
from storage import terms_of_reference as store
from storage.db import Database
from storage.models import Member, TermsOfReferenceConsent, TermsOfReferencePart, TermsOfReferenceRound
from tests.fakes.slack_api import running_stack
from tests.support.room import Room
from tests.support.slack_meeting import PEOPLE, in_thread, press, say, updates_of
from tests.support.teams_channel import TeamsChannel
from tests.support.terminal import run_script

SETUP = (
    "/clock 2026-12-16 10:00\n"
    "/as Ann\n/cop join Peer Support Worker\n"
    "/as Ben\n/cop join Recovery Educator\n"
    "/as Cara\n/cop join IPS\n"
    "/as Ann\n/cop chairs set @Ann @Ben 12\n"
    "/cop schedule quarterly 3rd Wednesday of Mar Jun Sep Dec 10:30\n"
)
DRAFT_FILE = "terms-of-reference-north-west-draft.md"


def _posts(screen: str, heading: str) -> list[str]:
    """Each terminal post whose body starts with ``heading``."""
    return [post for post in screen.split("\n#")[1:] if post.split("\n", 2)[1].strip().startswith(heading)]


async def _rows(folder: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]], int]:
    """The rounds (number, status, version, approved_on), the parts written, the answers kept."""
    db = Database(f"sqlite+aiosqlite:///{folder / 'cop.db'}")
    try:
        async with db.transaction() as session:
            rounds = await session.execute(
                select(
                    TermsOfReferenceRound.number,
                    TermsOfReferenceRound.status,
                    TermsOfReferenceRound.version,
                    TermsOfReferenceRound.approved_on,
                ).order_by(TermsOfReferenceRound.number)
            )
            parts = await session.execute(
                select(TermsOfReferencePart.part, TermsOfReferencePart.text).order_by(TermsOfReferencePart.part)
            )
            answers = len(list(await session.scalars(select(TermsOfReferenceConsent.id))))
            return [tuple(r) for r in rounds.all()], [tuple(p) for p in parts.all()], answers
    finally:
        await db.dispose()


async def _texts(folder: Path) -> list[str]:
    db = Database(f"sqlite+aiosqlite:///{folder / 'cop.db'}")
    try:
        async with db.transaction() as session:
            return list(await session.scalars(select(TermsOfReferenceRound.text)))
    finally:
        await db.dispose()


async def test_terminal_draft_parts_rounds_versions_and_what_changed(tmp_path: Path) -> None:
    screen = await run_script(SETUP + "/cop tor\n", tmp_path, community="North West")
    assert "Traceback" not in screen
    (first,) = _posts(screen, "Terms of Reference — North West")
    assert "A draft, not approved yet." in first
    assert f"(file saved: {tmp_path / DRAFT_FILE})" in first
    assert "2.0 Objectives" not in first  # the post stays short: the Terms are in the file
    markdown = (tmp_path / DRAFT_FILE).read_text()
    headings = [line for line in markdown.splitlines() if line.startswith("#")]
    assert headings == [
        "# Terms of Reference — North West",
        "## Name of the Community of Practice",
        "## 1.0 Aim or purpose",
        "## 2.0 Objectives",
        "## 3.0 Accountability",
        "## 4.0 Roles and responsibilities",
        "## 5.0 Frequency of meetings",
        "## 6.0 Performance and reporting",
        "## 7.0 Members",
        "## 8.0 Approval",
    ]
    for expected in (
        "North West — Community of Practice (COP) for Mental Health Engagement and Recovery Staff",
        "1.1 The National Office Mental Health Engagement and Recovery (MHER) established the Enhancing",
        "2.3 Reinforcing the value and esteem of lived experience expertise.",
        "The activity can be counted in Mental Health Engagement Key Performance Indicators.",
        "- Ann — a 12-month term from 16 December 2026 until 16 December 2027, review on 16 June 2027",
        "- Ben — a 12-month term from 16 December 2026 until 16 December 2027, review on 16 June 2027",
        "- Our schedule: the 3rd Wednesday of Mar, Jun, Sep and Dec at 10:30 (Europe/Dublin).",
        "4.5 The agenda for the COP will be issued by the Chair 5 working days before the scheduled meeting",
        "- Area Lead for Engagement",
        "5.1 The COP will meet quarterly (4 times a year), either in person or online.",
        "MHER will facilitate a reflective session on the value of the COP annually.",
        "- Ann — Peer Support Worker",
        "- Ben — Recovery Educator",
        "- Cara — IPS Worker",
        "Not approved yet",
    ):
        assert expected in markdown, expected

    # Co-chairs write parts; the group agrees (Cara objects, then stands aside); version 1.
    screen = await run_script(
        "/clock 2026-12-16 10:30\n/as Ann\n/cop tor set purpose To learn together, as peers.\n"
        "/cop tor set objective 2.3 Lived experience is expertise.\n"
        "/cop tor propose\n"
        "/as Cara\n/cop tor object\n/cop tor stand aside\n"
        "/as Ben\n/cop tor agree\n/cop tor agree\n"
        "/as Ann\n/cop tor agree 1\n/cop tor\n",
        tmp_path,
        community="North West",
    )
    assert "Traceback" not in screen
    assert "Thank you — the purpose now reads: “To learn together, as peers.”" in screen
    assert "Ann proposes our Terms of Reference (round 1)." in screen
    assert "(only ann sees this):\n  Cara objects to the Terms of Reference as proposed (round 1)" in screen
    assert "(only ben sees this):\n  Cara objects to the Terms of Reference as proposed (round 1)" in screen
    assert "(only cara sees this):\n  Thank you for saying so." in screen
    cards = [post for post in screen.split("\n#")[1:] if "proposes our Terms of Reference" in post]
    assert cards and not any("Cara objects" in card or "1 objects" in card for card in cards)
    assert "So far: 0 agree, 1 stands aside. Not agreed yet." in screen  # the objection never shown
    assert "Your answer is counted already — thank you." in screen  # Ben's second agree counted once
    assert "Approved: our Terms of Reference, version 1, on 16 December 2026. Thank you all!" in screen
    approved = _posts(screen, "Terms of Reference — North West")[-1]
    assert "Version 1, approved by the group on 16 December 2026." in approved
    version_1 = (tmp_path / "terms-of-reference-north-west-v1.md").read_text()
    assert "1.1 To learn together, as peers." in version_1 and "2.3 Lived experience is expertise." in version_1
    assert "Approved by the members in a consent round: version 1, on 16 December 2026." in version_1
    rounds, parts, _ = await _rows(tmp_path)
    assert [r[:3] for r in rounds] == [(1, "approved", 1)]
    assert parts == [("objective 2.3", "Lived experience is expertise."), ("purpose", "To learn together, as peers.")]
    (kept,) = await _texts(tmp_path)
    body = version_1.split("# Terms of Reference — North West\n\n", 1)[1].split("## 8.0 Approval")[0]
    assert hashlib.sha256(body.encode()).hexdigest() in version_1  # the fingerprint of what was approved
    assert "Cara — IPS Worker" in kept

    # A change after approval: the draft says what changed; version 1 stays until a new round.
    screen = await run_script(
        "/clock 2027-01-20 10:00\n/as Ben\n/cop tor set purpose To learn together.\n"
        "/cop tor set objective 2.1 Building engagement together.\n/cop tor\n/cop tor approved\n"
        "/cop tor propose\n/cop tor agree\n/as Ann\n/cop tor agree\n/as Cara\n/cop tor agree\n/cop tor\n"
        "/as Ann\n/cop tor propose\n",
        tmp_path,
        community="North West",
    )
    assert "Traceback" not in screen
    changed, still, *_ = _posts(screen, "Terms of Reference — North West")
    assert "Changed since version 1 was approved on 16 December 2026: purpose, objective 2.1." in changed
    assert "Version 1 stays our Terms of Reference" in changed
    assert "Version 1, approved by the group on 16 December 2026 (fingerprint" in still
    assert (tmp_path / "terms-of-reference-north-west-v1.md").read_text() == version_1  # unchanged
    assert "Approved: our Terms of Reference, version 2, on 20 January 2027. Thank you all!" in screen
    assert "Version 2, approved by the group on 20 January 2027." in _posts(screen, "Terms of Reference")[-1]
    assert "Nothing has changed since version 2 was approved on 20 January 2027: there is nothing to propose." in screen
    version_2 = (tmp_path / "terms-of-reference-north-west-v2.md").read_text()
    assert "1.1 To learn together." in version_2 and "2.1 Building engagement together." in version_2
    rounds, _, _ = await _rows(tmp_path)
    assert [r[:3] for r in rounds] == [(1, "approved", 1), (2, "approved", 2)]
    assert [str(r[3]) for r in rounds] == ["2026-12-16", "2027-01-20"]

    # forget-me: Cara's answers go, and her name leaves the Terms kept with each round.
    screen = await run_script(
        "/clock 2027-01-21 10:00\n/as Cara\n/cop forget-me\n/cop forget-me confirm\n/as Ann\n/cop tor\n",
        tmp_path,
        community="North West",
    )
    assert "Traceback" not in screen
    assert "Changed since version 2 was approved on 20 January 2027: members." in screen
    _, _, answers = await _rows(tmp_path)
    assert answers == 4  # Ann's and Ben's, in both rounds
    assert all("Cara" not in text and "a former member — IPS Worker" in text for text in await _texts(tmp_path))


async def test_terminal_bad_input_is_answered_and_changes_nothing(tmp_path: Path) -> None:
    screen = await run_script(
        SETUP + "/cop tor set purpose\n/cop tor set purpose    \n/cop tor set objective 2.7 Something\n"
        "/cop tor set objective Something\n/cop tor set vision Something\n"
        f"/cop tor set purpose {'x' * 1001}\n"
        "/as Cara\n/cop tor set purpose Mine\n/cop tor propose\n/cop tor close\n"
        "/as Ann\n/cop tor agree\n/cop tor propose\n/cop tor propose\n/cop tor set purpose Later\n"
        "/cop tor agree 7\n/cop tor frobnicate\n/cop tor close\n/as Ben\n/cop tor agree 1\n",
        tmp_path,
        community="North West",
    )
    assert "Traceback" not in screen
    usage = "Usage: /cop tor set purpose <text> | tor set objective <2.1–2.4> <text> | tor set accountability <text>"
    assert screen.count(usage) == 4  # empty (twice), no objective number, an unknown part
    assert "Our objectives are numbered 2.1, 2.2, 2.3 and 2.4, as in the guide's template, so “2.7”" in screen
    assert "Please keep the purpose under 1000 characters (it is 1001)." in screen
    assert "(only cara sees this):\n  Only a co-chair can write a part of the Terms of Reference." in screen
    assert "Only a co-chair can propose the Terms of Reference." in screen
    assert "Only a co-chair can close a round on the Terms of Reference." in screen
    assert "There is no open round on the Terms of Reference. A co-chair opens one with `/cop tor propose`." in screen
    assert "A round on the Terms of Reference is already open (round 1)" in screen
    assert "A round on the Terms of Reference is open (round 1): the group is answering on the Terms as proposed." in (
        screen
    )
    assert "There is no round 7 on the Terms of Reference." in screen
    assert "Usage: /cop tor | tor approved" in screen
    assert "This round was closed by a co-chair: nothing was approved this time." in screen
    assert "(only ben sees this):\n  Round 1 is closed." in screen
    rounds, parts, answers = await _rows(tmp_path)
    assert parts == [] and answers == 0  # nothing written, the round closed before anyone answered
    assert [r[:3] for r in rounds] == [(1, "closed", None)]


async def test_one_open_round_and_the_versions_on_both_databases(db, clock) -> None:
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "tor set accountability We hold each other kindly to account.")
    document, card = await room.cmd("Ann", "tor propose")
    assert document.attachment is not None and document.sections_in_file and document.private_to is None
    assert "We hold each other kindly to account." in document.attachment.content
    assert card.key is not None and [b.command for b in card.buttons][0] == "tor agree 1"
    async with db.transaction() as session:
        ann = await session.scalar(select(Member).where(Member.name == "Ann"))
        assert ann is not None
        community_id, ann_id = ann.community_id, ann.id
    with pytest.raises(IntegrityError):  # two co-chairs proposing at once: the database keeps one round open
        async with db.transaction() as session:
            ann = await session.get(Member, ann_id)
            assert ann is not None
            await store.propose(session, community_id, ann, "[]", "0" * 64, "{}", clock.now)
    for who in ("Ann", "Ben", "Cara"):
        await room.press(who, "tor agree 1")
    async with db.transaction() as session:
        approved = await store.approved_version(session, community_id)
        assert approved is not None and approved.version == 1 and approved.approved_on == clock.now.date()
        assert await store.open_round(session, community_id) is None
    body = document.attachment.content.split("\n\n", 1)[1].split("## 8.0 Approval")[0]
    assert approved.fingerprint == hashlib.sha256(body.encode()).hexdigest()
    (shown,) = await room.cmd("Cara", "tor")
    assert shown.text.endswith(f"Version 1, approved by the group on {clock.now.day} {clock.now:%B %Y}.")


def test_the_schedule_rule_in_the_words_it_was_typed_in() -> None:
    assert rule_words("FREQ=YEARLY;BYMONTH=2,5,8,11;BYDAY=+2TU") == "2nd Tuesday of Feb, May, Aug and Nov"
    assert rule_words("FREQ=YEARLY;BYMONTH=1,4,7,10;BYDAY=-1FR") == "last Friday of Jan, Apr, Jul and Oct"
    assert rule_words("FREQ=WEEKLY") == "FREQ=WEEKLY"  # not one copbot writes: shown as it is


def test_the_first_meetings_part_links_to_the_terms_of_reference() -> None:
    parts = agenda_parts(True, Filling(None, None, (), 0, None))
    (tor,) = [part for part in parts if part.text == "Our Terms of Reference"]
    assert tor.hint.split(", ")[0] == "/cop tor"


async def test_slack_the_file_in_the_thread_and_the_round_through_bolt(sqlite_db, clock) -> None:
    clock.now = datetime(2026, 12, 16, 10, 0, tzinfo=UTC)
    async with running_stack(sqlite_db, clock, PEOPLE) as stack:
        slack = stack.slack
        await say(stack, "U1", "setup North West")
        for user in ("U2", "U3"):
            await say(stack, user, "join Peer Support Worker")
        await say(stack, "U1", "chairs set <@U1|ann> <@U2|ben> 12")
        await say(stack, "U1", "tor set purpose To learn together, as peers.")
        await say(stack, "U3", "tor set purpose Mine")
        assert "Only a co-chair can write a part of the Terms of Reference." in slack.ephemerals("U3")[-1].text
        await say(stack, "U1", "tor propose")
        post = slack.find_post("Terms of Reference — North West")
        assert "A draft, not approved yet." in post.text and "2.0 Objectives" not in post.text  # short
        ((upload, content),) = slack.files_shared()  # the Terms, once, in the post's thread
        assert upload.params["channel_id"] == "C1" and upload.params["thread_ts"] == slack.ts_of(post)
        markdown = content.decode()
        assert markdown.startswith("# Terms of Reference — North West")
        assert "1.1 To learn together, as peers." in markdown and "- Cara — Peer Support Worker" in markdown
        card = slack.find_post("Ann proposes our Terms of Reference (round 1)")
        assert [b["value"] for b in card.buttons()] == ["tor agree 1", "tor stand-aside 1", "tor object 1"]
        await press(stack, "U3", card, "tor object 1")
        assert "Thank you for saying so." in slack.ephemerals("U3")[-1].text
        assert not updates_of(stack, card)  # a first objection changes nothing the channel sees
        await press(stack, "U3", card, "tor agree 1")
        await press(stack, "U2", card, "tor agree 1")
        await press(stack, "U1", card, "tor agree 1")
        assert "Approved: our Terms of Reference, version 1, on 16 December 2026." in updates_of(stack, card)[-1].text
        assert all("Cara" not in call.text for call in slack.posts() + updates_of(stack, card))
        assert not in_thread(stack, card)


async def test_teams_the_terms_arrive_as_a_card_with_its_buttons(channel: TeamsChannel, clock) -> None:
    clock.now = datetime(2026, 12, 16, 10, 0, tzinfo=UTC)
    await channel.say("Ann", "@copbot setup North West")
    for who in ("Ben", "Cara"):
        await channel.say(who, "@copbot join Recovery Educator")
    await channel.say("Ann", "@copbot chairs set @Ann @Ben 12")
    await channel.say("Ann", "@copbot tor set objective 2.3 Lived experience is expertise.")
    await channel.say("Ann", "@copbot tor")
    card = channel.latest_card("Terms of Reference — North West")
    assert [a["contentType"] for a in card.body["attachments"]] == ["application/vnd.microsoft.card.adaptive"]
    for expected in (
        "A draft, not approved yet.",
        "2.0 Objectives",
        "2.3 Lived experience is expertise.",
        "Ann — a 12-month term from 16 December 2026 until 16 December 2027, review on 16 June 2027",
        "Cara — Recovery Educator",
        "8.0 Approval",
    ):
        assert expected in card.card_text, expected
    assert len(json.dumps(card.body, ensure_ascii=False).encode("utf-16-le")) < 40_000
    await channel.say("Ann", "@copbot tor propose")
    await channel.say("Ann", "@copbot tor propose")
    assert "A round on the Terms of Reference is already open (round 1)" in channel.private_to("Ann")
    round_card = channel.latest_card("Ann proposes our Terms of Reference (round 1)")
    for who in ("Ann", "Ben", "Cara"):
        await channel.press(who, round_card, "Agree")
    done = channel.latest_card("Approved: our Terms of Reference, version 1, on 16 December 2026.")
    assert done.kind == "update" and done.activity_id == channel.message_id(round_card)
