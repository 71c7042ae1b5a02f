"""Slack's settings from the environment, checked at start: off, HTTP, or Socket Mode."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.delivery import Pace
from bot.vocabulary.errors import ConfigError

DEFAULT_API_URL = "https://slack.com/api/"
PACE_VARIABLE = "COPBOT_SLACK_PACE_PER_SECOND"
DEFAULT_PACE_PER_SECOND = 1.0  # Slack allows about one message per second per channel


@dataclass(frozen=True)
class SlackSettings:
    bot_token: str
    signing_secret: str
    app_token: str = ""
    api_url: str = DEFAULT_API_URL
    per_second: float = DEFAULT_PACE_PER_SECOND

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)

    @property
    def pace(self) -> Pace:
        """The outbox's pace for Slack: ``per_second`` messages per channel, no bursts."""
        return Pace(limits=((1, 1.0 / self.per_second),))

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SlackSettings | None:
        """None when Slack is not configured; `ConfigError` (one clear line) when half-set."""
        bot_token = (env.get("SLACK_BOT_TOKEN") or "").strip()
        secret = (env.get("SLACK_SIGNING_SECRET") or "").strip()
        app_token = (env.get("SLACK_APP_TOKEN") or "").strip()
        if not bot_token and not secret:
            if app_token:
                raise ConfigError(
                    "Slack is half-configured: SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN and "
                    "SLACK_SIGNING_SECRET are not (Socket Mode needs all three)."
                )
            return None
        if not bot_token or not secret:
            have, missing = (
                ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
                if bot_token
                else ("SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN")
            )
            raise ConfigError(
                f"Slack is half-configured: {have} is set but {missing} is not "
                "(set both, or neither to turn Slack off)."
            )
        if not bot_token.startswith("xoxb-"):
            raise ConfigError("SLACK_BOT_TOKEN must be the app's Bot User OAuth Token (it starts with xoxb-).")
        if app_token and not app_token.startswith("xapp-"):
            raise ConfigError(
                "SLACK_APP_TOKEN must be an app-level token with connections:write (it starts with xapp-)."
            )
        api_url = (env.get("SLACK_API_URL") or "").strip() or DEFAULT_API_URL
        if not api_url.startswith(("https://", "http://")):
            raise ConfigError(f"SLACK_API_URL must be an http(s) URL, e.g. {DEFAULT_API_URL}")
        if not api_url.endswith("/"):
            api_url += "/"
        raw_pace = (env.get(PACE_VARIABLE) or "").strip()
        try:
            per_second = float(raw_pace) if raw_pace else DEFAULT_PACE_PER_SECOND
        except ValueError:
            per_second = -1.0
        if not per_second > 0:
            raise ConfigError(f"{PACE_VARIABLE} must be a positive number of messages per second.")
        return cls(bot_token, secret, app_token, api_url, per_second)
