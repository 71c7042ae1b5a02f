"""The two co-chairs: who they are and their term, set by a co-chair (``chairs set``), or,
while the community has fewer than two, agreed by the group in a consent round (no lock-out).

A term is 12 months reviewed at 6 by default (the Terms of Reference's "1-year term, review
after 6/12 months"), or 6 months reviewed at its end; ``chairs set … review <months>`` says
otherwise. The review and the end are announced by `flows.announcements`.

A nomination's consent round (a `ChairNomination` row, its answers `ChairConsent` rows)::

    (fewer than two co-chairs) --chairs nominate @member | chairs volunteer--> OPEN (number n)
    OPEN --chairs agree|stand-aside|object n (any member but the nominee; one answer each,
           a change of mind replaces it)--> OPEN, or AGREED when the rule below holds
    OPEN --chairs close n (co-chair)--> CLOSED
    OPEN --the community reached two co-chairs (another round, chairs set)--> CLOSED
    AGREED: the nominee's term starts (12 months, review at 6)

The rule (`flows.consent`, shared with the Terms of Reference): the nominee becomes a co-chair
when 3 members agree — in a smaller group, every other member who has not stood aside (at least
one) — and nobody objects. Standing aside never
blocks. An objection holds the round until the objector answers agree or stand aside, or a
co-chair closes it. Objections are never shown in the channel: the current co-chairs are told
privately (on this platform), the objector is thanked privately, and the round's post says only
"not agreed yet". forget-me deletes a member's answers (their objection goes with them).
"""

from __future__ import annotations

from bot.registry import Command, FlowRouter, Forgetter
from bot.vocabulary.conversation import Post, Section
from bot.vocabulary.errors import NothingOpen, UsageError
from bot.vocabulary.text import and_list, number, plural
from flows import consent
from flows.membership import joined_member
from flows.turn import Turn
from storage import chairs as store
from storage import community as communities
from storage.models import ChairNomination, CoChairTerm, Member
from storage.states import NominationStatus

CHAIRS = "Co-chairs of {community}"
TERM = "{name} — {months}-month term until {ends}, review on {review}"
TERM_REVIEW_DUE = "{name} — {months}-month term until {ends}: its review was due on {review}"
TERM_DUE = "{name} — {months}-month term ended on {ends}: time for the review"
NOMINATED_LINE = "{name} is nominated (nomination {n}): not agreed yet"
NO_CHAIRS = "This community has no co-chairs yet."
FEWER_THAN_TWO = (
    "A community has two co-chairs. Any member can nominate someone with `/cop chairs nominate @member` "
    "or offer with `/cop chairs volunteer`, and the group agrees in a short consent round."
)
CHAIRS_SET = "Thank you, {a} and {b}: you are our co-chairs for {months} months, until {ends} (review on {review})."
CHAIRS_USAGE = (
    "Usage: /cop chairs set @first @second [6|12] [review <months>] — two different members, a 6- or "
    "12-month term (12 by default), reviewed after 6 months unless you say otherwise."
)

ENOUGH_CHAIRS = (
    "We have {n} already ({names}), so there is nothing to nominate for. A co-chair changes "
    "them with `/cop chairs set @a @b [6|12]`, once the group has agreed."
)
THEN_NOMINATE = ", and then anyone can nominate them (co-chairs are members)"
THEN_SET = ", and then a co-chair can record them (co-chairs are members)"
NOMINATE_USAGE = "Usage: /cop chairs nominate @member — or `/cop chairs volunteer` to offer yourself."
ALREADY_CHAIR = "{name} is a co-chair already."
ALREADY_NOMINATED = "{name} is nominated already (nomination {n}): answer with its buttons or `/cop chairs agree {n}`."

CARD = "{name} is nominated as co-chair (nomination {n}){by}."
BY = ", by {name}"
VOLUNTEER = " — they volunteered, thank you"
ASK = (
    "Agree, stand aside (you won't block it), or object — an objection is seen only by the co-chairs. "
    "{name} becomes a co-chair when {needed} and nobody objects."
)
AGREED = "Agreed: {name} is a co-chair now, for 12 months until {ends} (review on {review}). Thank you, {name}!"
CLOSED = "This nomination was closed by a co-chair."
NO_LONGER_NEEDED = "This nomination is closed: we have two co-chairs now."

OWN_ROUND = "This is your own nomination, so the others answer it. Thank you for being willing!"
ROUND_AGREED = "Nomination {n} is agreed already: {name} is a co-chair."
ROUND_CLOSED = "Nomination {n} is closed."
NO_NOMINATION = "There is no nomination {n}. Type `/cop chairs` to see the open ones."
WHICH = "Which nomination? Type `/cop chairs {form} <number>` — `/cop chairs` lists the open ones."
NONE_OPEN = (
    "There is no open nomination. While we have fewer than two co-chairs, anyone can `/cop chairs nominate @member`."
)
OBJECTION_TO_CHAIRS = (
    "{who} objects to nominating {name} as co-chair (nomination {n}). Only you co-chairs are told. The "
    "round waits until they answer agree or stand aside, or a co-chair closes it with `/cop chairs close {n}`."
)
CLOSE_USAGE = "Usage: /cop chairs close <number>"

