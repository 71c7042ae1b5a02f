"""The vote on the next session's lead topic (dot-voting with a budget, or single choice).

States (the vote's ``status`` column)::

    (none) --vote (co-chair)--> OPEN --close--> CLOSED (winner = next lead topic)
                                OPEN --close, top tied--> TIED --close <number>--> CLOSED
    OPEN: members vote and take votes back (choosing again); `propose` adds candidates at any
    time; results stay hidden until the co-chair closes.
"""

from __future__ import annotations

from datetime import timedelta

from bot.registry import Closable, Command, FlowRouter, Forgetter
from bot.vocabulary.conversation import Button, Post, Section
from bot.vocabulary.errors import NothingOpen, UsageError
from bot.vocabulary.text import number, plural, trimmed
from flows.turn import CO_CHAIRS_OR_TODAYS_LEAD, Turn
from storage import community as communities
from storage import votes as store
from storage.models import Topic, TopicVote
from storage.states import VoteStatus

# The guide's topic ideas: the candidates of a community's first vote (the duplicate removed).
GUIDE_TOPICS = (
    "Working together to build the engagement population",
    "Peer Work in the community",
    "Speak Truth to Power: Intersectional Advocacy in Recovery Colleges",
    "Exploring Peer Run Respites as Effective Crisis Alternatives",
    "Exploring Certification Processes and their Impact on Growing the Workforce",
    "Growing as Professionals: Translating Prior Work Experience into Relevant Skills for Success",
    "Navigating Ethics and Boundaries as lived experience professionals",
    "Community Conversation: Supporting People Navigating Eating Challenges",
    "Community Conversation: Harm Reduction",
    "Writing and Implementing Policies and Procedures that Support People with Lived Experience",
    "Transitioning from a Direct Service Role to a Supervisory Role",
    "Peer Workers as Supervisors",
    "Building Connecting",
    "Integrating Peer Support into Housing Services",
    "Understanding the Mental Health Act and its Impact",
    "Language Challenges in Mental Health",
    "Values-Driven Evaluation: How to Meaningfully Demonstrate the Unique Impact of Recovery & Engagement Services",
    "The Experience of Peers who are Supervised by Non-Peers",
)
DOUBLE_CLICK = timedelta(seconds=2)
MAX_TOPIC_CHARS = 200

OPENED = "Vote: what should our next session's lead topic be?"
RULES_DOTS = "You have {budget} votes to spread as you like; choose a topic again to take a vote back."
RULES_SINGLE = "You have one vote; choose the topic again to take it back."
HIDDEN = "Results stay hidden until a co-chair closes the vote. Add a topic with `/cop propose <topic>`."
VOTERS = "{n} {who} voted so far."
TOPICS = "Topics"
ALREADY = "The vote is already open — choose topics on its post or with `/cop vote <number>`."
NOT_OPEN = "No vote is open. A co-chair can open one with `/cop vote`."
ONLY_CHAIR_OPENS = "Only a co-chair can open the vote. Type `/cop chairs` to see who they are."
YOUR_VOTES = "Your votes ({used} of {budget}): {list}"
NO_VOTES_YET = "You have not voted yet."
OVER_BUDGET = "You have used all {budget} of your votes. Choose one of your topics again to take a vote back."
NO_SUCH_TOPIC = "I couldn't find topic “{text}”. Use its number from the vote post, or `/cop propose <topic>`."
WHICH_TOPIC = "“{text}” matches several topics — please use the number."
PROPOSED = "Added “{title}” to the topics."
PROPOSED_LATER = "Added “{title}”; it will be on the next vote."
KNOWN = "“{title}” is already on the list."
NOBODY_VOTED = "Nobody has voted yet, so the vote stays open."
RESULTS = "The vote is closed. Thank you for voting."
WINNER = "Our next lead topic: {title}"
TIE = "It's a tie between: {titles}. A co-chair picks with `/cop close <number>`."
NOT_TIED = "Pick a topic with `/cop close <number>` only after a tie."
PICK_AMONG = "Please pick one of the tied topics: {numbers}."


def _key(vote: TopicVote) -> str:
    return f"vote:{vote.id}"


async def _ensure_topics(turn: Turn) -> None:
    community = turn.require_community()
    if not await store.has_topics(turn.session, community.id):
        for title in GUIDE_TOPICS:
            await store.add_topic(turn.session, community.id, title, turn.now)


