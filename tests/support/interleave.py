"""Interleaving two workers by hand: the first call of a storage function holds its caller inside
its transaction until the test lets it go, so the second worker runs meanwhile."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest


def hold_first_call(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> tuple[asyncio.Event, asyncio.Event]:
    """Replace ``owner.name`` so its first caller, after the real call, waits: returns (set
    when the first caller is held, set it to let the first caller go on)."""
    real = getattr(owner, name)
    held, goes_on = asyncio.Event(), asyncio.Event()

    async def holding(*args: Any, **kwargs: Any) -> Any:
        result = await real(*args, **kwargs)
        if not held.is_set():
            held.set()
            await goes_on.wait()
        return result

    monkeypatch.setattr(owner, name, holding)
    return held, goes_on
