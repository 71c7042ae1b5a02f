"""The community's Terms of Reference, drafted from the guide's template (Appendix 3) and filled
with what copbot knows: the name, the co-chairs and their terms, the meeting schedule, the
agenda's notice in working days, the members and their roles. Co-chairs write the free-text
parts (`tor set`); the group approves the Terms in a consent round (`flows.consent`, the same
rules as a co-chair nomination); each approval is a version, with its day and a fingerprint.

`/cop tor` posts the Terms in the channel: a short post, the Terms as sections (Teams' card) and
as a Markdown file where the platform takes files (Slack's thread, the terminal's files folder).

A round (a `TermsOfReferenceRound` row, its answers `TermsOfReferenceConsent` rows)::

    (no round open) --tor propose (co-chair; the draft differs from the approved version)--> OPEN (round n)
    OPEN --tor agree|stand-aside|object [n] (any member; one answer each, a change of mind
           replaces it)--> OPEN, or APPROVED when the consent rule holds: version v, today
    OPEN --tor close [n] (co-chair)--> CLOSED (the approved version stays)

While a round is open the parts cannot be set (the group answers on the Terms as proposed).
After an approval, a changed part (or a change in what copbot knows: the co-chairs, the
schedule, the members) shows as "changed since version v": the approved version stays in
force until a new round approves the changes. forget-me deletes a member's answers and takes
their name out of the Terms kept with each round.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from bot.registry import Command, FlowRouter, Forgetter
from bot.vocabulary.conversation import Attachment, Post, Section
from bot.vocabulary.errors import NothingOpen, UsageError
from bot.vocabulary.text import and_list, number, trimmed
from flows import consent, meeting_calendar
from flows.minutes import md_escape, slug
from flows.roles import ROLES
from flows.turn import Turn
from storage import community as communities
from storage import schedule as schedules
from storage import terms_of_reference as store
from storage.models import MeetingSchedule, Member, TermsOfReferenceRound
from storage.states import TermsRoundStatus

# -- what members read (one place, to review and later translate) ---------------------------
TITLE = "Terms of Reference — {community}"
DRAFT = (
    "A draft, not approved yet. Co-chairs write its parts with `/cop tor set …`, and propose it to "
    "the group with `/cop tor propose`."
)
IN_ROUND = "Proposed to the group (round {n}): answer agree, stand aside or object with the round's buttons."
APPROVED_NOW = "Version {v}, approved by the group on {day}."
CHANGED = (
    "Changed since version {v} was approved on {day}: {parts}. Version {v} stays our Terms of Reference "
    "until the group approves the changes (a co-chair proposes them with `/cop tor propose`; "
    "`/cop tor approved` shows version {v})."
)
SHOWN_APPROVED = "Version {v}, approved by the group on {day} (fingerprint {fingerprint})."
NONE_APPROVED = "The group has not approved Terms of Reference yet. `/cop tor` shows the draft."

APPROVAL_DRAFT = (
    "Not approved yet: the co-chairs propose these Terms and the members approve them in a consent round "
    "(agree, stand aside or object)."
)
APPROVAL_DONE = (
    "Approved by the members in a consent round: version {v}, on {day}. Fingerprint (SHA-256): {fingerprint}"
)
APPROVAL_CHANGED = (
    "Version {v} was approved by the members on {day}; the parts changed since ({parts}) are not approved yet."
)

PART_SET = "Thank you — the {part} now reads: “{text}”. {then}"
THEN_PROPOSE = "`/cop tor` shows the draft; propose it to the group with `/cop tor propose`."
SET_USAGE = (
    "Usage: /cop tor set purpose <text> | tor set objective <2.1–2.4> <text> | tor set accountability <text> "
    "— the words of that part of our Terms of Reference."
)
NOT_AN_OBJECTIVE = (
    "Our objectives are numbered 2.1, 2.2, 2.3 and 2.4, as in the guide's template, so “{n}” is not one of them. "
    "For example: `/cop tor set objective 2.3 Reinforcing the value of lived experience`."
)
TOO_LONG = "Please keep the {part} under {n} characters (it is {length})."
ROUND_OPEN_NO_SET = (
    "A round on the Terms of Reference is open (round {n}): the group is answering on the Terms as proposed. "
    "To change a part, a co-chair closes the round first (`/cop tor close`), then proposes again."
)
ALREADY_OPEN = (
    "A round on the Terms of Reference is already open (round {n}): answer it with its buttons or "
    "`/cop tor agree`; a co-chair can close it with `/cop tor close`."
)
NOTHING_TO_PROPOSE = "Nothing has changed since version {v} was approved on {day}: there is nothing to propose."

CARD = "{by} proposes our Terms of Reference (round {n}). `/cop tor` shows them."
CARD_NO_NAME = "The co-chairs propose our Terms of Reference (round {n}). `/cop tor` shows them."
ASK = (
    "Agree, stand aside (you won't block it), or object — an objection is seen only by the co-chairs. "
    "They are approved when {needed} and nobody objects."
)
APPROVED = "Approved: our Terms of Reference, version {v}, on {day}. Thank you all!"
CLOSED = "This round was closed by a co-chair: nothing was approved this time."
OBJECTION_TO_CHAIRS = (
    "{who} objects to the Terms of Reference as proposed (round {n}). Only you co-chairs are told. The round "
    "waits until they answer agree or stand aside, or a co-chair closes it with `/cop tor close {n}`."
)
ROUND_APPROVED = "Round {n} is decided already: version {v} was approved on {day}."
ROUND_CLOSED = "Round {n} is closed."
NO_ROUND = "There is no round {n} on the Terms of Reference. `/cop tor` shows where they stand."
NONE_OPEN = "There is no open round on the Terms of Reference. A co-chair opens one with `/cop tor propose`."
WHICH = "Which round? Type `/cop tor {form} <number>`, or `/cop tor {form}` for the open one."

FORMS = (
    "tor | tor approved | tor set purpose|accountability <text> | tor set objective <2.1–2.4> <text> "
    "| tor propose | tor agree|stand-aside|object [n] | tor close [n]"
)
USAGE = f"Usage: /cop {FORMS}"
HELP = (
    "Our Terms of Reference, from the guide's template filled with what I know (name, co-chairs and their "
    "terms, schedule, agenda notice, members and roles), in the channel and as a Markdown file. Co-chairs "
    "write the purpose, objectives 2.1–2.4 and accountability, and propose the Terms to the group, who agree, "
    "stand aside or object (objections are seen by the co-chairs only). Each approval is a version; "
    "a later change needs a new round."
)
CHAIR_FORMS = {
    "set": "write a part of the Terms of Reference",
    "propose": "propose the Terms of Reference",
    "close": "close a round on the Terms of Reference",
}
FILE_NAME = "terms-of-reference-{slug}{version}.md"
MEDIA_TYPE = "text/markdown"
A_FORMER_MEMBER = "a former member"

# -- the template (the guide's Appendix 3, in its words) ------------------------------------
OBJECTIVES = ("2.1", "2.2", "2.3", "2.4")
WRITTEN_PARTS = ("purpose", *(f"objective {n}" for n in OBJECTIVES), "accountability")
MAX_CHARS = {"purpose": 1000, "accountability": 1500, "objective": 400}
TEMPLATE = {
    "purpose": (
        "The National Office Mental Health Engagement and Recovery (MHER) established the Enhancing Engagement "
        "Project in 2022. Feedback and ideas about engagement were collected from people who use our services, "
        "their families, and supporters and mental health and engagement staff about what they need with regard "
        "to engagement. One of the responses from staff was a need to align engagement and recovery staff and "
        "to build a community of connection and influence across these roles."
    ),
    "objective 2.1": "Building engagement across MHER staff roles in each Regional Healthcare Area (RHA).",
    "objective 2.2": (
        "Building a sense of community, support, and influence for recovery and engagement activity and integration."
    ),
    "objective 2.3": "Reinforcing the value and esteem of lived experience expertise.",
    "objective 2.4": "Giving an opportunity to come together to solve local challenges and celebrate local progress.",
}
ACCOUNTABILITY_TEMPLATE = (
    "Group and individual accountability considerations:",
    "The group will strive to create a climate for open, honest and constructive dialogue that encourages a "
    "broad range of input.",
    "One does not represent the many: all come to this community of practice with varying levels of lived "
    "experiences and knowledge. We acknowledge that one member is not expected to articulate the power "
    "dynamics, history, and experiences and current group status of a particular group.",
    "The group is aware that some social or group identities are invisible. Religion, sexual orientation, "
    "social class, ethnicity, and disability status are some examples of groups that may be represented in "
    "this community of practice, but are not visible to the eye.",
    "The COP acknowledges that our social identities shape our views and ways of expressing those views. This "
    "community of practice strives to value our diversity and acknowledge the impact of power on our views and "
    "forms of expression.",
    "This COP will view and use difficult situations as an opportunity to learn together.",
)
KPIS = "The activity can be counted in Mental Health Engagement Key Performance Indicators."
FACILITATOR = (
    "4.1 The National MHER office will hire an external facilitator to host the first introductory session "
    "that will introduce the concept of a COP, and provide some learning about reflective practice and mutual "
    "capacity building."
)
CO_CHAIRS = (
    "4.2 Two members of the COP agreed by the membership will work together to Chair and lead the COP for a "
    "1-year term. Review/change leadership after 6/12 months."
)
CO_CHAIR_LINE = "{name} — a {months}-month term from {starts} until {ends}, review on {review}"
NO_CO_CHAIRS = "We have no co-chairs agreed yet (`/cop chairs`)."
SCHEDULE = (
    "4.3 The COP will agree on the meeting schedule at the first meeting. Additional meetings can be called by "
    "the Chair to deal with arising issues."
)
SCHEDULE_LINE = "Our schedule: the {rule} at {at} ({zone})."
NO_SCHEDULE = "Our schedule is not agreed yet (`/cop schedule`)."
AGENDA_ITEMS = (
    "4.4 The Chair is responsible for setting the agenda in consultation with the other members. It is open to "
    "any group member to place an item on the agenda, which will be done in advance through the Chair "
    "(`/cop agenda add <item>`; the call for items goes out {call} working days before a meeting)."
)
AGENDA_NOTICE = (
    "4.5 The agenda for the COP will be issued by the Chair {days} working days before the scheduled meeting "
    "and will use a standard template."
)
ROLES_SOUGHT = "4.6 Membership of the group is sought from all relevant roles in each region:"
FREQUENCY = "5.1 The COP will meet quarterly (4 times a year), either in person or online."
PERFORMANCE = (
    "A Community of Practice will be held 4 times per annum and will be measured via KPIs for Engagement in "
    "each Regional Health Area.",
    "MHER will facilitate a reflective session on the value of the COP annually.",
)
MEMBERS = "Names of members and their title/role:"
MEMBER_LINE = "{name} — {role}"
NO_ROLE = "role not given yet"
NAME_LINE = "{name} — Community of Practice (COP) for Mental Health Engagement and Recovery Staff"
ORDINALS = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 5: "5th", -1: "last"}
WEEKDAYS = {"MO": "Monday", "TU": "Tuesday", "WE": "Wednesday", "TH": "Thursday", "FR": "Friday"}
WEEKDAYS |= {"SA": "Saturday", "SU": "Sunday"}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

router = FlowRouter("terms of reference")


@dataclass(frozen=True)
class Clause:
    """One clause of the Terms: ``name`` is what "changed since" calls it (``objective 2.3``);
    its first line is the clause, the others a list under it."""

    name: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class TermsPart:
    """A numbered part of the template (``2.0 Objectives``) and its clauses."""

    heading: str
    clauses: tuple[Clause, ...]


Terms = tuple[TermsPart, ...]


# -- the Terms, drafted from what copbot knows ----------------------------------------------


async def draft(session: AsyncSession, community_id: int, name: str, schedule: MeetingSchedule) -> Terms:
    """The Terms as they read today: the template, the co-chairs' wording and what copbot knows."""
    written = await store.parts_written(session, community_id)
    chairs = [
        CO_CHAIR_LINE.format(
            name=member.name or A_FORMER_MEMBER,
            months=term.months,
            starts=document_day(term.starts_on),
            ends=document_day(term.ends_on),
            review=document_day(term.review_on),
        )
        for term, member in await communities.current_chairs(session, community_id)
    ]
    members = [
        MEMBER_LINE.format(name=member.name or A_FORMER_MEMBER, role=member.role or NO_ROLE)
        for member in await communities.active_members(session, community_id)
    ]
    rule = rule_words(schedule.rule) if schedule.rule else None
    schedule_line = SCHEDULE_LINE.format(rule=rule, at=schedule.at, zone=schedule.zone) if rule else NO_SCHEDULE
    accountability = (written["accountability"],) if "accountability" in written else ACCOUNTABILITY_TEMPLATE
    return (
        TermsPart("Name of the Community of Practice", (Clause("name", (NAME_LINE.format(name=name),)),)),
        TermsPart("1.0 Aim or purpose", (Clause("purpose", ("1.1 " + _written(written, "purpose"),)),)),
        TermsPart(
            "2.0 Objectives",
            tuple(Clause(f"objective {n}", (f"{n} " + _written(written, f"objective {n}"),)) for n in OBJECTIVES),
        ),
        TermsPart(
            "3.0 Accountability",
            (Clause("key performance indicators", (KPIS,)), Clause("accountability", accountability)),
        ),
        TermsPart(
            "4.0 Roles and responsibilities",
            (
                Clause("facilitator", (FACILITATOR,)),
                Clause("co-chairs", (CO_CHAIRS, *(chairs or [NO_CO_CHAIRS]))),
                Clause("meeting schedule", (SCHEDULE, schedule_line)),
                Clause("agenda items", (AGENDA_ITEMS.format(call=schedule.call_days),)),
                Clause("agenda notice", (AGENDA_NOTICE.format(days=schedule.agenda_days),)),
                Clause("membership roles", (ROLES_SOUGHT, *ROLES)),
            ),
        ),
        TermsPart("5.0 Frequency of meetings", (Clause("frequency", (FREQUENCY,)),)),
        TermsPart("6.0 Performance and reporting", (Clause("performance and reporting", PERFORMANCE),)),
        TermsPart("7.0 Members", (Clause("members", (MEMBERS, *members)),)),
    )


