"""The first meeting's kit: what a facilitator brings to a community's first meeting, in
copbot's words from the guide. Each part of `/cop meeting` at a first meeting names its command;
`/cop kit <part>` posts that part's content in the channel for the group:

    cop           what a Community of Practice is, and how ours works
    reflection    how reflective practice works: Gibbs' six steps in plain words
    tor           what our Terms of Reference hold (`/cop tor` keeps ours)
    ground-rules  the accountability ground rules, from the guide's values, for the group to agree
    vision        the vision breakout: challenge, purpose, five objectives (`/cop vision` keeps it)
    schedule      choosing the schedule: `schedule quarterly …` explained, with the next four
                  dates of the example (or of a rule given: `/cop kit schedule <rule>`), saving nothing

`/cop kit` alone lists the parts (to the member who asked). Nothing here is stored.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.registry import Command, FlowRouter
from bot.vocabulary import suggest
from bot.vocabulary.conversation import Post, Section
from bot.vocabulary.errors import UsageError
from flows import gibbs
from flows import meeting_calendar as calendar
from flows.actions import HORIZON_WORDS
from flows.schedule import FORMS as SCHEDULE_FORMS
from flows.schedule import rule_preview
from flows.turn import Turn
from flows.vision import QUESTIONS
from storage import schedule as schedules

# -- what members read (one place, to review and later translate) ---------------------------

COP = Post(
    "What a Community of Practice is\n"
    "A Community of Practice is a group of people who care about the same things and learn to do them better "
    "by meeting regularly. Ours is about recovery, and the value of lived experience in our roles. We share "
    "ideas, experiences and what works; we solve local challenges together and celebrate local progress.",
    sections=(
        Section(
            "What a community like ours does",
            (
                "Educates: we gather and share what we learn about questions from our practice.",
                "Supports: we make time and ways to meet and work together.",
                "Cultivates: we help each other start learning, and keep at it.",
                "Encourages: we talk about each other's work and share it.",
                "Integrates: we take what we learn back into our own work, for real change.",
            ),
        ),
        Section(
            "How ours works",
            (
                "We meet four times a year, online or in person.",
                "Two co-chairs, agreed by the group, lead together for 6 or 12 months (`/cop chairs`).",
                "Leadership is shared: each meeting, someone takes a turn to lead the next one (`/cop lead`).",
                "Each meeting: a support round, reflective practice on a topic we chose last time, then we choose "
                "the next topic and who leads it.",
                "Anyone can put an item on the agenda, through the co-chairs (`/cop agenda add <item>`).",
            ),
        ),
    ),
)

REFLECTION_INTRO = (
    "How reflective practice works\n"
    "Reflective practice means looking back at something we did, so we keep learning from it. We use Gibbs' "
    "reflective cycle: six steps, taken together, on one experience someone is happy to share. Because it is "
    "a cycle, it suits things that happen again and again — what went well, and what didn't."
)
REFLECTION_HOW = (
    "A co-chair or today's lead starts it with `/cop reflect [topic]` and moves on with `/cop next`.",
    "Each step is one post: reply to it, or press Share — you can leave your name off.",
    "Share what you feel comfortable sharing. Passing is always fine.",
    "Everyone can add to the action plan in step 6; `/cop end` posts the summary.",
    "Stuck for words? `/cop prompts` has questions that open a conversation.",
)

TOR = Post(
    "Our Terms of Reference\n"
    "Our Terms of Reference say who we are and how we work together, so everyone is clear about our purpose. "
    "We agree them together at this first meeting. `/cop tor` shows ours, for the co-chairs to fill in with "
    "the group.",
    sections=(
        Section(
            "What they hold (the guide's template)",
            (
                "Our name, and our aim or purpose.",
                "Our objectives.",
                "Accountability: how we hold ourselves and each other to account (`/cop kit ground-rules`).",
                "Roles: the co-chairs, the schedule we agree today, the agenda through the chair 3–5 working days "
                "before each meeting, who can be a member.",
                "How often we meet (quarterly), and how we report: four meetings a year, and a yearly reflective "
                "review of how the community is working for us.",
                "Our members, and who approved the Terms of Reference, and when.",
            ),
        ),
    ),
)

GROUND_RULES = Post(
    "Our ground rules — for us to agree together\n"
    "From the values in our guide. Talk them through, change or add what you need, and agree them as a "
    "group; they belong in our Terms of Reference, under accountability (`/cop tor`).",
    sections=(
        Section(
            "",
            (
                "Person-led: every experience and view is welcome here. Everyone belongs.",
                "Respect: we listen, we're honest and kind, and we question assumptions, not people.",
                "Passing is always fine: nobody has to share.",
                "What is shared here stays here. Anyone can share without their name.",
                "One person doesn't speak for a whole group: we each bring our own experience, and some parts of "
                "who we are can't be seen.",
                "Open, honest and constructive: we make room for a broad range of voices.",
                "Difficult moments are a chance to learn together.",
                "Accountability: we do what we said we would, and report back on it (`/cop actions`).",
                "Courage: we can challenge the way things are, when it's needed.",
                "Acknowledgement: we notice and celebrate what we achieve.",
            ),
        ),
    ),
)

VISION_INTRO = (
    "Breakout groups: starting our vision\n"
    "In small groups, talk about what we want this community to achieve; then bring it back to everyone. "
    "A co-chair or today's lead writes down what the group agrees, and `/cop vision` shows it."
)
VISION_ASKS = (
    "The challenge: what problem do we want to address together?",
    "Our purpose: why does this community exist, to meet that challenge?",
    "Our objectives: up to five steps that get us there.",
)
VISION_WHEN = "When on our roadmap: {horizons}?"
VISION_COMMANDS = (
    "`/cop vision challenge <words>` · `/cop vision purpose <words>`",
    "`/cop vision objective 1 <words>` (up to 5)",
    "`/cop vision objective 1 how: <words>` — also `accomplish:`, `realistic:`, `resources:`, `know:`",
    "`/cop vision objective 1 horizon short` (or medium, long)",
)

SCHEDULE_INTRO = (
    "Choosing our meeting schedule\n"
    "We meet four times a year, and agree the dates at this first meeting. A co-chair then writes them as "
    "one rule — the week, the weekday, the four months and the start time:\n`/cop {example}`"
)
SCHEDULE_MINE = (
    "Choosing our meeting schedule\n"
    "This rule, if a co-chair sets it (`/cop schedule quarterly {rule}`), gives the meetings below."
)
SCHEDULE_DATES = "The next four meetings it gives ({zone}) — nothing is saved yet"
SCHEDULE_TIPS = (
    "The week: first, 2nd, 3rd, 4th or last; a weekday, Monday to Friday; the months; the start time "
    "(not 02:00–03:00, when clocks change).",
    "Try another: `/cop kit schedule 1st Thursday of Jan Apr Jul Oct 14:00` shows its dates and saves nothing.",
    "Once it is set, copbot posts the call for agenda items {call} working days before each meeting, the "
    "agenda {agenda} working days before, and a reminder the day before and on the day.",
)
SCHEDULE_SET_ALREADY = "We have a schedule already: `/cop schedule` shows our next meetings."

LISTING = "The first meeting's kit — each command posts its part for the group"
LISTING_MORE = ("`/cop vision` — our vision, as we write it down", "`/cop prompts` — ways into a conversation")


@dataclass(frozen=True)
class KitPart:
    """One part of the kit: the word typed after ``kit``, what it is, and its post."""

    name: str
    about: str
    post: Callable[[Turn, str], Awaitable[Post]]


async def _cop(turn: Turn, rest: str) -> Post:
    return COP


async def _reflection(turn: Turn, rest: str) -> Post:
    steps = tuple(f"{step.number}. {step.question} ({step.name})" for step in gibbs.STEPS)
    return Post(
        REFLECTION_INTRO, sections=(Section("The six steps", steps), Section("How it runs here", REFLECTION_HOW))
    )


async def _tor(turn: Turn, rest: str) -> Post:
    return TOR


async def _ground_rules(turn: Turn, rest: str) -> Post:
    return GROUND_RULES


async def _vision(turn: Turn, rest: str) -> Post:
    when = VISION_WHEN.format(horizons=", ".join(HORIZON_WORDS.values()).lower().replace(", long", " or long"))
    for_each = tuple(question.question for question in QUESTIONS) + (when,)
    return Post(
        VISION_INTRO,
        sections=(
            Section("Talk about", VISION_ASKS),
            Section("For each objective, ask", for_each),
            Section("Writing it down", VISION_COMMANDS),
        ),
    )


async def _schedule(turn: Turn, rest: str) -> Post:
    """The example rule's next four meetings (or those of the rule given), saving nothing."""
    settings = await schedules.schedule_of(turn.session, turn.require_community().id, turn.now)
    example = SCHEDULE_FORMS["quarterly"][1]
    given = rest.strip()
    rule = calendar.parse_rule(given or example.removeprefix("schedule quarterly "), usual=settings.at)
    intro = SCHEDULE_MINE.format(rule=given) if given else SCHEDULE_INTRO.format(example=example)
    dates = tuple(rule_preview(rule, settings, turn.now))
    tips = tuple(tip.format(call=settings.call_days, agenda=settings.agenda_days) for tip in SCHEDULE_TIPS)
    if settings.rule:
        tips += (SCHEDULE_SET_ALREADY,)
    return Post(
        intro, sections=(Section(SCHEDULE_DATES.format(zone=settings.zone), dates), Section("Good to know", tips))
    )


