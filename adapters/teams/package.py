"""`copbot teams-package`: write the Teams app package (manifest.json + two icons) for sideloading."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import zipfile
from pathlib import Path
from typing import Any

from adapters.teams.icons import color_icon, outline_icon
from bot.commands import VERBS
from bot.vocabulary.errors import ConfigError

MANIFEST_VERSION = "1.17"
SCHEMA = f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
APP_VERSION = "1.0.0"
PLACEHOLDER_URL = "https://example.org/copbot"  # a reserved domain: replace with your own pages
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

MENU_LIMIT = 10  # Teams shows at most 10 commands per menu


def menu(private: bool = False) -> list[tuple[str, str]]:
    """(verb, description) of Teams' command menu in a channel or group chat, or (``private``)
    in a private chat, which belongs to no community: the verbs that declare a menu entry
    there (`bot.registry.Verb.menu` / ``private_menu``), in help's order."""
    entries = [
        (verb.name, verb.private_menu if private else verb.menu)
        for verb in VERBS.values()
        if (verb.private_menu if private else verb.menu)
    ]
    if len(entries) > MENU_LIMIT:
        raise ValueError(f"Teams shows at most {MENU_LIMIT} commands in a menu; {len(entries)} declare one")
    return entries


def _commands(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"title": title[:32], "description": description[:128]} for title, description in pairs]


def build_manifest(app_id: str, name: str = "copbot", site: str = PLACEHOLDER_URL) -> dict[str, Any]:
    """The manifest: one bot in team, group chat and personal scope, its command menus, and
    resource-specific consent to read the channel/chat messages it is installed in."""
    if not _GUID.match(app_id or ""):
        raise ConfigError(
            "--app-id must be the Azure bot's Microsoft App ID (a GUID like 00000000-0000-0000-0000-000000000000)"
        )
    short = (name or "copbot")[:30]
    site = site.rstrip("/")
    if not site.startswith("https://"):
        raise ConfigError("the public URL must start with https:// (Teams requires it)")
    domain = site[len("https://") :].split("/", 1)[0]
    return {
        "$schema": SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": APP_VERSION,
        "id": app_id,
        "developer": {
            "name": "copbot",
            "websiteUrl": site,
            "privacyUrl": f"{site}/privacy",
            "termsOfUseUrl": f"{site}/terms",
        },
        "name": {"short": short, "full": f"{short}: Community of Practice facilitator"[:100]},
        "description": {
            "short": "Facilitator and flipchart for Communities of Practice"[:80],
            "full": (
                "copbot runs the standing agenda of a Community of Practice meeting in a Teams "
                "channel: the support-statement round, reflective practice in six steps (Gibbs), "
                "the vote on the next lead topic and who leads the next meeting. Members answer "
                "in a step's reply chain or on its card, with or without their name; passing is "
                "always fine."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#266E74",
        "bots": [
            {
                "botId": app_id,
                "scopes": ["team", "groupChat", "personal"],
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": [
                    {"scopes": ["team"], "commands": _commands(menu())},
                    {"scopes": ["groupChat"], "commands": _commands(menu())},
                    {"scopes": ["personal"], "commands": _commands(menu(private=True))},
                ],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [] if site == PLACEHOLDER_URL else [domain],
        "webApplicationInfo": {"id": app_id, "resource": "https://RscBasedStoreApp"},
        "authorization": {
            "permissions": {
                "resourceSpecific": [
                    {"name": "ChannelMessage.Read.Group", "type": "Application"},
                    {"name": "ChatMessage.Read.Chat", "type": "Application"},
                ]
            }
        },
    }


def write_package(args: argparse.Namespace) -> int:
    """Write the zip named by ``args.out``; returns the exit status."""
    site = getattr(args, "url", None) or os.environ.get("COPBOT_PUBLIC_URL") or PLACEHOLDER_URL
    manifest = build_manifest(args.app_id.strip(), getattr(args, "name", "copbot") or "copbot", site)
    out = Path(args.out or "copbot-teams.zip")
    if out.parent and not out.parent.exists():
        raise ConfigError(f"--out: the folder {out.parent} does not exist")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        package.writestr("color.png", color_icon(192))
        package.writestr("outline.png", outline_icon(32))
    print(f"Wrote {out}: upload it in Teams (Apps → Manage your apps → Upload an app).", file=sys.stdout)
    if site == PLACEHOLDER_URL:
        print("Note: the developer links point at example.org; set COPBOT_PUBLIC_URL=https://… for your own.")
    return 0
