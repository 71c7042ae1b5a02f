"""`copbot slack-manifest`: the Slack app manifest (JSON) to create copbot's app from."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from bot.vocabulary.errors import ConfigError

EVENTS_PATH = "/slack/events"  # the one URL for commands, events and interactivity
COMMAND = "/cop"

# Exactly what the adapter uses, and why.
BOT_SCOPES = (
    "commands",  # the /cop slash command
    "chat:write",  # posts, thread posts, ephemeral posts, chat.update of the live tally, reminders' DMs
    "channels:history",  # message.channels: members' replies in a bot post's thread (public channels)
    "groups:history",  # message.groups: the same in private channels
    "users:read",  # users.info: a member's display name (kept in memory for an hour)
    "files:write",  # files.uploadV2: the meeting's .ics invitation with its agenda
    "reactions:write",  # reactions.add: a ✓ on a member's thread answer instead of a private "kept"
    "canvases:write",  # conversations.canvases.create, canvases.edit: the channel's living record
)
# Members' replies; and the app's removal (no scope needed), after which nothing is posted.
BOT_EVENTS = ("message.channels", "message.groups", "app_uninstalled", "tokens_revoked")

DESCRIPTION = "Facilitator and flipchart for your Community of Practice."
LONG_DESCRIPTION = (
    "copbot helps a regional Community of Practice of peer workers meet: the support-statement "
    "round, reflective practice in Gibbs' six steps, the vote on the next lead topic and who leads "
    "the next meeting. Members answer in the thread of a step's post, or through a Share button "
    "that can post without their name. Type /cop help to start. copbot reads the messages of the "
    "channels it is invited to, keeps only replies to its own posts, and drops everything else."
)


def build_manifest(url: str | None, socket_mode: bool, name: str = "copbot") -> dict[str, Any]:
    """The manifest as a dict. ``url`` (https, the public base URL of ``copbot serve``) is
    required unless ``socket_mode``."""
    name = (name or "copbot").strip()
    if not 1 <= len(name) <= 35:
        raise ConfigError("--name must be 1 to 35 characters (Slack's limit for an app name).")
    request_url = None
    if url:
        if not url.startswith("https://"):
            raise ConfigError("--url must start with https:// (Slack only calls https URLs).")
        request_url = url.rstrip("/") + EVENTS_PATH
    elif not socket_mode:
        raise ConfigError("slack-manifest needs --url https://your.host (or --socket-mode, which needs no public URL).")

    command: dict[str, Any] = {
        "command": COMMAND,
        "description": "Run your Community of Practice meeting",
        "usage_hint": "help | join | support | reflect [topic] | vote | lead",
        "should_escape": True,  # members arrive as <@U…>, so copbot knows whom a command names
    }
    events: dict[str, Any] = {"bot_events": list(BOT_EVENTS)}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if request_url and not socket_mode:
        command["url"] = request_url
        events["request_url"] = request_url
        interactivity["request_url"] = request_url
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": name,
            "description": DESCRIPTION,
            "long_description": LONG_DESCRIPTION,
            "background_color": "#2c5f5d",
        },
        "features": {
            "bot_user": {"display_name": name, "always_online": True},
            # Reminders of a member's actions arrive as direct messages from the app (its
            # Messages tab); members act on them with their buttons, not by writing back.
            "app_home": {
                "home_tab_enabled": False,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": True,
            },
            "slash_commands": [command],
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": bool(socket_mode),
            "token_rotation_enabled": False,
        },
    }


def print_manifest(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Print the manifest for ``--url``/``--socket-mode``/``--name``; `ConfigError` if unusable."""
    manifest = build_manifest(
        getattr(args, "url", None), bool(getattr(args, "socket_mode", False)), getattr(args, "name", "copbot")
    )
    print(json.dumps(manifest, indent=2, ensure_ascii=False), file=out or sys.stdout)
    return 0
