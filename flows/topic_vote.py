"""The vote on the next session's lead topic (dot-voting with a budget, or single choice).

States (the vote's ``status`` column)::

    (none) --vote (co-chair)--> OPEN --close--> CLOSED (winner = next lead topic)
                                OPEN --close, nobody voted--> CLOSED (no winner; nothing changes)
                                OPEN --close, top tied--> TIED --close <number>--> CLOSED
                                OPEN --vote cancel (co-chair)--> CANCELLED (nothing decided)
                                TIED --vote cancel (co-chair)--> CANCELLED
    OPEN: members vote and take votes back (choosing again); `propose` adds candidates at any
    time; results stay hidden until the co-chair closes. `vote` from a co-chair shows the open
    (or tied) vote rather than opening another. CLOSED and CANCELLED end it: a new vote can open.

The vote's card offers a few topics as buttons (members' own proposals first, then the guide's
ideas) and "More topics" (`vote more`): every topic, numbered, in a post only the member sees.
"""

from __future__ import annotations

from datetime import timedelta

from bot.registry import Closable, Command, FlowRouter, Forgetter
from bot.vocabulary.conversation import Button, Post, Section
from bot.vocabulary.errors import NothingOpen, UsageError
from bot.vocabulary.text import number, plural, trimmed
from flows import attendance
from flows.turn import CO_CHAIRS_OR_TODAYS_LEAD, Turn
from storage import community as communities
from storage import votes as store
from storage.models import Member, Topic, TopicVote
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
# Topics offered as buttons on the vote's card; with "More topics" and "Close the vote" that is
# six buttons at most (Slack and Teams show a long row of buttons as a wall).
TOPIC_BUTTONS = 4

OPENED = "Vote: what should our next session's lead topic be?"
RULES_DOTS = "You have {budget} votes to spread as you like; choose a topic again to take a vote back."
RULES_SINGLE = "You have one vote; choose the topic again to take it back."
HIDDEN = "Results stay hidden until a co-chair closes the vote. Add a topic with `/cop propose <topic>`."
VOTERS = "{n} {who} voted so far."
VOTED = "{n} {who} voted."
TOPICS = "Topics"
MORE_TOPICS = "…and {n} more: press “More topics”, or type `/cop vote more`."
MORE_LABEL = "More topics"
CLOSE_LABEL = "Close the vote"
ALL_TOPICS = (
    "All {n} topics for our next lead topic. Vote with `/cop vote <number>`; typing it again takes the vote back."
)
ALL_TOPICS_TIED = "All {n} topics. Voting has ended in a tie; a co-chair picks the lead topic."
MINE = " (your vote)"
ALREADY = (
    "The vote is already open, so here it is again. To end it: `/cop close vote`; "
    "if it was opened by mistake: `/cop vote cancel`."
)
ALREADY_TIED = (
    "The vote has ended in a tie: pick the topic with `/cop close <number>`, "
    "or cancel the vote with `/cop vote cancel`."
)
NOT_OPEN = "No vote is open. A co-chair can open one with `/cop vote`."
ONLY_CHAIR_OPENS = "Only a co-chair can open the vote. Type `/cop chairs` to see who they are."
YOUR_VOTES = "Your votes ({used} of {budget}): {list}"
VOTES_LEFT = " — {left} left."
ALL_USED = " — all used: choose one of them again to take that vote back."
YOUR_VOTE = "Your vote: {topic}. Choose it again to take it back."
TAKE_IT_BACK = "Choose it again to take it back."
NO_VOTES_YET = "You have not voted yet: you have {votes} to spread as you like."
NO_VOTE_YET = "You have not voted yet: you have one vote."
COUNTED = "Counted: your vote for {topic}."
TAKEN_BACK = "Taken back: your vote for {topic}."
NONE_LEFT_ON = "You have no votes on any topic now: all {budget} are yours to use."
NO_VOTE_NOW = "You have no vote on any topic now: choose a topic when you're ready."
OVER_BUDGET = "You have used all {budget} of your votes. Choose one of your topics again to take a vote back."
NO_SUCH_TOPIC = "I couldn't find topic “{text}”. Use its number from the vote post, or `/cop propose <topic>`."
WHICH_TOPIC = "“{text}” matches several topics — please use the number."
PROPOSED = "Added “{title}” to the topics."
PROPOSED_LATER = "Added “{title}”; it will be on the next vote."
KNOWN = "“{title}” is already on the list."
RESULTS = "The vote is closed. Thank you for voting."
WINNER = "Our next lead topic: {title}"
TIE = "It's a tie between: {titles}. A co-chair picks with `/cop close <number>`."
TIE_SETTLED = "The tie was settled: our next lead topic is {title}."
TIED_CARD = "Voting has ended in a tie; a co-chair picks the lead topic."
NOT_TIED = "Pick a topic with `/cop close <number>` only after a tie."
PICK_AMONG = "Please pick one of the tied topics: {numbers}."
CLOSED_CARD = "The vote is closed. Our next lead topic: {title}"
NOBODY_VOTED = "The vote is closed. No votes were cast, so no new lead topic was chosen."
TOPIC_STAYS = "Our next session's lead topic stays “{title}”. A co-chair can open a new vote with `/cop vote`."
TOPIC_NOT_CHOSEN = "Our next session's lead topic is not chosen yet. A co-chair can open a new vote with `/cop vote`."
CANCELLED_CARD = "A co-chair cancelled this vote: nothing was decided, and the votes cast in it no longer count."
CANCELLED = (
    "The vote on the next lead topic was cancelled; nothing was decided. "
    "A co-chair can open a new one with `/cop vote`."
)
TIE_CANCELLED = "This tie was not settled: a co-chair cancelled the vote."
ALREADY_CANCELLED = "That vote was already cancelled. A co-chair can open a new one with `/cop vote`."
NOTHING_TO_CANCEL = "No vote is open, so there is nothing to cancel."

