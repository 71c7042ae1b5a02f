"""Closing the loop: the actions the group agreed, followed up to done. `/cop actions` lists the
open ones, numbered; their owner, a co-chair or today's lead marks one done or dropped, hands
it to someone else, gives it a date, or places it on the roadmap (`/cop roadmap`: short, medium
and long term, with the resources needed). `/cop actions add` keeps one agreed outside step 6.
`/cop actions review` walks the group through the open ones in the meeting, one post updated in
place with Done / Keep / Drop.

    OPEN --done--> DONE (who, when)       OPEN --drop [reason]--> DROPPED (who, when, why)
    DONE / DROPPED --reopen--> OPEN       never deleted: the record, and the agenda's report back
"""

from __future__ import annotations

from datetime import date

from bot.registry import Command, FlowRouter
from bot.vocabulary.conversation import Button, Post, Section
from bot.vocabulary.dates import short_day
from bot.vocabulary.errors import NotAllowed, UsageError
from bot.vocabulary.text import number, trimmed
from flows import due_dates, meeting_calendar
from flows.membership import joined_member
from flows.turn import CO_CHAIRS_OR_TODAYS_LEAD, Turn, mention_tokens_in
from storage import actions as store
from storage import community as communities
from storage import schedule as schedules
from storage.actions import HORIZONS, ActionView
from storage.models import ActionItem
from storage.states import ActionStatus

USAGE = (
    "Usage: /cop actions | actions done <n> | actions drop <n> [reason] | actions assign <n> @member | "
    "actions due <n> <date> | actions add <what> [@owner] [by <date>] | actions horizon <n> short|medium|long | "
    "actions resources <n> <what is needed> | actions reopen <n> | actions closed | actions review"
)
MAX_ACTION_CHARS = 500
MAX_REASON_CHARS = 300
NONE_OPEN = "No actions are open. An action comes from step 6 of a reflection, or `/cop actions add <what>`."
OPEN_HEADING = "Open actions — {community}"
CLOSED_HEADING = "Done and dropped — {community}"
NONE_CLOSED = "No action has been done or dropped yet."
CLOSED_SHOWN = 20  # the latest closed actions `actions closed` lists
HOW_TO = "Mark one: `/cop actions done <n>` · `drop <n> [reason]` · `assign <n> @member` · `due <n> <date>`"
NO_SUCH = "There is no action {n}. `/cop actions` lists the open ones with their numbers."
NOT_A_NUMBER = "Which action? Give its number, e.g. `/cop actions {form} 3` — `/cop actions` lists them."
ONLY_OWNER = "Only {owner}, a co-chair or today's lead can {what}."
ONLY_RUNNERS = "Only a co-chair or today's lead can {what}: the group owns it."
TO_THE_GROUP = "Only a co-chair or today's lead can give action {n} to the group."
ALREADY_CLOSED = "Action {n} was already {status} by {who} on {day} — nothing changed."
NOT_CLOSED = "Action {n} is open already."
DONE = "Action {n} is done — thank you, {who}. It stays in the record."
DROPPED = "Action {n} is dropped{why}. It stays in the record."
REOPENED = "Action {n} is open again."
TOLD_DONE = "{who} marked your action {n} done: “{text}”."
TOLD_DROPPED = "{who} dropped your action {n}{why}: “{text}”."
ASSIGNED = "Action {n} is now {owner}'s."
ASSIGNED_GROUP = "Action {n} is now the group's."
TOLD_ASSIGNED = "{who} gave you action {n}: “{text}”{due}. `/cop actions` lists yours with the rest."
ASSIGN_USAGE = "Usage: /cop actions assign <n> @member (or `group`)"
DUE_SET = "Action {n} is now due {day}."
DUE_CLEARED = "Action {n} has no due date now."
DUE_USAGE = "Usage: /cop actions due <n> <date>, e.g. `/cop actions due 3 1 March` (or `none`)"
DUE_UNREAD = "I couldn't read the date “{raw}”, so nothing changed. Try `1 March`, `2027-03-01` or `next Friday`."
DUE_PASSED = "The date “{raw}” has passed, so nothing changed. Give a day from today on."
ADD_USAGE = "What was agreed? Type `/cop actions add <what> [@owner] [by <date>]`."
TOO_LONG = f"Please keep an action under {MAX_ACTION_CHARS} characters."
ADDED = "Kept as action {n} for {owner}{due}. `/cop actions` lists it."
ADD_FOR_OTHERS = "Only a co-chair or today's lead can add an action for someone else; yours are welcome."
ADD_DATE_UNREAD = "I couldn't read the date “{raw}”, so I kept nothing. Try `by 1 March` or `by next Friday`."
ADD_DATE_PASSED = "The date “{raw}” has passed, so I kept nothing. Give a day from today on."
HORIZON_SET = "Action {n} is on the roadmap: {horizon}."
HORIZON_CLEARED = "Action {n} is off the roadmap's horizons now."
HORIZON_USAGE = "Usage: /cop actions horizon <n> short|medium|long (1–3, 4–6 or 7–12 months; or `none`)"
RESOURCES_SET = "Action {n} needs: {resources}."
RESOURCES_CLEARED = "Action {n} needs nothing listed now."
RESOURCES_USAGE = "Usage: /cop actions resources <n> <what is needed> (or `none`)"
THE_GROUP = "the group"
NOT_SET = ("none", "no", "-", "clear")

