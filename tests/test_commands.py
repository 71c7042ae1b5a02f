"""The one command grammar."""

from __future__ import annotations

import pytest

from bot import commands
from bot.core import HANDLERS
from bot.vocabulary.errors import UsageError


@pytest.mark.parametrize(
    "typed, verb, args",
    [
        ("reflect Peer work", "reflect", ("Peer", "work")),
        ("/cop reflect Peer work", "reflect", ("Peer", "work")),
        ("cop reflect Peer work", "reflect", ("Peer", "work")),
        ("  VOTE   3 ", "vote", ("3",)),
        ("chairs set @U1 @U2 6", "chairs", ("set", "@U1", "@U2", "6")),
        ("propose Don't panic", "propose", ("Don't", "panic")),
        ("", "help", ()),
    ],
)
def test_the_same_words_everywhere(typed, verb, args):
    parsed = commands.parse(typed)
    assert (parsed.verb, parsed.args) == (verb, args)


def test_rest_keeps_what_was_typed():
    assert commands.parse('propose  Peer  Work: a "quote"').rest == 'Peer  Work: a "quote"'


def test_unknown_verb_and_oversized_text_get_a_short_line():
    with pytest.raises(UsageError, match="Try `/cop help`"):
        commands.parse("dance")
    with pytest.raises(UsageError, match="too long"):
        commands.parse("reflect " + "x" * 5000)


def test_every_verb_has_help_and_a_handler():
    required = {
        "help",
        "setup",
        "join",
        "leave",
        "members",
        "chairs",
        "support",
        "reflect",
        "next",
        "back",
        "end",
        "pass",
        "vote",
        "propose",
        "close",
        "lead",
        "meeting",
        "forget-me",
    }
    assert required <= set(commands.VERBS) == set(HANDLERS)
    for verb in commands.VERBS:
        assert commands.help_text(verb).startswith(f"/cop {commands.VERBS[verb].usage}")
    assert "(co-chairs only)" in commands.help_text("reflect")
    with pytest.raises(UsageError):
        commands.help_text("nope")


@pytest.mark.parametrize(
    "text, bare",
    [
        ("lead skip", True),
        ("lead opt-out", True),
        ("lead opt-in", True),
        ("join Peer Support Workers", True),
        ("lead me through this please", False),
    ],
)
def test_a_command_alone_in_a_reply_chain_is_a_command(text, bare):
    """Teams: "@copbot lead opt-out" under a card is the command, not an answer to the card."""
    assert commands.is_bare_command(text) is bare
