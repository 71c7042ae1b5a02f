"""Issue 20, points 1–3 and 5: the annual review survey. Opened by co-chairs or today's lead (or
by the scheduler once a year, claimed once), answered by each member at their own pace, kept
without names — who responded apart from what was answered, nothing linking them — and its
results (a table and a chart) only when at least 3 answered; bad input changes nothing."""

from __future__ import annotations

import asyncio
import struct
from datetime import UTC, datetime

from sqlalchemy import func, inspect, select, text

from bot.vocabulary.conversation import Attachment, Post, post_from_json, post_to_json
from flows.review_chart import ChartRow, alt_text, chart_png
from flows.review_survey import QUESTIONS, REFLECTIVE_TOPIC, send_command, spread
from storage.db import Database
from storage.models import Announcement, Member, OutboxPost, ReviewAnswer, ReviewResponder, ReviewSurvey, Topic
from tests.fakes.slack_api import running_stack
from tests.support.room import Room, uid
from tests.support.room import workers as two_workers
from tests.support.slack_meeting import PEOPLE, say
from tests.support.teams_channel import TeamsChannel
from tests.support.terminal import run_script

MARCH = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_PNG_BYTES = 28_000  # small enough for a Teams card's data URI


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_MAGIC and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def _room(db: Database, clock, *members: str) -> Room:  # type: ignore[no-untyped-def]
    clock.now = MARCH
    room = Room(db, clock)
    await room.setup("Ann", "Ben", *members, chairs=("Ann", "Ben"))
    return room


async def _answers(db: Database) -> list[tuple[str, int | None, str | None]]:
    async with db.transaction() as session:
        rows = await session.execute(select(ReviewAnswer.question, ReviewAnswer.rating, ReviewAnswer.text))
        return sorted((tuple(row) for row in rows.all()), key=str)  # type: ignore[misc]


# -- the terminal, end to end ----------------------------------------------------------------

TERMINAL = (
    "/clock 2027-03-01 10:00\n/as Ann\n/cop review\n/cop review answer\n"
    "Peer connection and learning together\nfive\n7\n4\npass\n5\n4\n3\n4\n5\n4\n4\n/cop review answer\n"
    "/as Ben\n/cop join\n/cop review close\n/cop review answer\nWe learn from each other\n5\n"
    + "4\n" * 8
    + "/as Cara\n/cop join\n/cop review answer\nA safe space to reflect\n"
    + "3\n" * 9
    + "/as Ann\n/cop review close\n"
)


async def test_the_terminal_asks_one_question_at_a_time_and_shares_results_with_a_chart(tmp_path):
    screen = await run_script(TERMINAL, tmp_path, "North West")
    assert "Our yearly review of the COP is open until Monday 15 March" in screen
    assert "Your answers can't be changed once sent, because they're kept without your name." in screen
    assert "Question 1 of 10: What is the most important role of the COP to this group?" in screen
    assert "Question 2 of 10: How satisfied are you with the workings of the COP?" in screen
    assert (
        "1 very dissatisfied, 2 dissatisfied, 3 neither satisfied nor dissatisfied, 4 satisfied, 5 very satisfied"
        in screen
    )
    assert (
        "shared vision and objectives\n  Type a number from 1 to 5: 1 very poor, 2 poor, 3 fair, 4 good, 5 very good."
        in screen
    )
    assert "— “five” isn't one. Nothing was kept." in screen and "— “7” isn't one. Nothing was kept." in screen
    assert "You've sent your answers already" in screen  # Ann's second `review answer`
    assert "Only a co-chair or today's lead can close the review." in screen  # Ben
    assert "Our yearly review of the COP 2027: 3 answered." in screen
    # satisfaction 4, 5, 3 → median 4; vision: Ann passed, Ben 4, Cara 3 → fewer than 3
    assert (
        "How satisfied are you with the workings of the COP — median 4 (satisfied); most said 4–5; 3 answered" in screen
    )
    assert "Shared vision and objectives — fewer than 3 answered" in screen
    assert (
        "Effective and inclusive governance structures and practices — median 4 (good); most said 4–5; 3 answered"
        in screen
    )
    listed = screen.split("(in A–Z order, without names)")[1]
    assert listed.index("A safe space") < listed.index("Peer connection") < listed.index("We learn")  # sorted
    assert "Ann" not in listed and "Cara" not in listed
    chart = (tmp_path / "cop-review-2027.png").read_bytes()
    assert chart[:8] == PNG_MAGIC
    assert "Satisfaction 4; Shared vision not shown (fewer than 3 answered); Governance 4" in screen  # alt text
    assert f"“{REFLECTIVE_TOPIC}” is now among the topics for our next lead-topic vote" in screen