# The guide's ideas, as stored: a member's proposal is any other topic.
_GUIDE_KEYS = frozenset(store.title_key(title) for title in GUIDE_TOPICS)
# `vote <word>` with one of these is that form of the verb, never a vote for a topic.
RESERVED = frozenset({"open", "close", "cancel", "more"})
RESERVED_WORD = "“{word}” is a command word, not a topic: `/cop vote {word}`. To vote for a topic, use its number."
RESERVED_TITLE = "“{title}” is also a command (`/cop vote {title}`): please give the topic a few more words."


def _key(vote: TopicVote) -> str:
    return f"vote:{vote.id}"


async def _ensure_topics(turn: Turn) -> None:
    community = turn.require_community()
    if not await store.has_topics(turn.session, community.id):
        for title in GUIDE_TOPICS:
            await store.add_topic(turn.session, community.id, title, turn.now)


def _on_the_card(topics: list[Topic]) -> list[int]:
    """The numbers (1-based) of the topics the card offers as buttons: members' own proposals
    first, the most recent first (a member who proposes one sees it there), then the guide's
    ideas in order; shown in number order."""
    numbered = list(enumerate(topics, 1))
    proposed = [n for n, topic in reversed(numbered) if topic.title_key not in _GUIDE_KEYS]
    ideas = [n for n, topic in numbered if topic.title_key in _GUIDE_KEYS]
    return sorted((proposed + ideas)[:TOPIC_BUTTONS])


def _so_far(n: int) -> str:
    return VOTERS.format(n=n, who="member has" if n == 1 else "members have")


def _voted(n: int) -> str:
    return VOTED.format(n=n, who="member" if n == 1 else "members")


