"""Teams adapter, pure parts: activity → event, post → card, settings, the package, and the
sender against the fake Bot Connector (no core needed)."""

from __future__ import annotations

import argparse
import json
import re
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity

from adapters.teams.cards import escape_markdown, render_card
from adapters.teams.package import write_package
from adapters.teams.sender import TeamsSender
from adapters.teams.settings import TEAMS_PACE, TeamsSettings, pace_from_env, settings_from_env
from adapters.teams.translate import (
    channel_reference,
    reference_fingerprint,
    serialize_reference,
    to_incoming,
)
from bot.vocabulary.conversation import AnswerForm, Button, ChoiceEvent, CommandEvent, Place, Post, ReplyEvent, Section
from bot.vocabulary.errors import ConfigError, DeliveryError
from tests.fakes.bot_connector import FakeBotConnector

CHANNEL = "19:cop-north@thread.tacv2"
BOT = {"id": "28:copbot", "name": "copbot"}
APP_ID = "11111111-2222-3333-4444-555555555555"


def activity(text: str = "", *, conv: str = CHANNEL, id: str = "100", kind: str = "channel", **extra: Any) -> Activity:
    body: dict[str, Any] = {
        "type": "message",
        "id": id,
        "text": text,
        "channelId": "msteams",
        "serviceUrl": "http://127.0.0.1:1/",
        "from": {"id": "29:ann", "aadObjectId": "aad-ann", "name": "Ann"},
        "recipient": BOT,
        "conversation": {"id": conv, "conversationType": kind, "tenantId": "tenant-1"},
        "channelData": {"tenant": {"id": "tenant-1"}, "team": {"id": "team-1"}}
        if kind == "channel"
        else {"tenant": {"id": "tenant-1"}},
        "entities": [],
    }
    if "<at>copbot</at>" in text:
        body["entities"].append({"type": "mention", "text": "<at>copbot</at>", "mentioned": BOT})
    body.update(extra)
    return Activity().deserialize(body)


# -- activity → event ------------------------------------------------------------------------


def test_a_mention_command_in_a_channel_strips_only_the_mention() -> None:
    got = to_incoming(activity("<at>copbot</at> propose What copbot does", conv=f"{CHANNEL};messageid=100"))
    assert got is not None
    event = got.event
    assert isinstance(event, CommandEvent)
    assert event.text == "propose What copbot does"
    assert event.place == Place("teams", CHANNEL, "team-1")
    assert event.actor.user_id == "aad-ann" and event.actor.name == "Ann"
    assert event.event_id == f"{CHANNEL}/100"


@pytest.mark.parametrize("text", ["cop reflect Boundaries", "/cop reflect Boundaries", "COP reflect Boundaries"])
def test_cop_prefix_commands_need_no_mention(text: str) -> None:
    got = to_incoming(activity(text, conv="19:group@thread.v2", kind="groupChat"))
    assert got is not None and isinstance(got.event, CommandEvent)
    assert got.event.text == "reflect Boundaries"


def test_a_personal_chat_takes_plain_verbs() -> None:
    got = to_incoming(activity("reflect Boundaries", conv="a:personal-1", kind="personal"))
    assert got is not None and isinstance(got.event, CommandEvent) and got.event.text == "reflect Boundaries"


def test_other_members_mentions_become_tokens() -> None:
    act = activity("<at>copbot</at> chairs set <at>Bea</at> <at>Cal</at> 12")
    act.entities += (
        Activity()
        .deserialize(
            {
                "type": "message",
                "entities": [
                    {"type": "mention", "text": "<at>Bea</at>", "mentioned": {"id": "29:bea", "name": "Bea"}},
                    {
                        "type": "mention",
                        "text": "<at>Cal</at>",
                        "mentioned": {"id": "29:cal", "aadObjectId": "aad-cal", "name": "Cal"},
                    },
                ],
            }
        )
        .entities
    )
    event = to_incoming(act).event  # type: ignore[union-attr]
    assert isinstance(event, CommandEvent)
    assert event.text == "chairs set @29:bea @aad-cal 12"
    assert [m.user_id for m in event.mentions] == ["29:bea", "aad-cal"]