# -- the small-group rule --------------------------------------------------------------------


async def test_two_answers_show_no_results_and_three_do(db, clock):
    room = await _room(db, clock, "Cara")
    await room.cmd("Ann", "review")
    await room.cmd("Ann", send_command([4, 4, 4, 4, 4, 4, 4, 4, 4], "Support"))
    await room.cmd("Ben", send_command([5, 5, 5, 5, 5, 5, 5, 5, 5], "Learning"))
    closed = await room.cmd("Ann", "review close")
    said = "\n".join(post.plain_text() for post in closed)
    assert "Fewer than 3 of us answered, so no results are shown" in said
    assert "2" not in said and "Support" not in said and "median" not in said
    assert all(post.attachment is None for post in closed)

    clock.now = datetime(2028, 3, 1, 10, 0, tzinfo=UTC)  # next year: three answer
    await room.cmd("Ann", "review open 7")
    for who, rating in (("Ann", 4), ("Ben", 5), ("Cara", 2)):
        await room.cmd(who, send_command([rating] * 9, f"words of {who}"))
    closed = await room.cmd("Ann", "review close")
    results = closed[0]
    assert "Our yearly review of the COP 2028: 3 answered." in results.text
    assert results.attachment is not None and results.attachment.media_type == "image/png"
    lines = results.sections[0].lines
    assert (
        lines[0]
        == "How satisfied are you with the workings of the COP — median 4 (satisfied); most said 4–5; 3 answered"
    )
    assert results.sections[1].lines == ("words of Ann", "words of Ben", "words of Cara")
    # last year's survey had fewer than 3: nothing of it is set beside this year's
    assert "beside" not in results.text


async def test_this_year_is_shown_beside_last_year(db, clock):
    room = await _room(db, clock, "Cara")
    for year, ratings in ((2027, (3, 3, 4)), (2028, (4, 5, 5))):
        clock.now = datetime(year, 3, 1, 10, 0, tzinfo=UTC)
        await room.cmd("Ann", "review")
        for who, rating in zip(("Ann", "Ben", "Cara"), ratings, strict=True):
            await room.cmd(who, send_command([rating] * 9, ""))
        closed = await room.cmd("Ann", "review close")
        if year == 2027:
            async with db.transaction() as session:  # the group chose it as a lead topic that year
                topic = await session.scalar(select(Topic).where(Topic.title == REFLECTIVE_TOPIC))
                assert topic is not None
                topic.chosen_at = clock.now
    results = closed[0]
    assert "The chart is with this post, beside last year's." in results.text
    assert results.attachment is not None
    assert "2028, beside 2027: Satisfaction 5 (2027: 3)" in results.attachment.alt_text
    assert results.sections[1].lines == ("Fewer than 3 wrote an answer, so none is shown.",)
    async with db.transaction() as session:  # offered again, a year on, though a vote had chosen it
        topic = await session.scalar(select(Topic).where(Topic.title == REFLECTIVE_TOPIC))
        assert topic is not None and topic.chosen_at is None


# -- nothing links an answer to a member -----------------------------------------------------