def _written(written: dict[str, str], part: str) -> str:
    return written.get(part, TEMPLATE[part])


def rule_words(rule: str) -> str:
    """``FREQ=YEARLY;BYMONTH=2,5,8,11;BYDAY=+2TU`` → ``2nd Tuesday of Feb, May, Aug and Nov``
    (the rule as it was typed; the rule itself when it is not one copbot writes)."""
    fields = dict(part.split("=", 1) for part in rule.split(";") if "=" in part)
    try:
        months = [MONTHS[int(m) - 1] for m in fields["BYMONTH"].split(",")]
        day = fields["BYDAY"]
        ordinal, weekday = ORDINALS[int(day[:-2])], WEEKDAYS[day[-2:]]
    except (KeyError, ValueError, IndexError):
        return rule
    return f"{ordinal} {weekday} of {and_list(months)}"


def document_day(day: date) -> str:
    """``16 December 2026``: a day as a document (the Terms) writes it, without its weekday."""
    return f"{day.day} {day:%B %Y}"


def clause_prints(terms: Terms) -> dict[str, str]:
    """Each clause's SHA-256, by name: what "changed since" compares."""
    return {clause.name: _sha(clause.lines) for part in terms for clause in part.clauses}


def _sha(lines: tuple[str, ...]) -> str:
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def fingerprint(terms: Terms) -> str:
    """The SHA-256 of the Terms' Markdown (parts 1–7, without the approval)."""
    return hashlib.sha256(body_markdown(terms).encode()).hexdigest()


