"""Where a member's answer goes: the reply's thread names the post it answers (a step, the
support round); a plain terminal line answers whatever is open. Also passing, and editing or
withdrawing an answer shared without a name through its private code."""

from __future__ import annotations

import hashlib
import re
import secrets

from bot.conversation import Post, ReplyEvent
from bot.errors import NothingOpen, UsageError
from bot.text import trimmed
from flows import reflection as reflections
from flows import support_round
from flows.turn import Turn
from storage import answers as store
from storage.delivery import key_for_ref
from storage.models import Reflection, ReflectionAnswer, SupportRound

MAX_ANSWER_CHARS = 4000
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
TOO_LONG = f"That is longer than I can keep ({MAX_ANSWER_CHARS} characters). Could you shorten it or split it?"
NOTHING_OPEN = "Nothing is open to answer right now — no support round or reflection step."
ANON_RECEIPT = (
    "Shared without your name — thank you. Only you see this code: {code}. "
    "To change it: `/cop edit {code} <new words>`; to take it back: `/cop withdraw {code}`."
)
PASS_REFLECTION = "Thanks — passing is always fine."
EDITED = "Changed — thank you."
WITHDRAWN = "Taken back — it is no longer on the flipchart."
BAD_CODE = "I couldn't find an answer with that code."
NO_WORDS = "I didn't find any words in that, so nothing was changed. Share if you'd like — passing is always fine."
PASS_WORDS = frozenset({"pass", "/pass", "cop pass", "/cop pass", "i pass", "i'll pass", "i’ll pass"})
EDIT_USAGE = "Usage: /cop edit <code> <new words>"


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def _community_id(turn: Turn) -> int | None:
    """Codes work in the community's channel, and in a private chat with the bot (no community)."""
    return turn.community.id if turn.community is not None else None


def is_pass(text: str) -> bool:
    """A reply that only says "pass" (a pass, not an answer reading "pass")."""
    return " ".join(text.casefold().split()).rstrip(".!") in PASS_WORDS


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


async def reply(turn: Turn, event: ReplyEvent) -> list[Post]:
    """A member's reply. Replies to anything but an open answerable post are dropped unseen."""
    if turn.community is None:
        return []
    text = trimmed(event.text)
    if event.thread_ref is None:
        if not text:
            return [turn.private(NO_WORDS)]
        if is_pass(text):
            return await pass_turn(turn)
        return await answer_open(turn, text, anonymous=event.anonymous, from_form=event.from_form)
    key = await key_for_ref(turn.session, turn.place, event.thread_ref)
    if key is None:
        return []
    if re.fullmatch(r"support:\d+", key):
        support = await store.open_support_round(turn.session, turn.community.id)
        if support is None or key != f"support:{support.id}":
            return [turn.private(support_round.NOT_OPEN)]
        if not text:
            return [turn.private(NO_WORDS)]
        if is_pass(text):
            await turn.member()
            return await support_round.pass_round(turn, support)
        if len(text) > MAX_ANSWER_CHARS:
            return [turn.private(TOO_LONG)]
        return await _to_support(turn, support, text, event.anonymous)
    parsed = reflections.parse_step_key(key)
    if parsed is None:
        return []
    reflection = await store.reflection_by_id(turn.session, turn.community.id, parsed[0])
    if reflection is None:
        return []
    if not text:
        return [turn.private(NO_WORDS)]
    if is_pass(text):
        await turn.member()
        return [turn.private(PASS_REFLECTION)]
    if len(text) > MAX_ANSWER_CHARS:
        return [turn.private(TOO_LONG)]
    return await _to_reflection(turn, reflection, parsed[1], text, event.anonymous, event.from_form)


async def answer_open(turn: Turn, text: str, *, anonymous: bool, from_form: bool = False) -> list[Post]:
    """Answer whatever is open: the current reflection step first, else the support round."""
    community = turn.require_community()
    text = trimmed(text)
    if not text:
        raise UsageError("Usage: /cop share <your words>  (or /cop anon <your words> without your name)")
    if len(text) > MAX_ANSWER_CHARS:
        return [turn.private(TOO_LONG)]
    reflection = await store.open_reflection(turn.session, community.id)
    if reflection is not None:
        return await _to_reflection(turn, reflection, reflection.step, text, anonymous, from_form)
    support = await store.open_support_round(turn.session, community.id)
    if support is not None:
        return await _to_support(turn, support, text, anonymous)
    return [turn.private(NOTHING_OPEN)]


async def _to_support(turn: Turn, support: SupportRound, text: str, anonymous: bool) -> list[Post]:
    code = _new_code() if anonymous else None
    posts = await support_round.answer(
        turn, support, text, anonymous=anonymous, code_hash=_code_hash(code) if code else None
    )
    if code:
        posts.append(turn.private(ANON_RECEIPT.format(code=code)))
    return posts


async def _to_reflection(
    turn: Turn, reflection: Reflection, step: int, text: str, anonymous: bool, from_form: bool
) -> list[Post]:
    code = _new_code() if anonymous else None
    posts = await reflections.answer(
        turn,
        reflection,
        step,
        text,
        anonymous=anonymous,
        from_form=from_form,
        code_hash=_code_hash(code) if code else None,
    )
    if posts is None:
        return []  # the same answer again: already kept, already acknowledged
    if code:
        posts.append(turn.private(ANON_RECEIPT.format(code=code)))
    return posts


async def pass_turn(turn: Turn) -> list[Post]:
    community = turn.require_community()
    await turn.member()
    if await store.open_reflection(turn.session, community.id) is not None:
        return [turn.private(PASS_REFLECTION)]
    support = await store.open_support_round(turn.session, community.id)
    if support is not None:
        return await support_round.pass_round(turn, support)
    raise NothingOpen(NOTHING_OPEN)


async def edit(turn: Turn, args: tuple[str, ...], rest: str) -> list[Post]:
    if not args:
        raise UsageError(EDIT_USAGE)
    code, _, words = rest.partition(" ")
    words = trimmed(words)
    if not words:
        raise UsageError(EDIT_USAGE)
    if len(words) > MAX_ANSWER_CHARS:
        return [turn.private(TOO_LONG)]
    answer = await store.find_by_code(turn.session, _community_id(turn), _code_hash(code))
    if answer is None:
        return [turn.private(BAD_CODE)]
    answer.text = words
    answer.answer_key = store.answer_key(None, words, per_member=False)
    if isinstance(answer, ReflectionAnswer):
        await store.update_action_text(turn.session, answer)
    return [turn.private(EDITED)]


async def withdraw(turn: Turn, args: tuple[str, ...]) -> list[Post]:
    if len(args) != 1:
        raise UsageError("Usage: /cop withdraw <code>")
    answer = await store.find_by_code(turn.session, _community_id(turn), _code_hash(args[0]))
    if answer is None:
        return [turn.private(BAD_CODE)]
    await store.delete_answer(turn.session, answer)
    return [turn.private(WITHDRAWN)]