async def test_nothing_in_the_database_links_an_answer_to_a_member(db, clock):
    room = await _room(db, clock, "Cara", "Dan")
    await room.cmd("Ann", "review")
    for who, rating in (("Ann", 4), ("Ben", 5), ("Cara", 2)):
        await room.cmd(who, send_command([rating] * 9, f"role {who}"))
    async with db.transaction() as session:
        responders = list(await session.execute(select(ReviewResponder.survey_id, ReviewResponder.member_id)))
        member_ids = {member_id for _, member_id in responders}
        members = {m.id: m for m in await session.scalars(select(Member))}
        # who responded: only (survey, member) and how far they got — no id, no time
        assert {c.key for c in inspect(ReviewResponder).columns} == {"survey_id", "member_id", "next_question"}
        assert len(responders) == 3
        # what was answered: a random id, the survey, one question's value — no member, no time
        assert {c.key for c in inspect(ReviewAnswer).columns} == {
            "id",
            "survey_id",
            "question",
            "rating",
            "text",
        }
        answers = list(await session.scalars(select(ReviewAnswer)))
        assert len(answers) == 30  # one row per question's value, not one per response
        ids = [answer.id for answer in answers]
        assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids) and len(set(ids)) == 30
        assert not {str(member_id) for member_id in member_ids} & set(ids)
        user_ids = {m.user_id for m in members.values()} | {m.name for m in members.values()}
        assert not any(
            answer.text and any(u in answer.text for u in ("U-ann", "U-ben", "U-cara")) for answer in answers
        )
        assert user_ids  # (members exist, and nothing above names them)
        # no other table got a row that could line an answer up with a member
        for table in ("attendance", "meetings", "support_statements", "reflection_answers"):
            assert await session.scalar(text(f"SELECT COUNT(*) FROM {table}")) == 0
        if db.url.startswith("sqlite"):  # WITHOUT ROWID: the rows have no insertion order
            for table in ("review_answers", "review_responders"):
                sql = await session.scalar(text(f"SELECT sql FROM sqlite_master WHERE name = '{table}'"))
                assert "WITHOUT ROWID" in sql
    # the outbox holds no answer: only "thank you" went to each member
    async with db.transaction() as session:
        contents = list(await session.scalars(select(OutboxPost.content)))
    assert not any("role Ann" in (content or "") for content in contents)
    before = set(ids)
    await room.cmd("Ann", "review close")
    async with db.transaction() as session:  # closed: who responded is gone, the count stays
        assert await session.scalar(select(func.count()).select_from(ReviewResponder)) == 0
        assert (await session.scalar(select(ReviewSurvey.responses))) == 3
        after = set(await session.scalars(select(ReviewAnswer.id)))
        assert len(after) == 30 and not after & before  # written again, under new ids, in their order


# -- one response per member; bad input changes nothing --------------------------------------


async def test_bad_input_is_answered_clearly_and_changes_nothing(db, clock):
    room = await _room(db, clock, "Cara")
    refused = await room.cmd("Cara", "review")  # not a co-chair: cannot open it
    assert "Only a co-chair or today's lead can open the review." in refused[0].text
    assert "No review survey is open." in (await room.cmd("Cara", "review answer"))[0].text
    await room.cmd("Ann", "review")
    assert "already open until Monday 15 March — 0 answered so far" in (await room.cmd("Ann", "review"))[0].text
    assert "answered in one window" in (await room.cmd("Cara", "review answer"))[0].text  # Slack: its window
    assert "“7” isn't one. Nothing was kept." in (await room.cmd("Cara", "review send 7"))[0].text
    assert "“five” isn't one. Nothing was kept." in (await room.cmd("Cara", "review send five"))[0].text
    assert "had no answers, so nothing was kept" in (await room.cmd("Cara", "review send"))[0].text
    assert "had no answers" in (await room.cmd("Cara", "review send - - - |"))[0].text
    assert await _answers(db) == []
    assert "Thank you" in (await room.cmd("Cara", send_command([4] * 9, "Our space")))[0].text
    again = await room.cmd("Cara", send_command([1] * 9, "Changed my mind"))
    assert "You've sent your answers already" in again[0].text and "can't be changed" in again[0].text
    assert len(await _answers(db)) == 10 and ("role", None, "Changed my mind") not in await _answers(db)
    assert "Only a co-chair or today's lead can close the review." in (await room.cmd("Cara", "review close"))[0].text
    assert "Usage: /cop review open [days]" in (await room.cmd("Ann", "review open 99"))[0].text
    assert "“smarch” isn't a month" in (await room.cmd("Ann", "schedule review Smarch"))[0].text
    assert "Only a co-chair can choose the month" in (await room.cmd("Cara", "schedule review April"))[0].text
    async with db.transaction() as session:
        assert (await session.scalar(select(ReviewSurvey.closed_on))) is None


async def test_forget_me_deletes_who_responded_and_keeps_the_answers(db, clock):
    room = await _room(db, clock, "Cara")
    await room.cmd("Ann", "review")
    await room.cmd("Cara", send_command([4] * 9, "Our space"))
    await room.cmd("Cara", "forget-me confirm")
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(ReviewResponder)) == 0
    assert len(await _answers(db)) == 10  # nobody's: they stay


# -- the chart ---------------------------------------------------------------------------------


