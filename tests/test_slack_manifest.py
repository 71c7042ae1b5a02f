"""`copbot slack-manifest`: the app manifest a workspace admin pastes into Slack."""

from __future__ import annotations

import io
import json
from argparse import Namespace

import pytest

from adapters.slack.manifest import BOT_SCOPES, print_manifest
from bot.shell.cli import main
from bot.vocabulary.errors import ConfigError


def _manifest(**args) -> dict:
    out = io.StringIO()
    assert print_manifest(Namespace(**{"url": None, "socket_mode": False, "name": "copbot", **args}), out) == 0
    return json.loads(out.getvalue())


def test_http_manifest_has_command_events_interactivity_and_only_used_scopes():
    manifest = _manifest(url="https://example.org/")
    url = "https://example.org/slack/events"
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == "/cop" and command["should_escape"] is True and command["url"] == url
    settings = manifest["settings"]
    assert settings["event_subscriptions"] == {
        "request_url": url,
        "bot_events": ["message.channels", "message.groups", "app_uninstalled", "tokens_revoked"],
    }
    assert settings["interactivity"] == {"is_enabled": True, "request_url": url}
    assert settings["socket_mode_enabled"] is False
    assert manifest["oauth_config"]["scopes"]["bot"] == [
        "commands",
        "chat:write",
        "channels:history",
        "groups:history",
        "users:read",
        "files:write",
        "reactions:write",
        "canvases:write",
    ]
    assert manifest["features"]["bot_user"]["display_name"] == "copbot"
    assert 174 <= len(manifest["display_information"]["long_description"]) <= 4000


def test_socket_mode_manifest_needs_no_url():
    manifest = _manifest(socket_mode=True, name="North COP")
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in manifest["settings"]["event_subscriptions"]
    assert "request_url" not in manifest["settings"]["interactivity"]
    assert "url" not in manifest["features"]["slash_commands"][0]
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["display_information"]["name"] == "North COP"
    assert manifest["oauth_config"]["scopes"]["bot"] == list(BOT_SCOPES)


def test_missing_or_plain_http_url_is_one_clear_line(capsys):
    with pytest.raises(ConfigError):
        _manifest()
    with pytest.raises(ConfigError):
        _manifest(url="http://example.org")
    assert main(["slack-manifest"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("copbot: ") and "--url" in err and "Traceback" not in err


def test_cli_prints_the_manifest(capsys):
    assert main(["slack-manifest", "--url", "https://copbot.example.org", "--socket-mode"]) == 0
    manifest = json.loads(capsys.readouterr().out)
    assert manifest["settings"]["socket_mode_enabled"] is True
