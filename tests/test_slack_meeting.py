"""A whole meeting in a Slack channel, through the real stack: signed requests to the aiohttp
app, Bolt, the core, the outbox and the fake Slack Web API (which records what Slack would show)."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from storage.models import ActionItem, Member, ReflectionAnswer, SupportStatement
from tests.fakes.slack_api import BOT_USER_ID, running_stack
from tests.support.slack_meeting import PEOPLE, button, in_thread, press, press_on, reply, say, share, updates_of


async def test_whole_meeting_in_a_slack_channel(sqlite_db, clock):
    async with running_stack(sqlite_db, clock, PEOPLE) as stack:
        slack = stack.slack

        # -- setup, members, co-chairs --------------------------------------------------------
        await say(stack, "U1", "setup North West")
        assert "Welcome to the North West Community of Practice" in slack.posts()[-1].text
        for user in ("U2", "U3", "U4"):
            await say(stack, user, "join Peer Support Worker")
        welcomes = [c.text for c in slack.posts() + slack.calls_to("chat.update") if "Glad you're here" in c.text]
        assert len([c for c in slack.posts() if "Glad you're here" in c.text]) == 1  # one post, updated
        assert "Dev (Peer Support Worker)" in welcomes[-1]  # display names from users.info
        await say(stack, "U1", "chairs set <@U1|ann> <@U2|ben> 12")
        assert "Thank you, Ann and Ben: you are our co-chairs for 12 months" in slack.posts()[-1].text
        await say(stack, "U3", "help")
        assert "/cop support" in slack.ephemerals("U3")[-1].text  # only the asker sees help

        # -- the support round: thread replies, a modal answer without a name, the live tally -----
        await say(stack, "U3", "support")
        prompt = slack.find_post("I will support myself today by")
        assert prompt.params["channel"] == "C1" and "thread_ts" not in prompt.params
        await reply(stack, "U1", "asking for help", slack.ts_of(prompt))
        await reply(stack, "U2", "taking standing breaks every 10 mins", slack.ts_of(prompt))
        await share(stack, "U4", prompt, "being open to learning", anonymous=True)
        tally = updates_of(stack, prompt)
        assert tally and "3 of the 4 here have shared so far" in tally[-1].text
        assert "Cara" not in tally[-1].text  # never names who has not shared
        assert any("only you see this code" in c.text.lower() for c in slack.ephemerals("U4"))
        await press(stack, "U2", prompt, "close support")
        closing = slack.find_post("Our support statements for today")
        assert "Ann: asking for help" in closing.text
        assert "Ben: taking standing breaks every 10 mins" in closing.text
        assert "Shared without a name: being open to learning" in closing.text
        assert "Dev" not in closing.text
        assert "closed" in updates_of(stack, prompt)[-1].text

        # -- reflective practice: six steps, thread replies, one anonymous modal answer --------
        await say(stack, "U1", "reflect Peer work in the community")
        answers = {
            1: ("U3", "A client asked about my own story"),
            2: ("U4", "I felt unsure, then proud"),  # through the Share window, without a name
            3: ("U2", "Good: honesty. Bad: I rushed"),
            4: ("U3", "Boundaries protect both of us"),
            5: ("U1", "Pause before sharing"),
            6: ("U3", "<@U2> will draft a checklist by 2027-02-14"),
        }
        for number in range(1, 7):
            step = slack.find_post(f"Step {number} of 6")
            assert button(step, "share")["style"] == "primary"
            user, text = answers[number]
            if number == 2:
                await share(stack, user, step, text, anonymous=True)
                echo = in_thread(stack, step)
                assert echo and f"Shared without a name: {text}" in echo[-1].text
            else:
                await reply(stack, user, text, slack.ts_of(step))
            if number == 4:  # a second answer to the same step
                await reply(stack, "U1", "Supervision helps me see it", slack.ts_of(step))
            if number < 6:
                await press(stack, "U1", step, f"next reflection 1 {number}")
                assert "moved on" in updates_of(stack, step)[-1].text
        last_step = slack.find_post("Step 6 of 6")
        end = next(e for e in last_step.buttons() if e["value"].startswith("end "))
        await press(stack, "U2", last_step, end["value"])
        summary = slack.find_post("Summary of our reflection on: Peer work in the community")
        assert "Cara: A client asked about my own story" in summary.text
        assert "Shared without a name: I felt unsure, then proud" in summary.text
        assert "Ben: Good: honesty. Bad: I rushed" in summary.text
        assert "Cara: @Ben will draft a checklist by 2027-02-14 — action for Ben (answer 7)" in summary.text
        assert summary.text.count("2027-02-14") == 1
        assert "1 action agreed; it will be on the next agenda." in summary.text

        # -- the vote on the next lead topic, by buttons -----------------------------------------
        await say(stack, "U1", "vote open")
        ballot = slack.find_post("what should our next session's lead topic be?")
        assert len(ballot.buttons()) == 6  # 4 of the guide's topics, "More topics" and "Close the vote"
        for user, topic in (("U2", "vote 2"), ("U3", "vote 2"), ("U4", "vote 4"), ("U1", "vote 2")):
            await press(stack, user, ballot, topic)
        assert "4 members have voted so far." in updates_of(stack, ballot)[-1].text
        assert any("Your votes (1 of 3)" in c.text for c in slack.ephemerals("U4"))
        await press(stack, "U2", ballot, "close vote")
        result = slack.find_post("The vote is closed")
        assert "Our next lead topic: Peer Work in the community" in result.text

        # -- who leads next: volunteer (the lead post changes in place), a co-chair confirms -------
        await say(stack, "U1", "lead")
        proposal = slack.find_post("Who would like to lead our next meeting")
        await press(stack, "U4", proposal, "lead volunteer")
        volunteered = updates_of(stack, proposal)[-1]
        assert "Dev has volunteered to lead" in volunteered.text
        await press_on(stack, "U1", proposal, volunteered, "lead confirm @U4")
        assert "Dev will lead our next meeting on “Peer Work in the community”" in slack.posts()[-1].text

        # -- what Slack saw, overall ------------------------------------------------------------
        assert {c.params["channel"] for c in slack.calls if "channel" in c.params} == {"C1"}
        assert all(c.token == "xoxb-test-token" for c in slack.calls)
        assert not [c for c in slack.calls if c.status != 200]
        assert await stack.runtime.deliveries.undelivered("slack") == []
        async with sqlite_db.transaction() as session:
            statements = list(await session.scalars(select(SupportStatement)))
            assert sorted(s.text for s in statements) == [
                "asking for help",
                "being open to learning",
                "taking standing breaks every 10 mins",
            ]
            assert [s.member_id for s in statements if s.text == "being open to learning"] == [None]
            rows = list(await session.scalars(select(ReflectionAnswer).order_by(ReflectionAnswer.step)))
            assert [r.step for r in rows] == [1, 2, 3, 4, 4, 5, 6]
            assert [r.member_id for r in rows if r.step == 2] == [None]
            action = await session.scalar(select(ActionItem))
            assert action is not None and action.owner_id is not None


async def test_make_this_an_action_on_the_private_receipt(sqlite_db, clock):
    async with running_stack(sqlite_db, clock, PEOPLE) as stack:
        slack = stack.slack
        await say(stack, "U1", "setup North West")
        for user in ("U2", "U3", "U4"):
            await say(stack, user, "join")
        await say(stack, "U1", "chairs set <@U1|ann> <@U2|ben> 12")
        await say(stack, "U1", "reflect Boundaries at work")
        for number in range(1, 6):
            await press(stack, "U1", slack.find_post(f"Step {number} of 6"), f"next reflection 1 {number}")
        step = slack.find_post("Step 6 of 6")
        await reply(stack, "U3", "I will ask the team about a peer supervision group", slack.ts_of(step))
        receipt = [c for c in slack.ephemerals("U3") if "Kept in our action plan" in c.text][-1]
        make = button(receipt, "action 1")
        assert make["text"]["text"] == "Make this an action"
        async with sqlite_db.transaction() as session:
            assert await session.scalar(select(ActionItem)) is None  # kept in the plan only

        ephemeral_ts = "1700000000.999999"  # Slack names an ephemeral message by its container
        assert (await stack.requests.press("U4", ephemeral_ts, make)).status == 200  # not Dev's answer
        await stack.settle()
        assert "Only the member who shared answer 1, or a co-chair" in slack.ephemerals("U4")[-1].text
        for _ in range(2):  # Cara presses twice
            assert (await stack.requests.press("U3", ephemeral_ts, make)).status == 200
            await stack.settle()
        said = "\n".join(c.text for c in slack.ephemerals("U3"))
        assert "Kept as an action for Cara — it will be on the next agenda." in said
        assert "Answer 1 is already an action for Cara — it counts once." in said
        async with sqlite_db.transaction() as session:
            actions = list(await session.scalars(select(ActionItem)))
        assert len(actions) == 1 and actions[0].text == "I will ask the team about a peer supervision group"

        await press(stack, "U2", slack.find_post("Step 6 of 6"), "end reflection 1")
        summary = slack.find_post("Summary of our reflection on: Boundaries at work")
        assert "Cara: I will ask the team about a peer supervision group — action for Cara" in summary.text
        assert "1 action agreed; it will be on the next agenda." in summary.text


async def test_tally_is_coalesced_and_every_answer_kept(sqlite_db, clock):
    people = {f"U{i}": f"Member {i}" for i in range(1, 51)}
    async with running_stack(sqlite_db, clock, people, COPBOT_SLACK_PACE_PER_SECOND="20") as stack:
        await stack.requests.command("U1", "setup North West")
        await stack.settle()
        await stack.requests.command("U1", "support")
        await stack.settle()
        prompt = stack.slack.find_post("I will support myself today by")
        slow = stack.slack.hold("chat.update")  # Slack is slow to take the first tally update
        first, *others = people
        assert (await stack.requests.reply(first, f"answer of {first}", stack.slack.ts_of(prompt))).status == 200
        await stack.slack.wait_for(lambda: stack.slack.held.get("chat.update"))  # the first tally, in flight
        responses = [
            await stack.requests.reply(user, f"answer of {user}", stack.slack.ts_of(prompt)) for user in others
        ]
        assert all(r.status == 200 for r in responses)  # acknowledged without waiting for Slack
        slow.set()
        await stack.settle()
        updates = updates_of(stack, prompt)
        assert len(updates) == 2, len(updates)  # the one in flight, then one for the other 49
        assert "1 of 1 here has shared so far" in updates[0].text
        assert "50 of the 50 here have shared so far" in updates[-1].text
        async with sqlite_db.transaction() as session:
            assert len(list(await session.scalars(select(SupportStatement)))) == 50


async def test_member_text_never_pings(sqlite_db, clock):
    async with running_stack(sqlite_db, clock, PEOPLE) as stack:
        slack = stack.slack
        await say(stack, "U1", "setup North West")
        await say(stack, "U1", "reflect Boundaries")
        step = slack.find_post("Step 1 of 6")
        # typed literally in a modal, a real @channel in a thread reply, a literal one in a reply
        await share(stack, "U2", step, "<!channel> look & see <@U3>", anonymous=False)
        await reply(stack, "U3", "<!here> and <!channel> and &lt;!everyone&gt;", slack.ts_of(step))
        await say(stack, "U1", "end")
        summary = slack.find_post("Summary of our reflection")
        echo = in_thread(stack, step)[-1]
        assert "Ben shared: &lt;!channel&gt; look &amp; see &lt;@U3&gt;" in echo.text
        assert "&lt;!channel&gt; look &amp; see &lt;@U3&gt;" in summary.text
        assert "Cara: @here and @channel and &lt;!everyone&gt;" in summary.text
        for call in slack.calls_to("chat.postMessage") + slack.calls_to("chat.update"):
            for raw in ("<!channel>", "<!here>", "<!everyone>", "<@U"):
                assert raw not in call.text
            sections = [b for b in call.params.get("blocks", []) if b["type"] == "section"]
            assert all(b["text"].get("verbatim") for b in sections)
            assert call.params.get("link_names") in (None, False)
        assert BOT_USER_ID not in summary.text


async def test_lead_skip_and_volunteer_change_the_lead_post_and_opt_out_stays_private(sqlite_db, clock):
    async with running_stack(sqlite_db, clock, PEOPLE) as stack:
        slack = stack.slack
        await say(stack, "U1", "setup North West")
        for user, role in (("U2", "Peer Support Workers"), ("U3", "IPS"), ("U4", "Peer")):
            await say(stack, user, f"join {role}")
        welcome = [c.text for c in slack.posts() + slack.calls_to("chat.update") if "Glad you're here" in c.text][-1]
        assert "Welcome, Ben (Peer Support Worker) and Cara (IPS Worker)!" in welcome  # one post, updated
        assert "Did you mean Peer Support Worker, Family Peer Support Worker" in slack.ephemerals("U4")[-1].text
        await say(stack, "U4", "join")
        await say(stack, "U1", "lead")
        card = slack.find_post("Who would like to lead our next meeting")
        assert "I suggest Ann" in card.text
        posted = len(slack.posts())

        await press(stack, "U1", card, "lead skip")  # Ann: not me this time
        assert "I suggest Ben" in updates_of(stack, card)[-1].text
        assert "suggested someone else" in slack.ephemerals("U1")[-1].text
        await say(stack, "U2", "lead opt-out")  # Ben, for good, and privately
        assert "I won't suggest you to lead" in slack.ephemerals("U2")[-1].text
        assert "I suggest Cara" in updates_of(stack, card)[-1].text
        await press(stack, "U4", card, "lead volunteer")
        assert "Dev has volunteered" in updates_of(stack, card)[-1].text
        assert len(slack.posts()) == posted  # three changes, no new channel message
        assert len(updates_of(stack, card)) == 3
        assert not [c for c in slack.posts() if "opt" in c.text or "won't suggest" in c.text]
        await press_on(stack, "U1", card, updates_of(stack, card)[-1], "lead confirm @U4")
        assert "Dev will lead our next meeting" in slack.posts()[-1].text


async def test_an_answer_does_not_wait_long_for_a_slow_slack_to_name_its_author(db, clock):
    # users.info is asked once per member, and an answer waits for it only a moment: a slow
    # Slack holds no acknowledgement. The name comes with the member's next message.
    async with running_stack(db, clock, {**PEOPLE, "U9": "Nia"}) as stack:
        await say(stack, "U1", "setup North West")
        await say(stack, "U1", "reflect Boundaries at work")
        step = stack.slack.ts_of(stack.slack.find_post("Step 1 of 6"))
        slack_answers = stack.slack.hold("users.info")
        first = await asyncio.gather(*(stack.requests.reply("U9", f"first thought {n}", step) for n in range(3)))
        assert [r.status for r in first] == [200, 200, 200]  # acknowledged while Slack is silent
        async with db.transaction() as session:
            assert len((await session.scalars(select(ReflectionAnswer))).all()) == 3
            assert await session.scalar(select(Member.name).where(Member.user_id == "U9")) == "U9"
        slack_answers.set()
        await stack.slack.wait_for(lambda: stack.slack.calls_to("users.info"))
        await reply(stack, "U9", "a second thought", step)
        async with db.transaction() as session:
            assert await session.scalar(select(Member.name).where(Member.user_id == "U9")) == "Nia"
        assert len([c for c in stack.slack.calls_to("users.info") if c.params.get("user") == "U9"]) == 1