def test_a_reply_in_a_chain_is_a_reply_to_its_root() -> None:
    got = to_incoming(activity("I felt nervous", conv=f"{CHANNEL};messageid=m7", id="m9"))
    assert got is not None and got.needs_thread_check
    assert isinstance(got.event, ReplyEvent) and got.event.thread_ref == "m7" and got.event.text == "I felt nervous"


def test_a_reply_with_a_mention_is_still_an_answer_unless_it_is_a_verb() -> None:
    answer = to_incoming(activity("<at>copbot</at> I felt nervous", conv=f"{CHANNEL};messageid=m7", id="m9"))
    assert isinstance(answer.event, ReplyEvent) and answer.event.text == "I felt nervous"  # type: ignore[union-attr]
    command = to_incoming(activity("<at>copbot</at> pass", conv=f"{CHANNEL};messageid=m7", id="m9"))
    assert isinstance(command.event, CommandEvent) and command.event.text == "pass"  # type: ignore[union-attr]


def test_channel_chatter_is_dropped() -> None:
    assert to_incoming(activity("lunch anyone?", id="m5", conv=f"{CHANNEL};messageid=m5")) is None
    assert to_incoming(activity("copper is great")) is None


def test_a_button_submit_is_a_choice_and_a_double_click_has_one_id() -> None:
    first = to_incoming(activity("", id="s1", replyToId="m3", value={"cop": "vote 2", "v": "ab"}))
    second = to_incoming(activity("", id="s2", replyToId="m3", value={"cop": "vote 2", "v": "ab"}))
    assert isinstance(first.event, ChoiceEvent) and first.event.command == "vote 2"  # type: ignore[union-attr]
    assert first.event.event_id == second.event.event_id  # type: ignore[union-attr]
    rerendered = to_incoming(activity("", id="s3", replyToId="m3", value={"cop": "vote 2", "v": "cd"}))
    assert rerendered.event.event_id != first.event.event_id  # type: ignore[union-attr]


def test_an_answer_form_submit_is_a_form_reply() -> None:
    got = to_incoming(
        activity(
            "",
            id="s1",
            replyToId="m3",
            value={"copAnswer": "reflection:1:step:2", "v": "x", "answer": " scared ", "anonymous": "true"},
        )
    )
    assert got is not None and got.card_key == "reflection:1:step:2"
    event = got.event
    assert isinstance(event, ReplyEvent)
    assert (event.text, event.thread_ref, event.anonymous, event.from_form) == ("scared", "m3", True, True)


def test_the_stored_reference_names_the_channel_not_the_member() -> None:
    ref = json.loads(serialize_reference(channel_reference(activity("hi", conv=f"{CHANNEL};messageid=100"))))
    assert ref["conversation"]["id"] == CHANNEL
    assert "user" not in ref and "activityId" not in ref
    assert ref["conversation"]["tenantID"] == "tenant-1"


def test_the_channels_address_does_not_change_with_who_wrote_last() -> None:
    ann = activity("hi", conv=f"{CHANNEL};messageid=100", locale="en-IE")
    ben = activity("hello", conv=f"{CHANNEL};messageid=200", id="200", locale="de-DE")
    ben.from_property.id, ben.from_property.name = "29:ben", "Ben"
    assert serialize_reference(channel_reference(ann)) == serialize_reference(channel_reference(ben))
    assert "locale" not in json.loads(serialize_reference(channel_reference(ann)))
    assert reference_fingerprint(ann) == reference_fingerprint(ben)
    moved = activity("hi", serviceUrl="http://127.0.0.1:2/")  # Teams moved the channel's service
    assert reference_fingerprint(moved) != reference_fingerprint(ann)
    assert serialize_reference(channel_reference(moved)) != serialize_reference(channel_reference(ann))


# -- post → card -------------------------------------------------------------------------