async def _vote_post(turn: Turn, vote: TopicVote, *, replace: bool) -> Post:
    topics = await store.candidates(turn.session, vote.community_id)
    voters = await store.count_voters(turn.session, vote.id)
    rules = RULES_SINGLE if vote.budget == 1 else RULES_DOTS.format(budget=vote.budget)
    is_open = vote.status == VoteStatus.OPEN
    lines = tuple(f"{i}. {topic.title}" for i, topic in enumerate(topics, 1))
    buttons = tuple(Button(f"{i}. {topic.title}", f"vote {i}") for i, topic in enumerate(topics, 1)) if is_open else ()
    if is_open:
        buttons += (Button("Close the vote", "close vote", "primary"),)
    status = f"{rules}\n{HIDDEN}\n\n" if is_open else ""
    return Post(
        f"{OPENED}\n{status}{VOTERS.format(n=voters, who='member has' if voters == 1 else 'members have')}",
        sections=(Section(TOPICS, lines),),
        buttons=buttons,
        key=_key(vote),
        replace=replace,
    )


router = FlowRouter("topic vote")
VOTE_OPEN_USAGE = "Usage: /cop vote open [dots, 1 to 10]"


@router.verb(
    "vote",
    "vote | vote open [dots] | vote <topic or number>",
    "A co-chair opens the vote on the next lead topic; members vote (voting again for the "
    "same topic takes the vote back).",
    chair_forms={"open": "open the vote"},
    forms_who=CO_CHAIRS_OR_TODAYS_LEAD,
    menu="vote | vote open | vote <topic>: the next lead topic",
)
async def vote(turn: Turn, cmd: Command) -> list[Post]:
    if not cmd.args:
        if turn.community is not None and await turn.may_run_the_meeting():
            return await open_vote(turn, None)
        return await show(turn)
    if cmd.args[0].lower() == "open":
        budget = None
        if len(cmd.args) > 1:
            budget = number(cmd.args[1])
            if budget is None or not 1 <= budget <= 10:
                raise UsageError(VOTE_OPEN_USAGE)
        return await open_vote(turn, budget)
    return await cast(turn, cmd.rest)


async def open_vote(turn: Turn, budget: int | None) -> list[Post]:
    community = turn.require_community()
    await turn.require_chair_or_lead("open the vote")
    if await store.open_vote(turn.session, community.id) is not None:
        return [turn.private(ALREADY)]
    await _ensure_topics(turn)
    meeting = await communities.meeting_today(turn.session, community, turn.today)
    vote = await store.start_vote(turn.session, community.id, meeting.id, budget or community.vote_budget, turn.now)
    return [await _vote_post(turn, vote, replace=False)]


def _match(topics: list[Topic], wanted: str) -> int:
    """Index of the topic meant by a number or (part of) a title."""
    wanted = trimmed(wanted).lstrip("#").rstrip(".")
    typed = number(wanted)
    if typed is not None:
        index = typed - 1
        if 0 <= index < len(topics):
            return index
        raise UsageError(NO_SUCH_TOPIC.format(text=wanted))
    key = store.title_key(wanted)
    exact = [i for i, t in enumerate(topics) if t.title_key == key]
    if exact:
        return exact[0]
    partial = [i for i, t in enumerate(topics) if key and key in t.title_key]
    if len(partial) == 1:
        return partial[0]
    raise UsageError((WHICH_TOPIC if partial else NO_SUCH_TOPIC).format(text=wanted[:80]))


async def _my_votes_text(turn: Turn, vote: TopicVote, member_id: int, topics: list[Topic]) -> str:
    mine = set(await store.my_ballots(turn.session, vote.id, member_id))
    chosen = [f"{i}. {t.title}" for i, t in enumerate(topics, 1) if t.id in mine]
    if not chosen:
        return NO_VOTES_YET
    return YOUR_VOTES.format(used=len(chosen), budget=vote.budget, list="; ".join(chosen))


async def cast(turn: Turn, wanted: str) -> list[Post]:
    """A member's vote for a topic, or its withdrawal when chosen again."""
    community = turn.require_community()
    member = await turn.member()
    vote = await store.open_vote(turn.session, community.id)
    if vote is None or vote.status != VoteStatus.OPEN:
        raise NothingOpen(NOT_OPEN)
    topics = await store.candidates(turn.session, community.id)
    topic = topics[_match(topics, wanted)]
    window = DOUBLE_CLICK if turn.pressed_button else timedelta(0)
    outcome = await store.toggle_ballot(turn.session, vote, topic.id, member.id, turn.now, window)
    if outcome == "over-budget":
        return [turn.private(OVER_BUDGET.format(budget=vote.budget))]
    mine = await _my_votes_text(turn, vote, member.id, topics)
    posts = [turn.private(mine)]
    if outcome in ("cast", "withdrawn"):
        posts.insert(0, await _vote_post(turn, vote, replace=True))
    return posts


