"""``winback``: a member ``moments.winback.margin_days`` past their predicted visit who has not come
back gets one win-back message (with the configured offer), once per lapse: the key is their last
visit day, so only a new visit (and a new lapse) can bring another."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from chalicelib.domain.moments import winback_message
from chalicelib.jobs.fanout import Fanout, Outcome, register
from chalicelib.services import issuing, program
from chalicelib.store import features as features_store
from chalicelib.store import members as member_store

NAME = "winback"


def select(at: datetime) -> Iterator[str]:
    rules = program.rules()
    settings = rules.moments.winback
    if not settings.enabled:
        return
    today = program.local_time(rules, at).date()
    for late in (settings.margin_days, settings.margin_days + 1):
        yield from features_store.subs_next_visit_on(today - timedelta(days=late))


def contact(sub: str, at: datetime) -> Outcome:
    rules = program.rules()
    settings = rules.moments.winback
    member = member_store.get_member(sub)
    features = features_store.get_features(sub)
    last = features.last_visit_day
    if member is None or not settings.enabled or features.prediction is None or last is None:
        return None
    today = program.local_time(rules, at).date()
    expected = features.prediction.next_visit_at.date()
    if expected + timedelta(days=settings.margin_days) > today or last >= expected:
        return None  # not late enough, or back since
    offer = issuing.offer_for(member, "campaign", at, preferred=settings.offer_id) if settings.offer_id else None
    title, body = winback_message(member.name, offer.title if offer else None)
    return issuing.send(sub, "winback", f"winback#{last.isoformat()}", title, body, clock=lambda: at, offer=offer)


FANOUT = register(Fanout(NAME, select, contact))