HORIZON_WORDS = {
    "short": "Short term (1–3 months)",
    "medium": "Medium term (4–6 months)",
    "long": "Long term (7–12 months)",
}
HORIZON_ALIASES = {"middle": "medium", "mid": "medium", "short-term": "short", "long-term": "long"}
ROADMAP_HEADING = "Our roadmap — {community}"
UNPLACED = "Not placed on the roadmap yet (`/cop actions horizon <n> short|medium|long`)"
NO_ROADMAP = "Nothing on the roadmap: no actions are open. `/cop actions add <what>` keeps one."

REVIEW_KEY = "actions-review:{community}:{day}"
REVIEW_TEXT = "Reviewing our actions — {k} of {of} still open\n{line}"
REVIEW_ASK = "Is it done, do we keep it, or drop it? (the owner, a co-chair or today's lead)"
REVIEW_DONE = "That's every open action reviewed. {left}"
REVIEW_LEFT = "{n} still open: `/cop actions` lists them."
REVIEW_NONE_LEFT = "None is open now — well done."
REVIEW_NOTHING = "No actions are open, so there is nothing to review."

router = FlowRouter("actions")


def _owner(view: ActionView) -> str:
    return view.owner or THE_GROUP


def action_line(view: ActionView, today: date | None = None, *, roadmap: bool = False) -> str:
    """``3. Draft a checklist — Ben, due Sun 14 Feb 2027 (overdue)`` (agreed, horizon, resources)."""
    line = f"{view.number}. {view.text} — {_owner(view)}"
    if view.due_on is not None:
        line += f", due {short_day(view.due_on)}"
        if today is not None and view.is_open and view.due_on < today:
            line += " (overdue)"
    if view.agreed_on is not None and not roadmap:
        line += f"; agreed {short_day(view.agreed_on)}"
    if view.resources:
        line += f"; needs: {view.resources}"
    return line


def closed_line(view: ActionView, zone: str) -> str:
    """``3. Draft a checklist — done by Ben on Mon 1 Mar 2027`` (a drop with its reason)."""
    when = meeting_calendar.local(view.closed_at, zone).date() if view.closed_at else None
    on = f" on {short_day(when)}" if when else ""
    why = f" ({view.reason})" if view.reason else ""
    return f"{view.number}. {view.text} — {view.status} by {view.closed_by or 'a former member'}{on}{why}"


async def _today(turn: Turn) -> date:
    """Today in the community's time zone: what a typed date is read from."""
    schedule = await schedules.schedule_of(turn.session, turn.require_community().id, turn.now)
    return meeting_calendar.local(turn.now, schedule.zone).date()


async def _zone(turn: Turn) -> str:
    return (await schedules.schedule_of(turn.session, turn.require_community().id, turn.now)).zone


