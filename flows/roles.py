"""The members' roles in the guide's words, and reading a role as a member types it: plural and
short forms ("Peer Support Workers", "IPS workers", "IPS") name their role; a form that fits
several roles, or none, comes back with the roles it may mean (`difflib` for near misses)."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

ROLES = (  # the guide's two lists merged (../shared/domain.md)
    "Peer Support Worker",
    "Family Peer Support Worker",
    "Recovery Educator",
    "Peer Educator",
    "Peer Coordinator",
    "Recovery Coordinator",
    "Area Lead for Engagement",
    "Recovery Education Facilitator",
    "IPS Worker",
)

# Other names the guide's readers use for a role, written as `_plain` leaves them.
ALSO_CALLED = {
    "psw": "Peer Support Worker",
    "fpsw": "Family Peer Support Worker",
    "ips": "IPS Worker",
    "individual placement and support worker": "IPS Worker",
    "individual placement and support": "IPS Worker",
    "area lead": "Area Lead for Engagement",
    "area lead engagement": "Area Lead for Engagement",
}

_NOT_A_LETTER = re.compile(r"[^\w]+|_")
_WORDS = frozenset(word for role in ROLES for word in role.casefold().split())


def _plain(text: str) -> str:
    """Lower case, punctuation as spaces, each plural word in its singular (``workers`` →
    ``worker``, but ``ips`` stays: only words the roles are made of lose their ``s``)."""
    words = _NOT_A_LETTER.sub(" ", text.casefold()).split()
    words = [word[:-1] if word.endswith("s") and word[:-1] in _WORDS else word for word in words]
    return " ".join(words)


_BY_FORM = {_plain(role): role for role in ROLES} | {_plain(form): role for form, role in ALSO_CALLED.items()}


@dataclass(frozen=True)
class RoleReading:
    """What a typed role reads as: ``role`` when it names one; else ``choices``, the roles it
    may mean (empty when nothing comes near)."""

    role: str | None
    choices: tuple[str, ...] = ()


def read_role(text: str) -> RoleReading:
    """The role ``text`` names, in the guide's spelling."""
    plain = _plain(text)
    if plain in _BY_FORM:
        return RoleReading(_BY_FORM[plain])
    words = plain.split()
    if not words:
        return RoleReading(None)
    # The start of a role's name ("Family", "Peer Support"), or words all found in it ("Facilitator").
    starting = [role for role in ROLES if _plain(role).startswith(plain)]
    if len(starting) == 1:
        return RoleReading(starting[0])
    holding = [role for role in ROLES if set(words) <= set(_plain(role).split())]
    if len(holding) == 1:
        return RoleReading(holding[0])
    if holding or len(starting) > 1:
        return RoleReading(None, tuple(holding or starting))
    near = difflib.get_close_matches(plain, list(_BY_FORM), n=3, cutoff=0.7)
    return RoleReading(None, tuple(dict.fromkeys(_BY_FORM[form] for form in near)))
