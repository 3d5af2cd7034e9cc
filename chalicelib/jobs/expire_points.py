"""The daily expiry of points: FIFO lots whose date has come, or balances left without a visit.

It queries the ``by_expiry`` index for the months since its last run (never a scan), and writes
each member's expiry as one transaction with its ledger entry and an idempotency record keyed by
member and day, so a second run for the same moment expires nothing twice.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TypedDict

import structlog

from chalicelib.domain.changes import PointsAfter
from chalicelib.domain.clock import isoformat
from chalicelib.domain.ledger import Posting
from chalicelib.domain.points import expire, expire_all, expiry_due
from chalicelib.errors import LoyaltyError
from chalicelib.jobs import due_members
from chalicelib.services import program
from chalicelib.store import ledger
from chalicelib.store import members as member_store

NAME = "expire_points"
log = structlog.get_logger("loyalty.jobs")


class ExpiryRun(TypedDict):
    job: str
    at: str
    members_expired: int
    points_expired: int


def run(at: datetime) -> ExpiryRun:
    members = points = 0
    for done in due_members.run(NAME, at, _expired_by, _prepare):
        expired = int(done.body["points_expired"])
        members += expired > 0
        points += expired
    log.info("job_done", job=NAME, members=members, points_expired=points)
    return {"job": NAME, "at": isoformat(at), "members_expired": members, "points_expired": points}


def _expired_by(month: str, today: str) -> list[str]:
    """Points are usable through their date: due are those whose date is before today."""
    yesterday = (date.fromisoformat(today) - timedelta(days=1)).isoformat()
    return member_store.subs_with_points_expiring(month, yesterday)


def _prepare(sub: str, today: date, at: datetime, key: str, fingerprint: str) -> ledger.MemberChange:
    rules = program.rules()
    member = member_store.get_member(sub)
    if member is None:
        raise LoyaltyError("the member left", code="member_left")
    if rules.expiry.mode == "inactivity":
        due = member.expiry_due is not None and member.expiry_due < today.isoformat()
        points, expired = expire_all(member.points) if due else (member.points, 0)
    else:
        points, expired = expire(member.points, today)
    postings = (Posting(at, -expired, "expiry", points.balance),) if expired else ()
    return ledger.MemberChange(
        member,
        key,
        fingerprint,
        at,
        {"customer_id": member.customer_id, "points_expired": expired, "points_balance": points.balance},
        points=PointsAfter(points, expiry_due(rules.expiry, None, points, member.expiry_due), postings),
    )
