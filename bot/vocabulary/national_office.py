"""Who the national office is: the people the deployment setting ``COPBOT_NATIONAL_OFFICE``
names, per platform (``slack:U123,teams:29:abc,console:Nora``). Only they reach the
``national`` verbs in chat; the CLI is for whoever runs the deployment. With the setting empty,
nobody in chat is the national office (the safe rule: a deployment names its people)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.vocabulary.errors import ConfigError

ENV = "COPBOT_NATIONAL_OFFICE"
PLATFORMS = ("slack", "teams", "console")
MALFORMED = (
    ENV + " must be a comma-separated list of platform:user-id (platforms: slack, teams, console), "
    "e.g. slack:U123,teams:29:abc — {problem}"
)


@dataclass(frozen=True)
class NationalOffice:
    """The national office's people, as (platform, user id) pairs."""

    people: frozenset[tuple[str, str]] = frozenset()

    def includes(self, platform: str, user_id: str) -> bool:
        return (platform, user_id) in self.people


def parse_national_office(value: str) -> NationalOffice:
    """The setting read; `ConfigError` (one line) for an unknown platform, a missing colon or
    an empty id. Ids are kept as given (Teams ids hold colons themselves: ``29:abc``); a
    terminal name is kept as the terminal's user id (``console:Nora Byrne`` → ``nora_byrne``)."""
    people: set[tuple[str, str]] = set()
    for raw in value.split(","):
        entry = raw.strip()
        if not entry:
            continue
        platform, colon, user_id = entry.partition(":")
        platform, user_id = platform.strip().lower(), user_id.strip()
        shown = entry[:40]
        if not colon:
            raise ConfigError(MALFORMED.format(problem=f"{shown!r} has no colon"))
        if platform not in PLATFORMS:
            raise ConfigError(MALFORMED.format(problem=f"unknown platform {platform[:20]!r}"))
        if not user_id:
            raise ConfigError(MALFORMED.format(problem=f"{shown!r} has an empty id"))
        if platform == "console":
            user_id = "_".join(user_id.split()).casefold()  # as `adapters.console.user_id` makes it
        people.add((platform, user_id))
    return NationalOffice(frozenset(people))


def national_office_from_env(env: Mapping[str, str]) -> NationalOffice:
    return parse_national_office(env.get(ENV) or "")