def changed_since(terms: Terms, approved: TermsOfReferenceRound) -> list[str]:
    """The clauses whose words differ from the approved version's, in the Terms' order."""
    then: dict[str, str] = json.loads(approved.parts)
    return [name for name, print_ in clause_prints(terms).items() if then.get(name) != print_]


def to_json(terms: Terms) -> str:
    return json.dumps([[p.heading, [[c.name, list(c.lines)] for c in p.clauses]] for p in terms], ensure_ascii=False)


def from_json(text: str) -> Terms:
    return tuple(
        TermsPart(heading, tuple(Clause(name, tuple(lines)) for name, lines in clauses))
        for heading, clauses in json.loads(text)
    )


# -- the Terms as a post and as Markdown ----------------------------------------------------


def sections(terms: Terms, approval: str) -> tuple[Section, ...]:
    """The Terms as plain-text sections (a Teams card; the terminal's screen)."""
    out = [Section(part.heading, tuple(line for clause in part.clauses for line in clause.lines)) for part in terms]
    return (*out, Section("8.0 Approval", (approval,)))


def body_markdown(terms: Terms) -> str:
    out: list[str] = []
    for part in terms:
        out += [f"## {md_escape(part.heading)}", ""]
        for clause in part.clauses:
            first, *rest = clause.lines
            out.append(md_escape(first))
            if rest:
                out.append("")
                out += [f"- {md_escape(line)}" for line in rest]
            out.append("")
    return "\n".join(out)


