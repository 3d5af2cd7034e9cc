"""``points_expiring``: a service message ``moments.points_expiring.days_before`` days before a
member's next points expire, saying how many and when (no consent needed; quiet hours hold the
push). Found through the members' ``by_expiry`` index (month, date), once per expiry date."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

from chalicelib.domain.moments import expiring_notice
from chalicelib.domain.points import NEVER
from chalicelib.jobs.fanout import Fanout, Outcome, register
from chalicelib.services import issuing, program
from chalicelib.store import members as member_store

NAME = "points_expiring"


def select(at: datetime) -> Iterator[str]:
    rules = program.rules()
    settings = rules.moments.points_expiring
    if not settings.enabled:
        return
    today = program.local_time(rules, at).date()
    # The day the notice is due for, and the one before (a run that missed midnight catches up).
    for day in (today + timedelta(days=settings.days_before - 1), today + timedelta(days=settings.days_before)):
        if day >= today:
            yield from member_store.subs_with_points_expiring_on(day.isoformat())


def contact(sub: str, at: datetime) -> Outcome:
    rules = program.rules()
    settings = rules.moments.points_expiring
    member = member_store.get_member(sub)
    if member is None or not settings.enabled or member.expiry_due is None or member.expiry_due == NEVER:
        return None
    today = program.local_time(rules, at).date()
    due = date.fromisoformat(member.expiry_due)
    if not today <= due <= today + timedelta(days=settings.days_before):
        return None  # moved since it was selected (a visit, an expiry)
    if rules.expiry.mode == "inactivity":
        points = member.points_balance
    else:
        points = sum(n for on, n in member.lots if on == member.expiry_due)
    if points <= 0:
        return None
    title, body = expiring_notice(points, due, member.points_balance)
    return issuing.send(sub, "points_expiring", f"points_expiring#{member.expiry_due}", title, body, clock=lambda: at)


FANOUT = register(Fanout(NAME, select, contact))
