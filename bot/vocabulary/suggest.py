"""What copbot says to a word it does not know: the nearest words it does know, found with
`difflib` ("suport" → "support"), so a typo gets a form that works rather than a dead end."""

from __future__ import annotations

from collections.abc import Iterable

from bot.vocabulary.text import nearest, or_list, shown

UNKNOWN_VERB = "I don't know “{word}”."
DID_YOU_MEAN = " Did you mean {forms}?"
ALL_VERBS = " `/cop help` lists everything I can do."
NO_NEAR_VERB = " Try `/cop help` to see what I can do."
SHOWN_REST_CHARS = 60  # of the words after a mistyped verb, quoted back in the suggestion


def unknown_verb(word: str, verbs: Iterable[str], rest: str = "") -> str:
    """The answer to a verb not among ``verbs``: the nearest ones, and with one near verb the
    whole command as it was meant (``joinn Peer Support Worker`` → ``/cop join Peer Support Worker``)."""
    near = nearest(word, verbs)
    said = UNKNOWN_VERB.format(word=shown(word[:40]))
    if not near:
        return said + NO_NEAR_VERB
    tail = "" if "help" in near else ALL_VERBS
    if len(near) == 1 and rest and len(rest) <= SHOWN_REST_CHARS and "`" not in rest:
        return said + DID_YOU_MEAN.format(forms=f"`/cop {near[0]} {shown(rest)}`") + tail
    return said + DID_YOU_MEAN.format(forms=or_list([f"`/cop {verb}`" for verb in near])) + tail


def unknown_word(word: str, choices: Iterable[str], example: str) -> str:
    """The answer to a word that is none of ``choices`` (a form of a verb, a setting's name):
    the nearest, else all of them, and ``example``, a command that works."""
    options = list(choices)
    near = nearest(word, options)
    said = f"I don't know “{shown(word[:40])}”."
    if near:
        said += f" Did you mean {or_list([f'`{n}`' for n in near])}?"
    else:
        said += f" It can be {or_list([f'`{o}`' for o in options])}."
    return f"{said} For example: `{example}`"
