"""A review chart too large for a Teams card's data URI is served by `copbot serve` itself, at an
unguessable address under COPBOT_PUBLIC_URL that expires: the card shows it from there. Without
that setting there is no such route; a malformed, unknown or expired token is a bare 404."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from sqlalchemy import select

from adapters.teams.cards import render_card
from bot.shell.runtime import Runtime
from bot.shell.web import build_app
from bot.vocabulary.conversation import Attachment, Post, post_from_json, post_to_json
from flows.review_survey import send_command
from storage import shared_files
from storage.models import SharedFile
from tests.fakes.slack_api import running_stack
from tests.support.app import client_for, count_rows
from tests.support.slack_meeting import PEOPLE, say

PUBLIC = "https://copbot.example.org"
LARGE_PNG = b"\x89PNG\r\n\x1a\n" + bytes(40_000)


def test_a_card_shows_a_large_chart_from_where_copbot_serves_it():
    chart = Attachment.binary("chart.png", "image/png", LARGE_PNG, "Bar chart: 4 of 5")
    chart = dataclasses.replace(chart, url=f"{PUBLIC}/files/abc")
    kept = post_from_json(post_to_json(Post("results", attachment=chart)))  # as the outbox keeps it
    assert kept.attachment is not None and kept.attachment.url == f"{PUBLIC}/files/abc"
    image = next(block for block in render_card(kept)["body"] if block["type"] == "Image")
    assert image["url"] == f"{PUBLIC}/files/abc" and image["altText"] == "Bar chart: 4 of 5"


async def test_copbot_serves_a_shared_file_until_it_expires(sqlite_db, clock):
    async with sqlite_db.transaction() as session:
        token = await shared_files.share(session, "image/png", LARGE_PNG, clock.now)
    app = build_app(Runtime(sqlite_db, clock), {"COPBOT_PUBLIC_URL": PUBLIC}, serve=())
    async with client_for(app) as client:
        found = await client.get(f"/files/{token}")
        assert found.status == 200 and found.content_type == "image/png"
        assert await found.read() == LARGE_PNG
        assert found.headers["X-Content-Type-Options"] == "nosniff"
        for wrong in ("x" * 43, token[:-1], "../../etc/passwd", "%00", token + "a"):
            assert (await client.get(f"/files/{wrong}")).status == 404, wrong
        clock.advance(seconds=(shared_files.KEPT + timedelta(seconds=1)).total_seconds())
        assert (await client.get(f"/files/{token}")).status == 404
    async with sqlite_db.transaction() as session:
        assert await shared_files.purge(session, clock.now) == 1
    assert await count_rows(sqlite_db, SharedFile) == 0


async def test_without_a_public_address_there_is_no_files_route(sqlite_db, clock):
    async with sqlite_db.transaction() as session:
        token = await shared_files.share(session, "image/png", LARGE_PNG, clock.now)
    async with client_for(build_app(Runtime(sqlite_db, clock), {}, serve=())) as client:
        assert (await client.get(f"/files/{token}")).status == 404


async def test_the_review_chart_is_served_where_copbot_has_a_public_address(sqlite_db, clock, monkeypatch):
    monkeypatch.setenv("COPBOT_PUBLIC_URL", PUBLIC + "/")
    async with running_stack(sqlite_db, clock, PEOPLE) as stack:
        await say(stack, "U1", "setup North West")
        await say(stack, "U1", "review")
        for user, rating in (("U1", 4), ("U2", 5), ("U3", 3)):
            await say(stack, user, send_command([rating] * 9, ""))
        await say(stack, "U1", "review close")
    async with sqlite_db.transaction() as session:
        [token] = [row.token for row in await session.scalars(select(SharedFile))]
        media_type, data = await shared_files.shared(session, token, clock.now) or ("", b"")
    assert media_type == "image/png" and data.startswith(b"\x89PNG")
