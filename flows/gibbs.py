"""Gibbs' reflective cycle as data: six steps, each with its plain question first, its name,
the guiding questions a facilitator would ask, and (last, on all but the feelings step)
one of the guide's conversation prompts that suits the step (`flows.prompts`)."""

from __future__ import annotations

from flows.prompts import ask_the_group
from flows.stepped import Step

GibbsStep = Step

STEPS: tuple[GibbsStep, ...] = (
    GibbsStep(
        1,
        "What happened?",
        "Description",
        (
            "Where were you, and who was there?",
            "What did you do, and what did others do?",
            "What was the outcome?",
            ask_the_group("experiences"),
        ),
    ),
    GibbsStep(
        2,
        "What were you thinking and feeling?",
        "Feelings",
        (
            "How did you feel before, during and after?",
            "What do you think others were feeling?",
        ),
    ),
    GibbsStep(
        3,
        "What was good and bad about the experience?",
        "Evaluation",
        (
            "What went well? What didn't?",
            "What did you and others contribute?",
            ask_the_group("developments"),
        ),
    ),
    GibbsStep(
        4,
        "What sense can you make of the situation?",
        "Analysis",
        (
            "Why did things go well or not?",
            "What helps us understand it (experience, recovery principles, other ideas)?",
            ask_the_group("mapping"),
        ),
    ),
    GibbsStep(
        5,
        "What did you learn, and what could you have done differently?",
        "Conclusion",
        (
            "What else could have been done?",
            "What skills or support would help next time?",
            ask_the_group("problem-solving"),
        ),
    ),
    GibbsStep(
        6,
        "How would you deal with similar situations in future; what will change?",
        "Action plan",
        (
            "Everyone can add to the action plan.",
            "To track an answer as an action: start it with “action:”, or name who will do it with @name "
            "and by when (“by 1 March”, “by Friday”). Otherwise press Make this an action afterwards.",
            ask_the_group("coordination"),
        ),
    ),
)

LAST = len(STEPS)


def step(number: int) -> GibbsStep:
    return STEPS[number - 1]
