"""Where a member's answer goes: the reply's thread names the post it answers (a step, the
support round); a plain terminal line answers whatever is open. Also passing, and editing or
withdrawing an answer shared without a name through its private code."""

from __future__ import annotations

import hashlib
import secrets

from bot.registry import Answer, Answerable, Command, FlowRouter, Registry
from bot.vocabulary.conversation import MAX_ANSWER_CHARS, Post, ReplyEvent
from bot.vocabulary.errors import NothingOpen, UsageError
from bot.vocabulary.text import trimmed
from flows.turn import Turn
from storage import answers as store
from storage.delivery import key_for_ref
from storage.models import ReflectionAnswer

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
EDIT_USAGE = "Usage: /cop edit <code> <new words>"


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
        await turn.member()
        return await answerable.pass_(turn, key)
    return await _keep(turn, answerable, key, text, anonymous=event.anonymous, from_form=event.from_form)


async def _open(turn: Turn) -> tuple[Answerable, str] | None:
    """What a plain line answers now: the open answerable of lowest priority, and its key."""
    for answerable in _answerables().by_priority():
        key = await answerable.open_key(turn)
        if key is not None:
            return answerable, key
    return None


async def answer_open(turn: Turn, text: str, *, anonymous: bool, from_form: bool = False) -> list[Post]:
    """Answer whatever is open: the current reflection step first, else the support round."""
    turn.require_community()
    text = trimmed(text)
    if not text:
        raise UsageError("Usage: /cop share <your words>  (or /cop anon <your words> without your name)")
    found = await _open(turn)
    if found is None:
        return [turn.private(NOTHING_OPEN)]
    return await _keep(turn, *found, text, anonymous=anonymous, from_form=from_form)


async def _keep(
    turn: Turn, answerable: Answerable, key: str, text: str, *, anonymous: bool, from_form: bool
) -> list[Post]:
    """Keep one answer; the member who shared it without a name gets their private code."""
    if len(text) > MAX_ANSWER_CHARS:
        return [turn.private(TOO_LONG)]
    code = _new_code() if anonymous else None
    given = Answer(text, anonymous, from_form, code_hash(code) if code else None)
    posts = await answerable.answer(turn, key, given)
    if posts is None:
        return []  # the same answer again: already kept, already acknowledged
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
    code, _, words = rest.partition(" ")
    words = trimmed(words)
    if not words:
        raise UsageError(EDIT_USAGE)
    if len(words) > MAX_ANSWER_CHARS:
        return [turn.private(TOO_LONG)]
    answer = await store.find_by_code(turn.session, _community_id(turn), code_hash(code))
    if answer is None:
        return [turn.private(BAD_CODE)]
    answer.text = words
    answer.answer_key = store.answer_key(None, words, per_member=False)
    if isinstance(answer, ReflectionAnswer):
        await store.update_action_text(turn.session, answer)
    return [turn.private(EDITED)]


@router.verb(
    "withdraw",
    "withdraw <code>",
    "Take back an answer you shared without your name.",
    needs_community=False,
    private_menu="withdraw <code>: take back an answer shared without your name",
)
async def withdraw(turn: Turn, cmd: Command) -> list[Post]:
    args = cmd.args
    if len(args) != 1:
        raise UsageError("Usage: /cop withdraw <code>")
    answer = await store.find_by_code(turn.session, _community_id(turn), code_hash(args[0]))
    if answer is None:
        return [turn.private(BAD_CODE)]
    await store.delete_answer(turn.session, answer)
    return [turn.private(WITHDRAWN)]
