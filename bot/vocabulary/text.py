"""What members type, read safely: trimming that sees invisible characters, numbers in ASCII
digits only, and text made safe to show (no raw control or direction-override characters)."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable

# Characters that take no room on screen: a reply made only of these (and spaces) says nothing.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u180e\u00ad\u034f\u2800\u3164\u115f\u1160"
_EDGES = re.compile(rf"^[\s{_INVISIBLE}]+|[\s{_INVISIBLE}]+$")
_NUMBER = re.compile(r"[0-9]{1,9}")
# Direction embeddings, overrides and isolates: they can make shown text read backwards
# ("‮gnp.exe" looks like "exe.png"). Plain marks (LRM, RLM) are harmless and stay.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")


def trimmed(text: object) -> str:
    """``text`` without leading or trailing whitespace and invisible characters; "" when
    nothing visible is left (or ``text`` is not a string at all)."""
    if not isinstance(text, str):
        return ""
    text = _EDGES.sub("", text)
    if not any(unicodedata.category(ch)[0] not in "CZ" for ch in text):
        return ""
    return text


def number(token: object) -> int | None:
    """A whole number typed in ASCII digits (``3``, ``12``); None for anything else, including
    digits of other scripts (``٣``), superscripts (``²``) and full-width digits (``１``)."""
    if isinstance(token, str) and _NUMBER.fullmatch(token):
        return int(token)
    return None


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> str:
    """``text`` that every database keeps as it is: NUL (which PostgreSQL refuses) and lone
    surrogates (which no UTF-8 database can hold; JSON may carry them as ``\\ud800``) become
    U+FFFD. Everything else is kept exactly as typed."""
    return _UNSTORABLE.sub("\ufffd", text)


def _control_picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ … ␟: visible, harmless stand-ins
    if code == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"


def shown(text: str) -> str:
    """``text`` as safe to show: control characters (ESC, NUL, …) as visible symbols, direction
    overrides removed. Newlines and tabs stay."""
    if not text:
        return text
    return _BIDI_CONTROLS.sub("", _CONTROLS.sub(_control_picture, text))


def display_token(name: str, user_id: str) -> str:
    """How a mentioned member reads in kept text: their name with spaces as underscores, so it
    stays one token that the core can resolve to the member again (``@Ana_Lopez``)."""
    return "_".join(name.split()) or user_id


def plural(count: int, word: str) -> str:
    """``1 action``, ``3 actions``."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def and_list(items: list[str]) -> str:
    """``Ann``, ``Ann and Ben``, ``Ann, Ben and Cara``."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def or_list(items: list[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} or {items[-1]}"


def nearest(word: str, choices: Iterable[str], n: int = 3, cutoff: float = 0.6) -> list[str]:
    """The choices closest to a mistyped ``word`` ("suport" → "support"), best first
    (`difflib.get_close_matches`); [] when none is close."""
    return difflib.get_close_matches(word.casefold(), list(choices), n=n, cutoff=cutoff)
