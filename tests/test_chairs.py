"""The co-chairs: set by a co-chair, or — while there are fewer than two — nominated or
volunteered and agreed by the group in a consent round (no lock-out); terms of 12 months
reviewed at 6, the review and the end announced once each."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import func, select

from bot.shell.chat import run_console
from bot.vocabulary.conversation import Post
from flows.chairs import CHAIRS_FORMS
from storage.db import Database
from storage.models import Announcement, ChairConsent, CoChairTerm, Member
from tests.fakes.slack_api import running_stack
from tests.support.room import Room, uid
from tests.support.slack_meeting import PEOPLE, button, say, updates_of
from tests.support.terminal import Lines

RULE = "schedule quarterly 3rd Wednesday of Mar Jun Sep Dec 10:30"
CARD = "chairs:nomination:{id}"


def card_versions(room: Room) -> list[Post]:
    """Every version of every nomination post the channel saw (posted and updated)."""
    return [s.post for s in room.sender.log if (s.post.key or "").startswith("chairs:nomination:")]


def card(room: Room) -> Post:
    return card_versions(room)[-1]


async def current_terms(db: Database) -> list[tuple[str, CoChairTerm]]:
    async with db.transaction() as session:
        rows = await session.execute(
            select(Member.name, CoChairTerm)
            .join(Member, Member.id == CoChairTerm.member_id)
            .where(CoChairTerm.replaced_on.is_(None))
            .order_by(CoChairTerm.id)
        )
        return [(name, term) for name, term in rows.all()]


async def test_chairs_set_records_terms_and_only_chairs_may_set(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara")
    await room.cmd("Cara", "chairs set @Cara @Ben")
    assert "Only a co-chair can set the co-chairs" in room.said_to("Cara")
    await room.cmd("Ann", "chairs set @Ben @Cara 7")
    await room.cmd("Ann", "chairs set @Ben")
    assert room.said_to("Ann").count("Usage: /cop chairs set") == 2
    await room.cmd("Ann", "chairs set @Ben @Dana 6")  # Dana has not joined: refused, nobody made a member
    assert "Dana hasn't joined North West — they can type `/cop join`" in room.said_to("Ann")
    await room.cmd("Dana", "join")
    await room.cmd("Ann", "chairs set @Ben @Dana 6")
    await room.cmd("Ben", "chairs")
    listing = room.sender.public()[-1].plain_text()
    assert "Ben — 6-month term until 2027-05-26, review on 2027-05-26" in listing  # a 6-month term: at its end
    assert "Dana" in listing and "Ann" not in listing and "nominate" not in listing
    async with db.transaction() as session:
        terms = list(await session.scalars(select(CoChairTerm).order_by(CoChairTerm.id)))
    assert terms[0].replaced_on == date(2026, 11, 26)  # Ann's founding term ended
    assert [t.ends_on for t in terms[1:]] == [date(2027, 5, 26)] * 2
    clock.advance(days=200)
    await room.cmd("Ben", "chairs")
    assert "time for the review" in room.sender.public()[-1].plain_text()


async def test_chairs_set_term_and_review_are_separate(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara")
    await room.cmd("Ann", "chairs set @Ann @Ben")  # default: 12 months, reviewed at 6
    assert "for 12 months, until 2027-11-26 (review on 2027-05-26)" in room.sender.public()[-1].text
    await room.cmd("Ann", "chairs set @Ann @Ben 12 review 12")
    assert "until 2027-11-26 (review on 2027-11-26)" in room.sender.public()[-1].text
    await room.cmd("Ann", "chairs set @Ann @Cara review 6")
    assert "for 12 months, until 2027-11-26 (review on 2027-05-26)" in room.sender.public()[-1].text
    for wrong in ("6 review 12", "12 review 0", "12 review", "review 6 12"):
        await room.cmd("Ann", f"chairs set @Ann @Cara {wrong}")
    assert room.said_to("Ann").count("Usage: /cop chairs set") == 4
    terms = await current_terms(db)
    assert [(name, t.months, t.review_on, t.ends_on) for name, t in terms] == [
        ("Ann", 12, date(2027, 5, 26), date(2027, 11, 26)),
        ("Cara", 12, date(2027, 5, 26), date(2027, 11, 26)),
    ]
    clock.advance(days=190)  # past the review, before the end
    await room.cmd("Ben", "chairs")
    listing = room.sender.public()[-1].plain_text()
    assert "Ann — 12-month term until 2027-11-26: its review was due on 2027-05-26" in listing


async def test_setup_says_the_founder_is_a_provisional_co_chair(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben")
    welcome = room.sender.public()[0].text
    assert "Ann set it up and is a provisional co-chair until the group agrees on two co-chairs" in welcome
    assert "`/cop chairs nominate @member`" in welcome and "`/cop chairs volunteer`" in welcome
    await room.cmd("Ben", "chairs")
    listing = room.sender.public()[-1].plain_text()
    assert "Ann — 12-month term until 2027-11-26, review on 2027-05-26" in listing
    assert "Any member can nominate someone with `/cop chairs nominate @member`" in listing
    await room.cmd("Ben", "help chairs")
    assert "chairs nominate @member" in room.said_to("Ben") and "(co-chairs only: set, close)" in room.said_to("Ben")


async def test_a_nomination_is_agreed_by_consent_and_its_post_changes_in_place(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", "Dev", "Eve")  # Ann: the provisional co-chair
    channel_posts = len(room.sender.public())
    await room.cmd("Ben", "chairs nominate @Cara")
    posted = card(room)
    assert "Cara is nominated as co-chair (nomination 1), by Ben." in posted.text
    assert "Cara becomes a co-chair when 3 agree and nobody objects" in posted.text
    assert [b.command for b in posted.buttons] == ["chairs agree 1", "chairs stand-aside 1", "chairs object 1"]
    await room.press("Cara", "chairs agree 1")
    assert "This is your own nomination" in room.said_to("Cara")
    await room.press("Ben", "chairs agree 1")
    assert "So far: 1 agrees, 0 stand aside. Not agreed yet." in card(room).text
    versions = len(card_versions(room))
    await room.press("Ben", "chairs agree 1")  # a double click counts once
    await room.press("Ben", "chairs agree 1", event_id="E1")
    await room.press("Ben", "chairs agree 1", event_id="E1")  # the platform's retry: handled once
    assert room.said_to("Ben").count("Your answer is counted already") == 2
    assert len(card_versions(room)) == versions
    await room.cmd("Dev", "chairs stand aside 1")
    assert "So far: 1 agrees, 1 stands aside. Not agreed yet." in card(room).text
    await room.press("Eve", "chairs agree 1")
    assert "2 agree, 1 stands aside" in card(room).text
    assert [name for name, _ in await current_terms(db)] == ["Ann"]
    await room.press("Ann", "chairs agree 1")
    agreed = card(room)
    assert "Agreed: Cara is a co-chair now, for 12 months until 2027-11-26 (review on 2027-05-26)" in agreed.text
    assert agreed.buttons == () and agreed.replace
    assert len(room.sender.public()) == channel_posts + 1  # one post, changed in place
    assert {room.sender.ref(CARD.format(id=1))} == {s.ref for s in room.sender.log if s.post.key == CARD.format(id=1)}
    terms = await current_terms(db)
    assert [(n, t.months, t.review_on, t.ends_on) for n, t in terms][-1] == (
        "Cara",
        12,
        date(2027, 5, 26),
        date(2027, 11, 26),
    )
    async with db.transaction() as session:
        assert await session.scalar(select(func.count(ChairConsent.id))) == 4  # one row per member
    await room.press("Eve", "chairs object 1")
    assert "Nomination 1 is agreed already: Cara is a co-chair." in room.said_to("Eve")
    # two co-chairs now: nominating is for a community with fewer
    await room.cmd("Dev", "chairs volunteer")
    assert "We have 2 co-chairs already (Ann and Cara)" in room.said_to("Dev")
    assert "A co-chair changes them with `/cop chairs set @a @b [6|12]`" in room.said_to("Dev")


async def test_refusals_not_a_member_already_a_co_chair_already_nominated(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara")
    await room.cmd("Ben", "chairs nominate @Zed")  # mentioned, never joined
    assert "Zed hasn't joined North West — they can type `/cop join` in this channel" in room.said_to("Ben")
    assert "then anyone can nominate them (co-chairs are members)" in room.said_to("Ben")
    async with db.transaction() as session:
        assert await session.scalar(select(Member.id).where(Member.user_id == uid("Zed"))) is None
    await room.cmd("Ben", "chairs nominate @Ann")
    assert "Ann is a co-chair already." in room.said_to("Ben")
    await room.cmd("Ben", "chairs nominate")
    assert "Usage: /cop chairs nominate @member" in room.said_to("Ben")
    await room.cmd("Cara", "chairs volunteer")
    assert "Cara is nominated as co-chair (nomination 1) — they volunteered, thank you." in card(room).text
    await room.cmd("Ben", "chairs nominate @Cara")
    assert "Cara is nominated already (nomination 1)" in room.said_to("Ben")
    await room.cmd("Cara", "chairs volunteer")
    assert "Cara is nominated already (nomination 1)" in room.said_to("Cara")
    await room.cmd("Ben", "chairs agree 9")
    assert "There is no nomination 9" in room.said_to("Ben")
    await room.cmd("Ben", "chairs dance")
    assert "Usage: /cop chairs | chairs nominate @member | chairs volunteer" in room.said_to("Ben")
    await room.cmd("Ben", "leave")
    await room.cmd("Cara", "chairs nominate @Ben")  # left: a member no longer
    assert "Ben has left North West — they can type `/cop join` to come back" in room.said_to("Cara")
    await room.cmd("Ben", "join")
    await room.cmd("Cara", "chairs close 1")
    assert "Only a co-chair can close a nomination" in room.said_to("Cara")


async def test_an_objection_is_private_to_the_co_chairs_and_holds_until_withdrawn(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", "Dev", "Eve")
    await room.cmd("Ben", "chairs nominate @Cara")
    before = len(room.sender.log)
    await room.press("Dev", "chairs object 1")
    told = {s.post.private_to for s in room.sender.log[before:] if s.post.private_to}
    assert told == {uid("Dev"), uid("Ann")}  # the objector, and the co-chair; nobody else
    assert "Dev objects to nominating Cara as co-chair (nomination 1). Only you co-chairs are told" in room.said_to(
        "Ann"
    )
    assert "Your objection holds the round, and only the co-chairs are told" in room.said_to("Dev")
    for who in ("Ben", "Eve", "Ann"):
        await room.press(who, "chairs agree 1")
    held = card(room)
    assert "So far: 3 agree, 0 stand aside. Not agreed yet." in held.text
    assert [name for name, _ in await current_terms(db)] == ["Ann"]
    for version in card_versions(room):  # the channel never sees an objection, nor who made it
        assert "Dev" not in version.plain_text() and "objects to" not in version.text
        assert not re.search(r"\d+ object", version.text)
    await room.press("Dev", "chairs stand-aside 1")  # withdrawn
    assert "your objection is withdrawn" in room.said_to("Dev")
    assert "Agreed: Cara is a co-chair now" in card(room).text
    assert [name for name, _ in await current_terms(db)] == ["Ann", "Cara"]


async def test_a_co_chair_closes_a_round_held_by_an_objection(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", "Dev")
    await room.cmd("Ben", "chairs nominate @Cara")
    await room.press("Dev", "chairs object 1")
    await room.cmd("Ann", "chairs close 1")
    assert "This nomination was closed by a co-chair." in card(room).text and card(room).buttons == ()
    await room.press("Ben", "chairs agree 1")
    assert "Nomination 1 is closed." in room.said_to("Ben")
    await room.cmd("Dev", "chairs nominate @Cara")  # a new round, a new number
    assert "Cara is nominated as co-chair (nomination 2), by Dev." in card(room).text


async def test_no_lock_out_both_co_chairs_gone_then_two_agreed_by_consent(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", "Dev", "Eve", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "forget-me confirm")
    await room.cmd("Cara", "chairs volunteer")
    await room.press("Ben", "chairs object 1")  # Ben, the co-chair left, objects ...
    assert "Only you co-chairs are told" not in room.said_to("Ben")  # (no other co-chair to tell)
    await room.cmd("Ben", "forget-me confirm")  # ... then uses forget-me: his answer goes with him
    assert "co-chair consent answers: 1" in room.said_to("Ben")
    await room.cmd("Dev", "chairs")
    assert "This community has no co-chairs yet." in room.sender.public()[-1].text
    assert "Cara is nominated (nomination 1): not agreed yet" in room.sender.public()[-1].plain_text()
    await room.cmd("Dev", "chairs set @Dev @Eve")
    assert "Only a co-chair can set the co-chairs" in room.said_to("Dev")
    await room.cmd("Dev", "chairs nominate @Eve")
    await room.press("Dev", "chairs agree 1")  # Cara's: Dev and Eve are the others, so both agree
    assert "So far: 1 agrees, 0 stand aside. Not agreed yet." in room.sender.latest(CARD.format(id=1)).text
    await room.press("Eve", "chairs agree 1")
    assert "Agreed: Cara is a co-chair now" in room.sender.latest(CARD.format(id=1)).text
    await room.press("Cara", "chairs agree 2")
    await room.press("Dev", "chairs stand-aside 2")  # stand aside never blocks: Cara's agreement is enough
    assert "Agreed: Eve is a co-chair now" in room.sender.latest(CARD.format(id=2)).text
    terms = await current_terms(db)
    assert [(n, t.months, t.review_on) for n, t in terms] == [
        ("Cara", 12, date(2027, 5, 26)),
        ("Eve", 12, date(2027, 5, 26)),
    ]
    await room.cmd("Cara", "chairs set @Cara @Dev 6")  # the new co-chairs may now set them
    assert "Thank you, Cara and Dev" in room.sender.public()[-1].text


async def test_a_co_chair_who_leaves_is_one_no_longer_and_open_rounds_close_at_two(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", "Dev", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "leave")
    assert "Your term as co-chair ends with it" in room.said_to("Ann")
    await room.cmd("Cara", "chairs volunteer")
    await room.cmd("Dev", "chairs volunteer")
    await room.cmd("Ben", "chairs set @Ben @Dev")  # two co-chairs another way: the open rounds are not needed
    for n in (1, 2):
        assert "This nomination is closed: we have two co-chairs now." in room.sender.latest(CARD.format(id=n)).text


async def test_the_term_review_is_announced_at_six_months_and_the_end_at_twelve(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    await room.cmd("Ann", RULE)

    def reviews(posted: list[str]) -> list[str]:
        return [text for text in posted if "co-chairs" in text and "today" in text.lower()]

    assert reviews(await room.at(datetime(2027, 5, 26, 7, 59, tzinfo=UTC))) == []  # 08:59 Irish summer time
    review = reviews(await room.at(datetime(2027, 5, 26, 8, 0, tzinfo=UTC)))
    assert len(review) == 1
    assert "Today is the review of Ann and Ben's terms as co-chairs" in review[0]
    assert "The 12-month term runs until 2027-11-26" in review[0]
    assert reviews(await room.at(datetime(2027, 5, 27, 9, 0, tzinfo=UTC))) == []  # once
    assert reviews(await room.at(datetime(2027, 11, 26, 8, 59, tzinfo=UTC))) == []
    end = reviews(await room.at(datetime(2027, 11, 26, 9, 0, tzinfo=UTC)))
    assert len(end) == 1 and "Ann and Ben's terms as co-chairs end today (2027-11-26)" in end[0]
    assert reviews(await room.at(datetime(2027, 11, 28, 9, 0, tzinfo=UTC))) == []
    async with db.transaction() as session:
        kinds = list(await session.scalars(select(Announcement.kind).where(Announcement.kind.like("term-%"))))
    assert sorted(kinds) == ["term-end", "term-review"]


async def test_a_six_month_term_is_reviewed_once_at_its_end(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben")
    await room.cmd("Ann", "chairs set @Ann @Ben 6")
    await room.cmd("Ann", RULE)
    posted = await room.at(datetime(2027, 5, 26, 8, 0, tzinfo=UTC))
    assert [t for t in posted if "terms as co-chairs end today (2027-05-26)" in t]
    assert not [t for t in posted if "Today is the review" in t]
    assert not [t for t in await room.at(datetime(2027, 5, 28, 8, 0, tzinfo=UTC)) if "co-chair" in t]


CONSENT_IN_THE_TERMINAL = """\
/as Ann
/cop join
/as Ben
/cop join
/as Cara
/cop join
/as Dev
/cop join
/as Ann
/cop forget-me confirm
/as Ben
/cop chairs volunteer
/as Cara
/cop chairs object 1
/cop chairs agree 1
/as Dev
/cop chairs agree 1
/cop chairs
"""


async def test_consent_in_the_terminal(tmp_path):
    out = io.StringIO()
    await run_console(Lines(CONSENT_IN_THE_TERMINAL), out, db_path=str(tmp_path / "cop.db"), community="North West")
    screen = out.getvalue()
    assert "Traceback" not in screen
    assert "provisional co-chair until the group agrees on two" in screen
    posted = re.findall(r"#(\d+) copbot:\n  Ben is nominated as co-chair", screen)
    updated = re.findall(r"#(\d+) copbot \(updated\):\n  Ben is nominated as co-chair", screen)
    assert len(posted) == 1 and len(updated) == 2 and set(updated) == set(posted)
    assert "[Agree → /cop chairs agree 1]" in screen
    assert re.search(r"\(only cara sees this\):\n  Thank you for saying so", screen)
    assert re.search(r"\(only cara sees this\):\n  Thank you — your objection is withdrawn", screen)
    assert re.search(r"Agreed: Ben is a co-chair now, for 12 months until \d{4}-\d\d-\d\d \(review on", screen)
    assert "Cara objects" not in screen  # no co-chair was left to tell, and the channel never is
    assert re.search(r"Ben — 12-month term until \d{4}-\d\d-\d\d, review on", screen)


async def test_consent_in_a_slack_channel(sqlite_db, clock):
    async with running_stack(sqlite_db, clock, PEOPLE) as stack:
        slack = stack.slack
        await say(stack, "U1", "setup North West")
        for user in ("U2", "U3", "U4"):
            await say(stack, user, "join")
        await say(stack, "U2", "chairs nominate <@U3|cara>")
        nomination = slack.posts()[-1]
        assert "Cara is nominated as co-chair (nomination 1), by Ben." in nomination.text
        ts = slack.ts_of(nomination)

        async def press(user: str, command: str) -> None:
            assert (await stack.requests.press(user, ts, button(nomination, command))).status == 200
            await stack.settle()

        await press("U4", "chairs object 1")
        assert "Dev objects to nominating Cara" in slack.ephemerals("U1")[-1].text  # Ann, the co-chair
        assert "Your objection holds the round" in slack.ephemerals("U4")[-1].text
        await press("U1", "chairs agree 1")
        await press("U2", "chairs agree 1")
        await press("U4", "chairs agree 1")  # the objection withdrawn: 3 agree
        shown = [c.text for c in [*slack.posts(), *slack.calls_to("chat.update")]]
        assert not [text for text in shown if "object" in text.lower() and "Dev" in text]
        versions = updates_of(stack, nomination)
        assert "So far: 1 agrees, 0 stand aside. Not agreed yet." in versions[0].text
        assert "Agreed: Cara is a co-chair now" in versions[-1].text
        assert len(versions) == 3  # the objection itself changed nothing shown
        assert [c for c in slack.posts() if "is nominated as co-chair" in c.text] == [nomination]


async def test_help_usage_and_readme_name_the_same_chairs_forms(db, clock):
    forms = [form.split(" <")[0].split(" @")[0].split(" [")[0] for form in CHAIRS_FORMS.split(" | ")]
    assert {"chairs nominate", "chairs volunteer", "chairs stand-aside", "chairs object", "chairs close"} <= set(forms)
    room = Room(db, clock)
    await room.setup("Ann", "Ben")
    await room.cmd("Ben", "help chairs")
    await room.cmd("Ben", "chairs dance")
    said = room.said_to("Ben")
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    rows = "\n".join(line for line in readme.splitlines() if line.startswith("| `chairs"))
    for form in forms:
        assert said.count(form) >= 2, form  # in help, and in the usage line
        assert f"`{form}" in rows, form
    assert "provisional co-chair" in readme and "nobody objects" in rows and "nobody objects" in said