def test_member_text_cannot_inject_markup_or_mentions() -> None:
    hostile = "**bold** [click](https://evil.example) <at>Everyone</at> _x_ `code`\n- list\n1. one"
    card = render_card(Post(text="Shared:", sections=(Section("Answers", (hostile,)),)))
    texts = [b["text"] for b in card["body"] if b["type"] == "TextBlock"]
    joined = "\n".join(texts)
    for markup in (r"(?<!\\)\*(?<!\\)\*", r"(?<!\\)\]\(", r"(?<!\\)<at", r"(?<!\\)_x", r"^- ", r"^1\. "):
        assert not re.search(markup, joined, re.MULTILINE), f"unescaped {markup} in {joined!r}"
    assert "\\<at\\>Everyone\\</at\\>" in joined
    assert "msteams" in card and "entities" not in card["msteams"]
    assert escape_markdown("- list").startswith("\\-") and escape_markdown("1. one").startswith("\\1.")


def test_buttons_are_submits_carrying_the_command_and_forms_have_inputs() -> None:
    post = Post(
        text="Step 2 of 6 — what were you thinking and feeling?",
        buttons=(Button("Next", "next", "primary"), Button("Close", "close", "danger")),
        form=AnswerForm("Your answer", allow_anonymous=True),
        key="reflection:1:step:2",
    )
    card = render_card(post, nonce="n1")
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    sets = [e for e in card["body"] if e["type"] == "ActionSet"]
    actions = [a for s in sets for a in s["actions"]]
    assert actions[0]["data"] == {"cop": "next", "v": "n1"} and actions[0]["style"] == "positive"
    assert actions[1]["style"] == "destructive"
    inputs = {e["id"]: e for e in card["body"] if e["type"].startswith("Input.")}
    assert inputs["answer"]["isMultiline"] is True
    assert inputs["anonymous"]["title"] == "Post without my name"
    assert actions[-1]["data"] == {"copAnswer": "reflection:1:step:2", "v": "n1"}
    assert all(b.get("wrap") for b in card["body"] if b["type"] == "TextBlock")


# -- settings ------------------------------------------------------------------------------


def test_settings() -> None:
    assert settings_from_env({}) is None  # off unless asked for: no open endpoint by default
    assert settings_from_env({"COPBOT_TEAMS_LOCAL": "1"}).local  # type: ignore[union-attr]
    s = settings_from_env({"MicrosoftAppId": APP_ID, "MicrosoftAppPassword": "pw"})
    assert (s.APP_ID, s.APP_TYPE, s.local) == (APP_ID, "MultiTenant", False)
    with pytest.raises(ConfigError, match="MicrosoftAppTenantId"):
        settings_from_env({"MicrosoftAppId": APP_ID, "MicrosoftAppPassword": "pw", "MicrosoftAppType": "SingleTenant"})
    with pytest.raises(ConfigError, match="MicrosoftAppId is not"):
        settings_from_env({"MicrosoftAppPassword": "pw"})
    with pytest.raises(ConfigError, match="MicrosoftAppType"):
        settings_from_env({"MicrosoftAppId": APP_ID, "MicrosoftAppPassword": "pw", "MicrosoftAppType": "Other"})
    assert pace_from_env({}) == TEAMS_PACE
    assert pace_from_env({"COPBOT_TEAMS_PACE": "100/1"}).limits == ((100, 1.0),)


# -- package -------------------------------------------------------------------------------


