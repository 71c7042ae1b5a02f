"""Teams settings from the environment: botbuilder's four standard names, checked in one line each."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.delivery import Pace
from bot.vocabulary.errors import ConfigError

APP_TYPES = {"multitenant": "MultiTenant", "singletenant": "SingleTenant", "userassignedmsi": "UserAssignedMSI"}

# Teams' documented limits: per conversation 7 messages a second and 60 in 30 seconds; per app
# and tenant 50 requests a second in all.
APP_WIDE = ((50, 1.0),)
TEAMS_PACE = Pace(limits=((7, 1.0), (60, 30.0)), overall=APP_WIDE)
PACE_ENV = "COPBOT_TEAMS_PACE"
LOCAL_ENV = "COPBOT_TEAMS_LOCAL"


@dataclass(frozen=True)
class TeamsSettings:
    """What `ConfigurationBotFrameworkAuthentication` reads (APP_ID, APP_PASSWORD, APP_TYPE, APP_TENANTID)."""

    APP_ID: str = ""
    APP_PASSWORD: str = ""
    APP_TYPE: str = "MultiTenant"
    APP_TENANTID: str = ""
    pace: Pace = TEAMS_PACE  # outbound, per conversation

    @property
    def local(self) -> bool:
        """No app id: the Bot Framework Emulator's local mode (no authentication)."""
        return not self.APP_ID

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TeamsSettings | None:
        """None when Teams is off; `ConfigError` (one clear line) when half-set."""
        return settings_from_env(env)


def _yes(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def settings_from_env(env: Mapping[str, str]) -> TeamsSettings | None:
    """Read and check the settings: None when Teams is off (no MicrosoftAppId, and local mode
    not asked for); `ConfigError` with one clear line when half-set."""
    app_id = (env.get("MicrosoftAppId") or "").strip()
    password = env.get("MicrosoftAppPassword") or ""
    tenant = (env.get("MicrosoftAppTenantId") or "").strip()
    raw_type = (env.get("MicrosoftAppType") or "").strip()
    app_type = APP_TYPES.get(raw_type.lower()) if raw_type else "MultiTenant"
    if app_type is None:
        raise ConfigError(
            f"MicrosoftAppType must be MultiTenant, SingleTenant or UserAssignedMSI (got {raw_type[:40]!r})"
        )
    if not app_id:
        if password:
            raise ConfigError(
                "MicrosoftAppPassword is set but MicrosoftAppId is not: set both, or neither for local mode"
            )
        if raw_type and app_type != "MultiTenant":
            raise ConfigError(f"MicrosoftAppType is {app_type} but MicrosoftAppId is not set")
        return TeamsSettings(pace=pace_from_env(env)) if _yes(env.get(LOCAL_ENV)) else None
    if app_type in ("SingleTenant", "UserAssignedMSI") and not tenant:
        raise ConfigError(f"MicrosoftAppType is {app_type}: set MicrosoftAppTenantId to your Microsoft Entra tenant id")
    if app_type != "UserAssignedMSI" and not password:
        raise ConfigError("MicrosoftAppId is set but MicrosoftAppPassword is not (the bot's client secret)")
    if _yes(env.get(LOCAL_ENV)):
        raise ConfigError(f"{LOCAL_ENV} is set but so is MicrosoftAppId: local mode is for running without one")
    return TeamsSettings(
        APP_ID=app_id, APP_PASSWORD=password, APP_TYPE=app_type, APP_TENANTID=tenant, pace=pace_from_env(env)
    )


def pace_from_env(env: Mapping[str, str]) -> Pace:
    """Outbound pace: Teams' limits, or ``COPBOT_TEAMS_PACE="posts/seconds,..."`` (e.g. for tests)."""
    raw = (env.get(PACE_ENV) or "").strip()
    if not raw:
        return TEAMS_PACE
    try:
        limits = []
        for part in raw.split(","):
            count, _, seconds = part.strip().partition("/")
            limits.append((int(count), float(seconds)))
    except ValueError as error:
        raise ConfigError(f'{PACE_ENV} must look like "7/1,60/30" (posts per seconds)') from error
    if not limits or any(count < 1 or seconds <= 0 for count, seconds in limits):
        raise ConfigError(f'{PACE_ENV} must look like "7/1,60/30" (posts per seconds)')
    return Pace(limits=tuple(limits), overall=APP_WIDE)