def test_the_chart_is_a_small_png_a_phone_can_read_with_alt_text_naming_the_figures():
    rows = [ChartRow(q.short, 4.0 if n % 2 else 3.5, 3.0) for n, q in enumerate(QUESTIONS[1:])]
    data = chart_png(rows, 2028, 2027)
    width, height = _png_size(data)
    assert 400 <= width <= 1200 and 400 <= height <= 1400
    assert len(data) < MAX_PNG_BYTES
    words = alt_text(rows, 2028, 2027)
    assert words.startswith("Bar chart of the median rating out of 5 for each question, 2028, beside 2027:")
    assert "Satisfaction 3.5 (2027: 3); Shared vision 4 (2027: 3)" in words
    attachment = Attachment.binary("chart.png", "image/png", data, words)
    again = post_from_json(post_to_json(Post("results", attachment=attachment)))
    assert again.attachment == attachment and again.attachment.data() == data  # the outbox keeps it whole
    assert again.attachment.data_uri().startswith("data:image/png;base64,iVBORw0KGgo")


def test_the_spread_is_said_in_words():
    assert spread([4, 4, 5]) == "most said 4"
    assert spread([4, 5, 5, 4]) == "all said 4–5"
    assert spread([4, 5, 5, 1]) == "most said 4–5"
    assert spread([3, 3, 3]) == "all said 3"
    assert spread([1, 3, 5]) == "most said 3–5"


# -- the scheduler: the yearly post, once; the reminder; the close ----------------------------


async def test_the_yearly_survey_reminds_privately_and_closes_by_itself(db, clock):
    room = await _room(db, clock, "Cara", "Dan")
    await room.cmd("Ann", "here")  # a first meeting, on 1 March
    await room.cmd("Ann", "schedule review April")
    assert await room.at(datetime(2027, 3, 31, 12, 0, tzinfo=UTC)) == []
    opened = await room.at(datetime(2027, 4, 1, 9, 0, tzinfo=UTC))  # 10:00 Irish summer time: due at 09:00 local
    assert len(opened) == 1 and "open until Thursday 15 April" in opened[0]
    assert await room.at(datetime(2027, 4, 2, 9, 0, tzinfo=UTC)) == []  # once
    for who in ("Ann", "Ben", "Cara"):
        await room.cmd(who, send_command([4] * 9, ""))
    reminded = await room.at(datetime(2027, 4, 12, 9, 0, tzinfo=UTC))  # 3 days before it closes
    assert reminded == [
        "Our yearly review closes on Thursday 15 April: 3 answered so far. Thank you to everyone who has."
    ]
    assert "A gentle reminder" in room.said_to("Dan")
    assert all("A gentle reminder" not in room.said_to(who) for who in ("Ann", "Ben", "Cara"))
    assert await room.at(datetime(2027, 4, 13, 9, 0, tzinfo=UTC)) == []  # one reminder
    closed = await room.at(datetime(2027, 4, 15, 9, 0, tzinfo=UTC))
    assert any("Our yearly review of the COP 2027: 3 answered." in text for text in closed)
    assert await room.at(datetime(2027, 5, 1, 9, 0, tzinfo=UTC)) == []
    assert await room.at(datetime(2028, 3, 31, 9, 0, tzinfo=UTC)) == []
    assert any("yearly review" in text for text in await room.at(datetime(2028, 4, 1, 9, 0, tzinfo=UTC)))
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Topic).where(Topic.title == REFLECTIVE_TOPIC)) == 1


async def test_by_default_the_survey_goes_out_a_year_after_the_first_meeting(db, clock):
    room = await _room(db, clock)
    assert await room.at(datetime(2027, 3, 2, 9, 0, tzinfo=UTC)) == []  # no meeting yet: no survey
    await room.cmd("Ann", "here")  # the first meeting, on 2 March 2027
    assert await room.at(datetime(2027, 3, 20, 9, 0, tzinfo=UTC)) == []  # not in its own month
    assert await room.at(datetime(2028, 2, 29, 9, 0, tzinfo=UTC)) == []
    opened = await room.at(datetime(2028, 3, 1, 9, 0, tzinfo=UTC))  # (the co-chairs' term ends that day too)
    assert [text for text in opened if "Our yearly review of the COP is open" in text]


