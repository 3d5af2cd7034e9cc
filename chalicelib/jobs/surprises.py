"""``surprises``: a small unexpected reward for regulars (``min_visits`` visits within
``within_days``), within a monthly budget of points, never the same member twice within
``not_again_months``, chosen fairly: the candidates are put in a shuffled order seeded by the
program and the day (logged with the run, so an audit can replay the draw), and the budget decides
where the rewards stop. Candidates come from the features' ``by_last_visit`` index, one query per
day of the window (``within_days`` queries), never a scan."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import structlog

from chalicelib.domain.bonus import Bonus
from chalicelib.domain.contact import Refused
from chalicelib.domain.moments import fair_order, surprise_message
from chalicelib.domain.program import add_months
from chalicelib.jobs.fanout import Fanout, Outcome, register
from chalicelib.services import issuing, program
from chalicelib.store import counters
from chalicelib.store import features as features_store
from chalicelib.store import members as member_store

NAME = "surprises"
log = structlog.get_logger("loyalty.jobs")


def seed_of(program_name: str, day: str) -> str:
    return f"{program_name}|surprises|{day}"


def select(at: datetime) -> Iterator[str]:
    rules = program.rules()
    settings = rules.moments.surprise
    if not settings.enabled or settings.monthly_budget_points < settings.points:
        return
    today = program.local_time(rules, at).date()
    if counters.budget_spent(NAME, today.strftime("%Y-%m")) + settings.points > settings.monthly_budget_points:
        return  # this month's budget is spent: nobody to ask
    candidates: list[str] = []
    for back in range(settings.within_days):
        candidates += features_store.subs_last_visit_on(today - timedelta(days=back))
    seed = seed_of(rules.name, today.isoformat())
    ordered = fair_order(candidates, seed)
    log.info("surprise_draw", seed=seed, candidates=len(ordered))
    yield from ordered


def contact(sub: str, at: datetime) -> Outcome:
    rules = program.rules()
    settings = rules.moments.surprise
    member = member_store.get_member(sub)
    if member is None or not settings.enabled or not member.marketing_consent:
        return None
    features = features_store.get_features(sub)
    today = program.local_time(rules, at).date()
    if features.visits_since(today - timedelta(days=settings.within_days - 1)) < settings.min_visits:
        return None  # not a regular (yet)
    last = features.last_contact.get("surprise")
    if last is not None and add_months(last.date(), settings.not_again_months) > today:
        return None
    month = today.strftime("%Y-%m")
    if not counters.reserve_budget(NAME, month, settings.points, settings.monthly_budget_points, at):
        return None  # the month's budget is spent
    title, body = surprise_message(member.name, settings.points)
    sent = issuing.send(
        sub,
        "surprise",
        f"surprise#{month}",
        title,
        body,
        clock=lambda: at,
        bonus=Bonus(settings.points, "surprise"),
    )
    if isinstance(sent, Refused) or sent.replayed:
        counters.release_budget(NAME, month, settings.points)  # nothing new was given
    return sent


FANOUT = register(Fanout(NAME, select, contact))