CHAIRS_FORMS = (
    "chairs | chairs nominate @member | chairs volunteer | chairs agree <n> | chairs stand-aside <n> "
    "| chairs object <n> | chairs close <n> | chairs set @a @b [6|12] [review <months>]"
)
CHAIRS_USAGE_ALL = f"Usage: /cop {CHAIRS_FORMS}"
CHAIRS_HELP = (
    "Show the co-chairs and their term. While there are fewer than two, any member may nominate a "
    "member or volunteer, and the group answers agree, stand aside or object: the nominee becomes a "
    "co-chair, for 12 months with a review at 6, when 3 agree (fewer in a small group) and nobody objects. Objections "
    "are seen by the co-chairs only. A co-chair closes a nomination, or sets the two co-chairs "
    "(a 6- or 12-month term, reviewed after 6 months unless `review <months>` says otherwise). "
    "Only members who have joined can be named."
)
router = FlowRouter("chairs")


@router.verb(
    "chairs",
    CHAIRS_FORMS,
    CHAIRS_HELP,
    chair_forms={"set": "set the co-chairs", "close": "close a nomination"},
)
async def chairs(turn: Turn, cmd: Command) -> list[Post]:
    form, args = consent.answer_form(cmd.args)
    if form == "":
        return await _show(turn)
    if form == "set":
        return await _set_chairs(turn, args[1:])
    if form == "nominate":
        if len(args) != 2:
            raise UsageError(NOMINATE_USAGE)
        return await _nominate(turn, args[1])
    if form == "volunteer":
        return await _nominate(turn, None)
    if form in consent.ANSWERS:
        return await _answer(turn, form, consent.ANSWERS[form], args[1:])
    if form == "close":
        return await _close(turn, args[1:])
    raise UsageError(CHAIRS_USAGE_ALL)


def _term_line(term: CoChairTerm, member: Member, turn: Turn) -> str:
    text = TERM
    if term.ends_on <= turn.today:
        text = TERM_DUE
    elif term.review_on <= turn.today and term.review_on < term.ends_on:
        text = TERM_REVIEW_DUE
    return text.format(
        name=member.name, months=term.months, ends=term.ends_on.isoformat(), review=term.review_on.isoformat()
    )


async def _show(turn: Turn) -> list[Post]:
    community = turn.require_community()
    current = await communities.current_chairs(turn.session, community.id)
    lines = [_term_line(term, member, turn) for term, member in current]
    for nomination in await store.open_nominations(turn.session, community.id):
        nominee = await turn.session.get(Member, nomination.nominee_id)
        if nominee is not None:
            lines.append(NOMINATED_LINE.format(name=nominee.name, n=nomination.number))
    text = CHAIRS.format(community=community.name)
    if not current:
        text = f"{text}\n{NO_CHAIRS}"
    if len(current) < 2:
        text = f"{text}\n{FEWER_THAN_TWO}"
    return [Post(text, sections=(Section("", tuple(lines)),) if lines else ())]


async def _set_chairs(turn: Turn, args: tuple[str, ...]) -> list[Post]:
    community = turn.require_community()
    await turn.require_chair("set the co-chairs")
    names = list(args)
    review: int | None = 6
    if len(names) >= 2 and names[-2].lower() == "review":
        review = number(names[-1])
        names = names[:-2]
    months = 12
    if names and number(names[-1]) is not None:
        months = number(names.pop()) or 0
    if months not in (6, 12) or len(names) != 2 or review is None or not 1 <= review <= months:
        raise UsageError(CHAIRS_USAGE)
    members: list[Member] = []
    for token in names:
        members.append(await joined_member(turn, token, THEN_SET))
    if members[0].id == members[1].id:
        raise UsageError(CHAIRS_USAGE)
    terms = await communities.set_chairs(turn.session, community.id, members, months, turn.today, review)
    posts = [
        Post(
            CHAIRS_SET.format(
                a=members[0].name,
                b=members[1].name,
                months=months,
                ends=terms[0].ends_on.isoformat(),
                review=terms[0].review_on.isoformat(),
            ),
            key=f"chairs:{terms[0].id}",
        )
    ]
    return posts + await _close_the_rest(turn)


async def _nominate(turn: Turn, token: str | None) -> list[Post]:
    """``chairs nominate @member`` (token) or ``chairs volunteer`` (None: the actor)."""
    community = turn.require_community()
    actor = await turn.member()
    current = await communities.current_chairs(turn.session, community.id)
    if len(current) >= 2:
        names = and_list([member.name for _, member in current])
        return [turn.private(ENOUGH_CHAIRS.format(n=plural(len(current), "co-chair"), names=names))]
    nominee = actor if token is None else await joined_member(turn, token, THEN_NOMINATE)
    if any(member.id == nominee.id for _, member in current):
        return [turn.private(ALREADY_CHAIR.format(name=nominee.name))]
    open_one = await store.open_nomination_of(turn.session, community.id, nominee.id)
    if open_one is not None:
        return [turn.private(ALREADY_NOMINATED.format(name=nominee.name, n=open_one.number))]
    nomination = await store.nominate(turn.session, community.id, nominee, actor, turn.now)
    return [await _card(turn, nomination, replace=False)]