async def _vote_post(turn: Turn, vote: TopicVote, *, replace: bool) -> Post:
    """The vote's card, as its state says: open (a few topics, the tally), tied, closed with its
    result, or cancelled. Only an open vote counts voters "so far"."""
    voters = await store.count_voters(turn.session, vote.id)
    if vote.status == VoteStatus.OPEN:
        return await _open_card(turn, vote, voters, key=_key(vote), replace=replace)
    if vote.status == VoteStatus.TIED:
        ended = f"{TIED_CARD} {_voted(voters)}"
    elif vote.status == VoteStatus.CANCELLED:
        ended = CANCELLED_CARD
    else:
        winner = await store.winner_of(turn.session, vote)
        if winner is None:
            ended = NOBODY_VOTED
        else:
            ended = f"{CLOSED_CARD.format(title=winner.title)}\n{_voted(voters)}"
    return Post(f"{OPENED}\n{ended}", key=_key(vote), replace=replace)


async def _open_card(
    turn: Turn, vote: TopicVote, voters: int, *, key: str | None, replace: bool, intro: str = ""
) -> Post:
    topics = await store.candidates(turn.session, vote.community_id)
    rules = RULES_SINGLE if vote.budget == 1 else RULES_DOTS.format(budget=vote.budget)
    shown = _on_the_card(topics)
    lines = [f"{n}. {topics[n - 1].title}" for n in shown]
    buttons = [Button(f"{n}. {topics[n - 1].title}", f"vote {n}") for n in shown]
    if len(topics) > len(shown):
        lines.append(MORE_TOPICS.format(n=len(topics) - len(shown)))
        buttons.append(Button(MORE_LABEL, "vote more"))
    buttons.append(Button(CLOSE_LABEL, "close vote", "primary"))
    head = f"{intro}\n\n" if intro else ""
    return Post(
        f"{head}{OPENED}\n{rules}\n{HIDDEN}\n\n{_so_far(voters)}",
        sections=(Section(TOPICS, tuple(lines)),),
        buttons=tuple(buttons),
        key=key,
        replace=replace,
    )


router = FlowRouter("topic vote")
VOTE_OPEN_USAGE = "Usage: /cop vote open [dots, 1 to 10]"


@router.verb(
    "vote",
    "vote | vote open [dots] | vote close | vote cancel | vote more | vote <topic or number>",
    "A co-chair or today's lead opens the vote on the next lead topic (while one is open, `vote` "
    "shows it), closes it (`vote close` is `close vote`) and can cancel a vote opened by mistake; "
    "members vote by number or title (voting again for the same topic takes the vote back, and "
    "copbot says how many votes you have left); `vote more` lists every topic. The words open, "
    "close, cancel and more always mean these: vote for such a topic by its number.",
    chair_forms={"open": "open the vote", "close": "close the vote", "cancel": "cancel the vote"},
    forms_who=CO_CHAIRS_OR_TODAYS_LEAD,
    menu="vote | vote open | vote <topic>: the next lead topic",
)
async def vote(turn: Turn, cmd: Command) -> list[Post]:
    if not cmd.args:
        if turn.community is not None and await turn.may_run_the_meeting():
            return await open_vote(turn, None)
        return await show(turn)
    form = cmd.args[0].lower().strip("#.!?")  # `vote close.` is `vote close` too
    if form == "open":
        budget = None
        if len(cmd.args) > 1:
            budget = number(cmd.args[1])
            if budget is None or not 1 <= budget <= 10:
                raise UsageError(VOTE_OPEN_USAGE)
        return await open_vote(turn, budget)
    if form == "close":  # `vote close` is `close vote`; `vote close <number>` settles a tie
        return await close(turn, " ".join(cmd.args[1:]) or None)
    if form == "cancel":
        return await cancel(turn)
    if form == "more":
        return await all_topics(turn)
    return await cast(turn, cmd.rest)


async def open_vote(turn: Turn, budget: int | None) -> list[Post]:
    community = turn.require_community()
    await turn.require_chair_or_lead("open the vote")
    already = await store.open_vote(turn.session, community.id)
    if already is not None:
        return [await _shown_again(turn, already)]
    await _ensure_topics(turn)
    meeting = await communities.meeting_today(turn.session, community, turn.today)
    await attendance.mark_present(turn)
    vote = await store.start_vote(turn.session, community.id, meeting.id, budget or community.vote_budget, turn.now)
    return [await _vote_post(turn, vote, replace=False)]


