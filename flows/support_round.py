"""The support-statement round: "I will support myself today by …".

States (the round's ``status`` column)::

    (none) --support--> OPEN --close--> CLOSED
    OPEN: each member shares once (sharing again edits), shares without a name, or passes;
          one live tally on the prompt post is updated in place.
    CLOSED: the closing post lists the statements, named or without a name.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.registry import Answer, Answerable, Closable, Command, FlowRouter, Forgetter
from bot.vocabulary.conversation import AnswerForm, Button, Post, Section
from bot.vocabulary.errors import NothingOpen
from flows import attendance
from flows.turn import Turn
from storage import community as communities
from storage import support_rounds as store
from storage.models import SupportRound
from storage.states import RoundStatus

PROMPT = "Welcome, everyone. Let's begin with our support round."
SENTENCE = "Complete the sentence: “I will support myself today by …”"
EXAMPLES = (
    "…being open to learning from others' experiences",
    "…not being afraid to ask questions",
    "…taking standing breaks every 10 mins",
    "…expressing my frustrations/challenges with respect for my emotions",
    "…asking for help",
)
HOW = "Reply to this post, or press Share (you can leave your name off). Share if you'd like — passing is always fine."
TALLY = "{shared} of {the}{members} here {have} shared so far."
PASSED = " {passed} passed."
CLOSED_TALLY = "This round is closed: {shared} shared. Thank you."
CLOSING = "Our support statements for today — thank you for sharing."
NO_NAME = "Shared without a name"
NONE_SHARED = "Nobody shared a statement this time, and that is fine."
ALREADY_OPEN = "The support round is already open — reply to its post to share."
THANKS_NAMED = "Thank you — your statement is on the flipchart. Share again to change it."
THANKS_PASS = "Thanks for letting us know — passing is always fine."
KEPT_ON_PASS = "You've already shared your statement, so I kept it on the flipchart. To change it, just share again."
NOT_OPEN = "There is no support round open right now. Anyone can start one with `/cop support`."
KEPT_AS = "your support statement"


def tally(shared: int, members: int) -> str:
    """ "2 of the 3 here have shared so far.", "1 of the 3 here has …", "1 of 1 here has …"."""
    return TALLY.format(
        shared=shared, the="the " if members != 1 else "", members=members, have="has" if shared == 1 else "have"
    )


# "I will support myself today by: …", "i'll support myself today by…", "I will support myself by …":
# the sentence's beginning, typed again in front of a statement.
_STEM = re.compile(
    r"""^[\s"'“‘«]*(?:i\s+will|i\s*['’]?\s*ll)\s+support\s+myself(?:\s+today)?
    (?:\s+by\b|\s*(?=[:\-–—…]|\.\.\.))[\s:\-–—…,.]*""",
    re.IGNORECASE | re.VERBOSE,
)
_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "«": "»"}


def without_stem(statement: str) -> str:
    """A statement as it completes "I will support myself today by …": a leading stem typed with
    it goes (in any case, with any punctuation, "I'll" too), the rest is kept as typed. A
    statement that is only the stem is kept whole: nothing would be left of it."""
    found = _STEM.match(statement)
    rest = statement[found.end() :].strip() if found else ""
    if not rest:
        return statement
    opened = statement.lstrip()[:1]
    if opened in _QUOTES and rest.endswith(_QUOTES[opened]):
        rest = rest[:-1].rstrip()  # “I will support myself today by asking for help”
    return rest or statement


def _key(support_round: SupportRound) -> str:
    return f"support:{support_round.id}"


async def _tally_text(turn: Turn, support_round: SupportRound) -> str:
    shared, passed = await store.support_tally(turn.session, support_round.id)
    members = await attendance.present_today(turn, support_round.meeting_id)
    if support_round.status != RoundStatus.OPEN:
        return CLOSED_TALLY.format(shared=shared)
    text = tally(shared, max(members, shared))
    return text + (PASSED.format(passed=passed) if passed else "")


async def _prompt(turn: Turn, support_round: SupportRound, *, replace: bool) -> Post:
    is_open = support_round.status == RoundStatus.OPEN
    how = f"\n{HOW}" if is_open else ""
    return Post(
        f"{PROMPT}\n{SENTENCE}{how}\n\n{await _tally_text(turn, support_round)}",
        sections=(Section("For example:", EXAMPLES),) if is_open else (),
        buttons=(Button("Pass", "pass"), Button("Close the round", "close support", "primary")) if is_open else (),
        form=AnswerForm("I will support myself today by …", "…asking for help") if is_open else None,
        key=_key(support_round),
        replace=replace,
    )


router = FlowRouter("support round")


@router.verb(
    "support",
    "support",
    'Open the support-statement round: "I will support myself today by …"; its tally counts those here '
    "today. A statement typed with the sentence's beginning is listed without it, so it is not shown twice.",
    menu='Open the round "I will support myself today by ..."',
)
async def open_round(turn: Turn, cmd: Command) -> list[Post]:
    community = turn.require_community()
    await turn.member()
    current = await store.open_support_round(turn.session, community.id)
    if current is not None:
        return [turn.private(ALREADY_OPEN)]
    meeting = await communities.meeting_today(turn.session, community, turn.today)
    await attendance.mark_present(turn)
    support_round = await store.start_support_round(turn.session, community.id, meeting.id, turn.now)
    return [await _prompt(turn, support_round, replace=False)]


def _owns(key: str) -> bool:
    return re.fullmatch(r"support:\d+", key) is not None


async def _open_key(turn: Turn) -> str | None:
    support_round = await store.open_support_round(turn.session, turn.require_community().id)
    return _key(support_round) if support_round is not None else None


async def _opened_at(turn: Turn) -> datetime | None:
    support_round = await store.open_support_round(turn.session, turn.require_community().id)
    return support_round.opened_at if support_round is not None else None


async def _the_open_round(turn: Turn, key: str) -> SupportRound:
    """The round ``key`` names, if it is the open one (an answer to a closed round is refused)."""
    support_round = await store.open_support_round(turn.session, turn.require_community().id)
    if support_round is None or key != _key(support_round):
        raise NothingOpen(NOT_OPEN)
    return support_round


async def answer(turn: Turn, key: str, answer: Answer) -> list[Post]:
    """Keep a member's statement; the tally post is updated in place."""
    member = await turn.member()
    support_round = await _the_open_round(turn, key)
    await store.save_statement(
        turn.session,
        support_round.id,
        None if answer.anonymous else member.id,
        answer.text,
        turn.now,
        code_hash=answer.code_hash,
    )
    posts = [await _prompt(turn, support_round, replace=True)]
    if not answer.anonymous:
        posts.append(turn.private(THANKS_NAMED, receipt=True))
    return posts


async def pass_round(turn: Turn, key: str) -> list[Post]:
    member = await turn.member()
    support_round = await _the_open_round(turn, key)
    if await store.has_named_statement(turn.session, support_round.id, member.id):
        return [turn.private(KEPT_ON_PASS)]  # a pass never deletes what was shared
    await store.save_statement(turn.session, support_round.id, member.id, None, turn.now, passed=True)
    return [await _prompt(turn, support_round, replace=True), turn.private(THANKS_PASS, receipt=True)]


async def close(turn: Turn, pick: str | None = None) -> list[Post]:
    community = turn.require_community()
    await turn.require_chair_or_lead("close the support round")
    support_round = await store.open_support_round(turn.session, community.id)
    if support_round is None:
        raise NothingOpen(NOT_OPEN)
    store.close_support_round(support_round, turn.now)
    return [await _prompt(turn, support_round, replace=True), await closing_post(turn.session, support_round)]


async def closing_post(session: AsyncSession, support_round: SupportRound) -> Post:
    """The round's statements, named or without a name. Needs no member's turn."""
    statements = await store.support_statements(session, support_round.id)
    lines = tuple(f"{name or NO_NAME}: {without_stem(text)}" for name, text in statements)
    return Post(
        CLOSING if lines else NONE_SHARED,
        sections=(Section("I will support myself today by …", lines),) if lines else (),
        key=f"{_key(support_round)}:closing",
    )


async def _is_open(turn: Turn) -> bool:
    return await _open_key(turn) is not None


router.answerable(
    Answerable(
        "support round",
        _owns,
        _open_key,
        answer,
        pass_round,
        priority=20,
        opened_at=_opened_at,
        kept_as=lambda key: KEPT_AS,
    )
)
router.closable(Closable("support", _is_open, close, priority=20))
router.forgetter(Forgetter("support statements", ("support_statements",), store.forget_statements))
