"""Items members place on the agenda: numbered per community, accepted or declined by a
co-chair, placed on the next agenda posted."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AgendaItem, Member
from storage.states import AgendaItemStatus, move
from storage.upsert import added


async def propose(session: AsyncSession, community_id: int, member: Member, text: str, now: datetime) -> AgendaItem:
    """A new item, numbered after the community's last (two at once: one clashes on the unique
    number and its event is handled again)."""
    last = await session.scalar(select(func.max(AgendaItem.number)).where(AgendaItem.community_id == community_id))
    item = AgendaItem(
        community_id=community_id,
        number=(last or 0) + 1,
        member_id=member.id,
        text=text,
        status=AgendaItemStatus.PROPOSED.value,
        created_at=now,
    )
    return await added(session, item)


async def numbered(session: AsyncSession, community_id: int, number: int) -> AgendaItem | None:
    return await session.scalar(
        select(AgendaItem).where(AgendaItem.community_id == community_id, AgendaItem.number == number)
    )


async def draft(session: AsyncSession, community_id: int) -> list[AgendaItem]:
    """Items no posted agenda has settled yet, in the order they came."""
    query = (
        select(AgendaItem)
        .where(AgendaItem.community_id == community_id, AgendaItem.agenda_of.is_(None))
        .order_by(AgendaItem.number)
    )
    return list(await session.scalars(query))


def decide(item: AgendaItem, accepted: bool) -> None:
    move(item, AgendaItemStatus.ACCEPTED if accepted else AgendaItemStatus.DECLINED)


async def settle(
    session: AsyncSession, community_id: int, meeting_start: datetime, now: datetime, planned: Collection[datetime]
) -> list[AgendaItem]:
    """The agenda of the meeting starting then goes out: the items decided so far are settled
    for it (undecided ones wait for the next), and so are those settled for an agenda whose
    meeting was moved or cancelled before it was held (not in ``planned``, still to come).
    Returns the accepted ones, which it carries."""
    reissued = select(AgendaItem).where(
        AgendaItem.community_id == community_id,
        AgendaItem.agenda_of > now,
        AgendaItem.agenda_of.not_in(list(planned)),
    )
    items = await draft(session, community_id) + list(await session.scalars(reissued))
    settled = sorted((item for item in items if item.status != AgendaItemStatus.PROPOSED), key=lambda i: i.number)
    for item in settled:
        item.agenda_of = meeting_start
    return [item for item in settled if item.status == AgendaItemStatus.ACCEPTED]


async def on_agenda_of(session: AsyncSession, community_id: int, meeting_start: datetime) -> list[AgendaItem]:
    """The accepted items of the agenda posted for the meeting starting then."""
    query = (
        select(AgendaItem)
        .where(
            AgendaItem.community_id == community_id,
            AgendaItem.agenda_of == meeting_start,
            AgendaItem.status == AgendaItemStatus.ACCEPTED.value,
        )
        .order_by(AgendaItem.number)
    )
    return list(await session.scalars(query))


async def forget_agenda_items(session: AsyncSession, member: Member) -> dict[str, int]:
    """forget-me: the member's items not yet on a posted agenda go; the group's posted agenda
    keeps its items, without their name."""
    gone = await session.execute(
        delete(AgendaItem).where(AgendaItem.member_id == member.id, AgendaItem.agenda_of.is_(None))
    )
    await session.execute(update(AgendaItem).where(AgendaItem.member_id == member.id).values(member_id=None))
    return {"agenda items": getattr(gone, "rowcount", 0) or 0}


async def accepted_in_draft(session: AsyncSession, community_id: int) -> list[AgendaItem]:
    """Accepted items no posted agenda carries yet (a meeting called without a schedule has them)."""
    return [item for item in await draft(session, community_id) if item.status == AgendaItemStatus.ACCEPTED]