async def _shown_again(turn: Turn, vote: TopicVote) -> Post:
    """The open vote, for a co-chair who asked to open one: only they see it (the channel's card
    stays the one that is counted and updated)."""
    if vote.status == VoteStatus.TIED:
        return turn.private(ALREADY_TIED)
    voters = await store.count_voters(turn.session, vote.id)
    card = await _open_card(turn, vote, voters, key=None, replace=False, intro=ALREADY)
    return turn.private(card.text, sections=card.sections, buttons=card.buttons)


async def cancel(turn: Turn) -> list[Post]:
    """``vote cancel`` (co-chairs): the open or tied vote ends with nothing decided."""
    community = turn.require_community()
    await turn.require_chair_or_lead("cancel the vote")
    vote = await store.open_vote(turn.session, community.id)
    if vote is None:
        latest = await store.latest_vote(turn.session, community.id)
        cancelled = latest is not None and latest.status == VoteStatus.CANCELLED
        return [turn.private(ALREADY_CANCELLED if cancelled else NOTHING_TO_CANCEL)]
    was_tied = vote.status == VoteStatus.TIED
    await store.cancel_vote(turn.session, vote, turn.now)
    posts = [await _vote_post(turn, vote, replace=True)]
    if was_tied:
        posts.append(Post(TIE_CANCELLED, key=f"{_key(vote)}:tie", replace=True))
    posts.append(Post(CANCELLED, key=f"{_key(vote)}:cancelled"))
    return posts


async def _the_vote_for(turn: Turn) -> tuple[TopicVote | None, Member, list[Topic]]:
    """The open vote (None if there is none), the member asking, and the topics."""
    community = turn.require_community()
    member = await turn.member()
    vote = await store.open_vote(turn.session, community.id)
    topics = await store.candidates(turn.session, community.id) if vote is not None else []
    return vote, member, topics


async def all_topics(turn: Turn) -> list[Post]:
    """``vote more``: every topic of the open vote, numbered, only for the member who asked."""
    vote, member, topics = await _the_vote_for(turn)
    if vote is None:
        raise NothingOpen(NOT_OPEN)
    mine = set(await store.my_ballots(turn.session, vote.id, member.id))
    lines = tuple(f"{n}. {topic.title}{MINE if topic.id in mine else ''}" for n, topic in enumerate(topics, 1))
    head = (ALL_TOPICS_TIED if vote.status == VoteStatus.TIED else ALL_TOPICS).format(n=len(topics))
    return [turn.private(head, sections=(Section(TOPICS, lines),))]


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
    if key in RESERVED:  # a command word is never a topic (`vote close` closes the vote)
        raise UsageError(RESERVED_WORD.format(word=key))
    exact = [i for i, t in enumerate(topics) if t.title_key == key]
    if exact:
        return exact[0]
    partial = [i for i, t in enumerate(topics) if key and key in t.title_key]
    if len(partial) == 1:
        return partial[0]
    raise UsageError((WHICH_TOPIC if partial else NO_SUCH_TOPIC).format(text=wanted[:80]))


async def _my_votes_text(
    turn: Turn, vote: TopicVote, member_id: int, topics: list[Topic], *, after: str | None = None
) -> str:
    """The member's votes and how many they have left. ``after`` is what they just did ("cast",
    "withdrawn"): with no votes left on any topic, that reads differently from never having voted."""
    mine = set(await store.my_ballots(turn.session, vote.id, member_id))
    chosen = [f"{i}. {t.title}" for i, t in enumerate(topics, 1) if t.id in mine]
    if not chosen:
        if after == "withdrawn":
            return NO_VOTE_NOW if vote.budget == 1 else NONE_LEFT_ON.format(budget=vote.budget)
        return NO_VOTE_YET if vote.budget == 1 else NO_VOTES_YET.format(votes=plural(vote.budget, "vote"))
    if vote.budget == 1:
        return TAKE_IT_BACK if after == "cast" else YOUR_VOTE.format(topic=chosen[0])
    left = vote.budget - len(chosen)
    tail = VOTES_LEFT.format(left=plural(left, "vote")) if left > 0 else ALL_USED
    return YOUR_VOTES.format(used=len(chosen), budget=vote.budget, list="; ".join(chosen)) + tail