@router.verb(
    "actions",
    "actions [done|drop|assign|due|add|horizon|resources|reopen|closed|review] …",
    "The open actions, numbered; their owner, a co-chair or today's lead marks one done or dropped, hands it "
    "on (`assign <n> @member`), dates it (`due <n> <date>`) or places it on the roadmap (`horizon <n> short`, "
    "`resources <n> …`). `add <what> [@owner] [by <date>]` keeps one agreed outside step 6; `closed` lists "
    "what was closed; `review` walks the meeting through the open ones.",
    free_text=True,
)
async def actions_command(turn: Turn, cmd: Command) -> list[Post]:
    form = cmd.args[0].lower() if cmd.args else ""
    rest = cmd.rest.split(None, 1)[1] if len(cmd.args) > 1 else ""
    if form == "":
        return [await _listing(turn)]
    if form == "closed":
        return [await _closed_listing(turn)]
    if form == "add":
        return await _add(turn, rest)
    if form == "review":
        return await _review(turn, cmd.args[1:])
    if form in FORMS:
        which, _, more = rest.strip().partition(" ")
        return await FORMS[form](turn, await _numbered(turn, which, form), more.strip())
    raise UsageError(USAGE)


async def _numbered(turn: Turn, which: str, form: str) -> ActionItem:
    n = number(which.lstrip("#"))
    if n is None:
        raise UsageError(NOT_A_NUMBER.format(form=form))
    found = await store.numbered(turn.session, turn.require_community().id, n)
    if found is None:
        raise UsageError(NO_SUCH.format(n=n))
    return found


async def _may_change(turn: Turn, action: ActionItem, what: str) -> None:
    """The owner, a co-chair or today's lead; for one the group owns, a co-chair or the lead."""
    member = await turn.member()
    if action.owner_id is not None and action.owner_id == member.id:
        return
    if await turn.may_run_the_meeting():
        return
    what = what.format(n=action.number)
    if action.owner_id is None:
        raise NotAllowed(ONLY_RUNNERS.format(what=what))
    view = await store.view_of(turn.session, action)
    raise NotAllowed(ONLY_OWNER.format(owner=_owner(view), what=what))


async def _listing(turn: Turn) -> Post:
    community = turn.require_community()
    views = await store.open_list(turn.session, community.id)
    if not views:
        return turn.private(NONE_OPEN)
    today = await _today(turn)
    lines = tuple(action_line(view, today) for view in views)
    return turn.private(OPEN_HEADING.format(community=community.name), sections=(Section("", lines + (HOW_TO,)),))


async def _closed_listing(turn: Turn) -> Post:
    community = turn.require_community()
    views = (await store.closed_since(turn.session, community.id, None))[-CLOSED_SHOWN:]
    if not views:
        return turn.private(NONE_CLOSED)
    zone = await _zone(turn)
    lines = tuple(closed_line(view, zone) for view in views)
    return turn.private(CLOSED_HEADING.format(community=community.name), sections=(Section("", lines),))


async def _tell_owner(turn: Turn, action: ActionItem, text: str) -> list[Post]:
    """The owner hears of a change someone else made to their action, privately (same platform)."""
    view = await store.view_of(turn.session, action)
    if view.owner_user is None or view.owner_platform != turn.place.platform or view.owner_user == turn.actor.user_id:
        return []
    return [Post(text, private_to=view.owner_user)]


async def _close(turn: Turn, action: ActionItem, to: ActionStatus, reason: str) -> list[Post]:
    what = "mark action {n} done" if to == ActionStatus.DONE else "drop action {n}"
    await _may_change(turn, action, what)
    if action.status != ActionStatus.OPEN:
        view = await store.view_of(turn.session, action)
        day = meeting_calendar.local(view.closed_at, await _zone(turn)).date() if view.closed_at else None
        return [
            turn.private(
                ALREADY_CLOSED.format(
                    n=action.number,
                    status=action.status,
                    who=view.closed_by or "a former member",
                    day=short_day(day) if day else "an earlier day",
                )
            )
        ]
    reason = " ".join(trimmed(reason).split())[:MAX_REASON_CHARS]
    member = await turn.member()
    store.close(action, to, member.id, turn.now, reason or None)
    why = f" ({reason})" if reason else ""
    who = member.name or "A member"
    if to == ActionStatus.DONE:
        posts = [turn.private(DONE.format(n=action.number, who=who))]
        told = TOLD_DONE.format(who=who, n=action.number, text=action.text)
    else:
        posts = [turn.private(DROPPED.format(n=action.number, why=why))]
        told = TOLD_DROPPED.format(who=who, n=action.number, why=why, text=action.text)
    return posts + await _tell_owner(turn, action, told)


async def _done(turn: Turn, action: ActionItem, _: str) -> list[Post]:
    return await _close(turn, action, ActionStatus.DONE, "")