async def show(turn: Turn) -> list[Post]:
    """``vote`` with no topic from a member: their own votes, privately."""
    community = turn.require_community()
    member = await turn.member()
    vote = await store.open_vote(turn.session, community.id)
    if vote is None:
        return [turn.private(ONLY_CHAIR_OPENS)]
    topics = await store.candidates(turn.session, community.id)
    return [turn.private(await _my_votes_text(turn, vote, member.id, topics))]


@router.verb("propose", "propose <topic>", "Add a topic to the vote on the next lead topic.", free_text=True)
async def propose(turn: Turn, cmd: Command) -> list[Post]:
    community = turn.require_community()
    member = await turn.member()
    title = " ".join(trimmed(cmd.rest).split())
    if not title:
        raise UsageError("Usage: /cop propose <topic>")
    if len(title) > MAX_TOPIC_CHARS:
        raise UsageError(f"Please keep a topic under {MAX_TOPIC_CHARS} characters.")
    await _ensure_topics(turn)
    if not await store.add_topic(turn.session, community.id, title, turn.now, proposed_by=member.id):
        return [turn.private(KNOWN.format(title=title))]
    vote = await store.open_vote(turn.session, community.id)
    if vote is not None and vote.status == VoteStatus.OPEN:
        return [await _vote_post(turn, vote, replace=True), turn.private(PROPOSED.format(title=title))]
    return [turn.private(PROPOSED_LATER.format(title=title))]


async def close(turn: Turn, pick: str | None) -> list[Post]:
    community = turn.require_community()
    await turn.require_chair_or_lead("close the vote")
    vote = await store.open_vote(turn.session, community.id)
    if vote is None:
        raise NothingOpen(NOT_OPEN)
    topics = await store.candidates(turn.session, community.id)
    counts = await store.results(turn.session, vote.id)
    if not counts:
        return [turn.private(NOBODY_VOTED)]
    top = max(counts.values())
    leaders = [i for i, t in enumerate(topics) if counts.get(t.id) == top]
    result_lines = tuple(
        f"{i}. {t.title} — {plural(counts[t.id], 'vote')}"
        for i, t in sorted(enumerate(topics, 1), key=lambda pair: -counts.get(pair[1].id, 0))
        if counts.get(t.id)
    )
    if pick is None and len(leaders) > 1:
        if vote.status == VoteStatus.TIED:
            return [turn.private(PICK_AMONG.format(numbers=", ".join(str(i + 1) for i in leaders)))]
        store.mark_tied(vote)
        titles = "; ".join(f"{i + 1}. {topics[i].title}" for i in leaders)
        return [
            await _vote_post(turn, vote, replace=True),
            Post(
                TIE.format(titles=titles),
                sections=(Section("Results", result_lines),),
                buttons=tuple(Button(f"Pick {i + 1}", f"close {i + 1}", "primary") for i in leaders),
                key=f"{_key(vote)}:tie",
            ),
        ]
    if pick is not None:
        if vote.status != VoteStatus.TIED:
            raise UsageError(NOT_TIED)
        chosen = _match(topics, pick)
        if chosen not in leaders:
            return [turn.private(PICK_AMONG.format(numbers=", ".join(str(i + 1) for i in leaders)))]
    else:
        chosen = leaders[0]
    winner = topics[chosen]
    store.close_vote(vote, winner, turn.now)
    closed_post = await _vote_post(turn, vote, replace=True)
    winner.chosen_at = turn.now
    community.next_topic = winner.title
    return [
        closed_post,
        Post(
            f"{RESULTS}\n{WINNER.format(title=winner.title)}",
            sections=(Section("Results", result_lines),),
            key=f"{_key(vote)}:result",
        ),
    ]


async def _is_open(turn: Turn) -> bool:
    return await store.open_vote(turn.session, turn.require_community().id) is not None


router.closable(Closable("vote", _is_open, close, priority=10, takes_pick=True))
router.forgetter(Forgetter("votes", ("ballots", "topics"), store.forget_votes))