def markdown(community: str, terms: Terms, approval: str) -> str:
    """The Terms as a Markdown document: the title, parts 1–7, the approval."""
    title = md_escape(TITLE.format(community=community))
    return f"# {title}\n\n{body_markdown(terms)}## 8.0 Approval\n\n{md_escape(approval)}\n"


def terms_post(community: str, terms: Terms, status: str, approval: str, version: int | None) -> Post:
    """The short post, with the Terms as sections and as a Markdown file."""
    name = FILE_NAME.format(slug=slug(community), version=f"-v{version}" if version else "-draft")
    attachment = Attachment(name, MEDIA_TYPE, markdown(community, terms, approval))
    return Post(
        f"{TITLE.format(community=community)}\n{status}",
        sections=sections(terms, approval),
        attachment=attachment,
        sections_in_file=True,
    )


# -- `/cop tor …` ---------------------------------------------------------------------------


@router.verb("tor", FORMS, HELP, chair_forms=CHAIR_FORMS, free_text=True)
async def terms_of_reference(turn: Turn, cmd: Command) -> list[Post]:
    form, args = consent.answer_form(cmd.args)
    if form == "":
        return [await _show(turn)]
    if form == "approved" and len(args) == 1:
        return [await _show_approved(turn)]
    if form == "set":
        return await _set(turn, cmd.rest.split(None, 1)[1] if len(args) > 1 else "")
    if form == "propose" and len(args) == 1:
        return await _propose(turn)
    if form in consent.ANSWERS:
        return await _answer(turn, form, consent.ANSWERS[form], args[1:])
    if form == "close":
        return await _close(turn, args[1:])
    raise UsageError(USAGE)


