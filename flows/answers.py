"""Where a member's answer goes: the reply's thread names the post it answers (a step, the
support round); a plain terminal line answers whatever is open. Also passing, and editing or
withdrawing an answer shared without a name through its private code."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from bot.registry import Answer, Answerable, Command, FlowRouter, Registry
from bot.vocabulary.conversation import MAX_ANSWER_CHARS, Post, ReplyEvent, Section
from bot.vocabulary.errors import NothingOpen, UsageError
from bot.vocabulary.moments import stored_utc
from bot.vocabulary.text import number as typed_number
from bot.vocabulary.text import trimmed
from flows import attendance
from flows.turn import Turn
from storage import actions
from storage import answers as store
from storage.answer_keys import answer_key
from storage.delivery import key_for_ref
from storage.models import ReflectionAnswer, SupportStatement

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
TOO_LONG = f"That is longer than I can keep ({MAX_ANSWER_CHARS} characters). Could you shorten it or split it?"
NOTHING_OPEN = "Nothing is open to answer right now — no support round or reflection step."
ANON_RECEIPT = (
    "Shared without your name — thank you. Only you see this code: {code}. "
    "To change it: `/cop edit {code} <new words>`; to take it back: `/cop withdraw {code}`."
)
EDITED = "Changed — thank you."
WITHDRAWN = "Taken back — it is no longer on the flipchart."
BAD_CODE = "I couldn't find an answer with that code."
NO_WORDS = "I didn't find any words in that, so nothing was changed. Share if you'd like — passing is always fine."
PASS_WORDS = frozenset({"pass", "/pass", "cop pass", "/cop pass", "i pass", "i'll pass", "i’ll pass"})
EDIT_USAGE = "Usage: /cop edit <n> <new words> (n from `/cop mine`), or /cop edit <code> <new words>"
WITHDRAW_USAGE = "Usage: /cop withdraw (your last answer) | withdraw <n> (from `/cop mine`) | withdraw <code>"
KEPT_WHERE = "Kept as {here}. Meant as {there}? {how}"
MOVE_HOW = "Type `/cop move` to move it there."
MOVE_ANON = "To move it, take it back with your code (`/cop withdraw <code>`) and share it again there."
MOVED = "Moved — it is now {there}."
NOTHING_TO_MOVE = (
    "There is nothing of yours to move: `/cop move` moves your last answer between the open support round "
    "and reflection."
)
SUPPORT_ROUND = "support round"  # the support round's `Answerable` name
ONLY_ONE_OPEN = "Only one thing is open to answer, so your answer is where it belongs."
MINE_HEADING = "Your answers here, newest first (only you see this)"
MINE_NONE = (
    "You haven't shared anything with your name here yet. (Answers without your name are changed with their code.)"
)
MINE_HOW = "`/cop edit <n> <new words>` changes one; `/cop withdraw <n>` takes it back."
NO_SUCH_ANSWER = "I couldn't find your answer number {n}. `/cop mine` lists them."
SUPPORT_PLACE = "support statement"
STEP_PLACE = "“{topic}”, step {step}"
SAME_AGAIN = "You already shared those words as {there}, so nothing was changed."
MINE_LIMIT = 10


def code_hash(code: str) -> str:
    """What is kept of a private code: its SHA-256, never the code."""
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def looks_like_code(word: str) -> bool:
    """Whether a typed word could be a private code (eight letters and digits of the code's alphabet)."""
    return len(word) == 8 and all(ch in CODE_ALPHABET for ch in word.upper())


def _community_id(turn: Turn) -> int | None:
    """Codes work in the community's channel, and in a private chat with the bot (no community)."""
    return turn.community.id if turn.community is not None else None


def is_pass(text: str) -> bool:
    """A reply that only says "pass" (a pass, not an answer reading "pass")."""
    return " ".join(text.casefold().split()).rstrip(".!") in PASS_WORDS


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


def _answerables() -> Registry:
    from flows import REGISTRY  # composed from every flow, this one included

    return REGISTRY


async def reply(turn: Turn, event: ReplyEvent) -> list[Post]:
    """A member's reply. Replies to anything but an open answerable post are dropped unseen."""
    if turn.community is None:
        return []
    text = trimmed(event.text)
    if event.thread_ref is None:
        if not text:
            return [turn.private(NO_WORDS)]
        if is_pass(text):
            return await pass_open(turn)
        return await answer_open(turn, text, anonymous=event.anonymous, from_form=event.from_form)
    key = await key_for_ref(turn.session, turn.place, event.thread_ref)
    answerable = _answerables().answerable_for(key) if key else None
    if key is None or answerable is None:
        return []
    if not text:
        return [turn.private(NO_WORDS)]
    if is_pass(text):
        if answerable.marks_attendance:
            await attendance.mark_present(turn)
        return await answerable.pass_(turn, key)
    posts = await _keep(turn, answerable, key, text, anonymous=event.anonymous, from_form=event.from_form)
    return [turn.private(_same_again(answerable, key))] if posts is None else posts


async def _all_open(turn: Turn) -> list[tuple[Answerable, str]]:
    """Everything open to answer, the one a plain line answers first: the one opened last
    (the member is answering what was just asked), else the one of lowest priority."""
    found = []
    for rank, answerable in enumerate(_answerables().by_priority()):
        key = await answerable.open_key(turn)
        if key is not None:
            opened = await answerable.opened_at(turn) if answerable.opened_at else None
            found.append((_aware(opened), -rank, answerable, key))
    found.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return [(answerable, key) for _, _, answerable, key in found]


def _aware(moment: datetime | None) -> datetime:
    return stored_utc(moment) if moment is not None else datetime.min.replace(tzinfo=UTC)


async def _open(turn: Turn) -> tuple[Answerable, str] | None:
    """What a plain line answers now, and its key."""
    found = await _all_open(turn)
    return found[0] if found else None


async def answer_open(turn: Turn, text: str, *, anonymous: bool, from_form: bool = False) -> list[Post]:
    """Answer whatever is open: the current reflection step first, else the support round."""
    turn.require_community()
    text = trimmed(text)
    if not text:
        raise UsageError("Usage: /cop share <your words>  (or /cop anon <your words> without your name)")
    if len(text) > MAX_ANSWER_CHARS:
        return [turn.private(TOO_LONG)]
    found = await _all_open(turn)
    if not found:
        return [turn.private(NOTHING_OPEN)]
    posts = await _keep(turn, *found[0], text, anonymous=anonymous, from_form=from_form)
    if posts is None:  # the same answer again: kept once, and the member is told nothing changed
        return [turn.private(_same_again(*found[0]))]
    if len(found) > 1:
        posts.append(turn.private(_where_it_went(found, anonymous)))
    return posts


def _where_it_went(found: list[tuple[Answerable, str]], anonymous: bool) -> str:
    """Both the support round and a reflection are open: say where the answer went, and how
    to move it to the other."""
    (kept, key), (other, other_key) = found[0], found[1]
    here, there = _kept_as(kept, key), _kept_as(other, other_key)
    how = MOVE_ANON if anonymous else MOVE_HOW
    return KEPT_WHERE.format(here=here, there=there.removeprefix("your "), how=how)


def _same_again(answerable: Answerable, key: str) -> str:
    return SAME_AGAIN.format(there=_kept_as(answerable, key))


def _kept_as(answerable: Answerable, key: str) -> str:
    return answerable.kept_as(key) if answerable.kept_as else answerable.name


async def _keep(
    turn: Turn, answerable: Answerable, key: str, text: str, *, anonymous: bool, from_form: bool
) -> list[Post] | None:
    """Keep one answer; the member who shared it without a name gets their private code.
    None: the same answer was kept already (a retry, a double submission)."""
    if len(text) > MAX_ANSWER_CHARS:
        return [turn.private(TOO_LONG)]
    if answerable.marks_attendance:
        await attendance.mark_present(turn)  # first: the tally the answer updates counts them
    code = _new_code() if anonymous else None
    given = Answer(text, anonymous, from_form, code_hash(code) if code else None)
    posts = await answerable.answer(turn, key, given)
    if posts is None:
        return None
    if code:
        posts.append(turn.private(ANON_RECEIPT.format(code=code)))
    return posts


router = FlowRouter("answers")


@router.verb(
    "pass",
    "pass",
    "Pass on the open round or step. Passing is always fine.",
    menu="Pass on the open round or step: passing is always fine",
)
async def pass_turn(turn: Turn, cmd: Command) -> list[Post]:
    return await pass_open(turn)


async def pass_open(turn: Turn) -> list[Post]:
    """A pass on whatever is open (the current step first, else the support round)."""
    turn.require_community()
    await turn.member()
    found = await _open(turn)
    if found is None:
        raise NothingOpen(NOTHING_OPEN)
    answerable, key = found
    if answerable.marks_attendance:
        await attendance.mark_present(turn)
    return await answerable.pass_(turn, key)


@router.verb(
    "share",
    "share <your words>",
    "Answer the open round or step with your name (the same as replying to its post).",
    free_text=True,
    menu="share <your words>: answer the open round or step",
)
async def share(turn: Turn, cmd: Command) -> list[Post]:
    return await answer_open(turn, cmd.rest, anonymous=False)


@router.verb(
    "anon",
    "anon <your words>",
    "Answer the open round or step without your name (no author is stored).",
    free_text=True,
    menu="anon <your words>: answer without your name",
)
async def anon(turn: Turn, cmd: Command) -> list[Post]:
    return await answer_open(turn, cmd.rest, anonymous=True)


@router.verb(
    "edit",
    "edit <code> <new words>",
    "Change an answer you shared without your name, with the code copbot gave you privately.",
    needs_community=False,
    free_text=True,
    private_menu="edit <code> <new words>: change an answer shared without your name",
)
async def edit(turn: Turn, cmd: Command) -> list[Post]:
    args, rest = cmd.args, cmd.rest
    if not args:
        raise UsageError(EDIT_USAGE)
    which, _, words = rest.partition(" ")
    words = trimmed(words)
    if not words:
        raise UsageError(EDIT_USAGE)
    if len(words) > MAX_ANSWER_CHARS:
        return [turn.private(TOO_LONG)]
    if typed_number(which) is not None:
        own = await _own(turn, typed_number(which))
        answer: SupportStatement | ReflectionAnswer = own.row
        answer.text = words
        if isinstance(answer, ReflectionAnswer):
            answer.answer_key = answer_key(answer.member_id, words, per_member=False)
    else:
        found = await store.find_by_code(turn.session, _community_id(turn), code_hash(which))
        if found is None:
            return [turn.private(BAD_CODE)]
        answer = found
        answer.text = words  # its key is its code's: unchanged, and never another's
    if isinstance(answer, ReflectionAnswer):
        await actions.update_action_text(turn.session, answer)
    return [turn.private(EDITED)]


@router.verb(
    "withdraw",
    "withdraw | withdraw <n> | withdraw <code>",
    "Take back your last answer, one from `/cop mine` by its number, or one shared without your name by its code.",
    needs_community=False,
    private_menu="withdraw <code>: take back an answer shared without your name",
)
async def withdraw(turn: Turn, cmd: Command) -> list[Post]:
    args = cmd.args
    if len(args) > 1:
        raise UsageError(WITHDRAW_USAGE)
    if not args or typed_number(args[0]) is not None:
        own = await _own(turn, typed_number(args[0]) if args else 1)
        await store.delete_answer(turn.session, own.row)
        return [turn.private(WITHDRAWN)]
    answer = await store.find_by_code(turn.session, _community_id(turn), code_hash(args[0]))
    if answer is None:
        return [turn.private(BAD_CODE)]
    await store.delete_answer(turn.session, answer)
    return [turn.private(WITHDRAWN)]


async def _own(turn: Turn, n: int | None) -> store.OwnAnswer:
    """The member's named answer number ``n`` of `/cop mine` (1: the last one)."""
    community = turn.require_community()
    member = await turn.member()
    answers = await store.own_answers(turn.session, member.id, community.id, MINE_LIMIT)
    if n is None or not 1 <= n <= len(answers):
        if not answers:
            raise NothingOpen(MINE_NONE)
        raise UsageError(NO_SUCH_ANSWER.format(n=n))
    return answers[n - 1]


def _place(own: store.OwnAnswer) -> str:
    if own.topic is None:
        return SUPPORT_PLACE
    return STEP_PLACE.format(topic=own.topic[:60], step=own.step)


@router.verb("mine", "mine", "Your own answers here, numbered, to edit or take back.")
async def mine(turn: Turn, cmd: Command) -> list[Post]:
    member = await turn.member()
    answers = await store.own_answers(turn.session, member.id, turn.require_community().id, MINE_LIMIT)
    if not answers:
        return [turn.private(MINE_NONE)]
    lines = tuple(f"{n}. {_place(own)}: {own.row.text}" for n, own in enumerate(answers, 1))
    return [turn.private(f"{MINE_HEADING}\n{MINE_HOW}", sections=(Section("", lines),))]


@router.verb("move", "move", "Move your last answer between the open support round and the open reflection step.")
async def move_answer(turn: Turn, cmd: Command) -> list[Post]:
    found = await _all_open(turn)
    if len(found) < 2:
        return [turn.private(ONLY_ONE_OPEN)]
    member = await turn.member()
    answers = await store.own_answers(turn.session, member.id, turn.require_community().id, 1)
    if not answers:
        return [turn.private(NOTHING_TO_MOVE)]
    last = answers[0]
    was_support = last.topic is None
    target = next(((a, k) for a, k in found if (a.name == SUPPORT_ROUND) != was_support), None)
    if target is None:
        return [turn.private(NOTHING_TO_MOVE)]
    text = last.row.text or ""
    await store.delete_answer(turn.session, last.row)
    await turn.session.flush()
    posts = await _keep(turn, *target, text, anonymous=False, from_form=False) or []
    return posts + [turn.private(MOVED.format(there=_kept_as(*target)))]