async def _drop(turn: Turn, action: ActionItem, reason: str) -> list[Post]:
    return await _close(turn, action, ActionStatus.DROPPED, turn.readable(reason))


async def _reopen(turn: Turn, action: ActionItem, _: str) -> list[Post]:
    await _may_change(turn, action, "reopen action {n}")
    if action.status == ActionStatus.OPEN:
        return [turn.private(NOT_CLOSED.format(n=action.number))]
    store.reopen(action)
    return [turn.private(REOPENED.format(n=action.number))]


async def _assign(turn: Turn, action: ActionItem, who: str) -> list[Post]:
    if not who:
        raise UsageError(ASSIGN_USAGE)
    await _may_change(turn, action, "hand action {n} on")
    if who.split()[0].lower() in ("group", "the-group", "everyone"):
        if action.owner_id is not None and not await turn.may_run_the_meeting():
            raise NotAllowed(TO_THE_GROUP.format(n=action.number))
        action.owner_id = None
        return [turn.private(ASSIGNED_GROUP.format(n=action.number))]
    owner = await joined_member(turn, who.split()[0], ", and then try again")
    action.owner_id = owner.id
    posts = [turn.private(ASSIGNED.format(n=action.number, owner=owner.name))]
    due = f", due {short_day(action.due_on)}" if action.due_on else ""
    giver = (await turn.member()).name or "A member"
    return posts + await _tell_owner(
        turn, action, TOLD_ASSIGNED.format(who=giver, n=action.number, text=action.text, due=due)
    )


async def _due(turn: Turn, action: ActionItem, words: str) -> list[Post]:
    if not words:
        raise UsageError(DUE_USAGE)
    await _may_change(turn, action, "change the date of action {n}")
    if words.lower() in NOT_SET:
        action.due_on = None
        return [turn.private(DUE_CLEARED.format(n=action.number))]
    given = due_dates.date_given(words, await _today(turn))
    if given.on is None:
        raise UsageError((DUE_PASSED if given.passed else DUE_UNREAD).format(raw=given.words))
    action.due_on = given.on
    return [turn.private(DUE_SET.format(n=action.number, day=short_day(given.on)))]


async def _horizon(turn: Turn, action: ActionItem, words: str) -> list[Post]:
    word = words.lower().strip()
    word = HORIZON_ALIASES.get(word, word)
    if word not in (*HORIZONS, *NOT_SET):
        raise UsageError(HORIZON_USAGE)
    await _may_change(turn, action, "place action {n} on the roadmap")
    if word in NOT_SET:
        action.horizon = None
        return [turn.private(HORIZON_CLEARED.format(n=action.number))]
    action.horizon = word
    return [turn.private(HORIZON_SET.format(n=action.number, horizon=HORIZON_WORDS[word]))]


async def _resources(turn: Turn, action: ActionItem, words: str) -> list[Post]:
    words = " ".join(turn.readable(trimmed(words)).split())
    if not words:
        raise UsageError(RESOURCES_USAGE)
    if len(words) > MAX_REASON_CHARS:
        raise UsageError(f"Please keep what is needed under {MAX_REASON_CHARS} characters.")
    await _may_change(turn, action, "list what action {n} needs")
    if words.lower() in NOT_SET:
        action.resources = None
        return [turn.private(RESOURCES_CLEARED.format(n=action.number))]
    action.resources = words
    return [turn.private(RESOURCES_SET.format(n=action.number, resources=words))]


FORMS = {
    "done": _done,
    "drop": _drop,
    "reopen": _reopen,
    "assign": _assign,
    "due": _due,
    "horizon": _horizon,
    "resources": _resources,
}


