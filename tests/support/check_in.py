"""A second kind of stepped session, for tests only: a two-step check-in with its own tables
(``test_check_ins``, ``test_check_in_answers``), its own store and its own start verb, added to
the flows' registry beside the reflection. It shows that the engine (`flows.stepped`) knows no
kind from another: buttons, typed moves, late answers, forget-me and the summary work for it
as they do for Gibbs' reflection.

    async with second_kind(db, monkeypatch):
        ...  # `/cop check-in <topic>` starts one; `next check-in`, its buttons, replies …
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

import bot.commands
import bot.core
import flows
from bot.registry import Command, FlowRouter, compose
from bot.vocabulary.conversation import Post
from flows.stepped import Step, SteppedPrompts, Wording
from flows.turn import CO_CHAIRS_OR_TODAYS_LEAD, Turn
from storage.answer_keys import answer_key
from storage.db import Database
from storage.models import Member
from storage.states import SessionStatus, move
from storage.upsert import added, inserted_row


class CheckInBase(DeclarativeBase):
    """Tables of the test kind, apart from copbot's own (its migrations never see them)."""


class CheckIn(CheckInBase):
    __tablename__ = "test_check_ins"
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(Integer)
    topic: Mapped[str] = mapped_column(Text)
    step: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default=SessionStatus.OPEN.value)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    moved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    moved_by: Mapped[int | None] = mapped_column(Integer)
    reached: Mapped[int | None] = mapped_column(Integer)


class CheckInAnswer(CheckInBase):
    __tablename__ = "test_check_in_answers"
    __table_args__ = (UniqueConstraint("check_in_id", "step", "answer_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    check_in_id: Mapped[int] = mapped_column(Integer)
    step: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[int | None] = mapped_column(Integer)
    answer_key: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)
    edit_code_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def _open(community_id: int) -> Any:
    return select(CheckIn).where(CheckIn.community_id == community_id, CheckIn.status == SessionStatus.OPEN)


class CheckInStore:
    """The check-in tables as a `flows.stepped.SessionStore`."""

    session_table: str = "test_check_ins"
    answer_tables: tuple[str, ...] = ("test_check_in_answers",)

    async def open_session(self, session: AsyncSession, community_id: int) -> CheckIn | None:
        return await session.scalar(_open(community_id))

    async def open_to_move(self, session: AsyncSession, community_id: int) -> CheckIn | None:
        return await session.scalar(_open(community_id).with_for_update())

    async def session_by_id(self, session: AsyncSession, community_id: int, session_id: int) -> CheckIn | None:
        return await session.scalar(
            select(CheckIn).where(CheckIn.id == session_id, CheckIn.community_id == community_id)
        )

    def end(self, row: CheckIn, now: datetime) -> None:
        move(row, SessionStatus.ENDED)
        row.ended_at = now

    async def add_answer(
        self, session: AsyncSession, session_id: int, step: int, member_id: int | None, text: str, now: Any, code: Any
    ) -> CheckInAnswer | None:
        values = {
            "check_in_id": session_id,
            "step": step,
            "member_id": member_id,
            "answer_key": answer_key(member_id, text, per_member=False, code_hash=code),
            "text": text,
            "edit_code_hash": code,
            "created_at": now,
        }
        return await inserted_row(session, CheckInAnswer, values, ("check_in_id", "step", "answer_key"))

    async def answers(self, session: AsyncSession, session_id: int) -> list[tuple[int, str | None, str]]:
        rows = await session.execute(
            select(CheckInAnswer.step, Member.name, CheckInAnswer.text)
            .select_from(CheckInAnswer)
            .outerjoin(Member, Member.id == CheckInAnswer.member_id)
            .where(CheckInAnswer.check_in_id == session_id)
            .order_by(CheckInAnswer.step, CheckInAnswer.id)
        )
        return [(step, name, text) for step, name, text in rows.all()]

    async def forget_answers(self, session: AsyncSession, member: Member) -> dict[str, int]:
        gone = await session.execute(delete(CheckInAnswer).where(CheckInAnswer.member_id == member.id))
        return {"check-in answers": getattr(gone, "rowcount", 0) or 0}

    async def forget_moves(self, session: AsyncSession, member: Member) -> dict[str, int]:
        await session.execute(update(CheckIn).where(CheckIn.moved_by == member.id).values(moved_by=None))
        return {}


CHECK_IN = SteppedPrompts(
    "check-in",
    (Step(1, "How are you arriving today?", "Arriving", ()), Step(2, "What do you need?", "Needs", ("One word",))),
    Wording(
        intro="Check-in: {topic}",
        step="Check-in step {n} of {of} — {question}",
        how="Reply to this post.",
        moved_on="We have moved on.",
        back_note="Back to check-in step {n} — {question}",
        again_note="On to check-in step {n} again — {question}",
        not_open="No check-in is running. Start one with `/cop check-in <topic>`.",
        last_step="This is the check-in's last step.",
        summary="Our check-in: {topic}",
        late="Kept under check-in step {n}.",
        after_end="Kept under check-in step {n}; the check-in has ended.",
        start="a check-in, `/cop check-in <topic>`",
    ),
    CheckInStore(),
)

router = FlowRouter("check-in")


@router.verb("check-in", "check-in <topic>", "Start a check-in.", who=CO_CHAIRS_OR_TODAYS_LEAD, action="start one")
async def start(turn: Turn, cmd: Command) -> list[Post]:
    community = turn.require_community()
    row = await added(
        turn.session,
        CheckIn(community_id=community.id, topic=cmd.rest.strip() or "today", step=1, started_at=turn.now),
    )
    return CHECK_IN.begin(row)


router.stepped(CHECK_IN)
router.answerable(CHECK_IN.answerable("Thanks — passing is fine.", priority=20))


@asynccontextmanager
async def second_kind(db: Database, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    """The check-in's tables, and the registry with the check-in beside every flow (in each
    place that holds the registry), for the length of the block."""
    async with db.engine.begin() as conn:
        await conn.run_sync(CheckInBase.metadata.create_all)
    registry = compose([*flows.ROUTERS, router])
    monkeypatch.setattr(flows, "REGISTRY", registry)
    monkeypatch.setattr(bot.core, "REGISTRY", registry)
    monkeypatch.setattr(bot.core, "HANDLERS", {name: verb.handler for name, verb in registry.verbs.items()})
    monkeypatch.setattr(bot.commands, "VERBS", registry.verbs)
    try:
        yield
    finally:
        async with db.engine.begin() as conn:
            await conn.run_sync(CheckInBase.metadata.drop_all)
