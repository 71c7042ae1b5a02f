"""Placing an item on the agenda "in advance through the Chair": any member proposes one with
`/cop agenda add <item>`; the co-chairs are told privately and accept or decline it (buttons, or
`/cop agenda accept|decline <n>`); `/cop agenda` shows the next meeting's draft. The next agenda
posted carries the accepted items (`flows.announcements`).

An item: proposed → accepted or declined (a co-chair may change their mind until the agenda
goes out). A co-chair's own item is accepted as it is added.
"""

from __future__ import annotations

from datetime import datetime

from bot.registry import Command, FlowRouter, Forgetter
from bot.vocabulary.conversation import Button, Post, Section
from bot.vocabulary.errors import UsageError
from bot.vocabulary.text import number
from flows import agenda, meeting_calendar
from flows.schedule import upcoming
from flows.turn import Turn
from storage import agenda_items as store
from storage import leads
from storage import schedule as schedules
from storage.models import AgendaItem, Member
from storage.states import AgendaItemStatus

MAX_ITEM_CHARS = 300
USAGE = "Usage: /cop agenda | agenda add <item> | agenda accept <n> | agenda decline <n>"
EMPTY_ITEM = "What would you like on the agenda? Type `/cop agenda add <your item>`."
TOO_LONG = f"Please keep an agenda item under {MAX_ITEM_CHARS} characters: a short title is best."
PROPOSED = (
    "Thank you — item {n}, “{text}”, is with the co-chairs. They'll accept or decline it before the agenda goes out."
)
ADDED_BY_CHAIR = "Added item {n}, “{text}”, to the next agenda."
TO_CHAIRS = "{name} would like an item on the next agenda: {n}. “{text}”"
ACCEPTED = "Item {n} is accepted: it will be on the next agenda."
DECLINED = "Item {n} is declined: it won't be on the next agenda."
TOLD_ACCEPTED = "A co-chair accepted your agenda item “{text}”: it will be on the next agenda."
TOLD_DECLINED = "Your agenda item “{text}” won't be on the next agenda. A co-chair can tell you more."
ALREADY = "Item {n} is already {status}."
NO_ITEM = "There is no agenda item {n}. `/cop agenda` shows the draft."
SETTLED = "Item {n} was settled when the agenda of {day} went out."
DRAFT = "Draft agenda — {community}, {when}"
NO_NEXT = "our next meeting (no date is set yet)"
WAITING = "Waiting for a co-chair"
DECLINED_HEADING = "Declined"
MAX_BUTTONS = 5  # items with buttons on the draft; the rest by `agenda accept <n>`
CHAIR_FORMS = {"accept": "accept an agenda item", "decline": "decline an agenda item"}

router = FlowRouter("agenda items")


@router.verb(
    "agenda",
    "agenda | agenda add <item> | agenda accept|decline <n>",
    "The next meeting's draft agenda; anyone adds an item through the co-chairs, who accept or decline it.",
    chair_forms=CHAIR_FORMS,
    free_text=True,
)
async def agenda_command(turn: Turn, cmd: Command) -> list[Post]:
    form = cmd.args[0].lower() if cmd.args else ""
    if form == "":
        return [await _draft(turn)]
    if form == "add":
        return await _add(turn, cmd.rest.split(None, 1)[1] if len(cmd.args) > 1 else "")
    if form in ("accept", "decline") and len(cmd.args) == 2:
        return await _decide(turn, cmd.args[1], accepted=form == "accept")
    raise UsageError(USAGE)


async def _add(turn: Turn, text: str) -> list[Post]:
    text = " ".join(text.split())
    if not text:
        raise UsageError(EMPTY_ITEM)
    if len(text) > MAX_ITEM_CHARS:
        raise UsageError(TOO_LONG)
    member = await turn.member()
    community = turn.require_community()
    item = await store.propose(turn.session, community.id, member, text, turn.now)
    if await turn.is_chair():
        store.decide(item, accepted=True)
        return [turn.private(ADDED_BY_CHAIR.format(n=item.number, text=text))]
    posts = [turn.private(PROPOSED.format(n=item.number, text=text))]
    notice = TO_CHAIRS.format(name=member.name or "A member", n=item.number, text=text)
    return posts + await turn.to_co_chairs(notice, buttons=_buttons(item))


