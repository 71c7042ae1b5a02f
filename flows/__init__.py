"""The meeting logic: one module per flow, each declaring its verbs, the posts members answer
and what it forgets on a `bot.registry.FlowRouter`. `REGISTRY` joins them, in the order help
lists them. A new flow is a module here plus its storage, and one line below."""

from __future__ import annotations

from bot.registry import FlowRouter, Registry, compose
from flows import (
    actions,
    agenda,
    agenda_items,
    answers,
    attendance,
    chairs,
    general,
    kit,
    kpi_report,
    membership,
    minutes,
    my_data,
    national,
    prompts,
    reflection,
    review_survey,
    rotation,
    schedule,
    stepped,
    support_round,
    terms_of_reference,
    topic_vote,
    vision,
)

# The flows' routers, in the order help lists their verbs.
ROUTERS: list[FlowRouter] = [
    general.help_router,
    membership.router,
    attendance.router,
    chairs.router,
    rotation.router,
    support_round.router,
    reflection.router,
    stepped.router,
    answers.router,
    actions.router,
    minutes.router,
    topic_vote.router,
    review_survey.router,
    kpi_report.router,
    general.close_router,
    agenda.router,
    agenda_items.router,
    schedule.router,
    kit.router,
    vision.router,
    prompts.router,
    terms_of_reference.router,
    my_data.router,
    national.router,
]
REGISTRY: Registry = compose(ROUTERS)
