"""``keep_in_touch``: the monthly minimum. A consenting member who has heard nothing useful for
``contact.keep_in_touch_after_days`` gets one message with something true and useful from their own
account: their balance, points about to expire, how far the next tier is. Every useful message
moves their day on (``features.touch_due``, in the message's own write), so the job finds only the
members due today through the ``by_touch_due`` index, never a scan."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

from chalicelib.domain.contact import Refused
from chalicelib.domain.jobs import JobState
from chalicelib.domain.moments import keep_in_touch_message
from chalicelib.domain.points import NEVER
from chalicelib.domain.program import current_tier, tier_progress_in_window
from chalicelib.jobs.fanout import Fanout, Outcome, register
from chalicelib.services import issuing, program
from chalicelib.store import catalog
from chalicelib.store import features as features_store
from chalicelib.store import members as member_store

NAME = "keep_in_touch"
#: How many days a run looks back for days it missed (a run after an outage).
CATCH_UP_DAYS = 7


def select(at: datetime) -> Iterator[str]:
    if not program.rules().contact.keep_in_touch_after_days:
        return
    today = at.date()
    state = catalog.get(JobState, NAME)
    since = state.last_run_at.date() if state is not None and state.last_run_at is not None else today
    first = max(since, today - timedelta(days=CATCH_UP_DAYS))
    for n in range((today - first).days + 1):
        yield from features_store.subs_due_touch(first + timedelta(days=n))
    if state is None or state.last_run_at is None or state.last_run_at < at:
        catalog.put(JobState(NAME, last_run_at=at))


def contact(sub: str, at: datetime) -> Outcome:
    rules = program.rules()
    after = rules.contact.keep_in_touch_after_days
    member = member_store.get_member(sub)
    if member is None or not after:
        return None
    features = features_store.get_features(sub)
    today = at.date()
    if features.touch_due is None or features.touch_due > today:
        return None  # something useful reached them since they were selected
    if not member.marketing_consent:
        # Not due anything we may send: looked at again a silence later, not every day.
        features_store.set_touch_due(sub, today + timedelta(days=after), at)
        return None
    expiring = None
    if member.expiry_due and member.expiry_due != NEVER:
        due = date.fromisoformat(member.expiry_due)
        if due <= today + timedelta(days=after):
            soon = sum(n for on, n in member.lots if on == member.expiry_due) or member.points_balance
            expiring = (soon, due)
    progress = tier_progress_in_window(
        rules, current_tier(rules, member.tier), member.monthly, program.month_key(rules, at)
    )
    title, body = keep_in_touch_message(
        member.name, member.points_balance, expiring, progress.next_tier, progress.visits_needed
    )
    sent = issuing.send(sub, "keep_in_touch", f"keep_in_touch#{features.touch_due}", title, body, clock=lambda: at)
    if isinstance(sent, Refused) and sent.reason != "already_contacted":
        # The weekly cap (someone else spoke this week, and that moved the day on) or a change
        # of mind: ask again a week on rather than every hour.
        features_store.set_touch_due(sub, today + timedelta(days=7), at)
    return sent


FANOUT = register(Fanout(NAME, select, contact))