async def cast(turn: Turn, wanted: str) -> list[Post]:
    """A member's vote for a topic, or its withdrawal when chosen again: they are told which, and
    how many votes they have left."""
    community = turn.require_community()
    member = await turn.member()
    vote = await store.open_vote(turn.session, community.id)
    if vote is None or vote.status != VoteStatus.OPEN:
        raise NothingOpen(NOT_OPEN)
    await attendance.mark_present(turn)
    topics = await store.candidates(turn.session, community.id)
    index = _match(topics, wanted)
    topic = topics[index]
    window = DOUBLE_CLICK if turn.pressed_button else timedelta(0)
    outcome = await store.toggle_ballot(turn.session, vote, topic.id, member.id, turn.now, window)
    if outcome == "over-budget":
        return [turn.private(OVER_BUDGET.format(budget=vote.budget))]
    mine = await _my_votes_text(turn, vote, member.id, topics, after=outcome)
    named = f"{index + 1}. {topic.title}"
    done = {"cast": COUNTED, "withdrawn": TAKEN_BACK}.get(outcome)
    posts = [turn.private(f"{done.format(topic=named)}\n{mine}" if done else mine)]
    if done:
        posts.insert(0, await _vote_post(turn, vote, replace=True))
    return posts


async def show(turn: Turn) -> list[Post]:
    """``vote`` with no topic from a member: their own votes, privately."""
    vote, member, topics = await _the_vote_for(turn)
    if vote is None:
        return [turn.private(ONLY_CHAIR_OPENS)]
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
    if title.lower() in RESERVED:
        raise UsageError(RESERVED_TITLE.format(title=title.lower()))
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
    # Today's meeting is made before the winner becomes the next topic: it keeps today's topic.
    await attendance.mark_present(turn)
    topics = await store.candidates(turn.session, community.id)
    counts = await store.results(turn.session, vote.id)
    if not counts:
        if pick is not None and vote.status != VoteStatus.TIED:
            raise UsageError(NOT_TIED)
        return await _close_without_winner(turn, vote)
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
    was_tied = vote.status == VoteStatus.TIED
    store.close_vote(vote, winner, turn.now)
    posts = [await _vote_post(turn, vote, replace=True)]
    if was_tied:  # the tie's Pick buttons go: it is settled
        posts.append(Post(TIE_SETTLED.format(title=winner.title), key=f"{_key(vote)}:tie", replace=True))
    winner.chosen_at = turn.now
    community.next_topic = winner.title
    posts.append(
        Post(
            f"{RESULTS}\n{WINNER.format(title=winner.title)}",
            sections=(Section("Results", result_lines),),
            key=f"{_key(vote)}:result",
        )
    )
    return posts


async def _close_without_winner(turn: Turn, vote: TopicVote) -> list[Post]:
    """Nobody voted: the vote closes with no winner and the next lead topic is left as it was."""
    community = turn.require_community()
    store.close_vote(vote, None, turn.now)
    stays = TOPIC_STAYS.format(title=community.next_topic) if community.next_topic else TOPIC_NOT_CHOSEN
    return [
        await _vote_post(turn, vote, replace=True),
        Post(f"{NOBODY_VOTED}\n{stays}", key=f"{_key(vote)}:result"),
    ]


async def _is_open(turn: Turn) -> bool:
    return await store.open_vote(turn.session, turn.require_community().id) is not None


router.closable(Closable("vote", _is_open, close, priority=10, takes_pick=True))
router.forgetter(Forgetter("votes", ("ballots", "topics"), store.forget_votes))