PARTS: tuple[KitPart, ...] = (
    KitPart("cop", "What a Community of Practice is", _cop),
    KitPart("reflection", "How reflective practice works: Gibbs' six steps", _reflection),
    KitPart("tor", "Our Terms of Reference: what they hold", _tor),
    KitPart("ground-rules", "Our ground rules, for the group to agree", _ground_rules),
    KitPart("vision", "Breakout groups: starting our vision", _vision),
    KitPart("schedule", "Choosing our meeting schedule (the next four dates, nothing saved)", _schedule),
)
ALIASES = {"rules": "ground-rules", "groundrules": "ground-rules", "terms": "tor", "gibbs": "reflection"}

router = FlowRouter("kit")


@router.verb(
    "kit",
    "kit [cop|reflection|tor|ground-rules|vision|schedule [rule]]",
    "The first meeting's kit: each part's content, posted for the group — what a Community of Practice is, "
    "how reflective practice works, our Terms of Reference, the ground rules, the vision breakout, and choosing "
    "the schedule (`kit schedule [rule]` shows the next four dates and saves nothing). `kit` alone lists them.",
)
async def kit(turn: Turn, cmd: Command) -> list[Post]:
    turn.require_community()
    word = cmd.args[0].lower() if cmd.args else ""
    if not word:
        lines = tuple(f"`/cop kit {part.name}` — {part.about}" for part in PARTS) + LISTING_MORE
        return [turn.private(LISTING, sections=(Section("", lines),))]
    word = ALIASES.get(word, word)
    part = next((found for found in PARTS if found.name == word), None)
    if part is None:
        raise UsageError(suggest.unknown_word(word, [found.name for found in PARTS], "/cop kit cop"))
    rest = cmd.rest.split(None, 1)[1] if len(cmd.rest.split(None, 1)) > 1 else ""
    return [await part.post(turn, rest)]
