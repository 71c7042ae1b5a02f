"""Driving a meeting in a Slack channel in tests: the members, and saying, replying and
pressing as one of them through the real stack (`tests.fakes.slack_api.running_stack`)."""

from __future__ import annotations

from tests.fakes.slack_api import Call, SlackStack

PEOPLE = {"U1": "Ann", "U2": "Ben", "U3": "Cara", "U4": "Dev"}


def button(call: Call, command: str) -> dict:
    """The button on a posted message that runs ``command``."""
    for element in call.buttons():
        if element.get("value") == command or (command == "share" and element["action_id"] == "cop:share"):
            return element
    raise AssertionError(f"no {command!r} button on: {call.text[:200]!r}")


async def say(stack: SlackStack, user: str, text: str) -> None:
    assert (await stack.requests.command(user, text, PEOPLE[user].lower())).status == 200
    await stack.settle()


async def reply(stack: SlackStack, user: str, text: str, thread_ts: str) -> None:
    assert (await stack.requests.reply(user, text, thread_ts)).status == 200
    await stack.settle()


async def press(stack: SlackStack, user: str, call: Call, command: str) -> None:
    assert (await stack.requests.press(user, stack.slack.ts_of(call), button(call, command))).status == 200
    await stack.settle()


async def share(stack: SlackStack, user: str, call: Call, text: str, *, anonymous: bool) -> None:
    """Press the post's Share button, then submit the window Slack was asked to open."""
    opened = len(stack.slack.calls_to("views.open"))
    await press(stack, user, call, "share")
    views = stack.slack.calls_to("views.open")
    assert len(views) == opened + 1
    view = views[-1].params["view"]
    assert (await stack.requests.submit(user, view, text, anonymous=anonymous)).status == 200
    await stack.settle()


async def press_on(stack: SlackStack, user: str, posted: Call, version: Call, command: str) -> None:
    """Press a button of ``version``, an update of the message ``posted``."""
    ts = stack.slack.ts_of(posted)
    assert (await stack.requests.press(user, ts, button(version, command))).status == 200
    await stack.settle()


def updates_of(stack: SlackStack, call: Call) -> list[Call]:
    ts = stack.slack.ts_of(call)
    return [c for c in stack.slack.calls_to("chat.update") if c.params.get("ts") == ts]


def in_thread(stack: SlackStack, call: Call) -> list[Call]:
    ts = stack.slack.ts_of(call)
    return [c for c in stack.slack.posts() if c.params.get("thread_ts") == ts]