def _buttons(item: AgendaItem) -> tuple[Button, ...]:
    return (
        Button(f"Accept {item.number}", f"agenda accept {item.number}", "primary"),
        Button(f"Decline {item.number}", f"agenda decline {item.number}"),
    )


async def _decide(turn: Turn, which: str, *, accepted: bool) -> list[Post]:
    n = number(which)
    community = turn.require_community()
    item = await store.numbered(turn.session, community.id, n) if n is not None else None
    if item is None:
        raise UsageError(NO_ITEM.format(n=which[:10]))
    if item.agenda_of is not None:
        settled = await _local_day(turn, item.agenda_of)
        raise UsageError(SETTLED.format(n=item.number, day=settled))
    wanted = AgendaItemStatus.ACCEPTED if accepted else AgendaItemStatus.DECLINED
    if item.status == wanted:
        return [turn.private(ALREADY.format(n=item.number, status=wanted.value))]
    store.decide(item, accepted)
    posts = [turn.private((ACCEPTED if accepted else DECLINED).format(n=item.number))]
    author = await turn.session.get(Member, item.member_id) if item.member_id else None
    if author is not None and author.platform == turn.place.platform and author.user_id != turn.actor.user_id:
        told = (TOLD_ACCEPTED if accepted else TOLD_DECLINED).format(text=item.text)
        posts.append(Post(told, private_to=author.user_id))
    return posts


async def _local_day(turn: Turn, moment: datetime) -> str:
    schedule = await schedules.schedule_of(turn.session, turn.require_community().id, turn.now)
    return meeting_calendar.local(moment, schedule.zone).date().isoformat()


async def _draft(turn: Turn) -> Post:
    """The next meeting's agenda as it stands (private: a look, not an announcement), with
    the items waiting for a co-chair; a co-chair gets buttons for them."""
    community = turn.require_community()
    schedule = await schedules.schedule_of(turn.session, community.id, turn.now)
    items = await store.draft(turn.session, community.id)
    accepted = [i.text for i in items if i.status == AgendaItemStatus.ACCEPTED]
    waiting = [i for i in items if i.status == AgendaItemStatus.PROPOSED]
    declined = [i for i in items if i.status == AgendaItemStatus.DECLINED]
    coming = await upcoming(turn.session, schedule, turn.now, count=1)
    if coming:
        post = await agenda.meeting_agenda(
            turn.session, community, schedule, coming[0], accepted, turn.now, heading=DRAFT
        )
    else:
        fill = await agenda.filling(
            turn.session,
            community,
            schedule,
            lead=await leads.next_lead(turn.session, community.id),
            after=turn.now,
            items=accepted,
        )
        first = await agenda.is_first_meeting(
            turn.session, community.id, meeting_calendar.local(turn.now, schedule.zone).date()
        )
        lines = agenda.agenda_lines(agenda.agenda_parts(first, fill))
        post = Post(DRAFT.format(community=community.name, when=NO_NEXT), sections=(Section("", lines),))
    sections = list(post.sections)
    if waiting:
        sections.append(Section(WAITING, tuple(f"{i.number}. {i.text}" for i in waiting)))
    if declined:
        sections.append(Section(DECLINED_HEADING, tuple(f"{i.number}. {i.text}" for i in declined)))
    buttons: tuple[Button, ...] = ()
    if waiting and await turn.is_chair():
        buttons = tuple(button for item in waiting[:MAX_BUTTONS] for button in _buttons(item))
    return turn.private(post.text, sections=tuple(sections), buttons=buttons)


router.forgetter(Forgetter("agenda items", ("agenda_items",), store.forget_agenda_items))