async def test_two_workers_post_the_yearly_survey_once(postgres_db, clock):
    room = await _room(postgres_db, clock)
    await room.cmd("Ann", "here")
    await room.cmd("Ann", "schedule review April")
    clock.now = datetime(2027, 4, 1, 9, 0, tzinfo=UTC)
    workers = two_workers(postgres_db, clock)
    try:
        await asyncio.gather(*(w.announce_due() for w in workers for _ in range(3)))
    finally:
        for worker in workers:
            await worker.db.dispose()
    async with postgres_db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(ReviewSurvey)) == 1
        claims = await session.scalar(
            select(func.count()).select_from(Announcement).where(Announcement.kind == "review")
        )
        keys = list(await session.scalars(select(OutboxPost.key).where(OutboxPost.key.like("review:%"))))
    assert claims == 1 and len(keys) == 1
    assert uid("Ann")  # (the room's members are the community's)


# -- Slack: one window of radio buttons, opened by the survey post's button -------------------

FORM = "application/x-www-form-urlencoded"


def _window_values(view: dict, ratings: dict[str, str], words: str | None) -> dict:  # type: ignore[type-arg]
    values: dict = {}  # type: ignore[type-arg]
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        key = block["block_id"].removeprefix("q:")
        element = block["element"]
        if element["type"] == "radio_buttons":
            chosen = ratings.get(key)
            option = next((o for o in element["options"] if o["value"] == chosen), None)
            values[block["block_id"]] = {"value": {"type": "radio_buttons", "selected_option": option}}
        else:
            values[block["block_id"]] = {"value": {"type": "plain_text_input", "value": words}}
    return values


async def test_slack_a_window_of_radio_buttons_one_response_each(sqlite_db, clock):
    clock.now = MARCH
    async with running_stack(sqlite_db, clock, PEOPLE) as stack:
        slack = stack.slack
        await say(stack, "U1", "setup North West")
        await say(stack, "U1", "review")
        survey = slack.find_post("Our yearly review of the COP is open")
        opener = next(b for b in survey.buttons() if b["action_id"] == "cop:questionnaire")
        assert [b for b in survey.buttons() if b.get("value") == "review answer"] == []  # the window stands in

        async def open_window(user: str) -> dict:  # type: ignore[type-arg]
            assert (await stack.requests.press(user, slack.ts_of(survey), opener)).status == 200
            await stack.settle()
            return slack.calls_to("views.open")[-1].params["view"]

        view = await open_window("U2")
        radios = [b for b in view["blocks"] if b["type"] == "input" and b["element"]["type"] == "radio_buttons"]
        assert len(radios) == 9 and all(b["optional"] for b in radios)
        assert radios[0]["label"]["text"] == "2. How satisfied are you with the workings of the COP?"
        assert [o["text"]["text"] for o in radios[1]["element"]["options"]] == [
            "1 very poor",
            "2 poor",
            "3 fair",
            "4 good",
            "5 very good",
        ]
        assert "can't be changed once sent" in view["blocks"][0]["elements"][0]["text"]

        async def submit(user: str, view: dict, ratings: dict[str, str], words: str | None):  # type: ignore[no-untyped-def,type-arg]
            body = stack.requests.view_submission_body(user, view, _window_values(view, ratings, words))
            response = await stack.requests.send(body, FORM)
            assert response.status == 200
            await stack.settle()
            text = await response.text()
            return text

        # an empty window: it stays open with a sentence, nothing kept
        said = await submit("U2", view, {}, None)
        assert "Answer at least one question" in said
        assert await _answers(sqlite_db) == []
        await submit("U2", view, {"satisfaction": "4", "vision": "5"}, "Learning from peers")
        assert "your answers are kept, without your name" in slack.ephemerals("U2")[-1].text
        assert sorted(await _answers(sqlite_db), key=str) == sorted(
            [("satisfaction", 4, None), ("vision", 5, None), ("role", None, "Learning from peers")], key=str
        )
        # a second response by the same member is refused and keeps nothing
        again = await open_window("U2")
        await submit("U2", again, {"satisfaction": "1"}, "Something else")
        assert "You've sent your answers already" in slack.ephemerals("U2")[-1].text
        assert len(await _answers(sqlite_db)) == 3
        # a forged choice (7) is refused clearly and keeps nothing
        forged = await open_window("U3")
        values = _window_values(forged, {}, None)
        values["q:satisfaction"] = {"value": {"type": "radio_buttons", "selected_option": {"value": "7"}}}
        response = await stack.requests.send(stack.requests.view_submission_body("U3", forged, values), FORM)
        assert response.status == 200
        await stack.settle()
        assert "“7” isn't one. Nothing was kept." in slack.ephemerals("U3")[-1].text
        assert len(await _answers(sqlite_db)) == 3
        async with sqlite_db.transaction() as session:
            assert await session.scalar(select(func.count()).select_from(ReviewResponder)) == 1