async def _add(turn: Turn, text: str) -> list[Post]:
    """An action agreed outside step 6: its owner is the member named with @ (someone who has
    joined), else the one adding it; a date after "by" is its due date. Nothing is kept when
    the owner or the date is wrong."""
    text = " ".join(trimmed(text).split())
    if not text:
        raise UsageError(ADD_USAGE)
    if len(text) > MAX_ACTION_CHARS:
        raise UsageError(TOO_LONG)
    community = turn.require_community()
    member = await turn.member()
    owner = member
    for token in mention_tokens_in(text):
        owner = await joined_member(turn, "@" + token, ", and then add the action again")
        break
    if owner.id != member.id and not await turn.may_run_the_meeting():
        raise NotAllowed(ADD_FOR_OTHERS)
    today = await _today(turn)
    due = due_dates.due_date(text, today)
    if due is not None and due.on is None:
        raise UsageError((ADD_DATE_PASSED if due.passed else ADD_DATE_UNREAD).format(raw=due.words))
    meeting = await communities.meeting_on(turn.session, community.id, turn.today)
    action = await store.add_agreed(
        turn.session,
        community.id,
        turn.readable(text),
        owner.id,
        due.on if due else None,
        meeting.id if meeting else None,
        turn.now,
    )
    shown_due = f", due {short_day(action.due_on)}" if action.due_on else ""
    return [turn.private(ADDED.format(n=action.number, owner=owner.name, due=shown_due))]


# -- `/cop roadmap` -------------------------------------------------------------------------


@router.verb(
    "roadmap",
    "roadmap",
    "The open actions by horizon — short (1–3 months), medium (4–6) and long term (7–12) — with their "
    "owners and the resources needed, like the guide's roadmap.",
)
async def roadmap(turn: Turn, cmd: Command) -> list[Post]:
    community = turn.require_community()
    return [await roadmap_post(turn, community.name)]


async def roadmap_post(turn: Turn, name: str) -> Post:
    views = await store.open_list(turn.session, turn.require_community().id)
    if not views:
        return Post(NO_ROADMAP)
    today = await _today(turn)
    sections = roadmap_sections(views, today)
    return Post(ROADMAP_HEADING.format(community=name), sections=sections)


def roadmap_sections(views: list[ActionView], today: date | None) -> tuple[Section, ...]:
    """The guide's roadmap table: one section per horizon that has actions, then those not placed."""
    sections = []
    for horizon in (*HORIZONS, None):
        placed = [view for view in views if view.horizon == horizon]
        if placed:
            heading = HORIZON_WORDS[horizon] if horizon else UNPLACED
            sections.append(Section(heading, tuple(action_line(view, today, roadmap=True) for view in placed)))
    return tuple(sections)


# -- `/cop actions review`: the recap, decided one action at a time --------------------------


async def _review(turn: Turn, args: tuple[str, ...]) -> list[Post]:
    """``review``: start at the first open action (co-chairs, today's lead). ``review done|keep|drop
    <n>``: decide action n (its owner too) and move the one post on to the next open action."""
    community = turn.require_community()
    key = REVIEW_KEY.format(community=community.id, day=turn.today.isoformat())
    if not args:
        if not await turn.may_run_the_meeting():
            raise NotAllowed(CO_CHAIRS_OR_TODAYS_LEAD.refusal.format(what="review the actions with the group"))
        return [await _review_post(turn, key, after=0, replace=False)]
    decision = args[0].lower()
    if decision not in ("done", "keep", "drop") or len(args) < 2:
        raise UsageError("Usage: /cop actions review [done|keep|drop <n>]")
    action = await _numbered(turn, args[1], "review " + decision)
    posts: list[Post] = []
    if decision == "keep":
        await _may_change(turn, action, "keep action {n}")
    else:
        to = ActionStatus.DONE if decision == "done" else ActionStatus.DROPPED
        posts = await _close(turn, action, to, "")
    return [await _review_post(turn, key, after=action.number, replace=True), *posts]


async def _review_post(turn: Turn, key: str, *, after: int, replace: bool) -> Post:
    views = await store.open_list(turn.session, turn.require_community().id)
    if not views and not replace:
        return turn.private(REVIEW_NOTHING)
    coming = [view for view in views if view.number > after]
    if not coming:
        left = REVIEW_LEFT.format(n=len(views)) if views else REVIEW_NONE_LEFT
        return Post(REVIEW_DONE.format(left=left), key=key, replace=replace)
    view = coming[0]
    today = await _today(turn)
    text = REVIEW_TEXT.format(k=views.index(view) + 1, of=len(views), line=action_line(view, today))
    buttons = (
        Button("Done", f"actions review done {view.number}", "primary"),
        Button("Keep", f"actions review keep {view.number}"),
        Button("Drop", f"actions review drop {view.number}", "danger"),
    )
    return Post(f"{text}\n{REVIEW_ASK}", buttons=buttons, key=key, replace=replace)