async def _today_and_schedule(turn: Turn) -> tuple[date, MeetingSchedule]:
    schedule = await schedules.schedule_of(turn.session, turn.require_community().id, turn.now)
    return meeting_calendar.local(turn.now, schedule.zone).date(), schedule


async def _draft(turn: Turn) -> Terms:
    community = turn.require_community()
    _, schedule = await _today_and_schedule(turn)
    return await draft(turn.session, community.id, community.name, schedule)


async def _show(turn: Turn) -> Post:
    community = turn.require_community()
    terms = await _draft(turn)
    approved = await store.approved_version(turn.session, community.id)
    open_round = await store.open_round(turn.session, community.id)
    version: int | None = None
    if approved is None or approved.version is None or approved.approved_on is None:
        status, approval = DRAFT, APPROVAL_DRAFT
    else:
        changed = changed_since(terms, approved)
        v, day = approved.version, document_day(approved.approved_on)
        if changed:
            status = CHANGED.format(v=v, day=day, parts=", ".join(changed))
            approval = APPROVAL_CHANGED.format(v=v, day=day, parts=", ".join(changed))
        else:
            status = APPROVED_NOW.format(v=v, day=day)
            approval = APPROVAL_DONE.format(v=v, day=day, fingerprint=approved.fingerprint)
            version = v
    if open_round is not None:
        status = f"{status}\n{IN_ROUND.format(n=open_round.number)}"
    return terms_post(community.name, terms, status, approval, version)