def _png_size(data: bytes) -> tuple[int, int, bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    idat = data.index(b"IDAT")
    length = struct.unpack(">I", data[idat - 4 : idat])[0]
    return width, height, zlib.decompress(data[idat + 4 : idat + 4 + length])


def test_the_package(tmp_path: Path) -> None:
    out = tmp_path / "copbot-teams.zip"
    assert write_package(argparse.Namespace(app_id=APP_ID, out=str(out), name="copbot")) == 0
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        color = _png_size(package.read("color.png"))
        outline = _png_size(package.read("outline.png"))
    assert manifest["manifestVersion"] == "1.17" and "v1.17" in manifest["$schema"]
    bot = manifest["bots"][0]
    assert bot["botId"] == APP_ID and set(bot["scopes"]) == {"team", "groupChat", "personal"}
    scopes = {s for cl in bot["commandLists"] for s in cl["scopes"]}
    assert scopes == {"team", "groupChat", "personal"}
    assert all(1 <= len(cl["commands"]) <= 10 for cl in bot["commandLists"])
    titles = {c["title"] for cl in bot["commandLists"] for c in cl["commands"]}
    assert {"help", "reflect", "vote", "support", "lead", "share", "anon", "edit", "forget-me"} <= titles
    rsc = manifest["authorization"]["permissions"]["resourceSpecific"]
    assert {"name": "ChannelMessage.Read.Group", "type": "Application"} in rsc
    assert {"name": "ChatMessage.Read.Chat", "type": "Application"} in rsc
    assert manifest["webApplicationInfo"]["id"] == APP_ID and manifest["webApplicationInfo"]["resource"]
    assert isinstance(manifest["validDomains"], list)
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert color[:2] == (192, 192) and outline[:2] == (32, 32)
    raw = outline[2]
    pixels = [
        raw[1 + r * (32 * 4 + 1) + c * 4 : 1 + r * (32 * 4 + 1) + c * 4 + 4] for r in range(32) for c in range(32)
    ]
    assert all(p == b"\xff\xff\xff\xff" or p[3] == 0 for p in pixels)  # white on transparent
    assert any(p[3] == 0 for p in pixels) and any(p[3] == 255 for p in pixels)


def test_the_package_wants_a_real_app_id(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        write_package(argparse.Namespace(app_id="not-a-guid", out=str(tmp_path / "x.zip"), name="copbot"))


# -- sender ---------------------------------------------------------------------------------


class Refs:
    def __init__(self, raw: str | None) -> None:
        self.raw = raw

    async def conversation_ref(self, place: Place) -> str | None:
        return self.raw


def _sender(fake: FakeBotConnector) -> TeamsSender:
    act = activity("hi", serviceUrl=fake.service_url)
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(TeamsSettings()))
    return TeamsSender(adapter, "", Refs(serialize_reference(channel_reference(act))))


async def test_the_sender_posts_replies_updates_and_sends_privately(fake: FakeBotConnector) -> None:
    sender = _sender(fake)
    place = Place("teams", CHANNEL, "team-1")
    ref = await sender.send(place, Post("Hello"), None)
    reply = await sender.send(place, Post("In the chain"), ref)
    await sender.update(place, ref, Post("Hello again"))  # type: ignore[arg-type]
    fake.add_member("29:ann", "aad-ann", "Ann")
    assert await sender.send(place, Post("Only you", private_to="aad-ann"), None) is None
    kinds = [(c.kind, c.conversation_id, c.activity_id) for c in fake.calls]
    assert kinds[:3] == [("send", CHANNEL, None), ("reply", CHANNEL, ref), ("update", CHANNEL, ref)]
    assert reply and reply != ref
    assert [c.kind for c in fake.calls[3:]] == ["member", "create", "send"]
    create = fake.calls[4].body
    assert create["members"] == [{"id": "29:ann"}] and create["isGroup"] is False
    assert create["channelData"] == {"tenant": {"id": "tenant-1"}}
    assert fake.calls[5].conversation_id.startswith("a:dm-")
    assert "Only you" in fake.calls[5].card_text


@pytest.mark.parametrize(
    ("status", "retry_after", "permanent", "wait"),
    [
        (429, "3", False, 3.0),
        (412, None, False, None),
        (502, None, False, None),
        (504, None, False, None),
        (403, None, True, None),
        (404, None, True, None),
    ],
)
async def test_connector_failures_become_delivery_errors(
    fake: FakeBotConnector, status: int, retry_after: str | None, permanent: bool, wait: float | None
) -> None:
    fake.fail_next(1, status=status, retry_after=retry_after)
    with pytest.raises(DeliveryError) as caught:
        await _sender(fake).send(Place("teams", CHANNEL), Post("Hello"), None)
    assert caught.value.permanent is permanent and caught.value.retry_after == wait
    assert len(fake.calls) == 1  # msrest did not retry on its own: the Outbox decides


async def test_no_stored_reference_is_permanent() -> None:
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(TeamsSettings()))
    with pytest.raises(DeliveryError) as caught:
        await TeamsSender(adapter, "", Refs(None)).send(Place("teams", CHANNEL), Post("x"), None)
    assert caught.value.permanent
