"""The daily tier review: tiers go up at once (at the till), and down only here.

It queries the ``by_tier_review`` index for members due on or before today (the months since its
last run, never a scan). A member still reaching their tier keeps it until the next review; one
below it gets the grace period the rules give, and at its end the tier the window reaches. Each
member is one transaction conditioned on the revision read, with an idempotency record keyed by
member and day, so a second run for the same moment changes nothing twice.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TypedDict

import structlog

from chalicelib.domain.changes import TierChange
from chalicelib.domain.clock import isoformat
from chalicelib.domain.program import review_tier, window_totals
from chalicelib.errors import LoyaltyError
from chalicelib.jobs import due_members
from chalicelib.services import program
from chalicelib.store import ledger
from chalicelib.store import members as member_store

NAME = "tier_review"
log = structlog.get_logger("loyalty.jobs")


class TierReviewRun(TypedDict):
    job: str
    at: str
    reviewed: int
    kept: int
    grace: int
    lowered: int


def run(at: datetime) -> TierReviewRun:
    outcomes = [done.body["outcome"] for done in due_members.run(NAME, at, member_store.subs_due_tier_review, _prepare)]
    summary: TierReviewRun = {
        "job": NAME,
        "at": isoformat(at),
        "reviewed": len(outcomes),
        "kept": outcomes.count("kept"),
        "grace": outcomes.count("grace"),
        "lowered": outcomes.count("lowered"),
    }
    log.info("job_done", **summary)
    return summary


def _prepare(sub: str, today: date, at: datetime, key: str, fingerprint: str) -> ledger.MemberChange:
    rules = program.rules()
    member = member_store.get_member(sub)
    if member is None:
        raise LoyaltyError("the member left", code="member_left")
    member = program.with_current_tier(member)  # a review writes the tier's current name
    spend, visits = window_totals(member.monthly, program.month_key(rules, at), rules.tier_window_months)
    grace = date.fromisoformat(member.tier_grace_until) if member.tier_grace_until else None
    result = review_tier(rules, member.tier, spend, visits, today, grace)
    outcome = "lowered" if result.tier != member.tier else "grace" if result.grace_until else "kept"
    return ledger.MemberChange(
        member,
        key,
        fingerprint,
        at,
        {"customer_id": member.customer_id, "outcome": outcome, "tier": result.tier},
        tier_change=TierChange(
            result.tier,
            result.review_due.isoformat() if result.review_due else None,
            result.grace_until.isoformat() if result.grace_until else None,
        ),
    )
