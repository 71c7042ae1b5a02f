"""Runs the workloads against each target: the real `copbot serve` on a throwaway database (one
process serving Slack and Teams, against the fakes in this process), and the two floors (a bare
Bolt app, a bare botbuilder bot), each in its own child process."""

from __future__ import annotations

from typing import Any

from bench import slack_scenario, teams_scenario
from bench.databases import database_url
from bench.processes import Child
from bench.rows import RowCounter
from bench.sizes import Sizes
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.slack_api import BOT_TOKEN, SECRET, FakeSlackApi

SERVE = ["-m", "bot.shell.cli", "serve", "--host", "127.0.0.1"]


def serve_env(slack: FakeSlackApi, database: str) -> dict[str, str]:
    """`copbot serve` for Slack (against the fake API) and Teams (local mode); outbound pace
    raised so delivery to the fakes is not throttled (the benchmark measures copbot, not Slack)."""
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "COPBOT_SLACK_PACE_PER_SECOND": "500",
        "COPBOT_TEAMS_LOCAL": "1",
        "COPBOT_TEAMS_PACE": "1000/1",
        "DATABASE_URL": database,
        "LOG_LEVEL": "WARNING",
    }


async def copbot(kind: str, sizes: Sizes, platforms: set[str]) -> dict[str, Any]:
    """`copbot serve` on ``kind`` ("sqlite" | "postgresql"): start time, memory, each workload."""
    found: dict[str, Any] = {}
    async with database_url(kind) as url:
        slack = await FakeSlackApi().start()
        connector = await FakeBotConnector().start()
        server = Child(SERVE, serve_env(slack, url))
        counter = RowCounter(url)
        try:
            found["start_s"] = round(await server.start(), 2)
            found["rss_start_mb"] = round(server.rss_mb(), 1)
            if "slack" in platforms:
                found["slack"] = await slack_scenario.run(
                    slack_scenario.SlackBench(server.url, slack, "C1"), sizes, counter
                )
            if "teams" in platforms:
                teams = teams_scenario.TeamsBench(server.url, connector)
                found["teams"] = await teams_scenario.run(teams, sizes, counter)
            found["rss_end_mb"] = round(server.rss_mb(), 1)
        finally:
            server.stop()
            await counter.close()
            await connector.close()
            await slack.close()
    return found


async def bolt_floor(sizes: Sizes) -> dict[str, Any]:
    """The Slack workload against a bare Bolt app that only acknowledges."""
    slack = await FakeSlackApi().start()
    floor = Child(
        ["-m", "bench.floor_bolt"],
        {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": slack.api_url},
    )
    try:
        await floor.start()
        return await slack_scenario.run(slack_scenario.SlackBench(floor.url, slack, "C1"), sizes, None)
    finally:
        floor.stop()
        await slack.close()


async def botbuilder_floor(sizes: Sizes) -> dict[str, Any]:
    """The Teams workload against a bare botbuilder bot that replies once per message."""
    connector = await FakeBotConnector().start()
    floor = Child(["-m", "bench.floor_botbuilder"], {})
    try:
        await floor.start()
        found = await teams_scenario.run(teams_scenario.TeamsBench(floor.url, connector), sizes, None)
        found["replies_received"] = len(connector.delivered())
        return found
    finally:
        floor.stop()
        await connector.close()
