"""Issue 18, what a co-chair tripped over: naming and renaming a community, mentions of people
who never joined, the day's welcome, the lead post (one copy, several volunteers, old buttons,
counts said in good grammar), and a co-chair who leaves or uses forget-me (confirmed first)."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from storage.models import CoChairTerm, Community, LeadTurn, Member
from tests.fakes.slack_api import running_stack
from tests.support.room import Room, uid
from tests.support.slack_meeting import button, press, say, updates_of
from tests.support.teams_channel import TeamsChannel
from tests.support.terminal import run_script


def lead_posts(room: Room) -> list[str]:
    """The lead posts the channel got as new messages (not their updates)."""
    return [p.text for p in room.sender.public() if p.text.startswith("Who would like to lead")]


def latest_lead(room: Room) -> str:
    return next(s.post for s in reversed(room.sender.log) if s.post.text.startswith("Who would like to lead")).text


async def member_names(db) -> list[str]:  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        return sorted(await session.scalars(select(Member.name)))


# -- 3. the first setup names the community; co-chairs rename it ---------------------------------


async def test_the_first_setup_in_the_terminal_names_the_community(tmp_path):
    screen = await run_script("/cop setup North East\n/cop members\n", tmp_path)
    assert "Welcome to the North East Community of Practice!" in screen
    assert "Members of North East (1)" in screen
    assert "Terminal" not in screen.split("\n", 2)[2] and "already belongs" not in screen
    again = await run_script("/cop setup Somewhere Else\n", tmp_path, community="Other")
    assert "called “North East” already; `--community` only names a new one" in again
    assert "already belongs to the North East Community of Practice. A co-chair can give it another name" in again


async def test_a_co_chair_renames_the_community_in_the_terminal(tmp_path):
    script = "/cop join\n/as Ben\n/cop join\n/cop rename Ben's Club\n/as Chair\n/cop rename North East\n/cop members\n"
    screen = await run_script(script, tmp_path)
    assert "Welcome to the Terminal Community of Practice" in screen  # nobody named it: the default
    assert "Only a co-chair can rename the community" in screen
    assert (
        "Our community is now called the North East Community of Practice (it was Terminal). Renamed by Chair."
        in screen
    )
    assert "Members of North East (2)" in screen


async def test_rename_refusals_and_tidy_names(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben")
    other = Room(db, clock, channel="C2")
    await other.setup("Sue", name="South")
    await room.cmd("Ann", "rename")
    assert "Usage: /cop rename <new name>" in room.said_to("Ann")
    await room.cmd("Ann", "rename south")
    assert "Another community is already called “south”" in room.said_to("Ann")
    await room.cmd("Ann", "rename North West")
    assert "already called North West" in room.said_to("Ann")
    await room.cmd("Ann", "rename  “North  East Community of Practice” ")
    assert "now called the North East Community of Practice (it was North West)" in room.sender.public()[-1].text
    await room.cmd("Ben", "setup Elsewhere")
    assert "already belongs to the North East Community of Practice" in room.said_to("Ben")
    async with db.transaction() as session:
        assert sorted(await session.scalars(select(Community.name))) == ["North East", "South"]


async def test_rename_in_slack_and_teams(sqlite_db, clock, channel: TeamsChannel):
    async with running_stack(sqlite_db, clock, {"U1": "Ann", "U2": "Ben"}) as stack:
        await say(stack, "U1", "setup North West")
        await say(stack, "U2", "join")
        await say(stack, "U2", "rename Ben Land")
        assert "Only a co-chair can rename the community" in stack.slack.ephemerals("U2")[-1].text
        await say(stack, "U1", "rename North East")
        assert "now called the North East Community of Practice" in stack.slack.posts()[-1].text
    await channel.say("Ann", "@copbot setup Midlands")
    await channel.say("Ann", "@copbot rename East Midlands")
    assert channel.cards_with("now called the East Midlands Community of Practice (it was Midlands)")


# -- 4. a mention of someone who has not joined is refused, never made a member ------------------


async def test_mentions_of_people_who_never_joined_are_refused(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben")
    await room.cmd("Ann", "chairs set @Nobody @Ann")
    assert "Nobody hasn't joined North West — they can type `/cop join` in this channel" in room.said_to("Ann")
    await room.cmd("Ann", "lead confirm @Zed")
    assert "Zed hasn't joined North West — they can type `/cop join`" in room.said_to("Ann")
    await room.cmd("Ben", "chairs nominate @Zed")
    assert room.said_to("Ben").count("Zed hasn't joined") == 1
    await room.cmd("Ann", "chairs set Nobody Ann")  # a name without @, of nobody here
    assert "I don't know “Nobody” in North West" in room.said_to("Ann")
    assert await member_names(db) == ["Ann", "Ben"]  # nobody was made a member
    await room.cmd("Ben", "leave")
    await room.cmd("Ann", "lead confirm @Ben")
    assert "Ben has left North West — they can type `/cop join` to come back" in room.said_to("Ann")
    await room.cmd("Ann", "chairs set @Ann @Ben")
    assert room.said_to("Ann").count("Ben has left") == 2
    async with db.transaction() as session:
        assert await session.scalar(select(func.count(LeadTurn.id))) == 0
        assert not (await session.get(Member, 2)).active  # type: ignore[union-attr]


async def test_mentions_of_people_who_never_joined_in_the_terminal(tmp_path):
    script = (
        "/cop join\n/as Ann\n/cop join\n/as Chair\n/cop chairs set @Nobody @Ann\n/cop lead confirm @Zed\n/cop chairs\n"
    )
    screen = await run_script(script, tmp_path, community="North West")
    assert "Nobody hasn't joined North West — they can type `/cop join`" in screen
    assert "Zed hasn't joined North West — they can type `/cop join`" in screen
    assert "Nobody —" not in screen and "Zed will lead" not in screen


async def test_mentions_of_people_who_never_joined_in_slack_and_teams(sqlite_db, clock, channel: TeamsChannel):
    async with running_stack(sqlite_db, clock, {"U1": "Ann", "U2": "Ben", "U3": "Cara"}) as stack:
        await say(stack, "U1", "setup North West")
        await say(stack, "U2", "join")
        await say(stack, "U1", "chairs set <@U2|ben> <@U3|cara> 12")
        assert "Cara hasn't joined North West — they can type `/cop join`" in stack.slack.ephemerals("U1")[-1].text
        await say(stack, "U1", "lead confirm <@U3|cara>")
        assert "Cara hasn't joined" in stack.slack.ephemerals("U1")[-1].text
    await channel.say("Ann", "@copbot setup East")
    await channel.say("Ann", "@copbot lead confirm @Cara")
    await channel.say("Ann", "@copbot chairs set @Ann @Cara")
    assert (
        channel.private_to("Ann").count("Cara hasn&#x27;t joined East")
        + channel.private_to("Ann").count("Cara hasn't joined East")
        == 2
    )
    assert not channel.cards_with("Cara will lead")


async def test_a_step_6_answer_naming_someone_who_never_joined_makes_nobody_a_member(sqlite_db, clock):
    """A mention in an answer is words, not a member: the action stays the author's and the
    author is told, privately, who has not joined."""
    async with running_stack(sqlite_db, clock, {"U1": "Ann", "U2": "Ben", "U9": "Zed"}) as stack:
        await say(stack, "U1", "setup North West")
        await say(stack, "U2", "join")
        await say(stack, "U1", "reflect Boundaries")
        for _ in range(1, 6):
            await say(stack, "U1", "next")
            clock.advance(seconds=10)
        step_6 = stack.slack.ts_of(stack.slack.find_post("Step 6 of 6"))
        assert (
            await stack.requests.reply("U2", "action: <@U9> will ring the college by 1 March", step_6)
        ).status == 200
        await stack.settle()
        said = stack.slack.ephemerals("U2")[-1].text
    assert "Kept as an action for Ben, due Monday 1 March 2027" in said
    assert "Zed hasn't joined this community, so I haven't made them its owner" in said
    assert "here hasn't" not in said  # <!here> is everyone, not a person
    assert await member_names(sqlite_db) == ["Ann", "Ben"]


# -- 5. the day's welcome names the founder too, and keeps everyone -------------------------------


async def test_the_founders_join_is_welcomed_with_their_role_and_stays_in_the_post(db, clock):
    room = Room(db, clock)
    await room.cmd("Ann", "setup North West")
    await room.cmd("Ann", "join PSW")
    assert "Welcome, Ann (Peer Support Worker)! Glad you're here." in room.sender.public()[-1].text
    await room.cmd("Ben", "join IPS")
    await room.cmd("Cara", "join")
    welcome = room.sender.latest(f"community:1:joined:{clock.now.date().isoformat()}").text
    assert welcome == "Welcome, Ann (Peer Support Worker), Ben (IPS Worker) and Cara! Glad you're here."
    clock.advance(days=1)
    before = len(room.sender.public())
    await room.cmd("Ann", "join Peer Educator")  # a member already: her role is noted, privately
    await room.cmd("Ben", "join")
    assert len(room.sender.public()) == before
    assert "your role is now Peer Educator" in room.said_to("Ann")
    assert "You're a member of North West already, Ben" in room.said_to("Ben")


async def test_the_days_welcome_in_the_terminal_and_slack(tmp_path, sqlite_db, clock):
    script = "/cop setup North West\n/cop join PSW\n/as Ben\n/cop join IPS\n"
    screen = await run_script(script, tmp_path)
    assert "Welcome, Ann" not in screen
    assert re.search(r"\(updated\):\n  Welcome, Chair \(Peer Support Worker\) and Ben \(IPS Worker\)!", screen)
    async with running_stack(sqlite_db, clock, {"U1": "Ann", "U2": "Ben"}) as stack:
        await say(stack, "U1", "setup North West")
        await say(stack, "U1", "join PSW")
        await say(stack, "U2", "join")
        welcome = [c.text for c in stack.slack.posts() + stack.slack.calls_to("chat.update") if "Glad" in c.text]
        assert "Welcome, Ann (Peer Support Worker) and Ben!" in welcome[-1]


# -- 11. the lead post: one copy, several volunteers, old buttons, counts ----------------------


async def test_lead_again_updates_the_post_and_answers_privately(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "lead")
    await room.cmd("Cara", "lead")
    assert len(lead_posts(room)) == 1
    assert "We're choosing who leads our next meeting: I suggest Ann" in room.said_to("Cara")


async def test_two_volunteers_both_know_and_the_co_chairs_choose(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", "Dev", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "lead")
    await room.press("Cara", "lead volunteer")
    await room.press("Dev", "lead volunteer")
    post = latest_lead(room)
    assert "Cara and Dev have volunteered to lead — thank you all!" in post and "The co-chairs choose" in post
    assert "Dev has volunteered to lead our next meeting too, so the co-chairs will choose" in room.said_to("Cara")
    assert "Cara volunteered before you, so the co-chairs will choose" in room.said_to("Dev")
    for chair in ("Ann", "Ben"):
        assert "Cara and Dev have volunteered to lead our next meeting: please choose one" in room.said_to(chair)
    assert len(lead_posts(room)) == 1
    await room.cmd("Ann", "lead confirm")
    assert "which one leads? Type `/cop lead confirm @Cara` or `/cop lead confirm @Dev`" in room.said_to("Ann")
    await room.press("Cara", "lead skip")  # Cara withdraws: Dev still stands
    assert "Dev has volunteered to lead — thank you!" in latest_lead(room)
    await room.press("Cara", "lead volunteer")
    await room.press("Ben", "lead confirm @U-dev")
    assert "Dev will lead our next meeting. Thank you, Dev!" in room.sender.public()[-1].text
    assert "Dev will lead our next meeting — confirmed by Ben" in latest_lead(room)
    assert "Thank you for offering to lead — Dev will lead our next meeting this time" in room.said_to("Cara")
    async with db.transaction() as session:
        statuses = list(await session.scalars(select(LeadTurn.status).where(LeadTurn.status == "proposed")))
    assert statuses == []


async def test_an_old_lead_posts_buttons_say_who_was_confirmed(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "lead")
    await room.press("Cara", "lead volunteer")
    await room.cmd("Ann", "lead confirm")
    async with db.transaction() as session:
        turns = await session.scalar(select(func.count(LeadTurn.id)))
    for who, command in (("Ben", "lead volunteer"), ("Ben", "lead skip"), ("Ann", "lead confirm @U-ben")):
        await room.press(who, command)
        assert "Cara is confirmed to lead our next meeting already" in room.said_to(who)
    assert len(lead_posts(room)) == 1
    async with db.transaction() as session:
        assert await session.scalar(select(func.count(LeadTurn.id))) == turns  # no new choice started
    await room.cmd("Ben", "lead volunteer")  # typed, not an old button: offers for the meeting after
    assert "Ben has volunteered" in latest_lead(room)
    await room.press("Ben", "lead skip")
    clock.advance(days=90)
    await room.cmd("Ann", "support")  # the next meeting is held: Cara leads it, a new choice is due
    await room.press("Ben", "lead volunteer")  # the old post's button now offers for the meeting after
    assert "Ben has volunteered" in latest_lead(room)
    assert room.said_to("Ben").count("is confirmed to lead our next meeting already") == 2


async def test_counts_are_said_in_good_grammar(db, clock):
    room = Room(db, clock)
    await room.cmd("Ann", "setup North West")
    await room.cmd("Ben", "join")
    await room.cmd("Ben", "chairs volunteer")
    assert "Ben becomes a co-chair when 1 agrees and nobody objects" in room.sender.public()[-1].text
    assert "So far: 0 agree, 0 stand aside." in room.sender.public()[-1].text
    await room.cmd("Cara", "join")
    await room.cmd("Cara", "chairs stand-aside 1")
    card = room.sender.latest("chairs:nomination:1").text
    assert "when 1 agrees" in card and "So far: 0 agree, 1 stands aside." in card
    await room.cmd("Ann", "chairs agree 1")
    assert "We have 2 co-chairs already (Ann and Ben)" in (await _nominate_again(room))


async def _nominate_again(room: Room) -> str:
    await room.cmd("Cara", "chairs volunteer")
    return room.said_to("Cara")


async def test_lead_choices_in_the_terminal(tmp_path):
    script = (
        "/cop join\n/as Ann\n/cop join\n/as Ben\n/cop join\n/as Chair\n/cop lead\n/cop lead\n"
        "/as Ann\n/cop lead volunteer\n/as Ben\n/cop lead volunteer\n/as Chair\n/cop lead confirm @Ben\n"
    )
    screen = await run_script(script, tmp_path, community="North West")
    assert len(re.findall(r"#\d+ copbot:\n  Who would like to lead", screen)) == 1
    assert "(only chair sees this):\n  We're choosing who leads our next meeting" in screen
    assert "Ann and Ben have volunteered to lead — thank you all!" in screen
    assert "[Confirm Ann → /cop lead confirm @ann]  [Confirm Ben → /cop lead confirm @ben]" in screen
    assert "(only ann sees this):\n  Ben has volunteered to lead our next meeting too" in screen
    assert "Ben will lead our next meeting — confirmed by Chair" in screen
    assert "(only ann sees this):\n  Thank you for offering to lead — Ben will lead" in screen


async def test_volunteers_and_an_old_button_in_slack(sqlite_db, clock):
    people = {"U1": "Ann", "U2": "Ben", "U3": "Cara", "U4": "Dev"}
    async with running_stack(sqlite_db, clock, people) as stack:
        slack = stack.slack
        await say(stack, "U1", "setup North West")
        for user in ("U2", "U3", "U4"):
            await say(stack, user, "join")
        await say(stack, "U1", "lead")
        card = slack.find_post("Who would like to lead our next meeting")
        await say(stack, "U1", "lead")
        assert len([c for c in slack.posts() if "Who would like to lead" in c.text]) == 1
        await press(stack, "U3", card, "lead volunteer")
        await press(stack, "U4", card, "lead volunteer")
        both = updates_of(stack, card)[-1]
        assert "Cara and Dev have volunteered to lead" in both.text
        assert "Dev has volunteered to lead our next meeting too" in slack.ephemerals("U3")[-1].text
        assert "Cara volunteered before you" in slack.ephemerals("U4")[-1].text
        ts = slack.ts_of(card)
        assert (await stack.requests.press("U1", ts, button(both, "lead confirm @U4"))).status == 200
        await stack.settle()
        assert "Dev will lead our next meeting" in slack.posts()[-1].text
        assert not updates_of(stack, card)[-1].buttons()  # the card shows who leads, nothing to press
        old = button(both, "lead volunteer")  # an old copy of the card, still on someone's screen
        assert (await stack.requests.press("U2", ts, old)).status == 200
        await stack.settle()
        assert "Dev is confirmed to lead our next meeting already" in slack.ephemerals("U2")[-1].text


async def test_two_volunteers_in_teams(channel: TeamsChannel):
    await channel.say("Ann", "@copbot setup North West")
    for who in ("Ben", "Cara"):
        await channel.say(who, "@copbot join")
    await channel.say("Ann", "@copbot lead")
    await channel.say("Ann", "@copbot lead")
    assert len([c for c in channel.public() if c.kind != "update" and "Who would like to lead" in c.card_text]) == 1
    await channel.press("Ben", "Who would like to lead", "I'll lead")
    await channel.press("Cara", "Who would like to lead", "I'll lead")
    assert "Ben and Cara have volunteered to lead" in channel.latest_card("Who would like to lead").card_text
    assert "Cara has volunteered to lead our next meeting too" in channel.private_to("Ben")
    await channel.press("Ann", "Who would like to lead", "Confirm Cara")
    assert channel.cards_with("Cara will lead our next meeting")


# -- 12. a co-chair who leaves or uses forget-me; forget-me asks first ----------------------------


async def test_a_co_chair_who_leaves_is_announced_and_the_other_told(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
    await room.cmd("Ann", "leave")
    notice = room.sender.public()[-1].text
    assert "Ann has left the community, and their term as co-chair has ended with it" in notice
    assert "Ben is now our only co-chair." in notice and "`/cop chairs nominate @member`" in notice
    assert "so you are the only co-chair of" in room.said_to("Ben")
    assert "Your term as co-chair ends with it" in room.said_to("Ann")
    await room.cmd("Cara", "leave")  # not a co-chair: nothing to tell the channel
    assert room.sender.public()[-1].text == notice


async def test_forget_me_asks_first_then_lists_what_went_and_tells_the_channel(db, clock):
    room = Room(db, clock)
    await room.setup("Ann", "Ben", "Cara", chairs=("Ann", "Ben"))
    await room.cmd("Ben", "join IPS")
    await room.cmd("Ann", "support")
    await room.reply("Ben", "my statement", to="support:1")
    await room.cmd("Ben", "forget-me")
    ask = room.sender.private(uid("Ben"))[-1]
    assert "Are you sure?" in ask.text and "cannot be undone" in ask.text and "your term as co-chair" in ask.text
    assert [(b.label, b.command) for b in ask.buttons] == [("Yes, delete everything", "forget-me confirm")]
    assert "Ben" in await member_names(db)  # nothing deleted yet
    await room.cmd("Ben", "forget-me please")
    assert "Usage: /cop forget-me" in room.said_to("Ben")
    await room.press("Ben", "forget-me confirm")
    done = room.sender.private(uid("Ben"))[-1].plain_text()
    assert "Done: I deleted what I kept about you in North West:" in done
    assert "your membership and role (IPS Worker)" in done and "your term as co-chair (until 2027-11-26)" in done
    assert "support statements: 1" in done
    notice = room.sender.public()[-1].text
    assert notice.startswith("One of our co-chairs has stepped down. Ann is now our only co-chair.")
    assert "Ben" not in notice  # forgotten: not named
    assert "so you are the only co-chair of" in room.said_to("Ann")
    await room.cmd("Ann", "forget-me confirm")
    assert "We have no co-chair now." in room.sender.public()[-1].text
    async with db.transaction() as session:
        assert await session.scalar(select(func.count(CoChairTerm.id)).where(CoChairTerm.replaced_on.is_(None))) == 0


async def test_forget_me_in_a_private_chat_tells_each_community_channel(db, clock):
    north = Room(db, clock, channel="CN")
    await north.setup("Ann", "Ben", chairs=("Ann", "Ben"))
    private = Room(db, clock, channel="D-ben")
    private.sender = north.sender
    private.runtime.outboxes["slack"].sender = north.sender
    await private.cmd("Ben", "forget-me")
    assert "in North West" in north.said_to("Ben") and "Are you sure?" in north.said_to("Ben")
    await private.cmd("Ben", "forget-me confirm")
    await north.runtime.drain()
    told = [s for s in north.sender.log if s.place.channel_id == "CN" and "stepped down" in s.post.text]
    assert [s.post.private_to for s in told] == [None, uid("Ann")]


async def test_forget_me_and_a_co_chair_leaving_in_the_terminal(tmp_path):
    script = "/cop join\n/as Ann\n/cop join\n/as Chair\n/cop forget-me\n/cop forget-me confirm\n"
    screen = await run_script(script, tmp_path, community="North West")
    assert "[Yes, delete everything → /cop forget-me confirm]" in screen
    assert "your term as co-chair (until" in screen
    assert "One of our co-chairs has stepped down. We have no co-chair now." in screen


async def test_forget_me_confirmed_in_slack_and_teams(sqlite_db, clock, channel: TeamsChannel):
    async with running_stack(sqlite_db, clock, {"U1": "Ann", "U2": "Ben"}) as stack:
        await say(stack, "U1", "setup North West")
        await say(stack, "U2", "join")
        await say(stack, "U1", "chairs set <@U1|ann> <@U2|ben>")
        await say(stack, "U2", "forget-me")
        ask = stack.slack.ephemerals("U2")[-1]
        assert "Are you sure?" in ask.text
        ephemeral_ts = "1700000000.999999"
        assert (await stack.requests.press("U2", ephemeral_ts, button(ask, "forget-me confirm"))).status == 200
        await stack.settle()
        assert "your term as co-chair" in stack.slack.ephemerals("U2")[-1].text
        assert "One of our co-chairs has stepped down. Ann is now our only co-chair." in stack.slack.posts()[-1].text
        assert "you are the only co-chair of" in stack.slack.ephemerals("U1")[-1].text
    await channel.say("Ann", "@copbot setup East")
    await channel.say("Ben", "@copbot join")
    await channel.say("Ann", "@copbot chairs set @Ann @Ben")
    await channel.say("Ann", "@copbot leave")
    assert channel.cards_with("Ann has left the community")
    assert "you are the only co-chair of" in channel.private_to("Ben")
    await channel.say("Ben", "@copbot forget-me")
    assert "forget-me confirm" in channel.private_to("Ben")
    await channel.say("Ben", "@copbot forget-me confirm")
    assert "your term as co-chair" in channel.private_to("Ben")
    assert channel.cards_with("We have no co-chair now")
