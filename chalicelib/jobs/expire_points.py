"""The daily expiry of points: FIFO lots whose date has come, or balances left without a visit.

It queries the ``by_expiry`` index for the months since its last run (never a scan), and writes
each member's expiry as one transaction with its ledger entry and an idempotency record keyed by
member and day, so a second run for the same moment expires nothing twice.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import structlog

from chalicelib.domain.clock import isoformat
from chalicelib.domain.jobs import JobState, months_since
from chalicelib.domain.ledger import LedgerEntry
from chalicelib.domain.points import expire, expire_all, expiry_due
from chalicelib.domain.program import months_back
from chalicelib.errors import LoyaltyError
from chalicelib.services import program
from chalicelib.services.idempotency import exactly_once, request_hash
from chalicelib.store import catalog, ledger
from chalicelib.store import members as member_store

NAME = "expire_points"
#: How far back a first run (with no recorded last run) looks for expiries it missed.
FIRST_RUN_LOOKBACK_MONTHS = 3

log = structlog.get_logger("loyalty.jobs")


def run(at: datetime) -> dict[str, Any]:
    rules = program.rules()
    today = program.local_time(rules, at).date()
    state = catalog.get(JobState, NAME)
    months = months_back(program.month_key(rules, at), months_since(state, today, FIRST_RUN_LOOKBACK_MONTHS))
    members = points = 0
    for month in months:
        for sub in member_store.subs_with_points_expiring(month, today.isoformat()):
            try:
                expired = _expire_member(sub, today, at)
            except LoyaltyError as exc:
                log.warning("expiry_skipped", job=NAME, code=exc.code)
                continue
            if expired:
                members += 1
                points += expired
    if state is None or state.last_run_at is None or state.last_run_at < at:
        catalog.put(JobState(NAME, last_run_at=at))
    log.info("job_done", job=NAME, members=members, points_expired=points)
    return {"job": NAME, "at": isoformat(at), "members_expired": members, "points_expired": points}


def _expire_member(sub: str, today: date, at: datetime) -> int:
    key = f"job|{NAME}|{sub}|{today.isoformat()}"
    fingerprint = request_hash({"job": NAME, "sub": sub, "day": today.isoformat()})
    outcome = exactly_once(key, fingerprint, lambda: _prepare(sub, today, at, key, fingerprint))
    return 0 if outcome.replayed else int(outcome.body["points_expired"])


def _prepare(sub: str, today: date, at: datetime, key: str, fingerprint: str) -> ledger.BalanceChange:
    rules = program.rules()
    member = member_store.get_member(sub)
    if member is None:
        raise LoyaltyError("the member left", code="member_left")
    if rules.expiry.mode == "inactivity":
        due = member.expiry_due is not None and member.expiry_due <= today.isoformat()
        points, expired = expire_all(member.points) if due else (member.points, 0)
    else:
        points, expired = expire(member.points, today)
    entries: tuple[LedgerEntry, ...] = ()
    if expired:
        entries = (LedgerEntry(ledger.new_entry_id(at, 0), at, -expired, "expiry", points.balance),)
    return ledger.BalanceChange(
        sub=member.sub,
        customer_id=member.customer_id,
        expected_revision=member.revision,
        points_after=points,
        expiry_due=expiry_due(rules.expiry, None, points, member.expiry_due),
        entries=entries,
        idempotency_key=key,
        request_hash=fingerprint,
        response_status=200,
        response={"customer_id": member.customer_id, "points_expired": expired, "points_balance": points.balance},
        at=at,
    )
