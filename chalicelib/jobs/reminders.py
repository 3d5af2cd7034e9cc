"""``reminders``: a few days before a member's predicted next visit (their own rhythm, through the
predictor: ``services/prediction.py``), a reminder with the offer that fits; once per predicted
visit. Found through the features' ``by_next_visit`` index."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from chalicelib.domain.moments import reminder_message
from chalicelib.jobs.fanout import Fanout, Outcome, register
from chalicelib.services import issuing, program
from chalicelib.store import features as features_store
from chalicelib.store import members as member_store

NAME = "reminders"


def select(at: datetime) -> Iterator[str]:
    rules = program.rules()
    settings = rules.moments.reminder
    if not settings.enabled:
        return
    today = program.local_time(rules, at).date()
    # Due today; and those due yesterday, for a run that missed midnight (the key keeps it once).
    for ahead in (settings.days_before - 1, settings.days_before):
        if ahead >= 0:
            yield from features_store.subs_next_visit_on(today + timedelta(days=ahead))


def contact(sub: str, at: datetime) -> Outcome:
    rules = program.rules()
    settings = rules.moments.reminder
    member = member_store.get_member(sub)
    features = features_store.get_features(sub)
    if member is None or not settings.enabled or features.prediction is None:
        return None
    today = program.local_time(rules, at).date()
    expected = features.prediction.next_visit_at.date()
    if not today <= expected <= today + timedelta(days=settings.days_before):
        return None  # they came, and the prediction moved on
    if len(features.visit_days) < settings.min_visits:
        return None
    offer = issuing.offer_for(member, "campaign", at, preferred=settings.offer_id) if settings.offer_id else None
    title, body = reminder_message(member.name, offer.title if offer else None)
    return issuing.send(sub, "reminder", f"reminder#{expected.isoformat()}", title, body, clock=lambda: at, offer=offer)


FANOUT = register(Fanout(NAME, select, contact))