async def _show_approved(turn: Turn) -> Post:
    community = turn.require_community()
    approved = await store.approved_version(turn.session, community.id)
    if approved is None or approved.version is None or approved.approved_on is None:
        return turn.private(NONE_APPROVED)
    v, day = approved.version, document_day(approved.approved_on)
    status = SHOWN_APPROVED.format(v=v, day=day, fingerprint=approved.fingerprint[:12])
    approval = APPROVAL_DONE.format(v=v, day=day, fingerprint=approved.fingerprint)
    return terms_post(community.name, from_json(approved.text), status, approval, v)


async def _set(turn: Turn, words: str) -> list[Post]:
    """``purpose <text>``, ``objective 2.3 <text>``, ``accountability <text>``."""
    community = turn.require_community()
    member = await turn.require_chair(CHAIR_FORMS["set"])
    head, _, text = words.strip().partition(" ")
    part = head.lower()
    if part == "objective":
        n, _, text = text.strip().partition(" ")
        if n not in OBJECTIVES:
            raise UsageError(NOT_AN_OBJECTIVE.format(n=n[:10]) if any(ch.isdigit() for ch in n) else SET_USAGE)
        part = f"objective {n}"
    text = " ".join(trimmed(text).split())
    if part not in WRITTEN_PARTS or not text:
        raise UsageError(SET_USAGE)
    limit = MAX_CHARS[part.split()[0]]
    if len(text) > limit:
        raise UsageError(TOO_LONG.format(part=part, n=limit, length=len(text)))
    open_round = await store.open_round(turn.session, community.id)
    if open_round is not None:
        return [turn.private(ROUND_OPEN_NO_SET.format(n=open_round.number))]
    await store.write_part(turn.session, community.id, part, text, member, turn.now)
    return [turn.private(PART_SET.format(part=part, text=text, then=THEN_PROPOSE))]


async def _propose(turn: Turn) -> list[Post]:
    community = turn.require_community()
    member = await turn.require_chair(CHAIR_FORMS["propose"])
    open_round = await store.open_round(turn.session, community.id)
    if open_round is not None:
        return [turn.private(ALREADY_OPEN.format(n=open_round.number))]
    terms = await _draft(turn)
    approved = await store.approved_version(turn.session, community.id)
    if approved is not None and approved.version and approved.approved_on and not changed_since(terms, approved):
        return [turn.private(NOTHING_TO_PROPOSE.format(v=approved.version, day=document_day(approved.approved_on)))]
    prints = json.dumps(clause_prints(terms))
    round_ = await store.propose(
        turn.session, community.id, member, to_json(terms), fingerprint(terms), prints, turn.now
    )
    return [await _show(turn), await _card(turn, round_, replace=False)]


async def _round(turn: Turn, form: str, args: tuple[str, ...]) -> TermsOfReferenceRound:
    """The round a form names by number; with no number, the open one."""
    community = turn.require_community()
    if not args:
        found = await store.open_round(turn.session, community.id)
        if found is None:
            raise NothingOpen(NONE_OPEN)
        return found
    n = number(args[0])
    if n is None or len(args) > 1:
        raise UsageError(WHICH.format(form=form))
    round_ = await store.round_numbered(turn.session, community.id, n)
    if round_ is None:
        raise NothingOpen(NO_ROUND.format(n=n))
    return round_


