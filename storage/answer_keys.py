"""The de-duplication key of an answer, shared by support statements and reflection answers:
what makes a retried or re-submitted answer count once, without ever naming an anonymous author."""

from __future__ import annotations

import hashlib


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def answer_key(member_id: int | None, text: str, *, per_member: bool, code_hash: str | None = None) -> str:
    """The de-duplication key of an answer. A named support statement is one per member
    (edited in place); other named answers: the same words from the same member count once.
    An answer without a name is one row per sharing, keyed by its private code: nothing says
    who wrote it, so the same words from two members must not be taken for a repeat (a retry
    of the same event is already recognised by its event id)."""
    if member_id is not None and per_member:
        return f"member:{member_id}"
    if member_id is None and code_hash:
        return f"anon:{code_hash[:40]}"
    author = f"m{member_id}" if member_id is not None else "anon"
    return f"{author}:{digest(' '.join(text.split()).casefold())[:40]}"