# -- Teams: one card with choice sets ------------------------------------------------------------


async def test_teams_the_card_with_choice_sets_is_submitted(channel: TeamsChannel, sqlite_db, clock):
    clock.now = MARCH
    await channel.say("Ann", "@copbot setup North West")
    await channel.say("Ann", "@copbot review")
    card = channel.latest_card("Our yearly review of the COP is open")
    body = (card.card or {})["body"]
    choice_sets = [b for b in body if b.get("type") == "Input.ChoiceSet"]
    assert len(choice_sets) == 9 and all(b["style"] == "expanded" and not b["isRequired"] for b in choice_sets)
    assert choice_sets[0]["choices"][4] == {"title": "5 very satisfied", "value": "5"}
    assert [b["title"] for b in card.buttons()] == ["Send my answers"]  # the card stands in for the button
    await channel.press("Ann", card, "Send my answers")  # nothing filled in: nothing kept, said clearly
    assert "That response had no answers, so nothing was kept." in channel.private_to("Ann")
    await channel.press("Ann", card, "Send my answers", q_satisfaction="7")
    assert "“7” isn't one. Nothing was kept." in channel.private_to("Ann")
    assert await _answers(sqlite_db) == []
    inputs = {"q_role": "A place to be heard", "q_satisfaction": "5", "q_vision": "4"}
    await channel.press("Ann", card, "Send my answers", **inputs)
    assert "your answers are kept, without your name" in channel.private_to("Ann")
    assert sorted(await _answers(sqlite_db), key=str) == sorted(
        [("satisfaction", 5, None), ("vision", 4, None), ("role", None, "A place to be heard")], key=str
    )
    await channel.press("Ann", card, "Send my answers", q_satisfaction="1")
    assert "You've sent your answers already" in channel.private_to("Ann")
    assert len(await _answers(sqlite_db)) == 3


def test_teams_results_card_carries_the_chart_as_a_small_data_uri_or_says_it_could_not():
    from adapters.teams.cards import IMAGE_TOO_LARGE, render_card

    rows = [ChartRow(q.short, 4.0, 3.0) for q in QUESTIONS[1:]]
    data = chart_png(rows, 2028, 2027)
    chart = Attachment.binary("chart.png", "image/png", data, alt_text(rows, 2028, 2027))
    card = render_card(Post("Our yearly review of the COP 2028", attachment=chart))
    image = next(b for b in card["body"] if b["type"] == "Image")
    assert image["url"].startswith("data:image/png;base64,") and image["altText"].startswith("Bar chart")
    too_big = Attachment.binary("chart.png", "image/png", b"\x89PNG" + bytes(40_000), "a chart")
    card = render_card(Post("results", attachment=too_big))
    assert not [b for b in card["body"] if b["type"] == "Image"]
    assert any(IMAGE_TOO_LARGE in b.get("text", "").replace("\\", "") for b in card["body"])


async def test_slack_the_results_chart_goes_into_the_results_thread_with_alt_text(sqlite_db, clock):
    clock.now = MARCH
    async with running_stack(sqlite_db, clock, PEOPLE) as stack:
        slack = stack.slack
        await say(stack, "U1", "setup North West")
        await say(stack, "U1", "review")
        for user, rating in (("U1", 4), ("U2", 5), ("U3", 3)):
            await say(stack, user, send_command([rating] * 9, ""))
        await say(stack, "U1", "review close")
        results = slack.find_post("Our yearly review of the COP 2027: 3 answered.")
        (upload, data), *_ = slack.files_shared()
        assert data[:8] == PNG_MAGIC and len(data) < MAX_PNG_BYTES
        assert upload.params.get("thread_ts") == slack.ts_of(results)
        asked = slack.calls_to("files.getUploadURLExternal")[-1].params  # files_upload_v2 sends alt_txt here
        assert asked["filename"] == "cop-review-2027.png"
        assert asked["alt_txt"].startswith("Bar chart of the median rating out of 5 for each question, 2027:")
        assert "Satisfaction 4" in asked["alt_txt"]