def _settled(turn: Turn, round_: TermsOfReferenceRound) -> Post | None:
    """What a member pressing a decided or closed round's button is told (None: it is open)."""
    if round_.status == TermsRoundStatus.APPROVED and round_.approved_on is not None:
        return turn.private(
            ROUND_APPROVED.format(n=round_.number, v=round_.version, day=document_day(round_.approved_on))
        )
    if round_.status != TermsRoundStatus.OPEN:
        return turn.private(ROUND_CLOSED.format(n=round_.number))
    return None


async def _answer(turn: Turn, form: str, answer: str, args: tuple[str, ...]) -> list[Post]:
    round_ = await _round(turn, form, args)
    settled = _settled(turn, round_)
    if settled is not None:
        return [settled]
    member = await turn.member()
    notice = OBJECTION_TO_CHAIRS.format(who=member.name, n=round_.number)
    previous, posts = await consent.answered(
        turn, answer, lambda: store.record_consent(turn.session, round_, member, answer, turn.now), notice
    )
    if previous == answer:
        return posts
    tally = await store.tally(turn.session, round_)
    if consent.is_agreed(await _may_answer(turn), tally):
        today, _ = await _today_and_schedule(turn)
        version = await store.approve(turn.session, round_, today, turn.now)
        done = APPROVED.format(v=version, day=document_day(today))
        posts.insert(0, await _card(turn, round_, outcome=done))
    elif consent.card_changes(answer, previous):
        posts.insert(0, await _card(turn, round_))
    return posts


async def _may_answer(turn: Turn) -> int:
    """Every member answers the Terms of Reference, the co-chairs too."""
    return await communities.count_active_members(turn.session, turn.require_community().id)


async def _card(turn: Turn, round_: TermsOfReferenceRound, *, replace: bool = True, outcome: str | None = None) -> Post:
    """The round's one channel post, updated in place: counts of agree and stand aside, never
    an objection or who objected."""
    by = await turn.session.get(Member, round_.proposed_by) if round_.proposed_by is not None else None
    head = CARD.format(by=by.name, n=round_.number) if by is not None else CARD_NO_NAME.format(n=round_.number)
    key = f"tor:round:{round_.id}"
    if outcome is not None:
        return Post(f"{head}\n{outcome}", key=key, replace=True)
    tally = await store.tally(turn.session, round_)
    needed = consent.needed(await _may_answer(turn), tally)
    text = "\n".join((head, ASK.format(needed=consent.agree_count(needed)), consent.so_far(tally)))
    return Post(text, buttons=consent.buttons(f"tor {round_.number}"), key=key, replace=replace)


async def _close(turn: Turn, args: tuple[str, ...]) -> list[Post]:
    await turn.require_chair(CHAIR_FORMS["close"])
    round_ = await _round(turn, "close", args)
    settled = _settled(turn, round_)
    if settled is not None:
        return [settled]
    store.close(round_, turn.now)
    return [await _card(turn, round_, outcome=CLOSED)]


# -- forget-me ------------------------------------------------------------------------------


def without_name(text: str, name: str) -> str:
    """The Terms kept as JSON (`to_json`) with each line that names ``name`` as a member or a
    co-chair (``Ann — …``) reading ``a former member — …``."""
    named = f"{name} — "

    def line_of(line: str) -> str:
        return f"{A_FORMER_MEMBER} — {line.removeprefix(named)}" if name and line.startswith(named) else line

    return to_json(
        tuple(
            TermsPart(part.heading, tuple(Clause(c.name, tuple(map(line_of, c.lines))) for c in part.clauses))
            for part in from_json(text)
        )
    )


async def forget(session: AsyncSession, member: Member) -> dict[str, int]:
    """forget-me: the member's answers go; their name leaves the Terms kept with each round."""
    return await store.forget(session, member, lambda text: without_name(text, member.name))


router.forgetter(Forgetter("Terms of Reference rounds", ("tor_parts", "tor_rounds", "tor_consents"), forget))