async def _nomination(turn: Turn, form: str, args: tuple[str, ...]) -> ChairNomination:
    """The nomination a form names by number; with no number, the only open one."""
    community = turn.require_community()
    if not args:
        found = await store.open_nominations(turn.session, community.id)
        if not found:
            raise NothingOpen(NONE_OPEN)
        if len(found) > 1:
            raise UsageError(WHICH.format(form=form))
        return found[0]
    n = number(args[0])
    if n is None or len(args) > 1:
        raise UsageError(WHICH.format(form=form))
    nomination = await store.nomination_numbered(turn.session, community.id, n)
    if nomination is None:
        raise NothingOpen(NO_NOMINATION.format(n=n))
    return nomination


async def _answer(turn: Turn, form: str, answer: str, args: tuple[str, ...]) -> list[Post]:
    community = turn.require_community()
    nomination = await _nomination(turn, form, args)
    member = await turn.member()
    nominee = await turn.session.get(Member, nomination.nominee_id)
    assert nominee is not None
    if nomination.status == NominationStatus.AGREED:
        return [turn.private(ROUND_AGREED.format(n=nomination.number, name=nominee.name))]
    if nomination.status != NominationStatus.OPEN:
        return [turn.private(ROUND_CLOSED.format(n=nomination.number))]
    if member.id == nominee.id:
        return [turn.private(OWN_ROUND)]
    notice = OBJECTION_TO_CHAIRS.format(who=member.name, name=nominee.name, n=nomination.number)
    previous, posts = await consent.answered(
        turn, answer, lambda: store.record_consent(turn.session, nomination, member, answer, turn.now), notice
    )
    if previous == answer:
        return posts
    if await _agreed(turn, nomination):
        term = await communities.start_term(turn.session, community.id, nominee, turn.today)
        store.agree(nomination, turn.now)
        done = AGREED.format(name=nominee.name, ends=term.ends_on.isoformat(), review=term.review_on.isoformat())
        posts.insert(0, await _card(turn, nomination, replace=True, outcome=done))
        posts += await _close_the_rest(turn)
    elif consent.card_changes(answer, previous):
        posts.insert(0, await _card(turn, nomination, replace=True))
    return posts


async def _may_answer(turn: Turn, nomination: ChairNomination) -> int:
    """Every member but the nominee answers a nomination."""
    return await communities.count_active_members(turn.session, nomination.community_id) - 1


async def _agreed(turn: Turn, nomination: ChairNomination) -> bool:
    tally = await store.tally(turn.session, nomination)
    return consent.is_agreed(await _may_answer(turn, nomination), tally)


async def _card(turn: Turn, nomination: ChairNomination, *, replace: bool, outcome: str | None = None) -> Post:
    """The round's one channel post, updated in place: counts of agree and stand aside, never
    an objection or who objected."""
    nominee = await turn.session.get(Member, nomination.nominee_id)
    assert nominee is not None
    by = VOLUNTEER if nomination.nominated_by == nominee.id else ""
    if nomination.nominated_by not in (None, nominee.id):
        nominator = await turn.session.get(Member, nomination.nominated_by)
        by = BY.format(name=nominator.name) if nominator is not None else ""
    head = CARD.format(name=nominee.name, n=nomination.number, by=by)
    tally = await store.tally(turn.session, nomination)
    key = f"chairs:nomination:{nomination.id}"
    if outcome is not None:
        return Post(f"{head}\n{outcome}", key=key, replace=replace)
    needed = consent.needed(await _may_answer(turn, nomination), tally)
    text = "\n".join((head, ASK.format(name=nominee.name, needed=consent.agree_count(needed)), consent.so_far(tally)))
    return Post(text, buttons=consent.buttons(f"chairs {nomination.number}"), key=key, replace=replace)


async def _close_the_rest(turn: Turn) -> list[Post]:
    """Once the community has two co-chairs, the rounds still open are not needed."""
    community = turn.require_community()
    if len(await communities.current_chairs(turn.session, community.id)) < 2:
        return []
    posts = []
    for nomination in await store.open_nominations(turn.session, community.id):
        store.close(nomination, turn.now)
        posts.append(await _card(turn, nomination, replace=True, outcome=NO_LONGER_NEEDED))
    return posts


async def _close(turn: Turn, args: tuple[str, ...]) -> list[Post]:
    await turn.require_chair("close a nomination")
    if len(args) != 1 or number(args[0]) is None:
        raise UsageError(CLOSE_USAGE)
    nomination = await _nomination(turn, "close", args)
    if nomination.status != NominationStatus.OPEN:
        return [turn.private(ROUND_CLOSED.format(n=nomination.number))]
    store.close(nomination, turn.now)
    return [await _card(turn, nomination, replace=True, outcome=CLOSED)]


router.forgetter(Forgetter("co-chair nominations", ("chair_nominations", "chair_consents"), store.forget_nominations))
