"""The daily tier review: tiers go up at once (at the till), and down only here.

It queries the ``by_tier_review`` index for members due on or before today (the months since its
last run, never a scan). A member still reaching their tier keeps it until the next review; one
below it gets the grace period the rules give, and at its end the tier the window reaches. Each
member is one transaction conditioned on the revision read, with an idempotency record keyed by
member and day, so a second run for the same moment changes nothing twice.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import structlog

from chalicelib.domain.clock import isoformat
from chalicelib.domain.jobs import JobState, months_since
from chalicelib.domain.program import months_back, review_tier, window_totals
from chalicelib.errors import LoyaltyError
from chalicelib.services import program
from chalicelib.services.idempotency import exactly_once, request_hash
from chalicelib.store import catalog, ledger
from chalicelib.store import members as member_store

NAME = "tier_review"
FIRST_RUN_LOOKBACK_MONTHS = 3

log = structlog.get_logger("loyalty.jobs")


def run(at: datetime) -> dict[str, Any]:
    rules = program.rules()
    today = program.local_time(rules, at).date()
    state = catalog.get(JobState, NAME)
    reviewed = kept = graced = lowered = 0
    for month in months_back(program.month_key(rules, at), months_since(state, today, FIRST_RUN_LOOKBACK_MONTHS)):
        for sub in member_store.subs_due_tier_review(month, today.isoformat()):
            try:
                outcome = _review(sub, today, at)
            except LoyaltyError as exc:
                log.warning("tier_review_skipped", job=NAME, code=exc.code)
                continue
            if outcome is None:
                continue
            reviewed += 1
            kept += outcome == "kept"
            graced += outcome == "grace"
            lowered += outcome == "lowered"
    if state is None or state.last_run_at is None or state.last_run_at < at:
        catalog.put(JobState(NAME, last_run_at=at))
    summary = {
        "job": NAME,
        "at": isoformat(at),
        "reviewed": reviewed,
        "kept": kept,
        "grace": graced,
        "lowered": lowered,
    }
    log.info("job_done", **summary)
    return summary


def _review(sub: str, today: date, at: datetime) -> str | None:
    key = f"job|{NAME}|{sub}|{today.isoformat()}"
    fingerprint = request_hash({"job": NAME, "sub": sub, "day": today.isoformat()})
    outcome = exactly_once(key, fingerprint, lambda: _prepare(sub, today, at, key, fingerprint))
    return None if outcome.replayed else str(outcome.body["outcome"])


def _prepare(sub: str, today: date, at: datetime, key: str, fingerprint: str) -> ledger.BalanceChange:
    rules = program.rules()
    member = member_store.get_member(sub)
    if member is None:
        raise LoyaltyError("the member left", code="member_left")
    spend, visits = window_totals(member.monthly, program.month_key(rules, at), rules.tier_window_months)
    grace = date.fromisoformat(member.tier_grace_until) if member.tier_grace_until else None
    result = review_tier(rules, member.tier, spend, visits, today, grace)
    outcome = "lowered" if result.tier != member.tier else "grace" if result.grace_until else "kept"
    return ledger.BalanceChange(
        sub=member.sub,
        customer_id=member.customer_id,
        expected_revision=member.revision,
        points_after=member.points,
        expiry_due=member.expiry_due,
        entries=(),
        idempotency_key=key,
        request_hash=fingerprint,
        response_status=200,
        response={"customer_id": member.customer_id, "outcome": outcome, "tier": result.tier},
        at=at,
        tier_change=ledger.TierChange(
            result.tier,
            result.review_due.isoformat() if result.review_due else None,
            result.grace_until.isoformat() if result.grace_until else None,
        ),
    )
